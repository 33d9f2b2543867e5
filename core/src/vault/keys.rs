//! Key material and the master key providers.
//!
//! Key types own their bytes in a heap box that is wiped on drop. They implement
//! neither `Clone` nor `Debug` nor `Display`: a key cannot be copied by accident,
//! formatted into a log line or an error message.

use super::suite::{Cipher, Suite, TAG_LEN};
use crate::error::{Error, Result};
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

/// The length of every key the vault makes and of the master key, in bytes.
pub const KEY_LEN: usize = 32;

/// 32 bytes of secret key material, wiped on drop; never cloned, never printed.
#[expect(
    missing_debug_implementations,
    reason = "key material is never formatted"
)]
pub struct SecretKey(Box<[u8; KEY_LEN]>);

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> Result<SecretKey> {
        let mut key = SecretKey(Box::new([0u8; KEY_LEN]));
        fill_random(&mut key.0[..])?;
        Ok(key)
    }

    /// A key from exactly 32 bytes (`key_invalid` otherwise).
    pub fn from_slice(bytes: &[u8]) -> Result<SecretKey> {
        if bytes.len() != KEY_LEN {
            return Err(Error::KeyInvalid {
                message: format!("expected {KEY_LEN} bytes of key, got {}", bytes.len()),
            });
        }
        let mut key = SecretKey(Box::new([0u8; KEY_LEN]));
        key.0.copy_from_slice(bytes);
        Ok(key)
    }

    /// Moves an array into a key and wipes the array.
    pub(crate) fn from_array(mut bytes: [u8; KEY_LEN]) -> SecretKey {
        let key = SecretKey(Box::new(bytes));
        bytes.zeroize();
        key
    }

    /// The key bytes, for a [`KeyProvider`] that must hand them to a KMS or an HSM.
    /// Never log, print or persist them unwrapped.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0[..]
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::KeyInvalid {
        message: format!("the operating system's random source failed: {e}"),
    })
}

/// Holds the master key and wraps data keys with it.
///
/// The master key never leaves the provider: the vault asks it to wrap and unwrap
/// data keys and to authenticate the key store. [`MasterKey`] keeps the key in the
/// process; a KMS or an HSM plugs in by implementing this trait.
pub trait KeyProvider: Send + Sync {
    /// A stable, non-secret identifier of the master key (a fingerprint), recorded in
    /// the key store so that the wrong master key is reported as such.
    fn key_id(&self) -> &str;

    /// The wrapping algorithm, recorded in the key store (`xchacha20poly1305`, `sm4-gcm`,
    /// or a KMS's own name).
    fn algorithm(&self) -> &str;

    /// Encrypts a data key; `context` is bound to the result as associated data.
    fn wrap(&self, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>>;

    /// Decrypts a wrapped data key made by [`KeyProvider::wrap`] with the same
    /// `context`; `crypto_auth_failed` for anything else.
    fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<SecretKey>;

    /// A 32-byte MAC of `data` under a key bound to the master key (authenticates the
    /// key store).
    fn mac(&self, data: &[u8]) -> Result<[u8; 32]>;
}

/// A master key held in this process: 32 raw bytes from the host, a key file or an
/// environment variable. Wraps with the AEAD of its suite under a derived
/// key-encryption key and authenticates with the suite's HMAC under a derived MAC key.
#[expect(
    missing_debug_implementations,
    reason = "key material is never formatted"
)]
pub struct MasterKey {
    kek: SecretKey,
    mac: SecretKey,
    suite: Suite,
    id: String,
}

impl MasterKey {
    /// A master key from 32 bytes, wrapping with XChaCha20-Poly1305 (the default suite).
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey> {
        MasterKey::with_suite(bytes, Suite::default())
    }

    /// A master key from 32 bytes that wraps and authenticates with `suite`
    /// (`sm4-gcm` keeps the key store on the national algorithms too).
    pub fn with_suite(bytes: &[u8], suite: Suite) -> Result<MasterKey> {
        let root = SecretKey::from_slice(bytes)?;
        let kek = suite.derive(&root, "master/kek", &[])?;
        let mac = suite.derive(&root, "master/store-mac", &[])?;
        let fp = suite.derive(&root, "master/id", &[])?;
        let id = format!("mk-{}", hex::encode(&fp.bytes()[..8]));
        Ok(MasterKey {
            kek,
            mac,
            suite,
            id,
        })
    }

    /// A master key from a file that holds exactly the 32 raw bytes.
    pub fn from_file(path: impl AsRef<Path>, suite: Suite) -> Result<MasterKey> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
        if bytes.len() != KEY_LEN {
            return Err(Error::KeyInvalid {
                message: format!(
                    "the master key file `{}` holds {} bytes; it must hold exactly {KEY_LEN} raw bytes",
                    path.display(),
                    bytes.len()
                ),
            });
        }
        MasterKey::with_suite(&bytes, suite)
    }

    /// A master key from an environment variable that holds 64 hexadecimal digits.
    pub fn from_env(var: &str, suite: Suite) -> Result<MasterKey> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| Error::KeyInvalid {
            message: format!("the environment variable `{var}` is not set or not unicode"),
        })?);
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| Error::KeyInvalid {
            message: format!("the environment variable `{var}` must hold 64 hexadecimal digits"),
        })?);
        MasterKey::with_suite(&bytes, suite)
    }

    /// The suite this master key wraps with.
    pub fn suite(&self) -> Suite {
        self.suite
    }
}

impl KeyProvider for MasterKey {
    fn key_id(&self) -> &str {
        &self.id
    }

    fn algorithm(&self) -> &str {
        self.suite.as_str()
    }

    fn wrap(&self, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>> {
        let cipher = Cipher::new(self.suite, &self.kek)?;
        let n = self.suite.nonce_len();
        let mut out = vec![0u8; n + KEY_LEN + TAG_LEN];
        fill_random(&mut out[..n])?;
        let (nonce, rest) = out.split_at_mut(n);
        let (body, tag) = rest.split_at_mut(KEY_LEN);
        body.copy_from_slice(key.bytes());
        let t = cipher.seal(nonce, context, body)?;
        tag.copy_from_slice(&t);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<SecretKey> {
        let n = self.suite.nonce_len();
        let bad = || "a wrapped data key failed authentication under the master key".to_string();
        if wrapped.len() != n + KEY_LEN + TAG_LEN {
            return Err(Error::CryptoAuthFailed { message: bad() });
        }
        let cipher = Cipher::new(self.suite, &self.kek)?;
        let mut body = Zeroizing::new([0u8; KEY_LEN]);
        body.copy_from_slice(&wrapped[n..n + KEY_LEN]);
        cipher.open(
            &wrapped[..n],
            context,
            &mut body[..],
            &wrapped[n + KEY_LEN..],
            &bad,
        )?;
        Ok(SecretKey::from_array(*body))
    }

    fn mac(&self, data: &[u8]) -> Result<[u8; 32]> {
        self.suite.hmac(self.mac.bytes(), &[data])
    }
}
