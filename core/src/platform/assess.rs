//! The compliance self-assessment (Art. 20) of a node: what `govdata.toml` names — the
//! inventory, the policy pack, the audit log, the vault's key store — read and
//! assessed in one place, so that the command line and every binding give the same
//! report for the same file.
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
use std::path::Path;
use std::sync::Arc;

impl PlatformConfig {
    /// Assesses the node this configuration describes at `options.now`: its
    /// inventory (the example city when it names none; the platform store's, read
    /// from it, with `[inventory] source = "store"`), its policy directories (the
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
        self.assess_inventory(self.read_inventory()?, options, checkpoint)
    }

    /// The inventory the configuration names: the file, the platform store's, or the
    /// example city.
    fn read_inventory(&self) -> Result<Inventory> {
        #[cfg(feature = "store")]
        if self.inventory_from_store {
            if let Some(section) = &self.store {
                let mut client = crate::store::StoreConnector::from_section(section)?.connect()?;
                return Ok(crate::store::load_inventory(&mut client)?.1);
            }
        }
        match &self.inventory {
            Some(path) => Inventory::from_file(path),
            None => Inventory::from_json_str(EXAMPLE_INVENTORY),
        }
    }

    fn assess_inventory(
        &self,
        inventory: Inventory,
        options: &AssessOptions,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Assessment> {
        let pack = if self.policies.is_empty() {
            None
        } else {
            let dirs: Vec<&Path> = self.policies.iter().map(|p| p.as_path()).collect();
            Some(PolicyPack::from_dirs(&dirs)?)
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
        let mut inputs = Inputs::new(&inventory);
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

impl Platform {
    /// Assesses this node from the configuration it was opened with (see
    /// [`PlatformConfig::assess`]) and the inventory it runs (the platform store's
    /// current one, for a node that takes it from there); the log it holds open is
    /// read, not written.
    pub fn assess(
        &self,
        options: &AssessOptions,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Assessment> {
        let inventory = if self.config.inventory_from_store {
            (*self.engine().inventory()).clone()
        } else {
            self.config.read_inventory()?
        };
        self.config.assess_inventory(inventory, options, checkpoint)
    }
}
