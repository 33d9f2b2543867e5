//! `govdata store init|sync` (`checkpoint` and `prove` in `store_proofs`) and the connection flags that `audit verify --store`
//! shares: the platform store on PostgreSQL.
//!
//! Exit status: 0 success; 1 `sync` did not catch up in time (`store_unavailable`);
//! 2 any other error.

use crate::output::fail;
use clap::{Args, Subcommand};
use govdata::platform::{Platform, PlatformConfig, CONFIG_ENV};
use govdata::store::{init_schema, StoreConnector};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
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
