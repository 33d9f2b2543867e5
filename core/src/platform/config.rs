//! `govdata.toml`: where every part of a node lives and where its secrets are read
//! from — never the secrets themselves.
//!
//! ```toml
//! node_id = "etl-01"                    # names this node in its records and status
//!
//! [policies]
//! dirs = ["policies/city"]              # the default pack when absent; extra packs add to it
//!
//! [inventory]
//! file = "inventory.json"               # the example city when absent
//! # source = "store"                    # or: the live inventory of the platform store
//!
//! [audit]                               # no audit log when absent
//! dir = "/var/lib/govdata/audit/etl-01"
//! key_file = "/etc/govdata/seal.key"    # 32 raw bytes, readable by its owner only
//! # key_env = "GOVDATA_SEALING_KEY"     # or: an environment variable of 64 hex digits
//! sync = "always"                       # always | batch | none
//! suite = "sha256"                      # sha256 | sm3 (a new log; an existing one keeps its own)
//! scope = "all"                         # all | required
//! lock_wait_ms = 5000                   # wait for another writer, then store_locked
//!
//! [vault]                               # no vault when absent
//! dir = "/var/lib/govdata/vault"
//! master_key_file = "/etc/govdata/master.key"
//! # master_key_env = "GOVDATA_MASTER_KEY"
//! suite = "xchacha20poly1305"           # what new data is encrypted with: or sm4-gcm
//! system = "platform"                   # the system whose keys the store-wide operations manage
//! lock_wait_ms = 5000
//!
//! [procedures]                          # sharing (Art. 14) and destruction (Art. 15)
//! conformity_check_days = 2             # working days of each review
//! provider_reply_days = 5
//! provider_reply_off_platform_days = 10
//! destruction_approval_valid_days = 30
//! holidays = ["2026-10-01"]             # the working calendar: days off on weekdays
//! workdays = ["2026-10-10"]             # and working weekend days
//! utc_offset_minutes = 480
//! shared = true                         # default: true when [store] is set — the requests are the store's
//! staleness_ms = 3000                   # a node that has not reached the store for longer resolves no approval
//!
//! [store]                               # the platform store (PostgreSQL); none when absent
//! url = "postgresql://govdata_ship_etl01@db.city.example/govdata"   # no password in it
//! ca_file = "/etc/govdata/store-ca.pem" # the CA that signed the server's certificate
//! password_file = "/etc/govdata/store.pass"   # or: password_env = "GOVDATA_STORE_PASSWORD"
//! batch_size = 500                      # records per transaction
//! lag_max_records = 10000               # a lag beyond either bound is reported in status()
//! lag_max_seconds = 300
//! fail_closed = false                   # true: beyond the bound, L4, important and core data are denied
//! ```
//!
//! A node takes its inventory, or its signed policy bundles, from the platform store
//! with `source = "store"` in `[inventory]` or `[policies]` (with `trust_keys`, as
//! for a bundle file); `[store]` then names the store, and needs no `[audit]` section
//! when it ships nothing.
//!
//! Relative paths are read from the file's own directory. Every error names what is
//! wrong: an unknown key (`config_invalid` naming it), a missing file (`io` naming the
//! path), a key file that others may read (`config_invalid`), or a secret written into
//! the file itself (`config_invalid`: give a file or an environment variable instead).
//! It decides nothing and opens nothing: [`super::Platform`] does.

use crate::audit::{Date, HashSuite, RecordScope, SealingKey, SyncMode};
use crate::error::{Error, Result};
use crate::vault::{MasterKey, Suite};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// The environment variable that names the configuration file of the command line.
pub const CONFIG_ENV: &str = "GOVDATA_CONFIG";

/// Keys that would hold a secret in the file itself.
const SECRET_KEYS: &[&str] = &["key", "sealing_key", "master_key", "secret", "password"];

fn invalid(message: impl Into<String>) -> Error {
    Error::ConfigInvalid {
        message: message.into(),
    }
}

