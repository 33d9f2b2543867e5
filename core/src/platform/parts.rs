//! The parts of a node one by one: opening what one section of `govdata.toml`
//! describes, creating a node's key store, and the connections between parts that a
//! host assembling a node from separate handles asks for (a binding's `Engine`,
//! `AuditLog`, `Workflows` and `Vault`). [`super::Platform`] makes the same
//! connections with the same functions, so that a node wired by hand and a node
//! opened from a file behave alike.

use super::{AuditConfig, Platform, PlatformConfig, SecretSource, VaultSection};
use crate::audit::{AuditLog, AuditOptions, HashSuite, RecordScope, SyncMode};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::vault::{KeyEvent, KeyEventSink, Operator, Suite, Vault, VaultConfig};
use crate::workflow::{ProcedureStore, Shredder, WorkflowConfig, Workflows};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The file in a vault directory where a node without an audit log records its key
/// events, one JSON object a line.
pub const KEY_EVENTS_FILE: &str = "key-events.jsonl";

impl AuditConfig {
    /// An `[audit]` section for the log in `dir` sealed with the key from `key`, the
    /// other settings at their defaults.
    pub fn new(dir: impl Into<PathBuf>, key: SecretSource) -> AuditConfig {
        AuditConfig {
            dir: dir.into(),
            key,
            sync: SyncMode::default(),
            suite: HashSuite::Sha256,
            scope: RecordScope::All,
            lock_wait: crate::lock::DEFAULT_LOCK_WAIT,
        }
    }

    /// The options the log is opened with.
    pub fn options(&self) -> AuditOptions {
        AuditOptions::default()
            .sync(self.sync)
            .suite(self.suite)
            .scope(self.scope)
            .lock_wait(self.lock_wait)
    }

    /// Opens the log for writing (taking its lock), alone: no engine records into it.
    pub fn open(&self) -> Result<AuditLog> {
        AuditLog::open(&self.dir, self.key.sealing_key()?, self.options())
    }
}

impl VaultSection {
    /// A `[vault]` section for the key store in `dir` under the master key from
    /// `master_key`, the other settings at their defaults.
    pub fn new(dir: impl Into<PathBuf>, master_key: SecretSource) -> VaultSection {
        VaultSection {
            dir: dir.into(),
            master_key,
            suite: None,
            system: None,
            lock_wait: crate::lock::DEFAULT_LOCK_WAIT,
        }
    }

    /// The vault's configuration, its key events recorded in `log` (or, without
    /// one, in [`KEY_EVENTS_FILE`] in the vault directory).
    pub fn vault_config(&self, log: Option<&Arc<AuditLog>>) -> VaultConfig {
        let mut vc = VaultConfig::new(&self.dir).with_lock_wait(self.lock_wait);
        if let Some(s) = self.suite {
            vc = vc.with_suite(s);
        }
        if let Some(system) = &self.system {
            vc.system = system.clone();
        }
        match log {
            Some(_) => record_key_events(vc, log),
            None => vc.with_sink(Arc::new(KeyEventFile::new(self.dir.join(KEY_EVENTS_FILE)))),
        }
    }

    /// Opens the key store, its key operations decided by `engine`.
    pub fn open(&self, engine: Arc<Engine>, log: Option<&Arc<AuditLog>>) -> Result<Vault> {
        let wraps = Vault::store_algorithm(&self.dir)?;
        let master = self.master_key.master_key(wraps)?;
        Vault::open(self.vault_config(log), Box::new(master), engine)
    }
}

/// Key events appended to a file as JSON lines, each synced before the operation
/// goes on: the record of a vault that no audit log records.
#[derive(Debug)]
pub struct KeyEventFile {
    path: PathBuf,
    lock: Mutex<()>,
}

