//! A node's configuration with what a caller says over it: the command line's flags,
//! a binding's keyword arguments. Every front end layers them the same way, so that
//! the same file and the same overrides open the same node everywhere.

use super::{AuditConfig, PlatformConfig, SecretSource, VaultSection};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a caller says over the configuration file; each field given replaces the
/// file's. Key files are read with the checks of key files named in the file:
/// readable by their owner only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The inventory file.
    pub inventory: Option<PathBuf>,
    /// Policy directories (none: the file's).
    pub policies: Vec<PathBuf>,
    /// The audit log's directory.
    pub audit_dir: Option<PathBuf>,
    /// The file holding the audit log's sealing key.
    pub audit_key_file: Option<PathBuf>,
    /// The vault's directory.
    pub vault_dir: Option<PathBuf>,
    /// The file holding the vault's master key.
    pub master_key_file: Option<PathBuf>,
    /// How long the audit log and the vault wait for another writer.
    pub lock_wait: Option<Duration>,
}

fn half(message: &str) -> Error {
    Error::RequestInvalid {
        message: message.to_owned(),
    }
}

impl PlatformConfig {
    /// The configuration of the file at `file` (a node of the defaults, `node_id`
    /// `node_id`, without one) with `overrides` over it.
    ///
    /// A directory without its key file (or a key file without its directory) where
    /// the file has no such section is `request_invalid`.
    pub fn layered(
        file: Option<&Path>,
        node_id: &str,
        overrides: &Overrides,
    ) -> Result<PlatformConfig> {
        let config = match file {
            Some(path) => PlatformConfig::from_file(path)?,
            None => PlatformConfig::new(node_id),
        };
        config.overridden(overrides)
    }

    /// This configuration with `o` over it.
    pub fn overridden(mut self, o: &Overrides) -> Result<PlatformConfig> {
        if let Some(inv) = &o.inventory {
            self.inventory = Some(inv.clone());
            self.inventory_from_store = false;
        }
        if !o.policies.is_empty() {
            self.policies = o.policies.clone();
        }
        match (&o.audit_dir, &o.audit_key_file, self.audit.as_mut()) {
            (dir, key, Some(a)) => {
                if let Some(d) = dir {
                    a.dir = d.clone();
                }
                if let Some(k) = key {
                    a.key = SecretSource::File(k.clone());
                }
            }
            (Some(d), Some(k), None) => {
                self.audit = Some(AuditConfig::new(d.clone(), SecretSource::File(k.clone())));
            }
            (Some(_), None, None) => {
                return Err(half(
                    "an audit log's directory needs its sealing key file (or a configuration with an [audit] section)",
                ))
            }
            (None, Some(_), None) => {
                return Err(half(
                    "a sealing key file needs its audit log's directory (or a configuration with an [audit] section)",
                ))
            }
            (None, None, None) => {}
        }
        match (&o.vault_dir, &o.master_key_file, self.vault.as_mut()) {
            (dir, key, Some(v)) => {
                if let Some(d) = dir {
                    v.dir = d.clone();
                }
                if let Some(k) = key {
                    v.master_key = SecretSource::File(k.clone());
                }
            }
            (Some(d), Some(k), None) => {
                self.vault = Some(VaultSection::new(d.clone(), SecretSource::File(k.clone())));
            }
            (Some(_), None, None) => {
                return Err(half(
                    "a vault's directory needs its master key file (or a configuration with a [vault] section)",
                ))
            }
            (None, Some(_), None) => {
                return Err(half(
                    "a master key file needs its vault's directory (or a configuration with a [vault] section)",
                ))
            }
            (None, None, None) => {}
        }
        if let Some(wait) = o.lock_wait {
            if let Some(a) = self.audit.as_mut() {
                a.lock_wait = wait;
            }
            if let Some(v) = self.vault.as_mut() {
                v.lock_wait = wait;
            }
        }
        Ok(self)
    }
}
