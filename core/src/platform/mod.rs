//! The composition root: one node of the platform, opened from one `govdata.toml`.
//!
//! [`Platform`] owns the parts a node runs — the [`Engine`], its [`AuditLog`], the
//! sharing and destruction [`Workflows`], the [`Vault`] — and connects them in this
//! one place: the log is the engine's decision sink and the vault's key-event sink,
//! the workflows resolve the approvals that requests cite, the engine authorizes the
//! vault's key operations, and the vault carries out the destructions' crypto-erasure.
//! Every front end (the command line, Python's `govdata.Platform`, Node's
//! `Platform.open`, C's `gd_platform_open`) opens a node through it rather than
//! wiring the parts itself. The parts stay usable one by one for a host that needs
//! only the engine.
//!
//! It also holds what spans the parts, so that no part imports another to do it: the
//! adapters that implement one part's port with another (`adapters`: the log as the
//! engine's decision sink and the vault's key-event sink, the engine as the vault's
//! key authorizer, the vault as the procedures' shredder), the one mapping from a
//! decision to its audit record ([`record`]), and viewing the log as a `view_audit`
//! decision ([`AuditLog::view`], [`AuditView`]).
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("govdata-platform-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let key = dir.join("seal.key");
//! # std::fs::write(&key, [7u8; 32]).unwrap();
//! # #[cfg(unix)] { use std::os::unix::fs::PermissionsExt;
//! #   std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).ok(); }
//! use govdata::platform::{Platform, PlatformConfig};
//! let config = PlatformConfig::from_toml_str(
//!     r#"node_id = "etl-01"
//!        [audit]
//!        dir = "audit"
//!        key_file = "seal.key""#,
//!     &dir,
//! )?;
//! let node = Platform::from_config(config)?;
//! let decision = node.engine().decide_json(
//!     r#"{"principal": "zhang.san", "action": "query", "resource": "hukou",
//!         "context": {"scenario_risk": "low"}}"#,
//! )?;
//! assert_eq!(decision.audit_seq(), Some(1));
//! assert_eq!(node.status().node_id, "etl-01");
//! node.close()?;
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), govdata::Error>(())
//! ```

mod adapters;
mod assess;
mod bundle;
mod config;
mod overrides;
mod parts;
pub mod record;
mod view;

pub use bundle::{BundleRejection, BundleSection, BundleStatus};

pub use config::{
    AuditConfig, PlatformConfig, ProceduresConfig, SecretSource, StoreSection, VaultSection,
    CONFIG_ENV,
};
pub use overrides::Overrides;
pub use parts::{
    open_procedures, record_decisions, record_key_events, shred_with, KeyEventFile, KEY_EVENTS_FILE,
};
pub use view::AuditView;
#[cfg(feature = "store")]
pub use view::StoreView;

use crate::audit::AuditLog;
use crate::engine::{Engine, EXAMPLE_INVENTORY};
use crate::error::Result;
use crate::model::Inventory;
use crate::policy::PolicyPack;
use crate::store::StoreStatus;
use crate::vault::Vault;
use crate::workflow::{ReviewDays, WorkflowConfig, Workflows, WorkingCalendar};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// One node of the platform: the engine, the log, the procedures and the vault,
/// wired once.
#[derive(Debug)]
pub struct Platform {
    config: PlatformConfig,
    engine: Arc<Engine>,
    log: Option<Arc<AuditLog>>,
    workflows: Option<Arc<Workflows>>,
    vault: Option<Arc<Vault>>,
    #[cfg(feature = "store")]
    shipper: Option<Arc<crate::store::Shipper>>,
    /// The signed bundle the pack came from, when `[policies] bundle` is set.
    bundle: Option<bundle::BundleRuntime>,
}

/// What a node reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformStatus {
    /// The node's id.
    pub node_id: String,
    /// The hash of the policy pack it decides with.
    pub policy_version: String,
    /// The audit log's directory and last sequence number, if it keeps one.
    pub audit: Option<AuditStatus>,
    /// The vault's directory and key store generation, if it has one.
    pub vault: Option<VaultState>,
    /// The shipping of the audit log to the platform store, if the node has one.
    pub store: Option<StoreStatus>,
    /// The signed policy bundle the node runs, if it runs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleStatus>,
}

/// The audit log's part of [`PlatformStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditStatus {
    /// The log's directory.
    pub dir: String,
    /// The last sequence number appended.
    pub last_seq: u64,
}

/// The vault's part of [`PlatformStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaultState {
    /// The vault's directory.
    pub dir: String,
    /// The key store's generation.
    pub generation: u64,
    /// How many data keys it holds (of every status).
    pub keys: usize,
}

/// The working calendar of the `[procedures]` section (the procedures' deadlines and
/// the alerts' working hours).
pub(crate) fn working_calendar(p: &ProceduresConfig) -> WorkingCalendar {
    let mut calendar = WorkingCalendar::new()
        .with_holidays(p.holidays.iter().copied())
        .with_workdays(p.workdays.iter().copied());
    if let Some(m) = p.utc_offset_minutes {
        calendar = calendar.with_utc_offset_minutes(m);
    }
    calendar
}

/// The workflows' configuration from the `[procedures]` section.
fn workflow_config(p: &ProceduresConfig) -> WorkflowConfig {
    let defaults = ReviewDays::default();
    let calendar = working_calendar(p);
    let mut config = WorkflowConfig::default()
        .review_days(ReviewDays {
            conformity_check: p.conformity_check_days.unwrap_or(defaults.conformity_check),
            provider_reply: p.provider_reply_days.unwrap_or(defaults.provider_reply),
            provider_reply_off_platform: p
                .provider_reply_off_platform_days
                .unwrap_or(defaults.provider_reply_off_platform),
        })
        .calendar(calendar);
    if let Some(days) = p.destruction_approval_valid_days {
        config = config.destruction_approval_valid(Duration::from_secs(u64::from(days) * 86_400));
    }
    config
}