/// A parsed and checked `govdata.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformConfig {
    /// Where the file was read from (relative paths were resolved against its
    /// directory); `None` for a configuration built in code.
    pub source: Option<PathBuf>,
    /// The node's id.
    pub node_id: String,
    /// Policy directories (the default pack when empty).
    pub policies: Vec<PathBuf>,
    /// The inventory file (the example city when `None`, unless
    /// `inventory_from_store`).
    pub inventory: Option<PathBuf>,
    /// The node takes its inventory from the platform store (`[inventory] source =
    /// "store"`) and follows its changes.
    pub inventory_from_store: bool,
    /// The audit log, if the node keeps one.
    pub audit: Option<AuditConfig>,
    /// The vault, if the node has one.
    pub vault: Option<VaultSection>,
    /// The procedures' deadlines and calendar.
    pub procedures: ProceduresConfig,
    /// The signed policy bundle (`[policies] bundle`), in place of `policies`.
    pub bundle: Option<super::BundleSection>,
    /// The thresholds of the alerts (`[alerts]`; the defaults when absent).
    pub alerts: crate::alerts::AlertThresholds,
    /// The platform store the audit log is shipped to, if any.
    pub store: Option<StoreSection>,
}

/// The `[store]` section: the platform store (PostgreSQL) the node's audit log is
/// shipped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSection {
    /// The connection URL (`postgresql://user@host:port/db`, or a unix socket
    /// directory as `host=/run/postgresql`), without a password.
    pub url: String,
    /// The CA certificates (PEM) the server's certificate is verified against; the
    /// system's roots when `None`.
    pub ca_file: Option<PathBuf>,
    /// Where the password is read from (a file readable by its owner only, or an
    /// environment variable), if the server asks for one.
    pub password: Option<SecretSource>,
    /// Records sent in one transaction (default 500).
    pub batch_size: usize,
    /// The lag in records beyond which the node reports it (and fails closed, if so
    /// configured).
    pub lag_max_records: Option<u64>,
    /// The lag in seconds beyond which the node reports it (and fails closed, if so
    /// configured).
    pub lag_max_seconds: Option<u64>,
    /// Beyond a lag bound, deny decisions on L4, important and core data.
    pub fail_closed: bool,
}

/// Where a secret (the audit log's sealing key, the vault's master key) comes from:
/// the one key-source type of every front end. The configuration file names a file or
/// an environment variable; a caller of a binding hands over bytes or names a file.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file holding the 32 raw bytes, named in the configuration file or on the
    /// command line: it must be readable by its owner only (`config_invalid`
    /// otherwise).
    File(PathBuf),
    /// A file holding the 32 raw bytes that a binding's caller named directly (a key
    /// argument given as a path), read as it is: the caller chose the file.
    CallerFile(PathBuf),
    /// An environment variable holding 64 hexadecimal digits.
    Env(String),
    /// The raw bytes a caller handed over (any length: the key types check it), in
    /// memory that is wiped when the source is dropped.
    Bytes(Zeroizing<Vec<u8>>),
}

/// Names where the secret is, never the secret itself.
impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::File(p) => f.debug_tuple("File").field(p).finish(),
            SecretSource::CallerFile(p) => f.debug_tuple("CallerFile").field(p).finish(),
            SecretSource::Env(v) => f.debug_tuple("Env").field(v).finish(),
            SecretSource::Bytes(b) => write!(f, "Bytes({} bytes, not shown)", b.len()),
        }
    }
}

