//! Signed policy bundles: a policy pack in one file, signed by the management
//! department, that a node loads only when it verifies under a key it trusts.
//!
//! # The file
//!
//! A bundle is one UTF-8 JSON document:
//!
//! ```json
//! {"format": "govdata-bundle/1",
//!  "manifest": {"version": 7,
//!               "policy_version": "sha256:…",
//!               "created": "2026-12-07T06:00:00.000Z",
//!               "expires": "2027-03-07T06:00:00.000Z",
//!               "files": [{"name": "schema.cedarschema", "size": 1234,
//!                          "sha256": "…", "sm3": "…"},
//!                         {"name": "0/art17.cedar", "size": 456, "sha256": "…", "sm3": "…"}]},
//!  "files": [{"name": "schema.cedarschema", "text": "…"}, {"name": "0/art17.cedar", "text": "…"}],
//!  "signatures": [{"algorithm": "ed25519", "key_id": "…", "signature": "…"}]}
//! ```
//!
//! `files` holds the schema (`schema.cedarschema`, from the first directory) and every
//! `*.cedar` file of the directories given, as `K/NAME` with `K` the 0-based index of
//! the directory, in pack order (directory by directory, names sorted). The manifest
//! lists each file's size in bytes and its SHA-256 and SM3 in lowercase hex, the pack's
//! `version` (a number the publisher raises with every release), the
//! `policy_version` of the pack it loads to (the engine's `sha256:` hash), and the
//! times it was made and stops being valid (RFC 3339, UTC).
//!
//! A signature is Ed25519 or SM2 ([`crate::sign`]) over this text, one line each,
//! every line ending in `\n`, files in the manifest's order:
//!
//! ```text
//! govdata bundle v1
//! version <version>
//! policy_version <policy_version>
//! created <created>
//! expires <expires>
//! file <size> <sha256> <sm3> <name>
//! ```
//!
//! # What a node accepts
//!
//! [`Bundle::verify`] refuses, each with the error code `bundle_invalid` and a
//! [`reason`](crate::Error::bundle_reason): a file that does not parse (`malformed`);
//! a file whose text does not match the manifest, or a file missing or added
//! (`tampered`); no signature at all (`unsigned`); signatures only by keys not
//! trusted (`untrusted_key`); a signature by a trusted key that does not verify
//! (`bad_signature`); a bundle past its expiry (`expired`); a pack whose hash is not
//! the manifest's `policy_version` (`policy_version`); and, against the node's last
//! accepted bundle ([`BundleState`]), a lower version, or the same version with
//! another pack (`rollback`). There is no "no key configured" mode: an empty list of
//! trusted keys accepts nothing.

use crate::audit::{HashSuite, Timestamp};
use crate::error::{Error, Result};
use crate::policy::PolicyPack;
use crate::sign::{Algorithm, SigningKey, VerifyingKey, SIGNATURE_LEN};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `format` of a bundle file.
pub const BUNDLE_FORMAT: &str = "govdata-bundle/1";

/// The name of the schema inside a bundle.
pub const SCHEMA_NAME: &str = "schema.cedarschema";

const HEADER: &str = "govdata bundle v1";

/// Why a bundle was refused: the `reason` of a `bundle_invalid` error.
pub mod reason {
    /// The file does not parse as a bundle.
    pub const MALFORMED: &str = "malformed";
    /// A file's text does not match the manifest, or a file is missing or added.
    pub const TAMPERED: &str = "tampered";
    /// The bundle carries no signature.
    pub const UNSIGNED: &str = "unsigned";
    /// No signature is by a trusted key.
    pub const UNTRUSTED_KEY: &str = "untrusted_key";
    /// A signature by a trusted key does not verify.
    pub const BAD_SIGNATURE: &str = "bad_signature";
    /// The bundle is past its expiry.
    pub const EXPIRED: &str = "expired";
    /// The version is below the last accepted one, or equal with another pack.
    pub const ROLLBACK: &str = "rollback";
    /// The pack does not hash to the manifest's `policy_version`.
    pub const POLICY_VERSION: &str = "policy_version";
    /// There is no bundle to load: the platform store holds none that was published.
    pub const MISSING: &str = "missing";
}

