//! `govdata store init|sync` (`checkpoint` and `prove` in `store_proofs`), `govdata
//! audit watch --store`, and the connection flags that the commands reading the store
//! share (`audit verify --store`, `audit query --store`, `assess --store`): the
//! platform store on PostgreSQL.
//!
//! Exit status: 0 success; 1 `sync` did not catch up in time (`store_unavailable`),
//! `watch` refused by the `view_audit` decision or stopped by a row that does not
//! check (`audit_tampered`); 2 any other error.

use crate::output::fail;
use clap::{Args, Subcommand};
use govdata::audit::{SealingKey, Timestamp};
use govdata::platform::{
    Overrides, Platform, PlatformConfig, SecretSource, StoreSection, CONFIG_ENV,
};
use govdata::store::{init_schema, StoreConnector, Watched};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How to reach a store from the command line.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The CA certificates (PEM) that the server's certificate is verified against
    /// (the system's roots when absent); a unix socket needs none.
    #[arg(long = "ca-file")]
    pub ca_file: Option<PathBuf>,
    /// The environment variable holding the password, if the server asks for one.
    #[arg(long = "password-env")]
    pub password_env: Option<String>,
    /// The file holding the password, if the server asks for one.
    #[arg(long = "password-file")]
    pub password_file: Option<PathBuf>,
}

/// Where a command finds the store: `--store URL` with the connection flags, or the
/// `[store]` section of the node's govdata.toml.
#[derive(Debug, Args)]
pub struct StoreTarget {
    /// The store's URL (`postgresql://user@host/db`; no password in it); without it,
    /// the `[store]` section of --config (or GOVDATA_CONFIG).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// The node's govdata.toml whose `[store]` section names the store.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub connection: StoreArgs,
}

impl StoreTarget {
    /// The node's configuration, when the store comes from it.
    pub fn node_config(&self) -> govdata::Result<Option<PlatformConfig>> {
        if self.store.is_some() {
            return Ok(None);
        }
        let path = crate::node::config_file(self.config.as_ref()).ok_or_else(|| {
            govdata::Error::ConfigInvalid {
                message: format!(
                    "name the store with --store URL, or a node's govdata.toml with --config or {CONFIG_ENV}"
                ),
            }
        })?;
        PlatformConfig::from_file(path).map(Some)
    }

    /// The connector of the store.
    pub fn connector(&self) -> govdata::Result<StoreConnector> {
        if let Some(url) = &self.store {
            return self.connection.connector(url);
        }
        let config = self.node_config()?;
        let section = config.as_ref().and_then(|c| c.store.as_ref()).ok_or_else(|| {
            govdata::Error::ConfigInvalid {
                message: "the node's configuration has no `[store]` section: name the store with --store URL".to_owned(),
            }
        })?;
        StoreConnector::from_section(section)
    }
}

