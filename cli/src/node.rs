//! How a command opens the node it works on: from `govdata.toml` (`--config FILE`, or
//! the file `GOVDATA_CONFIG` names), with the command's own flags overriding what the
//! file says, through the core's one composition root (`govdata::Platform`).

use govdata::audit::{HashSuite, RecordScope, SyncMode};
use govdata::platform::{AuditConfig, PlatformConfig, SecretSource, VaultSection, CONFIG_ENV};
use govdata::Platform;
use std::path::PathBuf;

/// The flags that say where a node's parts are.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
    /// set). The flags below override what it says.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The inventory JSON file (the example city if neither this nor the
    /// configuration names one).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Policy directories: the first holds the schema; later ones add department
    /// policies. The default pack if omitted.
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// The audit log directory (created if absent).
    #[arg(long, value_name = "DIR")]
    pub audit: Option<PathBuf>,
    /// The file holding the log's 32-byte sealing key, raw.
    #[arg(long, value_name = "FILE")]
    pub audit_key_file: Option<PathBuf>,
}

/// The vault flags of the commands that may use one.
#[derive(Debug, Default)]
pub struct VaultFlags {
    /// The vault directory.
    pub dir: Option<PathBuf>,
    /// The file holding the 32-byte master key, raw.
    pub master_key_file: Option<PathBuf>,
}

fn missing(what: &str) -> govdata::Error {
    govdata::Error::RequestInvalid {
        message: what.to_owned(),
    }
}

impl NodeArgs {
    /// The configuration: the file's (if any), then the flags over it.
    pub fn config(&self, vault: &VaultFlags) -> govdata::Result<PlatformConfig> {
        let file = self
            .config
            .clone()
            .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
        let mut c = match file {
            Some(path) => PlatformConfig::from_file(path)?,
            None => PlatformConfig::new("cli"),
        };
        if let Some(inv) = &self.inventory {
            c.inventory = Some(inv.clone());
        }
        if !self.policies.is_empty() {
            c.policies = self.policies.clone();
        }
        let lock_wait = crate::stores::lock_wait()?;
        match (&self.audit, &self.audit_key_file, c.audit.as_mut()) {
            (dir, key, Some(a)) => {
                if let Some(d) = dir {
                    a.dir = d.clone();
                }
                if let Some(k) = key {
                    a.key = SecretSource::CallerFile(k.clone());
                }
                if std::env::var_os(crate::stores::LOCK_WAIT_VAR).is_some() {
                    a.lock_wait = lock_wait;
                }
            }
            (Some(d), Some(k), None) => {
                c.audit = Some(AuditConfig {
                    dir: d.clone(),
                    key: SecretSource::CallerFile(k.clone()),
                    sync: SyncMode::default(),
                    suite: HashSuite::Sha256,
                    scope: RecordScope::All,
                    lock_wait,
                })
            }
            (Some(_), None, None) => return Err(missing(
                "`--audit` needs `--audit-key-file` (or a configuration with an [audit] section)",
            )),
            (None, Some(_), None) => return Err(missing(
                "`--audit-key-file` needs `--audit` (or a configuration with an [audit] section)",
            )),
            (None, None, None) => {}
        }
        match (&vault.dir, &vault.master_key_file, c.vault.as_mut()) {
            (dir, key, Some(v)) => {
                if let Some(d) = dir {
                    v.dir = d.clone();
                }
                if let Some(k) = key {
                    v.master_key = SecretSource::CallerFile(k.clone());
                }
            }
            (Some(d), Some(k), None) => {
                c.vault = Some(VaultSection {
                    dir: d.clone(),
                    master_key: SecretSource::CallerFile(k.clone()),
                    suite: None,
                    system: None,
                    lock_wait,
                })
            }
            (Some(_), None, None) | (None, Some(_), None) => {
                return Err(missing("`--vault` and `--master-key-file` go together"))
            }
            (None, None, None) => {}
        }
        Ok(c)
    }

    /// Opens the node.
    pub fn open(&self, vault: &VaultFlags) -> govdata::Result<Platform> {
        Platform::from_config(self.config(vault)?)
    }
}
