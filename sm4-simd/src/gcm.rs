//! SM4-GCM (NIST SP 800-38D with SM4, as RFC 8998 names it): 96-bit nonces, 128-bit tags.
//!
//! Counter mode runs on the fastest [`Backend`] in batches of 32 blocks; GHASH is the
//! `ghash` crate's, which multiplies with PCLMULQDQ where the CPU has it. Decryption
//! checks the tag before it writes any plaintext.

use crate::backend::{Backend, BATCH};
use crate::key::RoundKeys;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use zeroize::Zeroize;

/// The length of a nonce, in bytes.
pub const NONCE_LEN: usize = 12;
/// The length of a tag, in bytes.
pub const TAG_LEN: usize = 16;
/// The longest plaintext GCM allows: 2^32 - 2 blocks.
pub const MAX_LEN: u64 = (1 << 36) - 32;

/// Why an SM4-GCM operation refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The message is longer than [`MAX_LEN`].
    TooLong,
    /// The input and output buffers differ in length.
    LengthMismatch,
    /// The tag does not authenticate the ciphertext and associated data.
    AuthFailed,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::TooLong => "the message is longer than SM4-GCM allows",
            Error::LengthMismatch => "the input and output buffers differ in length",
            Error::AuthFailed => "the tag does not authenticate the message",
        })
    }
}

impl std::error::Error for Error {}

/// SM4-GCM under one key: the round keys, the GHASH key and the backend chosen for the CPU.
/// Key material is wiped on drop.
#[derive(Clone)]
pub struct Sm4Gcm {
    rk: RoundKeys,
    ghash: GHash,
    backend: Backend,
}

impl core::fmt::Debug for Sm4Gcm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm4Gcm")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Where the counter-mode output goes.
enum Data<'a> {
    InPlace(&'a mut [u8]),
    To(&'a [u8], &'a mut [u8]),
}

/// The piece of a message encrypted and then hashed while it is still in the L1 cache.
const PIECE: usize = 8 * BATCH;

impl Sm4Gcm {
    /// SM4-GCM under `key`, on the fastest backend of this CPU.
    pub fn new(key: &[u8; 16]) -> Sm4Gcm {
        Sm4Gcm::build(key, Backend::detect())
    }

    /// SM4-GCM under `key` on `backend`, or `None` if this CPU cannot run it.
    pub fn with_backend(key: &[u8; 16], backend: Backend) -> Option<Sm4Gcm> {
        backend.is_available().then(|| Sm4Gcm::build(key, backend))
    }

    fn build(key: &[u8; 16], backend: Backend) -> Sm4Gcm {
        let rk = RoundKeys::new(key);
        let mut h = rk.encrypt_block(&[0u8; 16]);
        let ghash = GHash::new(&h.into());
        h.zeroize();
        Sm4Gcm { rk, ghash, backend }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn encrypt_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        self.encrypt(nonce, aad, Data::InPlace(buf))
    }

    /// Encrypts `input` into `out` (of the same length) and returns the tag.
    pub fn encrypt_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        if input.len() != out.len() {
            return Err(Error::LengthMismatch);
        }
        self.encrypt(nonce, aad, Data::To(input, out))
    }

    /// Decrypts `buf` in place if `tag` authenticates it; otherwise `buf` is left as it was.
    pub fn decrypt_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        self.check(nonce, aad, buf, tag)?;
        self.ctr(nonce, Data::InPlace(buf), |_| {});
        Ok(())
    }

    /// Decrypts `input` into `out` (of the same length) if `tag` authenticates it;
    /// otherwise `out` is not written.
    pub fn decrypt_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        if input.len() != out.len() {
            return Err(Error::LengthMismatch);
        }
        self.check(nonce, aad, input, tag)?;
        self.ctr(nonce, Data::To(input, out), |_| {});
        Ok(())
    }

    fn encrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: Data<'_>,
    ) -> Result<[u8; TAG_LEN], Error> {
        let len = match &data {
            Data::InPlace(b) => b.len(),
            Data::To(i, _) => i.len(),
        };
        if len as u64 > MAX_LEN {
            return Err(Error::TooLong);
        }
        let mut mac = self.ghash.clone();
        mac.update_padded(aad);
        self.ctr(nonce, data, |ct| mac.update_padded(ct));
        Ok(self.tag(nonce, mac, aad.len(), len))
    }

    /// Checks `tag` against the ciphertext `ct`, in constant time.
    fn check(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        if ct.len() as u64 > MAX_LEN {
            return Err(Error::TooLong);
        }
        let mut mac = self.ghash.clone();
        mac.update_padded(aad);
        mac.update_padded(ct);
        let expected = self.tag(nonce, mac, aad.len(), ct.len());
        let diff = expected.iter().zip(tag).fold(0u8, |d, (a, b)| d | (a ^ b));
        if core::hint::black_box(diff) == 0 {
            Ok(())
        } else {
            Err(Error::AuthFailed)
        }
    }

    fn tag(
        &self,
        nonce: &[u8; NONCE_LEN],
        mut mac: GHash,
        aad_len: usize,
        len: usize,
    ) -> [u8; TAG_LEN] {
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad_len as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
        mac.update(&[lengths.into()]);
        let s = mac.finalize();
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        let mut tag = self.rk.encrypt_block(&j0);
        for (t, x) in tag.iter_mut().zip(s.iter()) {
            *t ^= x;
        }
        tag
    }

    /// XORs the keystream from counter 2 into the data, handing each piece of output
    /// (whole blocks except at the end) to `after`.
    fn ctr(&self, nonce: &[u8; NONCE_LEN], data: Data<'_>, mut after: impl FnMut(&[u8])) {
        let iv = [
            u32::from_be_bytes([nonce[0], nonce[1], nonce[2], nonce[3]]),
            u32::from_be_bytes([nonce[4], nonce[5], nonce[6], nonce[7]]),
            u32::from_be_bytes([nonce[8], nonce[9], nonce[10], nonce[11]]),
        ];
        let mut ks = [0u8; BATCH];
        let mut ctr = 2u32;
        let mut xor_piece = |out: &mut [u8], input: Option<&[u8]>| {
            for (i, o) in out.chunks_mut(BATCH).enumerate() {
                self.backend.keystream(&self.rk, &iv, ctr, &mut ks);
                ctr = ctr.wrapping_add((BATCH / 16) as u32);
                match input {
                    None => o.iter_mut().zip(ks.iter()).for_each(|(b, k)| *b ^= k),
                    Some(inp) => {
                        let src = &inp[i * BATCH..i * BATCH + o.len()];
                        o.iter_mut()
                            .zip(src.iter().zip(ks.iter()))
                            .for_each(|(b, (s, k))| *b = s ^ k)
                    }
                }
            }
        };
        match data {
            Data::InPlace(buf) => {
                for piece in buf.chunks_mut(PIECE) {
                    xor_piece(piece, None);
                    after(piece);
                }
            }
            Data::To(input, out) => {
                for (piece, src) in out.chunks_mut(PIECE).zip(input.chunks(PIECE)) {
                    xor_piece(piece, Some(src));
                    after(piece);
                }
            }
        }
        ks.zeroize();
    }
}