impl KeyEventFile {
    /// Events appended to the file at `path` (created when the first comes).
    pub fn new(path: impl Into<PathBuf>) -> KeyEventFile {
        KeyEventFile {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KeyEventSink for KeyEventFile {
    fn record_key_event(&self, event: &KeyEvent) -> Result<u64> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let io = |e| Error::io(&self.path, e);
        let mut line =
            serde_json::to_string(event).map_err(|e| io(std::io::Error::other(e.to_string())))?;
        line.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        f.write_all(line.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        let n = std::fs::read_to_string(&self.path)
            .map(|t| t.lines().count() as u64)
            .unwrap_or(0);
        Ok(n)
    }
}

/// Makes `log` record every later decision of `engine` (`None`: stop recording).
pub fn record_decisions(engine: &Engine, log: Option<&Arc<AuditLog>>) {
    engine.set_decision_sink(log.map(|l| l.clone() as Arc<dyn crate::engine::DecisionSink>));
}

/// `config` with its key events recorded in `log` (`None`: `config` as it is).
pub fn record_key_events(config: VaultConfig, log: Option<&Arc<AuditLog>>) -> VaultConfig {
    match log {
        Some(log) => config.with_sink(log.clone()),
        None => config,
    }
}

/// Opens the sharing and destruction procedures over `engine` and `log` (rebuilt
/// from the log), destructions carried out by crypto-erasure in `vault` when given, and
/// makes them the engine's resolver of approvals.
pub fn open_procedures(
    engine: Arc<Engine>,
    log: Arc<AuditLog>,
    vault: Option<&Arc<Vault>>,
    config: WorkflowConfig,
) -> Result<Workflows> {
    let flows = Workflows::open(engine.clone(), log, config)?;
    connect_procedures(&engine, &flows, vault);
    Ok(flows)
}

/// Opens the procedures shared through `store` by every node of the platform (see
/// [`Workflows::open_shared`]), recorded in `log`, destructions carried out by
/// crypto-erasure in `vault` when given, and makes them the engine's resolver of
/// approvals: the engine then resolves against the node's mirror of the store, never
/// the store itself.
pub fn open_shared_procedures(
    engine: Arc<Engine>,
    log: Arc<AuditLog>,
    vault: Option<&Arc<Vault>>,
    config: WorkflowConfig,
    store: Arc<dyn ProcedureStore>,
    staleness: Duration,
) -> Result<Workflows> {
    let flows = Workflows::open_shared(engine.clone(), log, config, store, staleness)?;
    connect_procedures(&engine, &flows, vault);
    Ok(flows)
}

/// The procedures' connections: they resolve the engine's approvals, and the vault
/// carries out their crypto-erasure.
fn connect_procedures(engine: &Engine, flows: &Workflows, vault: Option<&Arc<Vault>>) {
    engine.set_approval_resolver(Some(flows.approvals()));
    shred_with(flows, vault);
}

/// Makes `vault` carry out the crypto-erasure of `flows`' destructions (`None`:
/// none, destructions are then recorded as carried out by external means).
pub fn shred_with(flows: &Workflows, vault: Option<&Arc<Vault>>) {
    flows.set_shredder(vault.map(|v| v.clone() as Arc<dyn Shredder>));
}

impl Platform {
    /// Creates the key store of `config`'s `[vault]` section, sealed by its master
    /// key and new data encrypted with `suite` (a `manage_keys` decision of the node's
    /// engine for `operator`), then opens the node with it.
    pub fn init_vault(
        config: PlatformConfig,
        operator: &Operator,
        suite: Suite,
    ) -> Result<Platform> {
        let section = config.vault.clone().ok_or_else(|| Error::ConfigInvalid {
            message: "the node has no `[vault]` section: name the vault's directory and master key"
                .to_owned(),
        })?;
        let mut without = config.clone();
        without.vault = None;
        let mut node = Platform::from_config(without)?;
        let master = section.master_key.master_key(suite)?;
        let vc = section.vault_config(node.log.as_ref()).with_suite(suite);
        let vault = Arc::new(Vault::init(
            vc,
            Box::new(master),
            node.engine.clone(),
            operator,
        )?);
        if let Some(flows) = &node.workflows {
            shred_with(flows, Some(&vault));
        }
        node.vault = Some(vault);
        node.config = config;
        Ok(node)
    }
}
