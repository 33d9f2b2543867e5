//! The keys of the data obligations: the pseudonym key and the watermark key, held
//! in zeroizing memory, never cloned or printed, and the keyed MAC they feed.
//!
//! A key either comes from the caller (at least 32 bytes) or is derived from the
//! vault's master key ([`crate::Vault::derive_key`]), so that every node of the
//! platform with the same master key makes the same pseudonyms and reads the same
//! watermarks without another secret to distribute.

use crate::audit::HashSuite;
use crate::error::{Error, Result};
use crate::Vault;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sm3::Sm3;
use zeroize::Zeroizing;

/// The shortest key accepted from a caller, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// A keyed MAC (HMAC-SHA-256 or HMAC-SM3) with its key schedule prepared once.
#[derive(Clone)]
enum Prf {
    Sha256(Hmac<Sha256>),
    Sm3(Hmac<Sm3>),
}

impl Prf {
    fn new(suite: HashSuite, key: &[u8]) -> Result<Prf> {
        if key.len() < MIN_KEY_LEN {
            return Err(Error::KeyInvalid {
                message: format!(
                    "expected at least {MIN_KEY_LEN} bytes of key, got {}",
                    key.len()
                ),
            });
        }
        let bad = |_| Error::KeyInvalid {
            message: "the key cannot key the MAC".into(),
        };
        Ok(match suite {
            HashSuite::Sha256 => Prf::Sha256(Hmac::new_from_slice(key).map_err(bad)?),
            HashSuite::Sm3 => Prf::Sm3(Hmac::new_from_slice(key).map_err(bad)?),
        })
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        fn run<M: Mac + Clone>(m: &M, parts: &[&[u8]]) -> [u8; 32] {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            let mut out = [0u8; 32];
            out.copy_from_slice(&m.finalize().into_bytes()[..32]);
            out
        }
        match self {
            Prf::Sha256(m) => run(m, parts),
            Prf::Sm3(m) => run(m, parts),
        }
    }
}

macro_rules! obligation_key {
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        #[expect(missing_debug_implementations, reason = "key material is never formatted")]
        pub struct $name {
            prf: Prf,
            suite: HashSuite,
        }

        impl $name {
            /// A key from bytes the caller holds (at least 32; `key_invalid` otherwise).
            /// The bytes stay the caller's; the prepared MAC state is wiped on drop.
            pub fn from_bytes(key: &Zeroizing<Vec<u8>>, suite: HashSuite) -> Result<Self> {
                Ok($name { prf: Prf::new(suite, key)?, suite })
            }

            /// The key derived from the vault's master key for `scope` (a join domain
            /// for pseudonyms, a platform for watermarks); the same master key and scope
            /// give the same key on every node.
            pub fn from_vault(vault: &Vault, scope: &str, suite: HashSuite) -> Result<Self> {
                let key = vault.derive_key(&format!(concat!($label, "/{}"), scope))?;
                Ok($name { prf: Prf::new(suite, key.expose_secret())?, suite })
            }

            /// The MAC algorithm: HMAC-SHA-256 or HMAC-SM3.
            pub fn suite(&self) -> HashSuite {
                self.suite
            }

            pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
                self.prf.mac(parts)
            }
        }
    };
}

obligation_key! {
    /// The key of keyed pseudonyms: the same value gives the same pseudonym under one
    /// key (joins still work) and an unrelated one under another.
    PseudonymKey, "govdata/mask/pseudonym/v1"
}

obligation_key! {
    /// The key of traceable watermarks: only its holder can place or read a mark.
    WatermarkKey, "govdata/mask/watermark/v1"
}

impl PseudonymKey {
    /// The pseudonym of `value`: the first 128 bits of its MAC, as 32 hex digits.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut out = String::with_capacity(32);
        self.pseudonym_into(value, &mut out);
        out
    }

    /// [`PseudonymKey::pseudonym`], appended to `out`.
    pub fn pseudonym_into(&self, value: &str, out: &mut String) {
        super::pi::push_hex(&self.mac(&[b"P", value.as_bytes()])[..16], out);
    }
}