fn refused(reason: &'static str, message: impl Into<String>) -> Error {
    Error::BundleInvalid {
        reason,
        message: message.into(),
    }
}

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// `schema.cedarschema` or `K/NAME.cedar`.
    pub name: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Its SM3, lowercase hex.
    pub sm3: String,
}

/// What a bundle's signatures cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The pack's release number; a node accepts only a higher one than it last ran.
    pub version: u64,
    /// The `sha256:` hash of the pack, as decisions and audit records name it.
    pub policy_version: String,
    /// When the bundle was made.
    pub created: Timestamp,
    /// When it stops being valid.
    pub expires: Timestamp,
    /// Every file, in pack order.
    pub files: Vec<FileEntry>,
}

/// One signature of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// `ed25519` or `sm2`.
    pub algorithm: String,
    /// The signing key's id.
    pub key_id: String,
    /// The signature, lowercase hex.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleFile {
    name: String,
    text: String,
}

/// A policy bundle: manifest, files, signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    format: String,
    manifest: Manifest,
    files: Vec<BundleFile>,
    #[serde(default)]
    signatures: Vec<BundleSignature>,
}

fn entry(name: String, text: &str) -> FileEntry {
    FileEntry {
        name,
        size: text.len() as u64,
        sha256: hex::encode(HashSuite::Sha256.hash(&[text.as_bytes()])),
        sm3: hex::encode(HashSuite::Sm3.hash(&[text.as_bytes()])),
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(refused(
            reason::MALFORMED,
            format!(
                "file name `{}` is empty or holds control characters",
                crate::quote::quote(name)
            ),
        ));
    }
    Ok(())
}

