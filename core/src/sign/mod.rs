//! Digital signatures: the keys that sign policy bundles and audit checkpoints.
//!
//! Two algorithms: Ed25519 (RFC 8032, the default) and SM2 (GB/T 32918, the national
//! algorithm, with SM3 and the standard default distinguishing id `1234567812345678`).
//! This module owns the key types, their files and the signatures over bytes; it knows
//! nothing of what is signed.
//!
//! # Key files
//!
//! A private key is a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`), a public key an
//! SPKI PEM file (`-----BEGIN PUBLIC KEY-----`): the same files that
//! `openssl genpkey -algorithm ed25519` and
//! `openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:SM2` write, and
//! `openssl pkey -pubout` derives. The algorithm is read from the file. A private key
//! file that its group or others may read or write is refused (`key_invalid`);
//! `govdata keygen` writes it with mode 600.
//!
//! # Key ids
//!
//! A key's id is the first 16 bytes of the SHA-256 of its public key's SPKI DER
//! encoding, in lowercase hexadecimal (32 digits): the same for the private and the
//! public file, and independent of how the PEM is wrapped.
//!
//! # Signatures
//!
//! Both algorithms give 64 bytes: Ed25519's `R || S`, and SM2's `r || s` as two 32-byte
//! big-endian integers. SM2 signatures are deterministic (RFC 6979 nonces over SM3).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sm2::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use zeroize::Zeroizing;

/// The length of a signature in bytes, for either algorithm.
pub const SIGNATURE_LEN: usize = 64;

/// The SM2 distinguishing id (GM/T 0009-2012's default).
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// A signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), the default.
    #[default]
    Ed25519,
    /// SM2 with SM3 (GB/T 32918, GM/T 0009), the national algorithm.
    Sm2,
}

impl Algorithm {
    /// The wire name: `ed25519` or `sm2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Sm2 => "sm2",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ed25519" => Ok(Algorithm::Ed25519),
            "sm2" => Ok(Algorithm::Sm2),
            _ => Err(Error::KeyInvalid {
                message: format!(
                    "unknown signature algorithm `{}`, expected one of: ed25519, sm2",
                    crate::quote::quote(s)
                ),
            }),
        }
    }
}

fn key_invalid(message: impl Into<String>) -> Error {
    Error::KeyInvalid {
        message: message.into(),
    }
}

/// A private signing key (Ed25519 or SM2).
///
/// The secret is wiped from memory when the key is dropped; the key is neither
/// `Clone` nor `Debug`.
#[expect(
    missing_debug_implementations,
    reason = "key material is never printed, not even redacted by accident"
)]
pub struct SigningKey {
    inner: SigningInner,
    public: VerifyingKey,
}

enum SigningInner {
    // Both wipe their secret on drop (`ZeroizeOnDrop`).
    Ed25519(ed25519_dalek::SigningKey),
    Sm2(sm2::SecretKey),
}

impl SigningKey {
    /// A new random key from the operating system's generator.
    pub fn generate(algorithm: Algorithm) -> Result<SigningKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        loop {
            getrandom::fill(&mut seed[..])
                .map_err(|e| key_invalid(format!("cannot generate a key: {e}")))?;
            let inner = match algorithm {
                Algorithm::Ed25519 => {
                    SigningInner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
                }
                Algorithm::Sm2 => match sm2::SecretKey::from_slice(&seed[..]) {
                    Ok(k) => SigningInner::Sm2(k),
                    // Zero or not below the group order: draw again (probability ~2^-32).
                    Err(_) => continue,
                },
            };
            return SigningKey::from_inner(inner);
        }
    }

    fn from_inner(inner: SigningInner) -> Result<SigningKey> {
        let public = match &inner {
            SigningInner::Ed25519(k) => {
                VerifyingKey::from_inner(VerifyingInner::Ed25519(k.verifying_key()))?
            }
            SigningInner::Sm2(k) => {
                let vk = sm2::dsa::VerifyingKey::new(SM2_DEFAULT_ID, k.public_key())
                    .map_err(|_| key_invalid("not a valid SM2 key"))?;
                VerifyingKey::from_inner(VerifyingInner::Sm2(Box::new(vk)))?
            }
        };
        Ok(SigningKey { inner, public })
    }

    /// A key from a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return SigningKey::from_inner(SigningInner::Ed25519(k));
        }
        if let Ok(k) = sm2::SecretKey::from_pkcs8_pem(pem) {
            return SigningKey::from_inner(SigningInner::Sm2(k));
        }
        Err(key_invalid(
            "not an unencrypted PKCS#8 PEM private key of Ed25519 or SM2",
        ))
    }

    /// Reads a PKCS#8 PEM private key file, refusing one that its group or others may
    /// read or write.
    pub fn from_file(path: impl AsRef<Path>) -> Result<SigningKey> {
        let path = path.as_ref();
        check_private(path)?;
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
        SigningKey::from_pkcs8_pem(&text).map_err(|_| {
            key_invalid(format!(
                "`{}` is not an unencrypted PKCS#8 PEM private key of Ed25519 or SM2",
                path.display()
            ))
        })
    }

    /// The key as a PKCS#8 PEM document.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        let pem = match &self.inner {
            SigningInner::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningInner::Sm2(k) => k.to_pkcs8_pem(LineEnding::LF),
        };
        pem.map_err(|_| key_invalid("cannot encode the private key"))
    }

    /// Writes the private key to `path` (PKCS#8 PEM, mode 600, never over an existing
    /// file) and the public key beside it with `.pub` appended (SPKI PEM); returns the
    /// public file's path.
    pub fn write_files(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let path = path.as_ref();
        let public_path = public_path_of(path);
        if public_path.exists() {
            return Err(Error::io(
                &public_path,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "file exists"),
            ));
        }
        let pem = self.to_pkcs8_pem()?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(path, e))?;
        let public = self.public.to_public_key_pem();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let mut file = options
            .open(&public_path)
            .map_err(|e| Error::io(&public_path, e))?;
        file.write_all(public.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&public_path, e))?;
        Ok(public_path)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The key id (see the module documentation).
    pub fn key_id(&self) -> &str {
        self.public.key_id()
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        use sm2::dsa::signature::Signer;
        match &self.inner {
            SigningInner::Ed25519(k) => Ok(k.sign(message).to_bytes()),
            SigningInner::Sm2(k) => {
                let signer = sm2::dsa::SigningKey::new(SM2_DEFAULT_ID, k)
                    .map_err(|_| key_invalid("not a valid SM2 key"))?;
                let sig: sm2::dsa::Signature = signer
                    .try_sign(message)
                    .map_err(|_| key_invalid("SM2 signing failed"))?;
                let mut out = [0u8; SIGNATURE_LEN];
                out.copy_from_slice(&sig.to_bytes());
                Ok(out)
            }
        }
    }
}

