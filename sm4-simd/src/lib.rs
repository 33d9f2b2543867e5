//! SM4-GCM at hardware speed, for the govdata vault's national-algorithm suite.
//!
//! SM4 (GB/T 32907-2016) has no instruction of its own on x86, but its S-box is the AES
//! field inversion between two affine maps, so it runs on the AES and GFNI instructions
//! many blocks at a time:
//!
//! | backend        | needs                  | blocks per register |
//! |----------------|------------------------|---------------------|
//! | `avx512-gfni`  | AVX-512F/BW, GFNI      | 16                  |
//! | `avx2-aesni`   | AVX2, AES-NI           | 8                   |
//! | `portable`     | nothing                | 1 (table lookups)   |
//!
//! [`Backend::detect`] picks the fastest the CPU has, at run time, so one binary runs
//! everywhere. [`Sm4Gcm`] is GCM over it (the counter mode in batches of 32 blocks, GHASH
//! from the `ghash` crate, on PCLMULQDQ where present), byte for byte the SM4-GCM of
//! RFC 8998.
//!
//! ```
//! use govdata_sm4::Sm4Gcm;
//! let gcm = Sm4Gcm::new(&[7u8; 16]);
//! let mut buf = *b"an insured person";
//! let tag = gcm.encrypt_in_place(&[1u8; 12], b"header", &mut buf)?;
//! gcm.decrypt_in_place(&[1u8; 12], b"header", &mut buf, &tag)?;
//! assert_eq!(&buf, b"an insured person");
//! # Ok::<(), govdata_sm4::Error>(())
//! ```
//!
//! The crate needs `unsafe` for the intrinsics (the core of govdata forbids it): each
//! unsafe block is a call into a function whose CPU features were detected first, or an
//! unaligned load or store of a register's width within a slice of that length.

mod backend;
mod consts;
mod gcm;
mod key;

pub use backend::Backend;
pub use gcm::{Error, Sm4Gcm, MAX_LEN, NONCE_LEN, TAG_LEN};

/// SM4 counter-mode keystream and single blocks, for testing the backends against other
/// implementations. Not a general-purpose API.
#[doc(hidden)]
pub mod testing {
    use crate::backend::{Backend, BATCH};
    use crate::key::RoundKeys;

    /// Encrypts one block under `key` (the portable implementation).
    pub fn encrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
        RoundKeys::new(key).encrypt_block(block)
    }

    /// The keystream of 32 counter blocks `iv ‖ ctr`, `iv ‖ ctr + 1`, … on `backend`.
    pub fn keystream(backend: Backend, key: &[u8; 16], iv: &[u8; 12], ctr: u32) -> [u8; BATCH] {
        let w = |i: usize| u32::from_be_bytes([iv[i], iv[i + 1], iv[i + 2], iv[i + 3]]);
        let mut out = [0u8; BATCH];
        backend.keystream(&RoundKeys::new(key), &[w(0), w(4), w(8)], ctr, &mut out);
        out
    }
}