impl Bundle {
    /// Builds an unsigned bundle of the pack in `dirs` (the schema from the first,
    /// the `*.cedar` files of all), checking that the pack loads.
    pub fn build(
        dirs: &[&Path],
        version: u64,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<Bundle> {
        let pack = PolicyPack::from_dirs(dirs)?;
        let first = dirs.first().ok_or_else(|| {
            Error::request("a bundle needs at least one policy directory".to_owned())
        })?;
        let schema_path = first.join(SCHEMA_NAME);
        let schema =
            std::fs::read_to_string(&schema_path).map_err(|e| Error::io(&schema_path, e))?;
        let mut files = vec![BundleFile {
            name: SCHEMA_NAME.to_owned(),
            text: schema,
        }];
        for (k, dir) in dirs.iter().enumerate() {
            for (path, text) in crate::policy::read_cedar_files(dir)? {
                let base = Path::new(&path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push(BundleFile {
                    name: format!("{k}/{base}"),
                    text,
                });
            }
        }
        if expires <= created {
            return Err(Error::request(format!(
                "a bundle must expire after it is made ({created}), not at {expires}"
            )));
        }
        let bundle = Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            manifest: Manifest {
                version,
                policy_version: pack.version().to_owned(),
                created,
                expires,
                files: files
                    .iter()
                    .map(|f| entry(f.name.clone(), &f.text))
                    .collect(),
            },
            files,
            signatures: Vec::new(),
        };
        // The pack as the bundle will load it must be the pack just checked.
        let loaded = bundle.load_pack()?;
        if loaded.version() != pack.version() {
            return Err(refused(
                reason::POLICY_VERSION,
                "the bundled pack does not hash as the directories do",
            ));
        }
        Ok(bundle)
    }

    /// Parses a bundle and checks its files against its manifest (not its
    /// signatures: see [`Bundle::verify`]).
    pub fn from_json(text: &str) -> Result<Bundle> {
        let bundle: Bundle = serde_json::from_str(text)
            .map_err(|e| refused(reason::MALFORMED, format!("not a policy bundle: {e}")))?;
        if bundle.format != BUNDLE_FORMAT {
            return Err(refused(
                reason::MALFORMED,
                format!(
                    "unknown bundle format `{}`, expected `{BUNDLE_FORMAT}`",
                    crate::quote::quote(&bundle.format)
                ),
            ));
        }
        bundle.check_files()?;
        Ok(bundle)
    }

    /// Reads a bundle file ([`Bundle::from_json`]).
    pub fn read(path: impl AsRef<Path>) -> Result<Bundle> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| refused(reason::MALFORMED, "a policy bundle is UTF-8 JSON"))?;
        Bundle::from_json(&text)
    }

    /// The bundle as its JSON file.
    pub fn to_json(&self) -> String {
        // Strings, numbers and lists always serialize.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the bundle to `path` (through a temporary file and a rename).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut text = self.to_json();
        text.push('\n');
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The signatures.
    pub fn signatures(&self) -> &[BundleSignature] {
        &self.signatures
    }

    /// Removes every signature (for tests of an unsigned bundle, and before re-signing
    /// a changed manifest).
    pub fn clear_signatures(&mut self) {
        self.signatures.clear();
    }

    fn check_files(&self) -> Result<()> {
        if self.files.len() != self.manifest.files.len() {
            return Err(refused(
                reason::TAMPERED,
                format!(
                    "the bundle holds {} files and its manifest lists {}",
                    self.files.len(),
                    self.manifest.files.len()
                ),
            ));
        }
        if self.files.first().map(|f| f.name.as_str()) != Some(SCHEMA_NAME) {
            return Err(refused(
                reason::MALFORMED,
                format!("the first file of a bundle is `{SCHEMA_NAME}`"),
            ));
        }
        for (file, listed) in self.files.iter().zip(&self.manifest.files) {
            check_name(&file.name)?;
            if *listed != entry(file.name.clone(), &file.text) {
                return Err(refused(
                    reason::TAMPERED,
                    format!(
                        "file `{}` does not match the manifest",
                        crate::quote::quote(&file.name)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The bytes that are signed (see the module documentation).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let m = &self.manifest;
        let mut text = format!(
            "{HEADER}\nversion {}\npolicy_version {}\ncreated {}\nexpires {}\n",
            m.version, m.policy_version, m.created, m.expires
        );
        for f in &m.files {
            text.push_str(&format!(
                "file {} {} {} {}\n",
                f.size, f.sha256, f.sm3, f.name
            ));
        }
        text.into_bytes()
    }

    /// Adds a signature by `key`, replacing an earlier one by the same key.
    pub fn sign(&mut self, key: &SigningKey) -> Result<()> {
        if self.manifest.policy_version.chars().any(char::is_control) {
            return Err(refused(reason::MALFORMED, "`policy_version`"));
        }
        let signature = key.sign(&self.signed_bytes())?;
        self.signatures.retain(|s| s.key_id != key.key_id());
        self.signatures.push(BundleSignature {
            algorithm: key.algorithm().as_str().to_owned(),
            key_id: key.key_id().to_owned(),
            signature: hex::encode(signature),
        });
        Ok(())
    }

    /// Checks the files, the signatures and the expiry: the bundle must carry at
    /// least one signature by a key in `trusted`, every signature by a trusted key
    /// must verify, and `now` must be before its expiry. Returns the id of a trusted
    /// key that signed it.
    pub fn verify(&self, trusted: &[VerifyingKey], now: Timestamp) -> Result<String> {
        self.check_files()?;
        if self.signatures.is_empty() {
            return Err(refused(reason::UNSIGNED, "the bundle is not signed"));
        }
        let message = self.signed_bytes();
        let mut good = None;
        for s in &self.signatures {
            let Some(key) = trusted.iter().find(|k| k.key_id() == s.key_id) else {
                continue;
            };
            let algorithm: Algorithm = s.algorithm.parse().map_err(|_| {
                refused(
                    reason::BAD_SIGNATURE,
                    format!("unknown algorithm `{}`", crate::quote::quote(&s.algorithm)),
                )
            })?;
            let mut bytes = [0u8; SIGNATURE_LEN];
            let decoded = hex::decode_to_slice(&s.signature, &mut bytes);
            if algorithm != key.algorithm()
                || decoded.is_err()
                || key.verify(&message, &bytes).is_err()
            {
                return Err(refused(
                    reason::BAD_SIGNATURE,
                    format!(
                        "the signature by trusted key `{}` does not verify",
                        key.key_id()
                    ),
                ));
            }
            good = Some(key.key_id().to_owned());
        }
        let Some(key_id) = good else {
            let ids: Vec<&str> = self.signatures.iter().map(|s| s.key_id.as_str()).collect();
            return Err(refused(
                reason::UNTRUSTED_KEY,
                format!(
                    "signed only by keys not trusted here: {}",
                    crate::quote::bounded(&ids.join(", "))
                ),
            ));
        };
        if now >= self.manifest.expires {
            return Err(refused(
                reason::EXPIRED,
                format!("the bundle expired at {}", self.manifest.expires),
            ));
        }
        Ok(key_id)
    }

    /// Loads the pack the bundle holds and checks it against the manifest's
    /// `policy_version`. Call [`Bundle::verify`] first.
    pub fn load_pack(&self) -> Result<PolicyPack> {
        let (schema, policies) = self
            .files
            .split_first()
            .ok_or_else(|| refused(reason::MALFORMED, "a bundle holds at least the schema"))?;
        let files: Vec<(String, String)> = policies
            .iter()
            .map(|f| (f.name.clone(), f.text.clone()))
            .collect();
        let pack = PolicyPack::from_sources((&schema.name, &schema.text), &files)?;
        if pack.version() != self.manifest.policy_version {
            return Err(refused(
                reason::POLICY_VERSION,
                format!(
                    "the pack hashes to `{}`, the manifest says `{}`",
                    pack.version(),
                    crate::quote::quote(&self.manifest.policy_version)
                ),
            ));
        }
        Ok(pack)
    }
}

/// The last bundle a node accepted, kept in a small JSON file so that a restart or a
/// reload cannot roll the node back to an older pack:
/// `{"version": 7, "policy_version": "sha256:…", "accepted": "2026-…Z"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleState {
    /// The version accepted last.
    pub version: u64,
    /// Its pack's hash.
    pub policy_version: String,
    /// When it was accepted.
    pub accepted: Timestamp,
}

impl BundleState {
    /// Reads the state file; `None` when there is none yet.
    pub fn read(path: impl AsRef<Path>) -> Result<Option<BundleState>> {
        let path = path.as_ref();
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Error::ConfigInvalid {
                    message: format!(
                        "the bundle state file `{}` is unreadable: {e}; restore it or remove it to accept any signed bundle again",
                        path.display()
                    ),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Writes the state file (through a temporary file and a rename, synced).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        use std::io::Write;
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let text = serde_json::to_string(self).unwrap_or_default();
        let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// Refuses `manifest` when it would roll the node back: a lower version, or the
    /// same version with another pack (the same bundle again, after a restart, passes).
    pub fn check(&self, manifest: &Manifest) -> Result<()> {
        let same =
            manifest.version == self.version && manifest.policy_version == self.policy_version;
        if manifest.version > self.version || same {
            Ok(())
        } else {
            Err(refused(
                reason::ROLLBACK,
                format!(
                    "version {} is not above version {}, the last accepted",
                    manifest.version, self.version
                ),
            ))
        }
    }
}

/// A bundle that passed every check, with the pack it holds.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The pack.
    pub pack: PolicyPack,
    /// The manifest.
    pub manifest: Manifest,
    /// The trusted key that signed it.
    pub key_id: String,
}

/// Reads, verifies and loads the bundle at `path` against the trusted keys and the
/// state file `state` at time `now`, and records it in the state file. Nothing is
/// recorded when any check fails.
pub fn accept(
    path: &Path,
    trusted: &[VerifyingKey],
    state: &Path,
    now: Timestamp,
) -> Result<Accepted> {
    accept_bundle(Bundle::read(path)?, trusted, state, now)
}

/// Verifies and loads `bundle` (from a file or from the store) as [`accept`] does, and
/// records it in the state file `state`. Nothing is recorded when any check fails.
pub fn accept_bundle(
    bundle: Bundle,
    trusted: &[VerifyingKey],
    state: &Path,
    now: Timestamp,
) -> Result<Accepted> {
    let key_id = bundle.verify(trusted, now)?;
    if let Some(last) = BundleState::read(state)? {
        last.check(&bundle.manifest)?;
    }
    let pack = bundle.load_pack()?;
    BundleState {
        version: bundle.manifest.version,
        policy_version: bundle.manifest.policy_version.clone(),
        accepted: now,
    }
    .write(state)?;
    Ok(Accepted {
        pack,
        manifest: bundle.manifest,
        key_id,
    })
}

#[cfg(test)]
mod tests;
