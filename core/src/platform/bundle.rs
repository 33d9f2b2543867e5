//! The node's signed policy bundle: the `[policies] bundle` (or `source = "store"`)
//! and `trust_keys` of `govdata.toml`, the bundle checked when the node opens, and
//! [`Platform::reload_bundle`], which swaps the pack only for a bundle that passes
//! every check and otherwise keeps the last good pack, records `policy.rejected`
//! and reports the refusal in [`Platform::status`]. A bundle published in the platform
//! store goes through the very same checks: the node's bundle state is the store
//! feed's sink.

use super::Platform;
use crate::audit::{AuditLog, Event, Outcome, Timestamp};
use crate::bundle::{self, Accepted, Bundle};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::policy::PolicyPack;
use crate::sign::VerifyingKey;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Where a node's bundles come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleSource {
    /// One bundle file (`[policies] bundle`), reloaded by [`Platform::reload_bundle`].
    File(PathBuf),
    /// The bundles published in the platform store (`[policies] source = "store"`):
    /// the newest that passes, and every newer one as it is published.
    Store,
}

/// The bundle part of the `[policies]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSection {
    /// Where the node's bundles come from.
    pub source: BundleSource,
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
    from_store: bool,
    trust_keys: Vec<PathBuf>,
    state_file: Option<PathBuf>,
    audit_dir: Option<&Path>,
) -> Result<Option<BundleSection>> {
    let source = match (bundle, from_store) {
        (Some(_), true) => {
            return Err(invalid(
                "`[policies]` names both `bundle` and `source = \"store\"`: a node takes its bundles from a file or from the store",
            ))
        }
        (Some(file), false) => BundleSource::File(file),
        (None, true) => BundleSource::Store,
        (None, false) => {
            if !trust_keys.is_empty() || state_file.is_some() {
                return Err(invalid(
                    "`policies.trust_keys` and `policies.state_file` go with `policies.bundle` or `policies.source = \"store\"`",
                ));
            }
            return Ok(None);
        }
    };
    if !dirs.is_empty() {
        return Err(invalid(
            "`[policies]` names both `dirs` and a signed bundle: a node runs either directories or signed bundles",
        ));
    }
    if trust_keys.is_empty() {
        return Err(invalid(
            "a signed bundle needs `policies.trust_keys`: the public key files of the keys whose signature the node accepts (a bundle is never accepted unsigned)",
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
                "a signed bundle needs `policies.state_file` (or an `[audit]` section, beside whose directory the last accepted version is kept)",
            ))
        }
    };
    Ok(Some(BundleSection {
        source,
        trust_keys,
        state_file,
    }))
}

/// What [`Platform::status`] reports about the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleStatus {
    /// The bundle file the running pack came from (`store#ID` for the bundle published
    /// as row `ID` of the platform store).
    pub path: String,
    /// The row of the platform store the bundle was published as, when it came from
    /// there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<u64>,
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
    /// The file that was refused (`store#ID` for a bundle of the platform store).
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

/// Where an offered bundle comes from, for the status and the records.
#[derive(Debug, Clone)]
pub(super) struct Origin {
    label: String,
    store_id: Option<u64>,
}

impl Origin {
    pub(super) fn file(path: &Path) -> Origin {
        Origin {
            label: path.display().to_string(),
            store_id: None,
        }
    }

    #[cfg(feature = "store")]
    pub(super) fn store(id: u64) -> Origin {
        Origin {
            label: format!("store#{id}"),
            store_id: Some(id),
        }
    }
}

/// What a node's bundles are before the node runs: the first pack taken, the
/// refusals not yet recorded (the log opens after the pack is chosen).
#[derive(Debug, Default)]
struct Opening {
    pack: Option<PolicyPack>,
    rejections: Vec<BundleRejection>,
    /// The first refusal, the answer when no bundle is taken.
    refusal: Option<Error>,
}

/// The bundle state of a node: its trusted keys, what it runs, what it refused. It
/// takes bundles one at a time, so that the state file and the running pack always
/// name the same bundle.
#[derive(Debug)]
pub(super) struct BundleRuntime {
    section: BundleSection,
    trusted: Vec<VerifyingKey>,
    /// What runs (`None` until the first bundle is taken) and the last refusal.
    status: Mutex<(Option<BundleStatus>, Option<BundleRejection>)>,
    /// One bundle at a time.
    taking: Mutex<()>,
    /// Set once the node runs: the engine that swaps packs and the log that records.
    engine: OnceLock<Arc<Engine>>,
    log: OnceLock<Option<Arc<AuditLog>>>,
    opening: Mutex<Opening>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn status_of(origin: &Origin, accepted: &Accepted) -> BundleStatus {
    BundleStatus {
        path: origin.label.clone(),
        store_id: origin.store_id,
        version: accepted.manifest.version,
        policy_version: accepted.manifest.policy_version.clone(),
        key_id: accepted.key_id.clone(),
        expires: accepted.manifest.expires,
        last_rejection: None,
    }
}

fn rejected_event(r: &BundleRejection, running: Option<String>) -> Event {
    let mut event = Event::new("policy.rejected")
        .outcome(Outcome::Failure)
        .field("bundle", r.path.clone())
        .field("reason", r.reason.clone())
        .field("message", r.message.clone());
    if let Some(v) = running {
        event = event.field("policy_version", v);
    }
    event
}

impl BundleRuntime {
    /// The bundle state of `section`, its trusted keys read; nothing taken yet.
    pub(super) fn new(section: &BundleSection) -> Result<Arc<BundleRuntime>> {
        let trusted = section
            .trust_keys
            .iter()
            .map(VerifyingKey::from_file)
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(BundleRuntime {
            section: section.clone(),
            trusted,
            status: Mutex::new((None, None)),
            taking: Mutex::new(()),
            engine: OnceLock::new(),
            log: OnceLock::new(),
            opening: Mutex::new(Opening::default()),
        }))
    }

