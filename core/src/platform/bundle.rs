//! The node's signed policy bundle: the `[policies] bundle` and `trust_keys` of
//! `govdata.toml`, the bundle checked when the node opens, and
//! [`Platform::reload_bundle`], which swaps the pack only for a bundle that passes
//! every check and otherwise keeps the last good pack, records `policy.rejected`
//! and reports the refusal in [`Platform::status`].

use super::Platform;
use crate::audit::{Event, Outcome, Timestamp};
use crate::bundle::{self, Accepted};
use crate::error::{Error, Result};
use crate::policy::PolicyPack;
use crate::sign::VerifyingKey;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The bundle part of the `[policies]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSection {
    /// The bundle file the node loads.
    pub bundle: PathBuf,
    /// Public key files (SPKI PEM) of the keys whose signature the node accepts; never
    /// empty.
    pub trust_keys: Vec<PathBuf>,
    /// Where the last accepted version is kept: `state_file`, or beside the audit log
    /// directory with `.bundle-state.json` appended to its name.
    pub state_file: PathBuf,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::ConfigInvalid {
        message: message.into(),
    }
}

/// Checks the bundle keys of `[policies]`, their paths already resolved.
pub(super) fn section(
    dirs: &[PathBuf],
    bundle: Option<PathBuf>,
    trust_keys: Vec<PathBuf>,
    state_file: Option<PathBuf>,
    audit_dir: Option<&Path>,
) -> Result<Option<BundleSection>> {
    let Some(bundle) = bundle else {
        if !trust_keys.is_empty() || state_file.is_some() {
            return Err(invalid(
                "`policies.trust_keys` and `policies.state_file` go with `policies.bundle`",
            ));
        }
        return Ok(None);
    };
    if !dirs.is_empty() {
        return Err(invalid(
            "`[policies]` names both `dirs` and `bundle`: a node runs either directories or a signed bundle",
        ));
    }
    if trust_keys.is_empty() {
        return Err(invalid(
            "`policies.bundle` needs `trust_keys`: the public key files of the keys whose signature the node accepts (a bundle is never accepted unsigned)",
        ));
    }
    let state_file = match (state_file, audit_dir) {
        (Some(s), _) => s,
        (None, Some(dir)) => {
            let mut name = dir.as_os_str().to_owned();
            name.push(".bundle-state.json");
            PathBuf::from(name)
        }
        (None, None) => {
            return Err(invalid(
                "`policies.bundle` needs `policies.state_file` (or an `[audit]` section, beside whose directory the last accepted version is kept)",
            ))
        }
    };
    Ok(Some(BundleSection {
        bundle,
        trust_keys,
        state_file,
    }))
}

/// What [`Platform::status`] reports about the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleStatus {
    /// The bundle file the running pack came from.
    pub path: String,
    /// Its version.
    pub version: u64,
    /// Its pack's hash.
    pub policy_version: String,
    /// The trusted key that signed it.
    pub key_id: String,
    /// When the bundle stops being valid.
    pub expires: Timestamp,
    /// The last bundle refused since the node opened, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rejection: Option<BundleRejection>,
}

/// A refused bundle, as [`BundleStatus`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleRejection {
    /// The file that was refused.
    pub path: String,
    /// Why, as a stable word (see [`crate::bundle::reason`]), or the error code when
    /// the refusal was not the bundle's own (an unreadable file, a policy that does not
    /// validate).
    pub reason: String,
    /// The error message.
    pub message: String,
    /// When.
    pub time: Timestamp,
}

/// The bundle state of an open node.
#[derive(Debug)]
pub(super) struct BundleRuntime {
    section: BundleSection,
    trusted: Vec<VerifyingKey>,
    status: Mutex<BundleStatus>,
    /// One reload at a time, so that the state file and the running pack agree.
    reloading: Mutex<()>,
}

fn status_of(path: &Path, accepted: &Accepted) -> BundleStatus {
    BundleStatus {
        path: path.display().to_string(),
        version: accepted.manifest.version,
        policy_version: accepted.manifest.policy_version.clone(),
        key_id: accepted.key_id.clone(),
        expires: accepted.manifest.expires,
        last_rejection: None,
    }
}

/// Reads the trusted keys and accepts the configured bundle: the node does not open
/// without a good one.
pub(super) fn open(section: &BundleSection) -> Result<(PolicyPack, BundleRuntime)> {
    let trusted = section
        .trust_keys
        .iter()
        .map(VerifyingKey::from_file)
        .collect::<Result<Vec<_>>>()?;
    let accepted = bundle::accept(
        &section.bundle,
        &trusted,
        &section.state_file,
        Timestamp::now(),
    )?;
    let status = status_of(&section.bundle, &accepted);
    Ok((
        accepted.pack,
        BundleRuntime {
            section: section.clone(),
            trusted,
            status: Mutex::new(status),
            reloading: Mutex::new(()),
        },
    ))
}

impl BundleRuntime {
    pub(super) fn status(&self) -> BundleStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Platform {
    /// Loads the signed bundle at `path` in place of the running pack, after the same
    /// checks as at start: signed by a trusted key, intact, not expired, a version
    /// above the last accepted. On success the engine swaps to the new pack at once,
    /// the state file records it and the log records `policy.loaded`. On any failure
    /// the node keeps the pack it runs, the log records `policy.rejected` (with the
    /// reason), [`Platform::status`] reports it, and the error is returned
    /// (`bundle_invalid` for the bundle's own faults). `config_invalid` when the node
    /// was not opened with `[policies] bundle`.
    pub fn reload_bundle(&self, path: impl AsRef<Path>) -> Result<BundleStatus> {
        let path = path.as_ref();
        let Some(runtime) = &self.bundle else {
            return Err(invalid(
                "this node was not opened with `[policies] bundle` and `trust_keys`, so it takes no bundle",
            ));
        };
        let _one_at_a_time = runtime.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let now = Timestamp::now();
        match bundle::accept(path, &runtime.trusted, &runtime.section.state_file, now) {
            Ok(accepted) => {
                self.engine.reload_policies(accepted.pack.clone());
                let status = status_of(path, &accepted);
                *runtime.status.lock().unwrap_or_else(|e| e.into_inner()) = status.clone();
                if let Some(log) = &self.log {
                    log.append(
                        &Event::new("policy.loaded")
                            .field("bundle", path.display().to_string())
                            .field("version", accepted.manifest.version)
                            .field("key_id", accepted.key_id.clone())
                            .field("policy_version", accepted.manifest.policy_version.clone()),
                    )?;
                }
                Ok(status)
            }
            Err(e) => {
                let rejection = BundleRejection {
                    path: path.display().to_string(),
                    reason: e.bundle_reason().unwrap_or(e.code()).to_owned(),
                    message: e.to_string(),
                    time: now,
                };
                if let Some(log) = &self.log {
                    // The refusal is the caller's answer; a log that cannot take the
                    // record has already said so on its own appends.
                    let _ = log.append(
                        &Event::new("policy.rejected")
                            .outcome(Outcome::Failure)
                            .field("bundle", rejection.path.clone())
                            .field("reason", rejection.reason.clone())
                            .field("message", rejection.message.clone())
                            .field("policy_version", self.engine.policy_version()),
                    );
                }
                runtime
                    .status
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .last_rejection = Some(rejection);
                Err(e)
            }
        }
    }
}
