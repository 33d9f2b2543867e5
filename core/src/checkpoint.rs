//! Signed checkpoints: a log's size and Merkle root at one time, signed with Ed25519
//! or SM2, so that an auditor holding only the public key can check that a later
//! checkpoint extends an earlier one (nothing was rewritten or removed) and that a
//! record is in a checkpointed log.
//!
//! A checkpoint names its log by an `origin` (a node id, or a platform store's id),
//! the number of leaves, the RFC 6962 root over them ([`crate::proof`]), the hash
//! suite, the time, the signing key's algorithm and id, and the signature. The bytes
//! signed are a fixed text, one field a line, every line ending in `\n`:
//!
//! ```text
//! govdata checkpoint v1
//! origin <origin>
//! size <decimal number of leaves>
//! suite <sha256|sm3>
//! root <64 lowercase hex digits>
//! time <RFC 3339 UTC time with milliseconds>
//! algorithm <ed25519|sm2>
//! key <key id>
//! ```
//!
//! The origin may hold no control characters. The JSON form carries the same fields
//! plus `signature` (128 lowercase hex digits); see [`Checkpoint::to_json`].
//!
//! ```
//! use govdata::audit::{HashSuite, Timestamp};
//! use govdata::checkpoint::{self, Checkpoint};
//! use govdata::proof;
//! use govdata::sign::{Algorithm, SigningKey};
//! let key = SigningKey::generate(Algorithm::Ed25519)?;
//! let suite = HashSuite::Sha256;
//! let leaves: Vec<_> = (1..=9u64).map(|seq| proof::record_leaf(suite, seq, b"{}")).collect();
//! let old = Checkpoint::sign_leaves(&key, "etl-01", suite, &leaves[..5], Timestamp::now())?;
//! let new = Checkpoint::sign_leaves(&key, "etl-01", suite, &leaves, Timestamp::now())?;
//! // What the auditor receives: two checkpoints, two proofs, and one record's leaf.
//! let consistency = proof::consistency_proof(suite, old.size(), &leaves)?;
//! checkpoint::verify_consistency(&old, &new, &consistency, key.verifying_key())?;
//! let inclusion = proof::inclusion_proof(suite, 7, &leaves)?;
//! checkpoint::verify_inclusion(&new, 7, &leaves[7], &inclusion, key.verifying_key())?;
//! let again = Checkpoint::from_json(&new.to_json())?;
//! again.verify(key.verifying_key())?;
//! # Ok::<(), govdata::Error>(())
//! ```

use crate::audit::{HashSuite, Timestamp};
use crate::error::{Error, Result};
use crate::proof::{self, Hash};
use crate::sign::{Algorithm, SigningKey, VerifyingKey, SIGNATURE_LEN};
use serde::{Deserialize, Serialize};

/// The first line of the signed text.
const HEADER: &str = "govdata checkpoint v1";

/// A signed checkpoint of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    suite: HashSuite,
    root: Hash,
    time: Timestamp,
    algorithm: Algorithm,
    key_id: String,
    signature: [u8; SIGNATURE_LEN],
}

fn invalid(message: impl Into<String>) -> Error {
    Error::RequestInvalid {
        message: message.into(),
    }
}

fn check_origin(origin: &str) -> Result<()> {
    if origin.is_empty() || origin.chars().any(char::is_control) {
        return Err(invalid(format!(
            "a checkpoint origin must be a non-empty name without control characters, not `{}`",
            crate::quote::quote(origin)
        )));
    }
    Ok(())
}

/// The signed text of a checkpoint's fields.
fn body(
    origin: &str,
    size: u64,
    suite: HashSuite,
    root: &Hash,
    time: Timestamp,
    algorithm: Algorithm,
    key_id: &str,
) -> String {
    format!(
        "{HEADER}\norigin {origin}\nsize {size}\nsuite {suite}\nroot {}\ntime {time}\nalgorithm {algorithm}\nkey {key_id}\n",
        hex::encode(root)
    )
}