impl SecretSource {
    /// The secret as text (a password): the file's content or the variable's value,
    /// without a trailing line break.
    pub fn read_text(&self) -> Result<Zeroizing<String>> {
        let text = match self {
            SecretSource::File(path) | SecretSource::CallerFile(path) => {
                if matches!(self, SecretSource::File(_)) {
                    check_private(path)?;
                }
                Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?)
            }
            SecretSource::Env(var) => Zeroizing::new(std::env::var(var).map_err(|_| {
                invalid(format!(
                    "the environment variable `{var}` is not set or not unicode"
                ))
            })?),
            SecretSource::Bytes(b) => Zeroizing::new(
                String::from_utf8(b.to_vec())
                    .map_err(|_| invalid("the password handed over is not UTF-8"))?,
            ),
        };
        Ok(Zeroizing::new(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }

    /// The 32 bytes of the secret.
    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>> {
        match self {
            SecretSource::File(path) => {
                check_private(path)?;
                let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
                Ok(bytes)
            }
            SecretSource::CallerFile(path) => Ok(Zeroizing::new(
                std::fs::read(path).map_err(|e| Error::io(path, e))?,
            )),
            SecretSource::Env(var) => {
                let text = Zeroizing::new(std::env::var(var).map_err(|_| Error::KeyInvalid {
                    message: format!("the environment variable `{var}` is not set or not unicode"),
                })?);
                let bytes = hex::decode(text.trim()).map_err(|_| Error::KeyInvalid {
                    message: format!(
                        "the environment variable `{var}` must hold 64 hexadecimal digits"
                    ),
                })?;
                Ok(Zeroizing::new(bytes))
            }
            SecretSource::Bytes(b) => Ok(b.clone()),
        }
    }

    /// The audit log's sealing key from this source.
    pub fn sealing_key(&self) -> Result<SealingKey> {
        match self {
            SecretSource::File(path) => {
                check_private(path)?;
                SealingKey::from_file(path)
            }
            SecretSource::CallerFile(path) => SealingKey::from_file(path),
            SecretSource::Env(_) => SealingKey::from_slice(&self.read()?),
            SecretSource::Bytes(b) => SealingKey::from_slice(b),
        }
    }

    /// The vault's master key from this source, wrapping with `suite`.
    pub fn master_key(&self, suite: Suite) -> Result<MasterKey> {
        match self {
            SecretSource::File(path) => {
                check_private(path)?;
                MasterKey::from_file(path, suite)
            }
            SecretSource::CallerFile(path) => MasterKey::from_file(path, suite),
            SecretSource::Env(var) => MasterKey::from_env(var, suite),
            SecretSource::Bytes(b) => MasterKey::with_suite(b, suite),
        }
    }
}

/// A key file must not be readable or writable by anyone but its owner.
fn check_private(path: &Path) -> Result<()> {
    match crate::disk::shared_mode(path).map_err(|e| Error::io(path, e))? {
        None => Ok(()),
        Some(mode) => Err(invalid(format!(
            "key file `{}` may be read or written by others (mode {:o}); make it readable by its owner only (chmod 600)",
            path.display(),
            mode
        ))),
    }
}

/// The `[audit]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// The log's directory.
    pub dir: PathBuf,
    /// Where the sealing key is read from.
    pub key: SecretSource,
    /// When an append is on disk.
    pub sync: SyncMode,
    /// The hash suite of a new log.
    pub suite: HashSuite,
    /// Which decisions are recorded.
    pub scope: RecordScope,
    /// How long opening waits for another writer.
    pub lock_wait: Duration,
}

/// The `[vault]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSection {
    /// The vault directory.
    pub dir: PathBuf,
    /// Where the master key is read from.
    pub master_key: SecretSource,
    /// The suite new data is encrypted with.
    pub suite: Option<Suite>,
    /// The system whose keys the store-wide operations manage.
    pub system: Option<String>,
    /// How long a write waits for another process's.
    pub lock_wait: Duration,
}

/// The `[procedures]` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProceduresConfig {
    /// Working days of the conformity check (default 2).
    pub conformity_check_days: Option<u32>,
    /// Working days of the provider's reply (default 5).
    pub provider_reply_days: Option<u32>,
    /// Working days of the reply for data not yet on the platform (default 10).
    pub provider_reply_off_platform_days: Option<u32>,
    /// Days a destruction approval stays valid (default 30).
    pub destruction_approval_valid_days: Option<u32>,
    /// Weekdays that are not working days.
    pub holidays: Vec<Date>,
    /// Weekend days that are working days.
    pub workdays: Vec<Date>,
    /// The calendar's offset from UTC in minutes (default 480, China Standard Time).
    pub utc_offset_minutes: Option<i32>,
    /// Whether the requests are shared through the platform store by every node
    /// (`None`: whenever `[store]` is set).
    pub shared: Option<bool>,
    /// How long a node's mirror of the shared procedures stays good without reaching
    /// the store; past it, approvals resolve to nothing (default 3000 ms).
    pub staleness_ms: Option<u64>,
}