impl Platform {
    /// Opens the node that the `govdata.toml` at `path` describes.
    pub fn open(path: impl AsRef<Path>) -> Result<Platform> {
        Platform::from_config(PlatformConfig::from_file(path)?)
    }

    /// Opens the node that `config` describes: loads the pack and the inventory,
    /// opens the audit log (taking its lock), rebuilds the procedures from it, opens
    /// the vault, and connects them.
    pub fn from_config(config: PlatformConfig) -> Result<Platform> {
        // A signed bundle, when configured, is the only pack the node may run.
        let (pack, bundle) = match &config.bundle {
            Some(section) => {
                let (pack, runtime) = bundle::open(section)?;
                (pack, Some(runtime))
            }
            None => (Platform::directory_pack(&config)?, None),
        };
        let inventory = match &config.inventory {
            Some(path) => Inventory::from_file(path)?,
            None => Inventory::from_json_str(EXAMPLE_INVENTORY)?,
        };
        let engine = Arc::new(Engine::new(pack, inventory));
        let log = config
            .audit
            .as_ref()
            .map(|a| a.open().map(Arc::new))
            .transpose()?;
        #[cfg(feature = "store")]
        let shipper = match (&config.store, &log) {
            (Some(section), Some(log)) => Some(Arc::new(crate::store::Shipper::start(
                &config.node_id,
                log.clone(),
                section,
            )?)),
            _ => None,
        };
        #[cfg(not(feature = "store"))]
        if config.store.is_some() {
            return Err(crate::Error::ConfigInvalid {
                message:
                    "`[store]`: this build of govdata has no platform store (the `store` feature)"
                        .into(),
            });
        }
        record_decisions(&engine, log.as_ref());
        #[cfg(feature = "store")]
        if let (Some(log), Some(shipper)) = (&log, &shipper) {
            engine.set_decision_sink(Some(Arc::new(crate::store::StoreGate::new(
                log.clone(),
                shipper.clone(),
            ))));
        }
        let vault = config
            .vault
            .as_ref()
            .map(|v| v.open(engine.clone(), log.as_ref()).map(Arc::new))
            .transpose()?;
        let workflows = log
            .as_ref()
            .map(|log| {
                open_procedures(
                    engine.clone(),
                    log.clone(),
                    vault.as_ref(),
                    workflow_config(&config.procedures),
                )
                .map(Arc::new)
            })
            .transpose()?;
        Ok(Platform {
            config,
            engine,
            log,
            workflows,
            vault,
            #[cfg(feature = "store")]
            shipper,
            bundle,
        })
    }

    /// The pack of the configured directories, or the default pack.
    fn directory_pack(config: &PlatformConfig) -> Result<PolicyPack> {
        if config.policies.is_empty() {
            PolicyPack::default_pack()
        } else {
            let dirs: Vec<&Path> = config.policies.iter().map(|p| p.as_path()).collect();
            PolicyPack::from_dirs(&dirs)
        }
    }

    /// The configuration the node was opened with.
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The node's id.
    pub fn node_id(&self) -> &str {
        &self.config.node_id
    }

    /// The engine (recording into the log when the node keeps one).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The audit log, if the node keeps one.
    pub fn audit_log(&self) -> Option<&Arc<AuditLog>> {
        self.log.as_ref()
    }

    /// The sharing and destruction procedures (they need the audit log).
    pub fn workflows(&self) -> Option<&Arc<Workflows>> {
        self.workflows.as_ref()
    }

    /// The vault, if the node has one.
    pub fn vault(&self) -> Option<&Arc<Vault>> {
        self.vault.as_ref()
    }

    /// What the node reports about itself.
    pub fn status(&self) -> PlatformStatus {
        PlatformStatus {
            node_id: self.config.node_id.clone(),
            policy_version: self.engine.policy_version(),
            audit: self.log.as_ref().map(|l| AuditStatus {
                dir: l.dir().display().to_string(),
                last_seq: l.last_seq(),
            }),
            vault: self.vault.as_ref().and_then(|v| {
                v.status().ok().map(|s| VaultState {
                    dir: v.config().dir.display().to_string(),
                    generation: s.generation,
                    keys: s.keys.len(),
                })
            }),
            store: self.store_status(),
            bundle: self.bundle.as_ref().map(|b| b.status()),
        }
    }

    /// The shipping of the audit log to the platform store, if the node has one.
    pub fn store_status(&self) -> Option<StoreStatus> {
        #[cfg(feature = "store")]
        return self.shipper.as_ref().map(|s| s.status());
        #[cfg(not(feature = "store"))]
        None
    }

    /// Waits until the platform store holds every record the node appended before the
    /// call, at most `timeout`: `store_unavailable` past it (naming the last error),
    /// `config_invalid` for a node without a `[store]` section.
    pub fn store_sync(&self, timeout: Duration) -> Result<()> {
        #[cfg(feature = "store")]
        if let Some(s) = &self.shipper {
            return s.sync(timeout);
        }
        let _ = timeout;
        Err(crate::Error::ConfigInvalid {
            message: format!(
                "node `{}` has no `[store]` section: it ships to no platform store",
                self.config.node_id
            ),
        })
    }

    /// Syncs and closes the audit log (letting go of its lock); later decisions that
    /// must be recorded are denied.
    pub fn close(&self) -> Result<()> {
        #[cfg(feature = "store")]
        if let Some(s) = &self.shipper {
            s.stop();
        }
        match &self.log {
            Some(log) => log.close(),
            None => Ok(()),
        }
    }
}
