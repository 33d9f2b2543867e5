//! How a command opens the node it works on: from `govdata.toml` (`--config FILE`, or
//! the file `GOVDATA_CONFIG` names), with the command's own flags overriding what the
//! file says, through the core's one composition root (`govdata::Platform`).

use govdata::platform::{Overrides, PlatformConfig, CONFIG_ENV};
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
    /// The file holding the log's 32-byte sealing key, raw, readable by its owner
    /// only.
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

/// The configuration file a command reads: `--config`, else the file
/// `GOVDATA_CONFIG` names, else none.
pub fn config_file(flag: Option<&PathBuf>) -> Option<PathBuf> {
    flag.cloned()
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
}

/// The node id of a command run without a configuration file.
const NODE_ID: &str = "cli";

/// The configuration: the file's (if any), then the flags over it (the core's
/// layering, as every binding's). `GOVDATA_LOCK_WAIT`, when set, overrides the
/// stores' wait.
pub fn layered(config: Option<&PathBuf>, mut o: Overrides) -> govdata::Result<PlatformConfig> {
    if std::env::var_os(crate::stores::LOCK_WAIT_VAR).is_some() {
        o.lock_wait = Some(crate::stores::lock_wait()?);
    }
    PlatformConfig::layered(config_file(config).as_deref(), NODE_ID, &o)
}

impl NodeArgs {
    /// The configuration: the file's (if any), then the flags over it.
    pub fn config(&self, vault: &VaultFlags) -> govdata::Result<PlatformConfig> {
        layered(
            self.config.as_ref(),
            Overrides {
                inventory: self.inventory.clone(),
                policies: self.policies.clone(),
                audit_dir: self.audit.clone(),
                audit_key_file: self.audit_key_file.clone(),
                vault_dir: vault.dir.clone(),
                master_key_file: vault.master_key_file.clone(),
                lock_wait: None,
            },
        )
    }

    /// Opens the node.
    pub fn open(&self, vault: &VaultFlags) -> govdata::Result<Platform> {
        Platform::from_config(self.config(vault)?)
    }

    /// Opens the node without its vault, for a command that needs none (its key
    /// store is then neither read nor required to exist).
    pub fn open_without_vault(&self) -> govdata::Result<Platform> {
        let mut config = self.config(&VaultFlags::default())?;
        config.vault = None;
        Platform::from_config(config)
    }
}
