//! The hash suite, the sealing key and the keyed MACs of the log.
//!
//! Every hash in the log is 32 bytes (SHA-256 or SM3). Inputs are domain-separated by
//! a leading byte: `0x00` a Merkle leaf (RFC 6962), `0x01` a Merkle node, `0x02` a
//! chain link; MAC inputs start with their own label.

use crate::error::{Error, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use sm3::Sm3;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use zeroize::Zeroizing;

/// A 32-byte hash or MAC.
pub type Hash = [u8; 32];

/// The hash suite of a log, fixed when the log is created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum HashSuite {
    /// SHA-256 and HMAC-SHA-256 (the default).
    #[default]
    Sha256,
    /// SM3 and HMAC-SM3 (GB/T 32905, the national algorithm).
    Sm3,
}

impl HashSuite {
    /// The wire name: `sha256` or `sm3`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashSuite::Sha256 => "sha256",
            HashSuite::Sm3 => "sm3",
        }
    }

    pub(crate) fn id(self) -> u8 {
        match self {
            HashSuite::Sha256 => 1,
            HashSuite::Sm3 => 2,
        }
    }

    pub(crate) fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(HashSuite::Sha256),
            2 => Some(HashSuite::Sm3),
            _ => None,
        }
    }

    /// Hashes the concatenation of `parts`.
    pub(crate) fn hash(self, parts: &[&[u8]]) -> Hash {
        match self {
            HashSuite::Sha256 => {
                let mut h = Sha256::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
            HashSuite::Sm3 => {
                let mut h = Sm3::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
        }
    }

    /// The RFC 6962 leaf hash of a record: `H(0x00 || seq || payload)`.
    pub(crate) fn leaf(self, seq: u64, payload: &[u8]) -> Hash {
        self.hash(&[&[0x00], &seq.to_le_bytes(), payload])
    }

    /// The RFC 6962 interior node hash: `H(0x01 || left || right)`.
    pub(crate) fn node(self, left: &Hash, right: &Hash) -> Hash {
        self.hash(&[&[0x01], left, right])
    }

    /// The chain link: `H(0x02 || previous head || leaf)`.
    pub(crate) fn link(self, prev: &Hash, leaf: &Hash) -> Hash {
        self.hash(&[&[0x02], prev, leaf])
    }

    /// The head of an empty log: `H("govdata-audit-genesis" || suite || log id)`.
    pub(crate) fn genesis(self, log_id: &[u8; 16]) -> Hash {
        self.hash(&[b"govdata-audit-genesis\0", &[self.id()], log_id])
    }
}

impl fmt::Display for HashSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashSuite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sha256" => Ok(HashSuite::Sha256),
            "sm3" => Ok(HashSuite::Sm3),
            _ => Err(Error::request(format!(
                "unknown hash suite `{}`, expected one of: sha256, sm3",
                crate::quote::quote(s)
            ))),
        }
    }
}

/// The 32-byte key that seals the audit log (separate from any data key).
///
/// The host supplies it; the log never stores it. It is wiped from memory when
/// dropped, cannot be cloned and is never printed.
#[expect(
    missing_debug_implementations,
    reason = "key material is never printed, not even redacted by accident"
)]
pub struct SealingKey(Zeroizing<[u8; 32]>);

impl SealingKey {
    /// The key length in bytes.
    pub const LEN: usize = 32;

    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SealingKey(Zeroizing::new(bytes))
    }

    /// A key from a slice that must be exactly 32 bytes (`key_invalid` otherwise).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != Self::LEN {
            return Err(Error::KeyInvalid {
                message: format!("a sealing key is {} bytes, not {}", Self::LEN, bytes.len()),
            });
        }
        key.copy_from_slice(bytes);
        Ok(SealingKey(key))
    }

    /// Reads a key file holding exactly the 32 raw key bytes.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
        SealingKey::from_slice(&bytes).map_err(|_| Error::KeyInvalid {
            message: format!(
                "key file `{}` must hold exactly {} raw bytes, it holds {}",
                path.display(),
                Self::LEN,
                bytes.len()
            ),
        })
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut key[..]).map_err(|e| Error::KeyInvalid {
            message: format!("cannot generate a key: {e}"),
        })?;
        Ok(SealingKey(key))
    }

    /// The raw bytes, to store the key somewhere safe (a key file, a KMS).
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The keyed MAC of one log: HMAC under the sealing key with the log's hash suite.
/// The prepared inner and outer states are cloned per MAC, so a MAC costs two
/// compression-function calls for a short input.
#[derive(Clone)]
pub(crate) enum Mac32 {
    Sha256(Hmac<Sha256>),
    Sm3(Hmac<Sm3>),
}

impl fmt::Debug for Mac32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mac32(..)")
    }
}

/// Labels of the MAC inputs.
pub(crate) mod label {
    pub(crate) const RECORD: &[u8] = b"R";
    pub(crate) const SEAL: &[u8] = b"S";
    pub(crate) const HEADER: &[u8] = b"H";
    pub(crate) const META: &[u8] = b"M";
    pub(crate) const CHECKPOINT: &[u8] = b"C";
    pub(crate) const KEY_CHECK: &[u8] = b"K";
    pub(crate) const BACKUPS: &[u8] = b"B";
}

impl Mac32 {
    pub(crate) fn new(suite: HashSuite, key: &SealingKey) -> Result<Self> {
        let bad = |_| Error::KeyInvalid {
            message: "the sealing key cannot key the MAC".into(),
        };
        Ok(match suite {
            HashSuite::Sha256 => Mac32::Sha256(Hmac::new_from_slice(&key.0[..]).map_err(bad)?),
            HashSuite::Sm3 => Mac32::Sm3(Hmac::new_from_slice(&key.0[..]).map_err(bad)?),
        })
    }

    pub(crate) fn mac(&self, parts: &[&[u8]]) -> Hash {
        match self {
            Mac32::Sha256(m) => {
                let mut m = m.clone();
                for p in parts {
                    m.update(p);
                }
                m.finalize().into_bytes().into()
            }
            Mac32::Sm3(m) => {
                let mut m = m.clone();
                for p in parts {
                    m.update(p);
                }
                m.finalize().into_bytes().into()
            }
        }
    }

    /// Constant-time check of a MAC.
    pub(crate) fn check(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        let expect = self.mac(parts);
        ct_eq(&expect, tag)
    }

    /// The tag of a record: `MAC("R" || head after the record)`.
    pub(crate) fn record_tag(&self, head: &Hash) -> Hash {
        self.mac(&[label::RECORD, head])
    }
}

pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn parse_hash(text: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
