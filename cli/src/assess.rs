//! `govdata assess`: the compliance self-assessment (Art. 20) of a node — its
//! inventory, with the policy pack, the audit log and the vault's key store when given
//! — from `--config` (or `GOVDATA_CONFIG`) and the flags over it, assessed by the core
//! (`PlatformConfig::assess`) as every binding assesses it.
//!
//! Reads everything and writes nothing but the reports: the audit log is verified and
//! read without being opened for writing (safe beside a running service), the key
//! store is only opened to read its status. Prints one line per finding (to standard
//! error when the JSON goes to standard output), writes the JSON report (`--json`,
//! `-` for standard output) and the HTML page (`--html`).
//!
//! A node with a `[store]` section, or `--store URL`, is assessed on the platform
//! store's records (every node's, verified from the rows) instead of its local log.
//!
//! Exit status: 0 no finding at or above `--fail-on` (default `high`); 1 at least one;
//! 2 an error (bad input, an unreadable log, a wrong key).

use crate::output::fail;
use govdata::assess::{Assessment, Severity};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata assess`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
    /// set): its inventory, policies, audit log and vault are assessed; the flags
    /// below override what it says.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The inventory JSON file (the example city if neither this nor the
    /// configuration names one).
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Policy directories: the first holds the schema; later ones add department
    /// policies. The configuration's, or the default pack, if omitted.
    #[arg(long = "policies", value_name = "DIR")]
    policies: Vec<PathBuf>,
    /// The audit log directory (verified and read, never written).
    #[arg(long, alias = "audit", value_name = "DIR")]
    audit_dir: Option<PathBuf>,
    /// The file holding the log's 32-byte sealing key, raw, readable by its owner
    /// only.
    #[arg(long, alias = "sealing-key", value_name = "FILE")]
    audit_key_file: Option<PathBuf>,
    /// A checkpoint of the log kept elsewhere (`gdaudit1:…`): truncation and rollback
    /// are reported too.
    #[arg(long)]
    checkpoint: Option<String>,
    /// The vault directory (its key store is read, never written).
    #[arg(long, value_name = "DIR")]
    vault_dir: Option<PathBuf>,
    /// The file holding the vault's 32-byte master key, raw, readable by its owner
    /// only.
    #[arg(long, alias = "master-key", value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    /// Assess the platform store's records instead of a local log: every node's,
    /// verified from the rows (no password in the URL; `--store` alone: the
    /// configuration's `[store]`, which a node with one is assessed on anyway). The
    /// role must be one that may read (`govdata_reader`).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "URL")]
    store: Option<String>,
    #[command(flatten)]
    store_args: crate::store::StoreArgs,
    /// With the store: the sealing key of other nodes' logs (repeat); the `[audit]`
    /// key (or `--audit-key-file`) is used too.
    #[arg(long = "store-key-file", value_name = "FILE")]
    store_key_files: Vec<PathBuf>,
    /// The time of the assessment (YYYY-MM-DD or RFC 3339 UTC; now if omitted). The
    /// same sources and the same time give the same report.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// A verified backup of the audit log is due at least this often (days).
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    backup_days: u32,
    /// Data keys and the master key are rotated at least this often (days).
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    key_rotation_days: u32,
    /// Roles and grants unused for this long are reported (days).
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    unused_days: u32,
    /// A stretch this long without audit records is a gap (days; 0: no check).
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    gap_days: u32,
    /// Write the JSON report to this file (`-`: standard output).
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Write the HTML report to this file.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity: info, low, medium, high,
    /// critical, or none (never).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_fail_on)]
    fail_on: FailOn,
}

/// The severity that fails the run, or none.
#[derive(Debug, Clone, Copy)]
struct FailOn(Option<Severity>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s == "none" {
        return Ok(FailOn(None));
    }
    s.parse::<Severity>()
        .map(|v| FailOn(Some(v)))
        .map_err(|e| format!("{e}, or none"))
}

fn write_file(path: &Path, text: &str) -> govdata::Result<()> {
    std::fs::write(path, text).map_err(|e| govdata::Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}

fn evaluate(args: &Args) -> govdata::Result<Assessment> {
    let mut config = crate::node::layered(
        args.config.as_ref(),
        govdata::platform::Overrides {
            inventory: args.inventory.clone(),
            policies: args.policies.clone(),
            audit_dir: args.audit_dir.clone(),
            audit_key_file: args.audit_key_file.clone(),
            vault_dir: args.vault_dir.clone(),
            master_key_file: args.master_key_file.clone(),
            lock_wait: None,
        },
    )?;
    let (options, checkpoint) = govdata::assess::AssessPeriods {
        now: args.now.clone(),
        checkpoint: args.checkpoint.clone(),
        backup_days: Some(args.backup_days),
        key_rotation_days: Some(args.key_rotation_days),
        unused_days: Some(args.unused_days),
        gap_days: Some(args.gap_days),
    }
    .resolve()?;
    if let Some(url) = &args.store {
        config.store = Some(args.store_args.reading(url, &config)?);
    }
    let store_keys = crate::store::sealing_keys(&args.store_key_files)?;
    config.assess_with_store_keys(&options, checkpoint.as_ref(), store_keys)
}

fn print_summary(out: &mut dyn Write, a: &Assessment, fail_on: FailOn) -> std::io::Result<()> {
    let s = &a.summary;
    writeln!(
        out,
        "assessed at {}: {} findings (critical {}, high {}, medium {}, low {}, info {})",
        a.now,
        s.total,
        s.by_severity.critical,
        s.by_severity.high,
        s.by_severity.medium,
        s.by_severity.low,
        s.by_severity.info
    )?;
    for f in &a.findings {
        writeln!(
            out,
            "  {:<8} {} [{}] {}",
            f.severity.as_str(),
            f.id,
            f.article.zh,
            f.detail.en
        )?;
    }
    match fail_on.0 {
        Some(sev) => writeln!(
            out,
            "{} finding(s) at or above `{sev}`",
            a.findings_at_or_above(sev)
        ),
        None => Ok(()),
    }
}

pub fn run(args: &Args) -> ExitCode {
    let report = match evaluate(args) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    let written = (|| {
        if let Some(path) = &args.json {
            let text = report.to_json_string();
            if json_to_stdout {
                println!("{text}");
            } else {
                write_file(path, &(text + "\n"))?;
            }
        }
        if let Some(path) = &args.html {
            write_file(path, &report.to_html())?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        return fail(&e);
    }
    let printed = if json_to_stdout {
        print_summary(&mut std::io::stderr(), &report, args.fail_on)
    } else {
        print_summary(&mut std::io::stdout(), &report, args.fail_on)
    };
    if let Err(e) = printed {
        return fail(&govdata::Error::Io {
            path: "-".into(),
            source: e,
        });
    }
    match args.fail_on.0 {
        Some(sev) if report.findings_at_or_above(sev) > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
