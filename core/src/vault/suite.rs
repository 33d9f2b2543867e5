//! The algorithm suites: an AEAD and the keyed hash that goes with it.
//!
//! | suite               | AEAD                        | key derivation, MAC |
//! |---------------------|-----------------------------|---------------------|
//! | `xchacha20poly1305` | XChaCha20-Poly1305 (24-byte nonce) | HMAC-SHA-256 |
//! | `sm4-gcm`           | SM4-GCM (RFC 8998, 12-byte nonce)  | HMAC-SM3     |
//!
//! Every ciphertext names its suite in its header, so data written under one suite
//! stays readable when the default changes.

use super::keys::SecretKey;
use crate::error::{Error, Result};
use aes_gcm::aead::array::{Array as Arr, ArraySize};
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::AesGcm;
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sm4::Sm4;
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag (RFC 8998).
pub(crate) type Sm4Gcm = AesGcm<Sm4, U12>;

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
    XChaCha(Box<XChaCha20Poly1305>),
    Sm4(Box<Sm4Gcm>),
}

impl Cipher {
    /// The cipher of `suite` under `key` (32 bytes; SM4 takes the first 16).
    pub(crate) fn new(suite: Suite, key: &SecretKey) -> Result<Cipher> {
        let bad = |_| Error::KeyInvalid {
            message: format!("a {suite} key of the wrong length"),
        };
        Ok(match suite {
            Suite::XChaCha20Poly1305 => Cipher::XChaCha(Box::new(
                XChaCha20Poly1305::new_from_slice(key.bytes()).map_err(bad)?,
            )),
            Suite::Sm4Gcm => Cipher::Sm4(Box::new(
                Sm4Gcm::new_from_slice(&key.bytes()[..16]).map_err(bad)?,
            )),
        })
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.seal_inout(nonce, aad, buf.into())
    }

    /// Encrypts `input` into `out` (of the same length) and returns the tag.
    pub(crate) fn seal_to(
        &self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        let buf = InOutBuf::new(input, out).map_err(|_| Error::CryptoAuthFailed {
            message: "internal: buffers of different lengths".into(),
        })?;
        self.seal_inout(nonce, aad, buf)
    }

    fn seal_inout(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: InOutBuf<'_, '_, u8>,
    ) -> Result<[u8; TAG_LEN]> {
        let fail = |_| Error::CryptoAuthFailed {
            message: "encryption refused the input (too long)".into(),
        };
        let tag = match self {
            Cipher::XChaCha(c) => c
                .encrypt_inout_detached(&nonce_array(nonce)?, aad, buf)
                .map_err(fail)?
                .into(),
            Cipher::Sm4(c) => c
                .encrypt_inout_detached(&nonce_array(nonce)?, aad, buf)
                .map_err(fail)?
                .into(),
        };
        Ok(tag)
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
        let ok = self.open_inout(nonce, aad, (&mut *buf).into(), tag)?;
        if ok {
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
        let buf = InOutBuf::new(input, &mut *out).map_err(|_| Error::CryptoAuthFailed {
            message: "internal: buffers of different lengths".into(),
        })?;
        if self.open_inout(nonce, aad, buf, tag)? {
            Ok(())
        } else {
            zeroize::Zeroize::zeroize(out);
            Err(Error::CryptoAuthFailed { message: what() })
        }
    }

    fn open_inout(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: InOutBuf<'_, '_, u8>,
        tag: &[u8],
    ) -> Result<bool> {
        let Ok(tag) = Arr::<u8, U16>::try_from(tag) else {
            return Ok(false);
        };
        Ok(match self {
            Cipher::XChaCha(c) => c
                .decrypt_inout_detached(&nonce_array(nonce)?, aad, buf, &tag)
                .is_ok(),
            Cipher::Sm4(c) => c
                .decrypt_inout_detached(&nonce_array(nonce)?, aad, buf, &tag)
                .is_ok(),
        })
    }
}

fn nonce_array<N: ArraySize>(nonce: &[u8]) -> Result<Arr<u8, N>> {
    Arr::<u8, N>::try_from(nonce).map_err(|_| Error::CryptoAuthFailed {
        message: "a nonce of the wrong length".into(),
    })
}