impl StoreArgs {
    /// The connector of the store at `url`.
    pub fn connector(&self, url: &str) -> govdata::Result<StoreConnector> {
        let password = match (&self.password_env, &self.password_file) {
            (Some(var), _) => Some(Zeroizing::new(std::env::var(var).map_err(|_| {
                govdata::Error::ConfigInvalid {
                    message: format!("the environment variable `{var}` is not set"),
                }
            })?)),
            (None, Some(f)) => Some(Zeroizing::new(
                std::fs::read_to_string(f)
                    .map_err(|e| govdata::Error::Io {
                        path: f.display().to_string(),
                        source: e,
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            )),
            (None, None) => None,
        };
        StoreConnector::new(url, self.ca_file.as_deref(), password)
    }

    /// The store a reading command names: `--store URL` with these flags, or
    /// `--store` alone (an empty `url`): the configuration's `[store]` section (whose
    /// role must be one that may read: the shipping role may not).
    pub fn reading(&self, url: &str, config: &PlatformConfig) -> govdata::Result<StoreSection> {
        if url.is_empty() {
            return config
                .store
                .clone()
                .ok_or_else(|| govdata::Error::ConfigInvalid {
                    message: "`--store` without a URL reads the configuration's [store] section, and it has none: name the store's URL".to_owned(),
                });
        }
        let password = match (&self.password_env, &self.password_file) {
            (Some(var), _) => Some(SecretSource::Env(var.clone())),
            (None, Some(f)) => Some(SecretSource::File(f.clone())),
            (None, None) => None,
        };
        Ok(StoreSection {
            url: url.to_owned(),
            ca_file: self.ca_file.clone(),
            password,
            batch_size: 500,
            lag_max_records: None,
            lag_max_seconds: None,
            fail_closed: false,
        })
    }
}

/// The sealing keys in `files` (each readable by its owner only), as the commands
/// that check the store's rows take them (one per key; each node's is found by its
/// key check value).
pub fn sealing_keys(files: &[PathBuf]) -> govdata::Result<Vec<SealingKey>> {
    files
        .iter()
        .map(|p| SecretSource::File(p.clone()).sealing_key())
        .collect()
}

/// Arguments of `govdata audit watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The watching node's log directory (the configuration's if omitted): the
    /// viewing decision and every alert are recorded there.
    dir: Option<PathBuf>,
    /// The watching node's configuration file (default: the file `GOVDATA_CONFIG`
    /// names, if set): its `[audit]` log, `[alerts]` thresholds, `[procedures]`
    /// calendar, inventory and policies; its `[store]`, if any, ships the alerts.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The file holding the watching node's 32-byte sealing key, raw, readable by its
    /// owner only.
    #[arg(long = "key-file", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The platform store to follow (no password in its URL); `--store` alone: the
    /// configuration's `[store]` section.
    #[arg(long, required = true, num_args = 0..=1, default_missing_value = "", value_name = "URL")]
    store: Option<String>,
    #[command(flatten)]
    store_args: StoreArgs,
    /// The sealing key of other nodes' logs whose rows are checked (repeat); the
    /// watching node's own key is used too.
    #[arg(long = "store-key-file", value_name = "FILE")]
    store_key_files: Vec<PathBuf>,
    /// The user who watches (the principal of the `view_audit` decision on every
    /// department).
    #[arg(long = "as")]
    viewer: String,
    /// The inventory JSON file (the configuration's, or the example city, if omitted).
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Policy directories (the configuration's, or the default pack, if omitted).
    #[arg(long = "policies")]
    policies: Vec<PathBuf>,
    /// Begin with the records made from this time on (YYYY-MM-DD or RFC 3339 UTC);
    /// without it, with the records that arrive from now on.
    #[arg(long)]
    since: Option<String>,
    /// Print the alerts only, not every record.
    #[arg(long)]
    alerts_only: bool,
    /// Stop after this many seconds (without it, run until stopped).
    #[arg(long = "for", value_name = "SECONDS")]
    duration: Option<f64>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// `govdata audit watch --store`: exit 0 when stopped by `--for`, 1 a `view_audit`
/// denial or a row that does not check, 2 any other error.
pub fn watch(args: &WatchArgs) -> ExitCode {
    match follow(args) {
        Ok(code) => code,
        Err(e) => {
            let code = fail(&e);
            if e.code() == "audit_tampered" {
                ExitCode::from(1)
            } else {
                code
            }
        }
    }
}

fn follow(args: &WatchArgs) -> govdata::Result<ExitCode> {
    let mut config = crate::node::layered(
        args.config.as_ref(),
        Overrides {
            inventory: args.inventory.clone(),
            policies: args.policies.clone(),
            audit_dir: args.dir.clone(),
            audit_key_file: args.key_file.clone(),
            ..Overrides::default()
        },
    )?;
    config.vault = None;
    let section = args
        .store_args
        .reading(args.store.as_deref().unwrap_or_default(), &config)?;
    let connector = StoreConnector::from_section(&section)?;
    let at = connector.display().to_owned();
    let mut keys = sealing_keys(&args.store_key_files)?;
    if let Some(a) = &config.audit {
        keys.push(a.key.sealing_key()?);
    }
    let since = args.since.as_deref().map(Timestamp::parse).transpose()?;
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let node = Platform::from_config(config)?;
    let (decision, watch) = node.watch_store(&args.viewer, connector, keys, since)?;
    let Some(mut watch) = watch else {
        eprintln!("{}", decision.to_json_string());
        node.close()?;
        return Ok(ExitCode::from(1));
    };
    let mut backoff = BACKOFF_MIN;
    let mut down = false;
    let mut placed = false;
    let result = loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Ok(ExitCode::SUCCESS);
        }
        match watch.next(&node.engine().inventory()) {
            Ok(seen) => {
                if !placed {
                    placed = true;
                    match since {
                        Some(t) => eprintln!("watching the platform store at `{at}`: every node's records from {t} on"),
                        None => eprintln!("watching the platform store at `{at}`: every node's records from now on"),
                    }
                }
                if down {
                    eprintln!("reconnected to the platform store: reading on");
                    down = false;
                }
                backoff = BACKOFF_MIN;
                for w in &seen {
                    match w {
                        Watched::Record(r) if !args.alerts_only => println!("{}", r.to_json()),
                        Watched::Record(_) => {}
                        Watched::Alert(a) => println!("{}", a.to_json()),
                    }
                }
            }
            Err(e @ govdata::Error::StoreUnavailable { .. }) => {
                if !down {
                    eprintln!("error[{}]: {e}; retrying", e.code());
                    down = true;
                }
                let rest = deadline.map_or(backoff, |d| {
                    d.saturating_duration_since(Instant::now()).min(backoff)
                });
                std::thread::sleep(rest);
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            Err(e) => break Err(e),
        }
    };
    // The alerts go on to the store with the node's shipper, when it has one.
    if node.store_status().is_some() {
        if let Err(e) = node.store_sync(Duration::from_secs(10)) {
            eprintln!("error[{}]: {e}", e.code());
        }
    }
    node.close()?;
    result
}

/// The store subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create the schema, roles, triggers and functions, or bring an older schema up
    /// to date (idempotent); needs a role that may create them.
    Init {
        /// The store's URL (`postgresql://user@host/db`; no password in it).
        url: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Open the node of a govdata.toml, ship its audit log to the store until the
    /// store holds every record, and print the node's store status as JSON.
    Sync {
        /// The node's govdata.toml (or GOVDATA_CONFIG).
        #[arg(long)]
        config: Option<PathBuf>,
        /// How long to wait, in seconds.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    #[command(flatten)]
    Checkpoints(crate::store_proofs::CheckpointCommand),
}

pub fn run(cmd: &StoreCommand) -> ExitCode {
    match cmd {
        StoreCommand::Checkpoints(cmd) => crate::store_proofs::run(cmd),
        StoreCommand::Init { url, store } => {
            let r = (|| {
                let mut client = store.connector(url)?.connect()?;
                init_schema(&mut client)
            })();
            match r {
                Ok(v) => {
                    println!("ok: schema version {v}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        StoreCommand::Sync { config, timeout } => {
            let r = (|| {
                let path = crate::node::config_file(config.as_ref()).ok_or_else(|| {
                    govdata::Error::ConfigInvalid {
                        message: format!(
                            "name the node's govdata.toml with --config or {CONFIG_ENV}"
                        ),
                    }
                })?;
                let node = Platform::from_config(PlatformConfig::from_file(&path)?)?;
                let r = node.store_sync(Duration::from_secs_f64(timeout.max(0.0)));
                let status = node.store_status();
                node.close()?;
                println!(
                    "{}",
                    serde_json::to_string(&status).unwrap_or_else(|_| "null".into())
                );
                r
            })();
            match r {
                Ok(()) => ExitCode::SUCCESS,
                Err(e @ govdata::Error::StoreUnavailable { .. }) => {
                    fail(&e);
                    ExitCode::from(1)
                }
                Err(e) => fail(&e),
            }
        }
    }
}
