//! The algorithm suites: an AEAD and the keyed hash that goes with it.
//!
//! | suite               | AEAD                        | key derivation, MAC |
//! |---------------------|-----------------------------|---------------------|
//! | `xchacha20poly1305` | XChaCha20-Poly1305 (24-byte nonce) | HMAC-SHA-256 |
//! | `sm4-gcm`           | SM4-GCM (RFC 8998, 12-byte nonce)  | HMAC-SM3     |
//!
//! XChaCha20-Poly1305 runs as HChaCha20 (the `chacha20` crate) in front of `ring`'s
//! assembly ChaCha20-Poly1305; SM4-GCM runs on the `govdata-sm4` crate (SM4 on AES-NI or
//! GFNI, chosen at run time, GHASH on carry-less multiplication). Both produce the same
//! bytes as the RustCrypto implementations the vault used before, which the vectors test
//! checks both ways.
//!
//! Every ciphertext names its suite in its header, so data written under one suite
//! stays readable when the default changes.

use super::keys::SecretKey;
use crate::error::{Error, Result};
use govdata_sm4::Sm4Gcm;
use hmac::{Hmac, Mac};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// The length of every authentication tag, in bytes.
pub const TAG_LEN: usize = 16;

/// An algorithm suite of the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Suite {
    /// XChaCha20-Poly1305 with HMAC-SHA-256: the default.
    #[default]
    XChaCha20Poly1305,
    /// SM4-GCM with HMAC-SM3: the national algorithms (GB/T 39786-2021).
    Sm4Gcm,
}

impl Suite {
    /// Every suite, in the order of their header codes.
    pub const ALL: &'static [Suite] = &[Suite::XChaCha20Poly1305, Suite::Sm4Gcm];

    /// The wire name: `xchacha20poly1305` or `sm4-gcm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::XChaCha20Poly1305 => "xchacha20poly1305",
            Suite::Sm4Gcm => "sm4-gcm",
        }
    }

    /// The byte that names the suite in a ciphertext header.
    pub(crate) fn code(self) -> u8 {
        match self {
            Suite::XChaCha20Poly1305 => 1,
            Suite::Sm4Gcm => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Suite> {
        match code {
            1 => Some(Suite::XChaCha20Poly1305),
            2 => Some(Suite::Sm4Gcm),
            _ => None,
        }
    }

    /// The nonce length of the suite's AEAD, in bytes.
    pub(crate) fn nonce_len(self) -> usize {
        match self {
            Suite::XChaCha20Poly1305 => 24,
            Suite::Sm4Gcm => 12,
        }
    }

    /// HMAC under the suite's hash: SHA-256 or SM3 (both 32 bytes).
    pub(crate) fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32]> {
        fn run<M: Mac + hmac::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32]> {
            let mut mac =
                <M as hmac::KeyInit>::new_from_slice(key).map_err(|_| Error::KeyInvalid {
                    message: "a MAC key of unusable length".into(),
                })?;
            for p in parts {
                mac.update(p);
            }
            let out = mac.finalize().into_bytes();
            let mut tag = [0u8; 32];
            if out.len() != 32 {
                return Err(Error::KeyInvalid {
                    message: "a MAC of unexpected length".into(),
                });
            }
            tag.copy_from_slice(&out);
            Ok(tag)
        }
        match self {
            Suite::XChaCha20Poly1305 => run::<Hmac<sha2::Sha256>>(key, parts),
            Suite::Sm4Gcm => run::<Hmac<sm3::Sm3>>(key, parts),
        }
    }

    /// Derives a 32-byte subkey from `key` for `label` (HMAC as a PRF, with
    /// length-prefixed parts so that no two label lists collide).
    pub(crate) fn derive(self, key: &SecretKey, label: &str, extra: &[u8]) -> Result<SecretKey> {
        let label_len = (label.len() as u64).to_be_bytes();
        let extra_len = (extra.len() as u64).to_be_bytes();
        let out = Zeroizing::new(self.hmac(
            key.bytes(),
            &[
                b"govdata/vault/v1\0",
                &label_len,
                label.as_bytes(),
                &extra_len,
                extra,
            ],
        )?);
        Ok(SecretKey::from_array(*out))
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Suite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Suite> {
        match s {
            "xchacha20poly1305" => Ok(Suite::XChaCha20Poly1305),
            "sm4-gcm" => Ok(Suite::Sm4Gcm),
            other => Err(Error::request(format!(
                "unknown suite `{}`, expected one of: xchacha20poly1305, sm4-gcm",
                crate::quote::quote(other)
            ))),
        }
    }
}

