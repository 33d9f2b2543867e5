//! How a command opens the node it works on: from `govdata.toml` (`--config FILE`, or
//! the file `GOVDATA_CONFIG` names), with the command's own flags overriding what the
//! file says, through the core's one composition root (`govdata::Platform`).

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

fn missing(what: &str) -> govdata::Error {
    govdata::Error::RequestInvalid {
        message: what.to_owned(),
    }
}

/// The configuration file a command reads: `--config`, else the file
/// `GOVDATA_CONFIG` names, else none.
pub fn config_file(flag: Option<&PathBuf>) -> Option<PathBuf> {
    flag.cloned()
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
}

/// The configuration file's contents (a node of nothing but the defaults without
/// one).
pub fn base(flag: Option<&PathBuf>) -> govdata::Result<PlatformConfig> {
    match config_file(flag) {
        Some(path) => PlatformConfig::from_file(path),
        None => Ok(PlatformConfig::new("cli")),
    }
}

/// What a command's flags say about the node, each overriding the file.
#[derive(Debug, Default)]
pub struct Overrides<'a> {
    /// The inventory file.
    pub inventory: Option<&'a PathBuf>,
    /// Policy directories (none: the file's).
    pub policies: &'a [PathBuf],
    /// The audit log's directory.
    pub audit_dir: Option<&'a PathBuf>,
    /// The sealing key's file.
    pub audit_key_file: Option<&'a PathBuf>,
    /// The vault's directory.
    pub vault_dir: Option<&'a PathBuf>,
    /// The master key's file.
    pub master_key_file: Option<&'a PathBuf>,
}

/// The configuration: the file's (if any), then the flags over it. Key files named
/// by flags are read with the checks of key files named in the file: readable by
/// their owner only.
pub fn layered(config: Option<&PathBuf>, o: &Overrides<'_>) -> govdata::Result<PlatformConfig> {
    let mut c = base(config)?;
    if let Some(inv) = o.inventory {
        c.inventory = Some(inv.clone());
    }
    if !o.policies.is_empty() {
        c.policies = o.policies.to_vec();
    }
    let lock_wait = crate::stores::lock_wait()?;
    let wait_set = std::env::var_os(crate::stores::LOCK_WAIT_VAR).is_some();
    match (o.audit_dir, o.audit_key_file, c.audit.as_mut()) {
        (dir, key, Some(a)) => {
            if let Some(d) = dir {
                a.dir = d.clone();
            }
            if let Some(k) = key {
                a.key = SecretSource::File(k.clone());
            }
            if wait_set {
                a.lock_wait = lock_wait;
            }
        }
        (Some(d), Some(k), None) => {
            let mut a = AuditConfig::new(d.clone(), SecretSource::File(k.clone()));
            a.lock_wait = lock_wait;
            c.audit = Some(a);
        }
        (Some(_), None, None) => {
            return Err(missing(
                "`--audit` needs `--audit-key-file` (or a configuration with an [audit] section)",
            ))
        }
        (None, Some(_), None) => {
            return Err(missing(
                "`--audit-key-file` needs `--audit` (or a configuration with an [audit] section)",
            ))
        }
        (None, None, None) => {}
    }
    match (o.vault_dir, o.master_key_file, c.vault.as_mut()) {
        (dir, key, Some(v)) => {
            if let Some(d) = dir {
                v.dir = d.clone();
            }
            if let Some(k) = key {
                v.master_key = SecretSource::File(k.clone());
            }
            if wait_set {
                v.lock_wait = lock_wait;
            }
        }
        (Some(d), Some(k), None) => {
            let mut v = VaultSection::new(d.clone(), SecretSource::File(k.clone()));
            v.lock_wait = lock_wait;
            c.vault = Some(v);
        }
        (Some(_), None, None) => {
            return Err(missing(
                "the vault's directory needs `--master-key-file` (or a configuration with a [vault] section)",
            ))
        }
        (None, Some(_), None) => {
            return Err(missing(
                "`--master-key-file` needs the vault's directory (or a configuration with a [vault] section)",
            ))
        }
        (None, None, None) => {}
    }
    Ok(c)
}

impl NodeArgs {
    /// The configuration: the file's (if any), then the flags over it.
    pub fn config(&self, vault: &VaultFlags) -> govdata::Result<PlatformConfig> {
        layered(
            self.config.as_ref(),
            &Overrides {
                inventory: self.inventory.as_ref(),
                policies: &self.policies,
                audit_dir: self.audit.as_ref(),
                audit_key_file: self.audit_key_file.as_ref(),
                vault_dir: vault.dir.as_ref(),
                master_key_file: vault.master_key_file.as_ref(),
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