impl Checkpoint {
    /// Signs the tree of `size` leaves with root `root` of the log `origin`.
    pub fn sign(
        key: &SigningKey,
        origin: &str,
        suite: HashSuite,
        size: u64,
        root: Hash,
        time: Timestamp,
    ) -> Result<Checkpoint> {
        check_origin(origin)?;
        let text = body(
            origin,
            size,
            suite,
            &root,
            time,
            key.algorithm(),
            key.key_id(),
        );
        let signature = key.sign(text.as_bytes())?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            suite,
            root,
            time,
            algorithm: key.algorithm(),
            key_id: key.key_id().to_owned(),
            signature,
        })
    }

    /// Signs the tree of the leaf hashes `leaves` (see [`proof::record_leaf`]) of the
    /// log `origin`.
    pub fn sign_leaves(
        key: &SigningKey,
        origin: &str,
        suite: HashSuite,
        leaves: &[Hash],
        time: Timestamp,
    ) -> Result<Checkpoint> {
        let root = proof::tree_root(suite, leaves);
        Checkpoint::sign(key, origin, suite, leaves.len() as u64, root, time)
    }

    /// The log the checkpoint is of.
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// The hash suite of the tree.
    pub fn suite(&self) -> HashSuite {
        self.suite
    }
    /// The RFC 6962 root of the first [`Checkpoint::size`] leaves.
    pub fn root(&self) -> &Hash {
        &self.root
    }
    /// When it was signed.
    pub fn time(&self) -> Timestamp {
        self.time
    }
    /// The signature algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The id of the key that signed it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// The signature.
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// The bytes that are signed (see the module documentation).
    pub fn signed_bytes(&self) -> Vec<u8> {
        body(
            &self.origin,
            self.size,
            self.suite,
            &self.root,
            self.time,
            self.algorithm,
            &self.key_id,
        )
        .into_bytes()
    }

    /// Checks the signature under `key`: `crypto_auth_failed` when the checkpoint
    /// names another key or algorithm, or the signature does not verify.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        if key.key_id() != self.key_id || key.algorithm() != self.algorithm {
            return Err(Error::CryptoAuthFailed {
                message: format!(
                    "the checkpoint of `{}` is signed by {} key `{}`, not by {} key `{}`",
                    crate::quote::quote(&self.origin),
                    self.algorithm,
                    crate::quote::quote(&self.key_id),
                    key.algorithm(),
                    key.key_id()
                ),
            });
        }
        key.verify(&self.signed_bytes(), &self.signature)
    }

    /// The JSON form: `{"origin", "size", "suite", "root", "time", "algorithm",
    /// "key_id", "signature"}` with the root and signature in lowercase hex and the
    /// time in RFC 3339.
    pub fn to_json(&self) -> String {
        let raw = RawCheckpoint {
            origin: self.origin.clone(),
            size: self.size,
            suite: self.suite.as_str().to_owned(),
            root: hex::encode(self.root),
            time: self.time,
            algorithm: self.algorithm.as_str().to_owned(),
            key_id: self.key_id.clone(),
            signature: hex::encode(self.signature),
        };
        // A struct of strings and numbers always serializes.
        serde_json::to_string(&raw).unwrap_or_default()
    }

    /// Reads the JSON form (`request_invalid` when malformed). The signature is not
    /// checked here: call [`Checkpoint::verify`].
    pub fn from_json(text: &str) -> Result<Checkpoint> {
        let raw: RawCheckpoint =
            serde_json::from_str(text).map_err(|e| invalid(format!("invalid checkpoint: {e}")))?;
        check_origin(&raw.origin)?;
        let mut root = [0u8; 32];
        hex::decode_to_slice(&raw.root, &mut root)
            .map_err(|_| invalid("invalid checkpoint: `root` must be 64 hex digits"))?;
        let mut signature = [0u8; SIGNATURE_LEN];
        hex::decode_to_slice(&raw.signature, &mut signature)
            .map_err(|_| invalid("invalid checkpoint: `signature` must be 128 hex digits"))?;
        let suite = raw
            .suite
            .parse()
            .map_err(|_| invalid("invalid checkpoint: `suite` must be sha256 or sm3"))?;
        let algorithm = raw
            .algorithm
            .parse()
            .map_err(|_| invalid("invalid checkpoint: `algorithm` must be ed25519 or sm2"))?;
        if raw.key_id.is_empty() || raw.key_id.chars().any(char::is_control) {
            return Err(invalid("invalid checkpoint: `key_id`"));
        }
        Ok(Checkpoint {
            origin: raw.origin,
            size: raw.size,
            suite,
            root,
            time: raw.time,
            algorithm,
            key_id: raw.key_id,
            signature,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckpoint {
    origin: String,
    size: u64,
    suite: String,
    root: String,
    time: Timestamp,
    algorithm: String,
    key_id: String,
    signature: String,
}

/// Checks that `new` extends `old`: both signed under `key`, of the same origin and
/// hash suite, `old` no larger, and `proof` an RFC 6962 consistency proof between
/// their roots. `crypto_auth_failed` when a signature or the proof fails,
/// `request_invalid` when the two are of different logs or `old` is the larger.
pub fn verify_consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: &[Hash],
    key: &VerifyingKey,
) -> Result<()> {
    old.verify(key)?;
    new.verify(key)?;
    if old.origin != new.origin || old.suite != new.suite {
        return Err(invalid(format!(
            "the checkpoints are of different logs: `{}` ({}) and `{}` ({})",
            crate::quote::quote(&old.origin),
            old.suite,
            crate::quote::quote(&new.origin),
            new.suite
        )));
    }
    proof::verify_consistency(new.suite, old.size, new.size, &old.root, &new.root, proof)
}

/// Checks that the leaf hash `leaf` is leaf `index` (0-based) of the log that the
/// checkpoint `checkpoint`, signed under `key`, covers: `crypto_auth_failed` when the
/// signature or the audit path `proof` fails, `request_invalid` when `index` is not
/// below its size.
pub fn verify_inclusion(
    checkpoint: &Checkpoint,
    index: u64,
    leaf: &Hash,
    proof: &[Hash],
    key: &VerifyingKey,
) -> Result<()> {
    checkpoint.verify(key)?;
    proof::verify_inclusion(
        checkpoint.suite,
        index,
        checkpoint.size,
        leaf,
        proof,
        &checkpoint.root,
    )
}

#[cfg(test)]
mod tests;
