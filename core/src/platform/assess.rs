//! The compliance self-assessment (Art. 20) of a node: what `govdata.toml` names — the
//! inventory, the policy pack, the audit log, the vault's key store — read and
//! assessed in one place, so that the command line and every binding give the same
//! report for the same file.
//!
//! The sharing and destruction requests are replayed from the node's log, or, when the
//! procedures are shared by every node, read from the platform store.
//!
//! Reads everything and writes nothing: the audit log is verified and read without
//! being opened for writing (safe beside a running service, or beside the node's own
//! open [`Platform`]), the key store is only opened to read its status.

use super::{Platform, PlatformConfig};
use crate::assess::{assess, AssessOptions, Assessment, AuditEvidence, Inputs};
use crate::audit::Checkpoint;
use crate::engine::{Engine, EXAMPLE_INVENTORY};
use crate::error::{Error, Result};
use crate::model::Inventory;
use crate::policy::PolicyPack;
use crate::vault::{Vault, VaultConfig};
use crate::workflow::Replay;
use std::path::Path;
use std::sync::Arc;

impl PlatformConfig {
    /// Assesses the node this configuration describes at `options.now`: its
    /// inventory (the example city when it names none), its policy directories (the
    /// default pack when it names none), its audit log (verified, and checked against
    /// `checkpoint`, a head kept elsewhere, when given) and its vault's key store.
    ///
    /// The errors are those of reading the sources: an unreadable inventory or pack,
    /// a log that does not open with its key, a wrong master key; problems in the
    /// sources (tampering included) are findings. A `checkpoint` without an audit log
    /// is `request_invalid`.
    pub fn assess(
        &self,
        options: &AssessOptions,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Assessment> {
        let pack = if self.policies.is_empty() {
            None
        } else {
            let dirs: Vec<&Path> = self.policies.iter().map(|p| p.as_path()).collect();
            Some(PolicyPack::from_dirs(&dirs)?)
        };
        let inventory = match &self.inventory {
            Some(path) => Inventory::from_file(path)?,
            None => Inventory::from_json_str(EXAMPLE_INVENTORY)?,
        };
        let audit = match &self.audit {
            Some(a) => Some(AuditEvidence::read_dir(
                &a.dir,
                &a.key.sealing_key()?,
                checkpoint,
            )?),
            None if checkpoint.is_some() => {
                return Err(Error::RequestInvalid {
                    message: "a checkpoint needs the audit log it was taken of".to_owned(),
                })
            }
            None => None,
        };
        let vault = match &self.vault {
            Some(v) => {
                let wraps = Vault::store_algorithm(&v.dir)?;
                let master = v.master_key.master_key(wraps)?;
                let pack = match &pack {
                    Some(p) => p.clone(),
                    None => PolicyPack::default_pack()?,
                };
                let engine = Arc::new(Engine::new(pack, inventory.clone()));
                let mut config = VaultConfig::new(&v.dir).with_suite(v.suite.unwrap_or(wraps));
                if let Some(system) = &v.system {
                    config.system = system.clone();
                }
                Some(Vault::open(config, Box::new(master), engine)?.status()?)
            }
            None => None,
        };
        let procedures = self.shared_procedures()?;
        let mut inputs = Inputs::new(&inventory);
        if let Some(p) = &procedures {
            inputs = inputs.procedures(p);
        }
        if let Some(p) = &pack {
            inputs = inputs.policies(p);
        }
        if let Some(a) = &audit {
            inputs = inputs.audit(a);
        }
        if let Some(v) = &vault {
            inputs = inputs.vault(v);
        }
        assess(&inputs, options)
    }
}

impl PlatformConfig {
    /// The procedures' requests as the platform store holds them, when they are
    /// shared through it (`None`: they are the node's own, replayed from its log).
    fn shared_procedures(&self) -> Result<Option<Replay>> {
        match &self.store {
            #[cfg(feature = "store")]
            Some(section) if self.procedures.is_shared(true) => {
                crate::store::read_procedures(section).map(Some)
            }
            _ => Ok(None),
        }
    }
}

impl Platform {
    /// Assesses this node from the configuration it was opened with (see
    /// [`PlatformConfig::assess`]); the log it holds open is read, not written.
    pub fn assess(
        &self,
        options: &AssessOptions,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Assessment> {
        self.config.assess(options, checkpoint)
    }
}