/// The path of the public key file written beside a private key file: `.pub` appended.
pub fn public_path_of(private: &Path) -> PathBuf {
    let mut name = private.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// A public verifying key (Ed25519 or SM2) with its key id.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: VerifyingInner,
    spki: Vec<u8>,
    id: String,
}

#[derive(Clone)]
enum VerifyingInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.id)
            .finish()
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for VerifyingKey {}

impl VerifyingKey {
    fn from_inner(inner: VerifyingInner) -> Result<VerifyingKey> {
        let spki = match &inner {
            VerifyingInner::Ed25519(k) => k.to_public_key_der(),
            VerifyingInner::Sm2(k) => sm2::PublicKey::from_affine(*k.as_affine())
                .map_err(|_| sm2::pkcs8::spki::Error::KeyMalformed)
                .and_then(|p| p.to_public_key_der()),
        }
        .map_err(|_| key_invalid("cannot encode the public key"))?
        .into_vec();
        let digest = Sha256::digest(&spki);
        let id = hex::encode(&digest[..16]);
        Ok(VerifyingKey { inner, spki, id })
    }

    /// A key from an SPKI PEM document (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_public_key_pem(pem: &str) -> Result<VerifyingKey> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return VerifyingKey::from_inner(VerifyingInner::Ed25519(k));
        }
        if let Ok(p) = sm2::PublicKey::from_public_key_pem(pem) {
            let vk = sm2::dsa::VerifyingKey::new(SM2_DEFAULT_ID, p)
                .map_err(|_| key_invalid("not a valid SM2 public key"))?;
            return VerifyingKey::from_inner(VerifyingInner::Sm2(Box::new(vk)));
        }
        Err(key_invalid("not an SPKI PEM public key of Ed25519 or SM2"))
    }

    /// A key from its SPKI DER encoding.
    pub fn from_public_key_der(der: &[u8]) -> Result<VerifyingKey> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return VerifyingKey::from_inner(VerifyingInner::Ed25519(k));
        }
        if let Ok(p) = sm2::PublicKey::from_public_key_der(der) {
            let vk = sm2::dsa::VerifyingKey::new(SM2_DEFAULT_ID, p)
                .map_err(|_| key_invalid("not a valid SM2 public key"))?;
            return VerifyingKey::from_inner(VerifyingInner::Sm2(Box::new(vk)));
        }
        Err(key_invalid("not an SPKI DER public key of Ed25519 or SM2"))
    }

    /// Reads an SPKI PEM public key file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<VerifyingKey> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        VerifyingKey::from_public_key_pem(&text).map_err(|_| {
            key_invalid(format!(
                "`{}` is not an SPKI PEM public key of Ed25519 or SM2",
                path.display()
            ))
        })
    }

    /// The key as an SPKI PEM document.
    pub fn to_public_key_pem(&self) -> String {
        let b64 = base64_encode(&self.spki);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// The SPKI DER encoding.
    pub fn to_public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            VerifyingInner::Ed25519(_) => Algorithm::Ed25519,
            VerifyingInner::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// The key id (see the module documentation).
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// Checks `signature` over `message`: `crypto_auth_failed` when it does not verify.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let bad = || Error::CryptoAuthFailed {
            message: format!(
                "the {} signature does not verify under key `{}`",
                self.algorithm(),
                self.id
            ),
        };
        if signature.len() != SIGNATURE_LEN {
            return Err(bad());
        }
        match &self.inner {
            VerifyingInner::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
                k.verify_strict(message, &sig).map_err(|_| bad())
            }
            VerifyingInner::Sm2(k) => {
                use sm2::dsa::signature::Verifier;
                let sig = sm2::dsa::Signature::from_slice(signature).map_err(|_| bad())?;
                k.verify(message, &sig).map_err(|_| bad())
            }
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A private key file must not be readable or writable by its group or others.
fn check_private(path: &Path) -> Result<()> {
    match crate::disk::shared_mode(path).map_err(|e| Error::io(path, e))? {
        None => Ok(()),
        Some(mode) => Err(key_invalid(format!(
            "private key file `{}` may be read or written by others (mode {:o}); make it readable by its owner only (chmod 600)",
            path.display(),
            mode
        ))),
    }
}

#[cfg(test)]
mod tests;
