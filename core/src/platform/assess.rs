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
use crate::audit::{Checkpoint, SealingKey};
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
    /// inventory (the example city when it names none; the platform store's, read
    /// from it, with `[inventory] source = "store"`), its policy directories (the
    /// default pack when it names none), its audit log (verified, and checked against
    /// `checkpoint`, a head kept elsewhere, when given) and its vault's key store.
    ///
    /// The errors are those of reading the sources: an unreadable inventory or pack,
    /// a log that does not open with its key, a wrong master key; problems in the
    /// sources (tampering included) are findings. A `checkpoint` without an audit log
    /// is `request_invalid`.
    ///
    /// A configuration with a `[store]` section is assessed on the platform store's
    /// records instead of its local log: every node's, verified from the rows under
    /// the `[audit]` sealing key (see [`PlatformConfig::assess_with_store_keys`]).
    pub fn assess(
        &self,
        options: &AssessOptions,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Assessment> {
        self.assess_with_store_keys(options, checkpoint, Vec::new())
    }

    /// [`PlatformConfig::assess`], with the sealing keys of the platform store's
    /// other nodes besides the `[audit]` key. With a `[store]` section, the store is
    /// verified as `audit verify --store` verifies it (a node whose key is not among
    /// them, or whose rows fail, is `audit_chain_broken`) and the records of the nodes
    /// that verify are assessed, each node's sequence numbers on their own; a
    /// `checkpoint` (of a local log) is then `request_invalid`. Reading the store needs
    /// a role that may (`govdata_reader`): the shipping role may not, and is refused
    /// (`store_unavailable`).
    pub fn assess_with_store_keys(
        &self,
        options: &AssessOptions,
        checkpoint: Option<&Checkpoint>,
        store_keys: Vec<SealingKey>,
    ) -> Result<Assessment> {
        self.assess_inventory(self.read_inventory()?, options, checkpoint, store_keys)
    }

    /// The inventory the configuration names: the file, the platform store's (with
    /// `[inventory] source = "store"`), or the example city.
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
        store_keys: Vec<SealingKey>,
    ) -> Result<Assessment> {
        // The store's sealing keys verify the store's rows; without the store, none.
        #[cfg(not(feature = "store"))]
        drop(store_keys);
        let pack = if self.policies.is_empty() {
            None
        } else {
            let dirs: Vec<&Path> = self.policies.iter().map(|p| p.as_path()).collect();
            Some(PolicyPack::from_dirs(&dirs)?)
        };
        let audit = match (&self.store, &self.audit) {
            #[cfg(feature = "store")]
            (Some(store), _) => {
                if checkpoint.is_some() {
                    return Err(Error::RequestInvalid {
                        message: "a checkpoint is of a local log: the platform store is verified from its rows".to_owned(),
                    });
                }
                let mut keys = store_keys;
                if let Some(a) = &self.audit {
                    keys.push(a.key.sealing_key()?);
                }
                Some(store_evidence(store, &keys)?)
            }
            (_, Some(a)) => Some(AuditEvidence::read_dir(
                &a.dir,
                &a.key.sealing_key()?,
                checkpoint,
            )?),
            (_, None) if checkpoint.is_some() => {
                return Err(Error::RequestInvalid {
                    message: "a checkpoint needs the audit log it was taken of".to_owned(),
                })
            }
            (_, None) => None,
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
        self.config
            .assess_inventory(inventory, options, checkpoint, Vec::new())
    }
}

/// The platform store as the assessment's audit evidence: verified from the rows,
/// and the records of every node that verifies, merged in time order.
#[cfg(feature = "store")]
fn store_evidence(section: &super::StoreSection, keys: &[SealingKey]) -> Result<AuditEvidence> {
    use crate::assess::Integrity;
    use crate::audit::{AuditQuery, VerifyReport};
    use crate::store::{query_store, verify_store, StoreConnector};
    let connector = StoreConnector::from_section(section)?;
    let mut client = connector.connect()?;
    let report = verify_store(&mut client, keys)?;
    let broken = report
        .nodes
        .iter()
        .find_map(|n| {
            n.first_bad.as_ref().map(|b| Integrity::Broken {
                seq: b.seq,
                message: format!("node `{}`: {}", n.node_id, b.message),
            })
        })
        .or_else(|| {
            report.unknown_nodes.first().map(|n| Integrity::Broken {
                seq: 0,
                message: format!(
                    "rows of node `{n}`, which the store has no registration for (inserted)"
                ),
            })
        });
    let clean: Vec<String> = report
        .nodes
        .iter()
        .filter(|n| n.first_bad.is_none())
        .map(|n| n.node_id.clone())
        .collect();
    let integrity = broken.unwrap_or_else(|| {
        let seals: u64 = report.nodes.iter().map(|n| n.seals).sum();
        let seals = usize::try_from(seals).unwrap_or(usize::MAX);
        Integrity::Intact(VerifyReport {
            records: report.nodes.iter().map(|n| n.records).sum(),
            first_seq: None,
            last_seq: None,
            segments: seals,
            sealed_segments: seals,
            torn_tail: None,
            head: None,
            purged_through: None,
        })
    });
    let records = if clean.is_empty() {
        Vec::new()
    } else {
        query_store(&mut client, keys, &clean, &AuditQuery::default(), None)?
    };
    let sourced = records.into_iter().map(|r| (r.node_id, r.record)).collect();
    Ok(AuditEvidence::from_sources(sourced, integrity).in_store(connector.display()))
}
