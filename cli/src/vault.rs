//! `govdata vault`: encryption at rest, key rotation and crypto-shredding from the
//! command line.
//!
//! The vault, its master key, the policies and the inventory come from the node's
//! configuration (`--config`, or the file `GOVDATA_CONFIG` names), the directory and
//! the flags overriding it; the node is opened through the core's `Platform`. Key
//! operations are decided by the policies (`manage_keys`) for the user given with
//! `--as` (default `key.admin`, the example inventory's key administrator) against the
//! default pack and the example inventory unless the node names others. Key events are
//! recorded in the node's audit log, or without one appended to `DIR/key-events.jsonl`.

use crate::node::{NodeArgs, VaultFlags};
use crate::output::fail;
use govdata::model::Grade;
use govdata::platform::{PlatformConfig, SecretSource};
use govdata::vault::{Operator, Progress, Suite, Vault};
use govdata::Platform;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `govdata vault …`
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: VaultCommand,
}

/// What every vault command needs: the node (the vault's directory and master key,
/// the policies and inventory that decide key operations) and who acts.
#[derive(Debug, clap::Args)]
struct Common {
    /// Where the node's parts are (`--config`, `--inventory`, `--policies`, and
    /// `--audit` with `--audit-key-file` to record key events in an audit log).
    #[command(flatten)]
    node: NodeArgs,
    /// A file holding the 32-byte master key, raw, readable by its owner only (the
    /// configuration's `[vault]` key if omitted).
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    /// The user performing key operations (a `manage_keys` decision).
    #[arg(long = "as", value_name = "USER", default_value = "key.admin")]
    operator: String,
    /// A second key administrator, for dual control of important and core data.
    #[arg(long, value_name = "USER")]
    witness: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum VaultCommand {
    /// Create a key store in DIR, sealed by the master key.
    Init {
        /// The vault directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// The suite of the key store and the default for new data.
        #[arg(long, value_parser = parse_suite, default_value = "xchacha20poly1305")]
        suite: Suite,
    },
    /// Encrypt the file IN into OUT under the dataset's data key (made if missing).
    Encrypt {
        /// `[DIR] IN OUT`: the vault directory (the configuration's if omitted), the
        /// plaintext file and the ciphertext file to write.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// The dataset the data belongs to.
        #[arg(long)]
        dataset: String,
        /// The dataset's grade, bound to the ciphertext.
        #[arg(long, value_parser = parse_grade)]
        grade: Grade,
        /// xchacha20poly1305 or sm4-gcm (the key store's suite if omitted).
        #[arg(long, value_parser = parse_suite)]
        suite: Option<Suite>,
    },
    /// Decrypt the file IN into OUT; OUT is created only if all of IN authenticates.
    Decrypt {
        /// `[DIR] IN OUT`: the vault directory (the configuration's if omitted), the
        /// ciphertext file and the plaintext file to write.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// The dataset the data belongs to.
        #[arg(long)]
        dataset: String,
        /// The dataset's grade, as given when encrypting.
        #[arg(long, value_parser = parse_grade)]
        grade: Grade,
    },
    /// Rotate a dataset's data key, or the master key (rewraps every data key).
    Rotate {
        /// The vault directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// The dataset whose data key to rotate.
        #[arg(
            long,
            required_unless_present = "new_master_key_file",
            conflicts_with = "new_master_key_file"
        )]
        dataset: Option<String>,
        /// Rotate the master key to the 32 raw bytes of this file (readable by its
        /// owner only).
        #[arg(long, value_name = "FILE")]
        new_master_key_file: Option<PathBuf>,
        /// The suite of the new master key (the current one's if omitted).
        #[arg(long, value_parser = parse_suite, requires = "new_master_key_file")]
        new_suite: Option<Suite>,
    },
    /// Crypto-shred a dataset: destroy every copy of its data keys (Art. 15).
    Shred {
        /// The vault directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// The dataset to shred.
        #[arg(long)]
        dataset: String,
    },
    /// Show the key store: master key fingerprint and every data key (never key material).
    Status {
        /// The vault directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

fn parse_suite(s: &str) -> Result<Suite, String> {
    s.parse().map_err(|e: govdata::Error| e.to_string())
}

fn parse_grade(s: &str) -> Result<Grade, String> {
    s.parse()
}

fn operator(common: &Common) -> Operator {
    let op = Operator::new(&common.operator);
    match &common.witness {
        Some(w) => op.with_witness(w),
        None => op,
    }
}

/// The node's configuration: the file's, the flags over it; it must name a vault.
fn config(common: &Common, dir: Option<&PathBuf>) -> govdata::Result<PlatformConfig> {
    let c = common.node.config(&VaultFlags {
        dir: dir.cloned(),
        master_key_file: common.master_key_file.clone(),
    })?;
    if c.vault.is_none() {
        return Err(govdata::Error::RequestInvalid {
            message: "name the vault's directory and `--master-key-file`, or a configuration (`--config`, GOVDATA_CONFIG) with a [vault] section".to_owned(),
        });
    }
    Ok(c)
}

/// Opens the node with its vault.
fn open(common: &Common, dir: Option<&PathBuf>) -> govdata::Result<(Platform, Arc<Vault>)> {
    let node = Platform::from_config(config(common, dir)?)?;
    let vault = node
        .vault()
        .cloned()
        .ok_or_else(|| govdata::Error::RequestInvalid {
            message: "the node has no vault".to_owned(),
        })?;
    Ok((node, vault))
}

/// `[DIR] IN OUT`.
fn split(paths: &[PathBuf]) -> govdata::Result<(Option<&PathBuf>, &PathBuf, &PathBuf)> {
    match paths {
        [input, output] => Ok((None, input, output)),
        [dir, input, output] => Ok((Some(dir), input, output)),
        _ => Err(govdata::Error::RequestInvalid {
            message: "give `[DIR] IN OUT`".to_owned(),
        }),
    }
}

/// Runs `f` with a progress bar on standard error when it is a terminal and the input
/// is large enough to be worth one.
fn with_progress<T>(input: &Path, f: impl FnOnce(Option<Progress<'_>>) -> T) -> T {
    const LARGE: u64 = 8 << 20;
    let len = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    if !std::io::stderr().is_terminal() || len < LARGE {
        return f(None);
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec}, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let update = |n: u64| bar.set_position(n);
    let out = f(Some(&update));
    bar.finish_and_clear();
    out
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

fn run_inner(args: &Args) -> govdata::Result<()> {
    match &args.command {
        VaultCommand::Init { dir, common, suite } => {
            let node =
                Platform::init_vault(config(common, dir.as_ref())?, &operator(common), *suite)?;
            let Some(vault) = node.vault() else {
                return Ok(());
            };
            let status = vault.status()?;
            println!(
                "initialised key store `{}` (master key {}, {})",
                vault.store_path().display(),
                status.master_key_id,
                status.master_algorithm
            );
        }
        VaultCommand::Encrypt {
            paths,
            common,
            dataset,
            grade,
            suite,
        } => {
            let (dir, input, output) = split(paths)?;
            let (_node, vault) = open(common, dir)?;
            let suite = suite.unwrap_or(vault.config().default_suite);
            vault.ensure_key(&operator(common), dataset)?;
            let n = with_progress(input, |p| {
                vault.encrypt_file(dataset, *grade, suite, input, output, p)
            })?;
            eprintln!("encrypted {n} bytes of `{dataset}` with {suite}");
        }
        VaultCommand::Decrypt {
            paths,
            common,
            dataset,
            grade,
        } => {
            let (dir, input, output) = split(paths)?;
            let (_node, vault) = open(common, dir)?;
            let n = with_progress(input, |p| {
                vault.decrypt_file(dataset, *grade, input, output, p)
            })?;
            eprintln!("decrypted {n} bytes of `{dataset}`");
        }
        VaultCommand::Rotate {
            dir,
            common,
            dataset,
            new_master_key_file,
            new_suite,
        } => {
            let (_node, vault) = open(common, dir.as_ref())?;
            if let Some(file) = new_master_key_file {
                let suite = new_suite.unwrap_or(vault.config().default_suite);
                let new = SecretSource::File(file.clone()).master_key(suite)?;
                vault.rotate_master_key(&operator(common), Box::new(new))?;
                let status = vault.status()?;
                println!(
                    "rewrapped {} data keys under master key {} ({})",
                    status.keys.iter().filter(|k| k.destroyed.is_none()).count(),
                    status.master_key_id,
                    status.master_algorithm
                );
            } else if let Some(dataset) = dataset {
                let info = vault.rotate_key(&operator(common), dataset)?;
                print_json(&info);
            }
        }
        VaultCommand::Shred {
            dir,
            common,
            dataset,
        } => {
            let (_node, vault) = open(common, dir.as_ref())?;
            let report = vault.shred(&operator(common), dataset)?;
            print_json(&report);
        }
        VaultCommand::Status { dir, common } => {
            let (_node, vault) = open(common, dir.as_ref())?;
            print_json(&vault.status()?);
        }
    }
    Ok(())
}

/// Runs `govdata vault …`: exit 0 on success, 2 with the error code on failure.
pub fn run(args: &Args) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The vault subcommands as `govdata vault` parses them.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: VaultCommand,
    }

    fn run(args: &[&str]) -> govdata::Result<()> {
        let cli = Cli::try_parse_from(std::iter::once("vault").chain(args.iter().copied()))
            .map_err(|e| govdata::Error::Io {
                path: "<args>".into(),
                source: std::io::Error::other(e.to_string()),
            })?;
        run_inner(&Args {
            command: cli.command,
        })
    }

    #[test]
    fn the_fixed_command_shapes_work_end_to_end() {
        let dir = std::env::temp_dir().join(format!("govdata-cli-vault-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = |n: &str| dir.join(n).display().to_string();
        let write_key = |name: &str, byte: u8| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(p(name), [byte; 32]).unwrap();
            std::fs::set_permissions(p(name), std::fs::Permissions::from_mode(0o600)).unwrap();
        };
        write_key("master.key", 7);
        let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(p("in"), &plain).unwrap();
        let (v, mk) = (p("v"), p("master.key"));

        run(&["init", &v, "--master-key-file", &mk]).unwrap();
        run(&[
            "encrypt",
            &v,
            "--master-key-file",
            &mk,
            "--dataset",
            "hukou",
            "--grade",
            "L4",
            "--suite",
            "sm4-gcm",
            &p("in"),
            &p("sealed"),
        ])
        .unwrap();
        run(&[
            "decrypt",
            &v,
            "--master-key-file",
            &mk,
            "--dataset",
            "hukou",
            "--grade",
            "L4",
            &p("sealed"),
            &p("out"),
        ])
        .unwrap();
        assert_eq!(std::fs::read(p("out")).unwrap(), plain);

        // A flipped bit: non-zero exit, and OUT is not created.
        let mut sealed = std::fs::read(p("sealed")).unwrap();
        sealed[100_000] ^= 1;
        std::fs::write(p("bad"), &sealed).unwrap();
        let e = run(&[
            "decrypt",
            &v,
            "--master-key-file",
            &mk,
            "--dataset",
            "hukou",
            "--grade",
            "L4",
            &p("bad"),
            &p("out2"),
        ])
        .unwrap_err();
        assert_eq!(e.code(), "crypto_auth_failed");
        assert!(!dir.join("out2").exists());

        // Vendor staff may not shred; the key administrator may, and then nothing decrypts.
        let e = run(&[
            "shred",
            &v,
            "--master-key-file",
            &mk,
            "--dataset",
            "hukou",
            "--as",
            "vendor.li",
        ])
        .unwrap_err();
        assert_eq!(e.code(), "access_denied");
        run(&["shred", &v, "--master-key-file", &mk, "--dataset", "hukou"]).unwrap();
        let e = run(&[
            "decrypt",
            &v,
            "--master-key-file",
            &mk,
            "--dataset",
            "hukou",
            "--grade",
            "L4",
            &p("sealed"),
            &p("out3"),
        ])
        .unwrap_err();
        assert_eq!(e.code(), "key_destroyed");
        assert!(!dir.join("out3").exists());

        // Key events were recorded, one per line.
        let events = std::fs::read_to_string(dir.join("v").join("key-events.jsonl")).unwrap();
        let ops: Vec<String> = events
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["operation"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(ops, ["init_store", "create_key", "shred"]);
        run(&["status", &v, "--master-key-file", &mk]).unwrap();
        write_key("master2.key", 8);
        run(&[
            "rotate",
            &v,
            "--master-key-file",
            &mk,
            "--new-master-key-file",
            &p("master2.key"),
        ])
        .unwrap();
        run(&[
            "rotate",
            &v,
            "--master-key-file",
            &p("master2.key"),
            "--dataset",
            "traffic-flow",
        ])
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