    /// Takes `bundle` (as read or parsed from `origin`) after every check: signed by a
    /// trusted key, intact, not expired, a version above the last accepted. Once the
    /// node runs, the engine swaps to its pack and the log records `policy.loaded`;
    /// before, its pack is the one the node opens with. A refusal keeps what runs,
    /// is recorded as `policy.rejected` and reported in the status, and is returned.
    pub(super) fn take(&self, origin: &Origin, bundle: Result<Bundle>) -> Result<BundleStatus> {
        let _one_at_a_time = lock(&self.taking);
        let now = Timestamp::now();
        // Recorded before it runs, so that the log names every pack the node ran.
        let accepted = bundle
            .and_then(|b| bundle::accept_bundle(b, &self.trusted, &self.section.state_file, now))
            .and_then(|accepted| {
                if let Some(Some(log)) = self.log.get() {
                    log.append(
                        &Event::new("policy.loaded")
                            .field("bundle", origin.label.clone())
                            .field("version", accepted.manifest.version)
                            .field("key_id", accepted.key_id.clone())
                            .field("policy_version", accepted.manifest.policy_version.clone()),
                    )?;
                }
                Ok(accepted)
            });
        match accepted {
            Ok(accepted) => {
                let status = status_of(origin, &accepted);
                // The status changes with the pack: whoever sees the new pack and then
                // asks for the status sees its bundle.
                let mut running = lock(&self.status);
                match self.engine.get() {
                    Some(engine) => engine.reload_policies(accepted.pack),
                    None => lock(&self.opening).pack = Some(accepted.pack),
                }
                running.0 = Some(status.clone());
                drop(running);
                Ok(self.status().unwrap_or(status))
            }
            Err(e) => {
                let rejection = BundleRejection {
                    path: origin.label.clone(),
                    reason: e.bundle_reason().unwrap_or(e.code()).to_owned(),
                    message: e.to_string(),
                    time: now,
                };
                match self.log.get() {
                    // The refusal is the caller's answer; a log that cannot take the
                    // record has already said so on its own appends.
                    Some(Some(log)) => {
                        let running = self.engine.get().map(|e| e.policy_version());
                        let _ = log.append(&rejected_event(&rejection, running));
                    }
                    Some(None) => {}
                    None => {
                        let mut opening = lock(&self.opening);
                        opening.rejections.push(rejection.clone());
                        if opening.refusal.is_none() {
                            opening.refusal = Some(Error::BundleInvalid {
                                reason: e.bundle_reason().unwrap_or(bundle::reason::MALFORMED),
                                message: match &e {
                                    Error::BundleInvalid { message, .. } => {
                                        format!("{}: {message}", origin.label)
                                    }
                                    other => format!("{}: {other}", origin.label),
                                },
                            });
                        }
                    }
                }
                lock(&self.status).1 = Some(rejection);
                Err(e)
            }
        }
    }

    /// The pack taken before the node runs: the first refusal when none was
    /// (`bundle_invalid` with its reason), `bundle_invalid` (`missing`) when nothing
    /// was offered.
    pub(super) fn opening_pack(&self) -> Result<PolicyPack> {
        let mut opening = lock(&self.opening);
        if let Some(pack) = opening.pack.take() {
            return Ok(pack);
        }
        Err(opening.refusal.take().unwrap_or_else(|| Error::BundleInvalid {
            reason: bundle::reason::MISSING,
            message: "the platform store holds no published bundle: publish one with `govdata bundle publish`".to_owned(),
        }))
    }

    /// The node runs: later bundles swap `engine`'s pack and are recorded in `log`,
    /// as are the refusals made while it opened.
    pub(super) fn attach(&self, engine: Arc<Engine>, log: Option<Arc<AuditLog>>) {
        let running = engine.policy_version();
        let _ = self.engine.set(engine);
        let pending = std::mem::take(&mut lock(&self.opening).rejections);
        if let Some(log) = &log {
            for r in &pending {
                let _ = log.append(&rejected_event(r, Some(running.clone())));
            }
        }
        let _ = self.log.set(log);
    }

    /// What runs and the last refusal.
    pub(super) fn status(&self) -> Option<BundleStatus> {
        let guard = lock(&self.status);
        guard.0.clone().map(|mut s| {
            s.last_rejection = guard.1.clone();
            s
        })
    }
}

/// Reads the trusted keys and takes the configured bundle file: the node does not
/// open without a good one.
pub(super) fn open_file(
    section: &BundleSection,
    path: &Path,
) -> Result<(PolicyPack, Arc<BundleRuntime>)> {
    let runtime = BundleRuntime::new(section)?;
    runtime.take(&Origin::file(path), Bundle::read(path))?;
    Ok((runtime.opening_pack()?, runtime))
}

#[cfg(feature = "store")]
impl crate::store::BundleSink for BundleRuntime {
    fn offer(&self, id: u64, text: &str) -> Result<()> {
        self.take(&Origin::store(id), Bundle::from_json(text))
            .map(|_| ())
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
    /// was not opened with signed bundles (`[policies] bundle` or `source = "store"`).
    pub fn reload_bundle(&self, path: impl AsRef<Path>) -> Result<BundleStatus> {
        let path = path.as_ref();
        let Some(runtime) = &self.bundle else {
            return Err(invalid(
                "this node was not opened with `[policies] bundle` and `trust_keys`, so it takes no bundle",
            ));
        };
        runtime.take(&Origin::file(path), Bundle::read(path))
    }
}