/// An AEAD instance keyed for one message or one stream. Holds the expanded key;
/// both ciphers zeroize their state on drop.
pub(crate) enum Cipher {
    XChaCha(Box<XChaCha>),
    /// SM4 on AES-NI or GFNI where the CPU has them (chosen at run time), GHASH on
    /// carry-less multiplication: see the `govdata-sm4` crate.
    Sm4(Box<Sm4Gcm>),
}

/// The data an AEAD call works on: one buffer in place, or an input and an output of
/// the same length.
enum Buf<'i, 'o> {
    InPlace(&'o mut [u8]),
    To(&'i [u8], &'o mut [u8]),
}

impl Cipher {
    /// The cipher of `suite` under `key` (32 bytes; SM4 takes the first 16).
    pub(crate) fn new(suite: Suite, key: &SecretKey) -> Result<Cipher> {
        let bad = || Error::KeyInvalid {
            message: format!("a {suite} key of the wrong length"),
        };
        Ok(match suite {
            Suite::XChaCha20Poly1305 => {
                let mut copy = Zeroizing::new([0u8; 32]);
                copy.copy_from_slice(key.bytes());
                Cipher::XChaCha(Box::new(XChaCha(copy)))
            }
            Suite::Sm4Gcm => {
                let sm4_key: &[u8; 16] = key.bytes()[..16].try_into().map_err(|_| bad())?;
                Cipher::Sm4(Box::new(Sm4Gcm::new(sm4_key)))
            }
        })
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.seal_buf(nonce, aad, Buf::InPlace(buf))
    }

    /// Encrypts `input` into `out` (of the same length) and returns the tag.
    pub(crate) fn seal_to(
        &self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        same_length(input, out)?;
        self.seal_buf(nonce, aad, Buf::To(input, out))
    }

    fn seal_buf(&self, nonce: &[u8], aad: &[u8], buf: Buf<'_, '_>) -> Result<[u8; TAG_LEN]> {
        let fail = || Error::CryptoAuthFailed {
            message: "encryption refused the input (too long)".into(),
        };
        match self {
            Cipher::XChaCha(c) => {
                let buf = buf.in_place();
                let tag = c.with_chunk_key(nonce, |key, nonce| {
                    key.seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
                })?;
                let tag = tag.map_err(|_| fail())?;
                let mut out = [0u8; TAG_LEN];
                out.copy_from_slice(tag.as_ref());
                Ok(out)
            }
            Cipher::Sm4(c) => {
                let nonce = sm4_nonce(nonce)?;
                match buf {
                    Buf::InPlace(b) => c.encrypt_in_place(nonce, aad, b),
                    Buf::To(i, o) => c.encrypt_to(nonce, aad, i, o),
                }
                .map_err(|_| fail())
            }
        }
    }

    /// Decrypts `buf` in place if `tag` authenticates it; on failure `buf` is wiped.
    pub(crate) fn open(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
        what: &dyn Fn() -> String,
    ) -> Result<()> {
        if self.open_buf(nonce, aad, Buf::InPlace(&mut *buf), tag)? {
            Ok(())
        } else {
            zeroize::Zeroize::zeroize(buf);
            Err(Error::CryptoAuthFailed { message: what() })
        }
    }

    /// Decrypts `input` into `out` if `tag` authenticates it; on failure `out` is wiped.
    pub(crate) fn open_to(
        &self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
        tag: &[u8],
        what: &dyn Fn() -> String,
    ) -> Result<()> {
        same_length(input, out)?;
        if self.open_buf(nonce, aad, Buf::To(input, &mut *out), tag)? {
            Ok(())
        } else {
            zeroize::Zeroize::zeroize(out);
            Err(Error::CryptoAuthFailed { message: what() })
        }
    }