/// The staleness bound of shared procedures when `staleness_ms` is not given.
pub const DEFAULT_STALENESS: Duration = Duration::from_millis(3000);

impl ProceduresConfig {
    /// Whether the procedures are shared, for a node with (or without) a `[store]`.
    pub fn is_shared(&self, has_store: bool) -> bool {
        self.shared.unwrap_or(has_store) && has_store
    }

    /// The staleness bound of the node's mirror of the shared procedures.
    pub fn staleness(&self) -> Duration {
        self.staleness_ms
            .map_or(DEFAULT_STALENESS, Duration::from_millis)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    node_id: Option<String>,
    policies: Option<RawPolicies>,
    inventory: Option<RawInventory>,
    audit: Option<RawAudit>,
    vault: Option<RawVault>,
    procedures: Option<RawProcedures>,
    alerts: Option<crate::alerts::AlertThresholds>,
    store: Option<RawStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: String,
    ca_file: Option<PathBuf>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    batch_size: Option<usize>,
    lag_max_records: Option<u64>,
    lag_max_seconds: Option<u64>,
    #[serde(default)]
    fail_closed: bool,
}

/// Whether a connection URL holds a password (`user:secret@` or `password=`).
fn url_has_password(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.contains("password=") {
        return true;
    }
    let rest = lower
        .strip_prefix("postgresql://")
        .or_else(|| lower.strip_prefix("postgres://"));
    match rest {
        Some(r) => {
            let authority = r.split(['/', '?']).next().unwrap_or("");
            authority
                .rsplit_once('@')
                .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        }
        None => false,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicies {
    #[serde(default)]
    dirs: Vec<PathBuf>,
    bundle: Option<PathBuf>,
    #[serde(default)]
    trust_keys: Vec<PathBuf>,
    state_file: Option<PathBuf>,
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    file: Option<PathBuf>,
    source: Option<String>,
}

/// Whether a `source` key says `store`, naming the others it may say.
fn from_store(key: &str, source: Option<&str>, others: &[&str]) -> Result<bool> {
    match source {
        None => Ok(false),
        Some("store") => Ok(true),
        Some(s) if others.contains(&s) => Ok(false),
        Some(s) => Err(invalid(format!(
            "`{key}` is `{}`: expected one of {}, store",
            s.escape_debug(),
            others.join(", ")
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    dir: PathBuf,
    key_file: Option<PathBuf>,
    key_env: Option<String>,
    sync: Option<String>,
    suite: Option<String>,
    scope: Option<String>,
    lock_wait_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVault {
    dir: PathBuf,
    master_key_file: Option<PathBuf>,
    master_key_env: Option<String>,
    suite: Option<String>,
    system: Option<String>,
    lock_wait_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcedures {
    conformity_check_days: Option<u32>,
    provider_reply_days: Option<u32>,
    provider_reply_off_platform_days: Option<u32>,
    destruction_approval_valid_days: Option<u32>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
    utc_offset_minutes: Option<i32>,
    shared: Option<bool>,
    staleness_ms: Option<u64>,
}

/// Finds a key that would hold a secret, anywhere in the document.
fn find_secret(table: &toml::Table, path: &str) -> Option<String> {
    for (k, v) in table {
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        if SECRET_KEYS.contains(&k.as_str()) {
            return Some(here);
        }
        if let toml::Value::Table(t) = v {
            if let Some(found) = find_secret(t, &here) {
                return Some(found);
            }
        }
    }
    None
}

fn secret(
    section: &str,
    file: Option<PathBuf>,
    env: Option<String>,
    file_key: &str,
    env_key: &str,
    base: &Path,
) -> Result<SecretSource> {
    match (file, env) {
        (Some(f), None) => Ok(SecretSource::File(resolve(base, f))),
        (None, Some(e)) if !e.is_empty() => Ok(SecretSource::Env(e)),
        (None, Some(_)) => Err(invalid(format!("`{section}.{env_key}` is empty"))),
        (Some(_), Some(_)) => Err(invalid(format!(
            "`[{section}]` names both `{file_key}` and `{env_key}`: give one"
        ))),
        (None, None) => Err(invalid(format!(
            "`[{section}]` needs `{file_key}` (a key file) or `{env_key}` (an environment variable)"
        ))),
    }
}

fn resolve(base: &Path, p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

fn parse_in<T: std::str::FromStr>(key: &str, value: Option<String>) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    value
        .map(|v| v.parse::<T>().map_err(|e| invalid(format!("`{key}`: {e}"))))
        .transpose()
}

fn dates(key: &str, values: Vec<String>) -> Result<Vec<Date>> {
    values
        .iter()
        .map(|d| Date::parse(d).map_err(|e| invalid(format!("`{key}`: {e}"))))
        .collect()
}

impl PlatformConfig {
    /// A configuration of nothing but an id: the default pack and the example city,
    /// no log, no vault.
    pub fn new(node_id: impl Into<String>) -> PlatformConfig {
        PlatformConfig {
            source: None,
            node_id: node_id.into(),
            policies: Vec::new(),
            inventory: None,
            inventory_from_store: false,
            audit: None,
            vault: None,
            procedures: ProceduresConfig::default(),
            store: None,
            bundle: None,
            alerts: Default::default(),
        }
    }

    /// Reads and checks `govdata.toml` at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PlatformConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = PlatformConfig::from_toml_str(&text, base).map_err(|e| match e {
            Error::ConfigInvalid { message } => invalid(format!("`{}`: {message}", path.display())),
            other => other,
        })?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses and checks a configuration whose relative paths are read from `base`.
    pub fn from_toml_str(text: &str, base: &Path) -> Result<PlatformConfig> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
        if let Some(key) = find_secret(&table, "") {
            return Err(invalid(format!(
                "`{key}` would hold a secret in the file itself: name a key file (`key_file`, `master_key_file`) or an environment variable (`key_env`, `master_key_env`) instead"
            )));
        }
        let raw: RawFile = toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
        let node_id = raw
            .node_id
            .ok_or_else(|| invalid("`node_id` is missing: name this node"))?;
        if node_id.is_empty() || node_id.chars().any(|c| c.is_control() || c == '/') {
            return Err(invalid(format!(
                "`node_id` `{}` must be a non-empty name without `/` or control characters",
                node_id.escape_debug()
            )));
        }
        let (dirs, bundle_file, trust_keys, state_file, policy_source) = match raw.policies {
            Some(p) => (p.dirs, p.bundle, p.trust_keys, p.state_file, p.source),
            None => Default::default(),
        };
        let bundles_from_store = from_store(
            "policies.source",
            policy_source.as_deref(),
            &["dirs", "bundle"],
        )?;
        let policies: Vec<PathBuf> = dirs.into_iter().map(|d| resolve(base, d)).collect();
        for d in &policies {
            if !d.is_dir() {
                return Err(Error::io(
                    d,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such policy directory"),
                ));
            }
        }
        let inventory_section = raw.inventory.is_some();
        let (inventory_file, inventory_source) = match raw.inventory {
            Some(i) => (i.file, i.source),
            None => (None, None),
        };
        let inventory_from_store =
            from_store("inventory.source", inventory_source.as_deref(), &["file"])?;
        match (&inventory_file, inventory_from_store) {
            (Some(_), true) => {
                return Err(invalid(
                    "`[inventory]` names both `file` and `source = \"store\"`: a node takes its inventory from one",
                ))
            }
            (None, false) if inventory_section => {
                return Err(invalid(
                    "`[inventory]` needs `file` (an inventory file) or `source = \"store\"`",
                ))
            }
            _ => {}
        }
        let inventory = inventory_file.map(|f| resolve(base, f));
        if let Some(f) = &inventory {
            if !f.is_file() {
                return Err(Error::io(
                    f,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such inventory file"),
                ));
            }
        }
        let audit = raw
            .audit
            .map(|a| -> Result<AuditConfig> {
                Ok(AuditConfig {
                    dir: resolve(base, a.dir),
                    key: secret("audit", a.key_file, a.key_env, "key_file", "key_env", base)?,
                    sync: parse_in("audit.sync", a.sync)?.unwrap_or_default(),
                    suite: parse_in("audit.suite", a.suite)?.unwrap_or(HashSuite::Sha256),
                    scope: parse_in("audit.scope", a.scope)?.unwrap_or(RecordScope::All),
                    lock_wait: a
                        .lock_wait_ms
                        .map_or(crate::lock::DEFAULT_LOCK_WAIT, Duration::from_millis),
                })
            })
            .transpose()?;
        let vault = raw
            .vault
            .map(|v| -> Result<VaultSection> {
                Ok(VaultSection {
                    dir: resolve(base, v.dir),
                    master_key: secret(
                        "vault",
                        v.master_key_file,
                        v.master_key_env,
                        "master_key_file",
                        "master_key_env",
                        base,
                    )?,
                    suite: parse_in("vault.suite", v.suite)?,
                    system: v.system,
                    lock_wait: v
                        .lock_wait_ms
                        .map_or(crate::lock::DEFAULT_LOCK_WAIT, Duration::from_millis),
                })
            })
            .transpose()?;
        let procedures = match raw.procedures {
            None => ProceduresConfig::default(),
            Some(p) => ProceduresConfig {
                conformity_check_days: p.conformity_check_days,
                provider_reply_days: p.provider_reply_days,
                provider_reply_off_platform_days: p.provider_reply_off_platform_days,
                destruction_approval_valid_days: p.destruction_approval_valid_days,
                holidays: dates("procedures.holidays", p.holidays)?,
                workdays: dates("procedures.workdays", p.workdays)?,
                utc_offset_minutes: p.utc_offset_minutes,
                shared: p.shared,
                staleness_ms: p.staleness_ms,
            },
        };
        if procedures.staleness_ms == Some(0) {
            return Err(invalid("`procedures.staleness_ms` must be at least 1"));
        }
        let store = raw
            .store
            .map(|s| -> Result<StoreSection> {
                if url_has_password(&s.url) {
                    return Err(invalid(
                        "`store.url` holds a password: name a file (`password_file`) or an environment variable (`password_env`) instead",
                    ));
                }
                let password = match (s.password_file, s.password_env) {
                    (None, None) => None,
                    (f, e) => Some(secret(
                        "store",
                        f,
                        e,
                        "password_file",
                        "password_env",
                        base,
                    )?),
                };
                if s.batch_size == Some(0) {
                    return Err(invalid("`store.batch_size` must be at least 1"));
                }
                Ok(StoreSection {
                    url: s.url,
                    ca_file: s.ca_file.map(|f| resolve(base, f)),
                    password,
                    batch_size: s.batch_size.unwrap_or(500),
                    lag_max_records: s.lag_max_records,
                    lag_max_seconds: s.lag_max_seconds,
                    fail_closed: s.fail_closed,
                })
            })
            .transpose()?;
        if (inventory_from_store || bundles_from_store) && store.is_none() {
            return Err(invalid(
                "`source = \"store\"` needs a `[store]` section naming the platform store",
            ));
        }
        if store.is_some() && audit.is_none() && !inventory_from_store && !bundles_from_store {
            return Err(invalid(
                "`[store]` ships the audit log: it needs an `[audit]` section (or a `source = \"store\"` in `[inventory]` or `[policies]`)",
            ));
        }
        if procedures.shared == Some(true) && store.is_none() {
            return Err(invalid(
                "`procedures.shared` shares the procedures through the platform store: it needs a `[store]` section",
            ));
        }
        let bundle = super::bundle::section(
            &policies,
            bundle_file.map(|b| resolve(base, b)),
            bundles_from_store,
            trust_keys.into_iter().map(|k| resolve(base, k)).collect(),
            state_file.map(|s| resolve(base, s)),
            audit.as_ref().map(|a| a.dir.as_path()),
        )?;
        Ok(PlatformConfig {
            source: None,
            node_id,
            policies,
            inventory,
            inventory_from_store,
            audit,
            vault,
            procedures,
            store,
            bundle,
            alerts: raw.alerts.unwrap_or_default(),
        })
    }
}