    fn open_buf(&self, nonce: &[u8], aad: &[u8], buf: Buf<'_, '_>, tag: &[u8]) -> Result<bool> {
        let Ok(tag) = <[u8; TAG_LEN]>::try_from(tag) else {
            return Ok(false);
        };
        Ok(match self {
            Cipher::XChaCha(c) => {
                let buf = buf.in_place();
                c.with_chunk_key(nonce, |key, nonce| {
                    key.open_in_place_separate_tag(nonce, Aad::from(aad), tag.into(), buf, 0..)
                        .is_ok()
                })?
            }
            Cipher::Sm4(c) => {
                let nonce = sm4_nonce(nonce)?;
                match buf {
                    Buf::InPlace(b) => c.decrypt_in_place(nonce, aad, b, &tag),
                    Buf::To(i, o) => c.decrypt_to(nonce, aad, i, o, &tag),
                }
                .is_ok()
            }
        })
    }
}

fn same_length(input: &[u8], out: &[u8]) -> Result<()> {
    if input.len() == out.len() {
        Ok(())
    } else {
        Err(Error::CryptoAuthFailed {
            message: "internal: buffers of different lengths".into(),
        })
    }
}

impl<'o> Buf<'_, 'o> {
    /// The output buffer holding the input, for AEADs that work in place only.
    fn in_place(self) -> &'o mut [u8] {
        match self {
            Buf::InPlace(b) => b,
            Buf::To(i, o) => {
                o.copy_from_slice(i);
                o
            }
        }
    }
}

/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) under a 32-byte key: HChaCha20 of the
/// key and the first 16 bytes of the 24-byte nonce is the key of a ChaCha20-Poly1305
/// (RFC 8439) whose 12-byte nonce is four zero bytes and the last 8 of the 24. The
/// subkey comes from the `chacha20` crate, the AEAD from `ring`'s assembly.
pub(crate) struct XChaCha(Zeroizing<[u8; 32]>);

impl XChaCha {
    /// Runs `f` with the ChaCha20-Poly1305 key and nonce of `nonce`. `ring` does not wipe
    /// its keys, so its copy of the subkey is overwritten in place before it is dropped.
    fn with_chunk_key<T>(
        &self,
        nonce: &[u8],
        f: impl FnOnce(&LessSafeKey, Nonce) -> T,
    ) -> Result<T> {
        let nonce: &[u8; 24] = nonce.try_into().map_err(|_| bad_nonce())?;
        let (head, tail) = nonce.split_at(16);
        let key = <&chacha20::Key>::try_from(self.0.as_slice()).map_err(|_| bad_nonce())?;
        let head =
            <&chacha20::cipher::array::Array<u8, _>>::try_from(head).map_err(|_| bad_nonce())?;
        let mut subkey = Zeroizing::new([0u8; 32]);
        {
            let mut sub = chacha20::hchacha::<chacha20::R20>(key, head);
            subkey.copy_from_slice(&sub);
            zeroize::Zeroize::zeroize(sub.as_mut_slice());
        }
        let mut chunk_key = ring_key(&subkey)?;
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(tail);
        let out = f(&chunk_key, Nonce::assume_unique_for_key(n));
        chunk_key = ring_key(&[0u8; 32])?;
        std::hint::black_box(&chunk_key);
        Ok(out)
    }
}

fn ring_key(key: &[u8; 32]) -> Result<LessSafeKey> {
    let key = UnboundKey::new(&CHACHA20_POLY1305, key).map_err(|_| Error::KeyInvalid {
        message: "a xchacha20poly1305 key of the wrong length".into(),
    })?;
    Ok(LessSafeKey::new(key))
}

fn sm4_nonce(nonce: &[u8]) -> Result<&[u8; govdata_sm4::NONCE_LEN]> {
    nonce.try_into().map_err(|_| bad_nonce())
}

fn bad_nonce() -> Error {
    Error::CryptoAuthFailed {
        message: "a nonce of the wrong length".into(),
    }
}
