//! `govdata audit verify|query|backup|restore|purge|tail` (and `watch`, in
//! `crate::store`).
//!
//! Every command finds the log and its sealing key in the `[audit]` section of the
//! node's configuration (`--config`, or the file `GOVDATA_CONFIG` names), the log
//! directory and `--key-file` overriding it; `query` views the log as a decision of
//! the node's engine (its inventory and policies, `--inventory` and `--policies`
//! overriding them).
//!
//! Exit status: 0 success; 1 tampering found (`audit_tampered`), or a `view_audit`
//! denial for `query`; 2 any other error. Commands that write to the log (`query`
//! records the viewing decision, `backup`, `purge`, `restore`) open it for writing:
//! they wait for a service that holds the log open (`store_locked` after
//! `GOVDATA_LOCK_WAIT` seconds). `verify`, `query` and `tail` also take a host
//! directory that holds one log per worker process (`DIR/<worker>/`): they read
//! every log as one; `query` records its viewing decision in `DIR/cli/`. `verify
//! --store` and `query --store` read the platform store's rows instead, each checked
//! under its node's sealing key.

use crate::output::fail;
use clap::{Args, Subcommand};
use govdata::audit::{
    AuditLog, AuditQuery, AuditRecord, Checkpoint, Date, HostLogs, Timestamp, VerifyReport,
};
use govdata::platform::{AuditConfig, Overrides, PlatformConfig};
use govdata::store::StoreConnector;
use govdata::{Action, Platform};
use std::collections::{HashMap, VecDeque};

/// The command line's own log in a host directory of workers' logs.
const CLI_WORKER: &str = "cli";

/// What a command without a log says.
const NO_LOG: &str = "name the log's directory and `--key-file`, or a configuration (`--config`, GOVDATA_CONFIG) with an [audit] section";
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record, link and seal: exit 0 intact, 1 tampering (first bad record
    /// and what is wrong), 2 other errors.
    ///
    /// With `--store URL`, the platform store instead: every node's chain, record MACs,
    /// seals and continuity re-checked from the rows with the sealing keys given (one
    /// `--key-file` per key; each node's is found by its key check value), and per
    /// node the first bad record.
    Verify {
        /// The log directory (the configuration's if omitted; not with `--store`).
        dir: Option<PathBuf>,
        /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
        /// set): its `[audit]` section names the log and its key.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The file holding a 32-byte sealing key, raw, readable by its owner only
        /// (repeat for a store's nodes).
        #[arg(long = "key-file", value_name = "FILE")]
        key_files: Vec<PathBuf>,
        /// A checkpoint kept elsewhere (`gdaudit1:…`): also detect truncation and rollback.
        #[arg(long)]
        checkpoint: Option<String>,
        /// Verify the platform store at this URL (no password in it).
        #[arg(long, conflicts_with = "dir")]
        store: Option<String>,
        #[command(flatten)]
        store_args: crate::store::StoreArgs,
    },
    /// Show the records a user may see (a `view_audit` decision, itself recorded), as
    /// JSON lines; with `--store`, every node's records in the platform store.
    Query(Box<QueryArgs>),
    /// Follow the platform store: every node's new records as they arrive, and the
    /// alerts they raise (each recorded in this node's log), as JSON lines.
    Watch(Box<crate::store::WatchArgs>),
    /// Copy the sealed segments to DEST, verify the copy and record the backup.
    Backup {
        /// `[DIR] DEST`: the log directory (the configuration's if omitted), then the
        /// backup directory (created if absent).
        #[arg(value_name = "DIR", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        key: KeyArg,
        /// Seal the open segment first, so that every record so far is backed up.
        #[arg(long)]
        seal: bool,
    },
    /// Bring segments back from a backup (missing, purged or damaged ones).
    Restore {
        /// The backup directory.
        backup: PathBuf,
        /// The log directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Remove sealed, backed-up segments older than a date at least six calendar
    /// months ago (`audit_retention` otherwise); the purge is recorded.
    Purge {
        /// The log directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArg,
        /// Remove segments whose records are all before this date (YYYY-MM-DD, UTC).
        #[arg(long)]
        before: String,
    },
    /// Print the last records as JSON lines (read-only; safe beside a running writer).
    Tail {
        /// The log directory (the configuration's if omitted).
        dir: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArg,
        /// How many records.
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: usize,
        /// Keep printing new records as they are appended.
        #[arg(short, long)]
        follow: bool,
    },
}

/// Where the log and its sealing key are: the configuration's `[audit]` section and
/// the flags over it.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
    /// set): its `[audit]` section names the log and its key.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The file holding the 32-byte sealing key, raw, readable by its owner only.
    #[arg(long = "key-file", value_name = "FILE")]
    key_file: Option<PathBuf>,
}

impl KeyArg {
    /// The configuration file's node, its `[audit]` section the log in `dir` (or the
    /// file's) sealed with `--key-file` (or the file's key).
    fn node(&self, dir: Option<&PathBuf>) -> govdata::Result<PlatformConfig> {
        self.node_with(dir, Overrides::default())
    }

    /// [`KeyArg::node`] with `overrides` (an inventory, policies) over it too.
    fn node_with(
        &self,
        dir: Option<&PathBuf>,
        overrides: Overrides,
    ) -> govdata::Result<PlatformConfig> {
        crate::node::layered(
            self.config.as_ref(),
            Overrides {
                audit_dir: dir.cloned(),
                audit_key_file: self.key_file.clone(),
                ..overrides
            },
        )
    }

    /// The log's section.
    fn section(&self, dir: Option<&PathBuf>) -> govdata::Result<AuditConfig> {
        self.node(dir)?
            .audit
            .ok_or_else(|| govdata::Error::RequestInvalid {
                message: NO_LOG.to_owned(),
            })
    }
}

/// Arguments of `govdata audit query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The log directory (the configuration's if omitted).
    dir: Option<PathBuf>,
    #[command(flatten)]
    key: KeyArg,
    /// The user who views the log (the principal of the `view_audit` decision).
    #[arg(long = "as")]
    viewer: String,
    /// The inventory JSON file (the configuration's, or the example city, if omitted).
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Policy directories (the configuration's, or the default pack, if omitted).
    #[arg(long = "policies")]
    policies: Vec<PathBuf>,
    /// Records of this department's staff (and its sub-departments').
    #[arg(long)]
    department: Option<String>,
    /// Records of this user.
    #[arg(long)]
    user: Option<String>,
    /// Records of this action.
    #[arg(long)]
    action: Option<String>,
    /// Records about this dataset.
    #[arg(long)]
    dataset: Option<String>,
    /// `allow` or `deny`.
    #[arg(long)]
    decision: Option<String>,
    /// Records of this kind (`decision`, `audit.purge` …).
    #[arg(long)]
    kind: Option<String>,
    /// From this time (YYYY-MM-DD or RFC 3339 UTC).
    #[arg(long)]
    since: Option<String>,
    /// Before this time.
    #[arg(long)]
    until: Option<String>,
    /// At most this many (the latest).
    #[arg(long)]
    limit: Option<usize>,
    /// Query the platform store instead: every node's records, each checked under its
    /// node's sealing key (no password in the URL; `--store` alone: the
    /// configuration's `[store]` section). The viewing decision is recorded in this
    /// node's log as for a local query.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "URL")]
    store: Option<String>,
    #[command(flatten)]
    store_args: crate::store::StoreArgs,
    /// With `--store`: the sealing key of other nodes' logs (repeat); this node's own
    /// key is used too.
    #[arg(long = "store-key-file", value_name = "FILE", requires = "store")]
    store_key_files: Vec<PathBuf>,
    /// With `--store`: this node's records only (repeat for more).
    #[arg(long = "node", value_name = "NODE_ID", requires = "store")]
    nodes: Vec<String>,
}

fn finish(err: &govdata::Error) -> ExitCode {
    let code = fail(err);
    if err.code() == "audit_tampered" {
        ExitCode::from(1)
    } else {
        code
    }
}

/// `audit verify --store`: exit 0 clean, 1 a bad record in some node, 2 an error.
fn verify_store(
    url: &str,
    key_files: &[PathBuf],
    store: &crate::store::StoreArgs,
) -> govdata::Result<ExitCode> {
    let keys = crate::store::sealing_keys(key_files)?;
    let mut client = store.connector(url)?.connect()?;
    let report = govdata::store::verify_store(&mut client, &keys)?;
    for n in &report.nodes {
        match &n.first_bad {
            None => println!(
                "{}: ok: {} records ({}..={}), {} seals",
                n.node_id,
                n.records,
                n.first_seq.unwrap_or(0),
                n.last_seq.unwrap_or(0),
                n.seals
            ),
            Some(b) => println!("{}: TAMPERED at record {}: {}", n.node_id, b.seq, b.message),
        }
    }
    for u in &report.unknown_nodes {
        println!("{u}: TAMPERED: rows of a node the store has no registration for (inserted)");
    }
    if report.is_clean() {
        println!("ok: {} nodes", report.nodes.len());
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

fn print_report(r: &VerifyReport) {
    let range = match (r.first_seq, r.last_seq) {
        (Some(a), Some(b)) => format!("records {a}..={b}"),
        _ => "no records".into(),
    };
    println!(
        "ok: {} records ({range}) in {} segments, {} sealed",
        r.records, r.segments, r.sealed_segments
    );
    if let Some(p) = r.purged_through {
        println!("purged: records 1..={p} (recorded purges)");
    }
    if let Some(t) = &r.torn_tail {
        println!(
            "torn tail: segment {} from byte {} ({}), record {} was never completed; opening the log cuts it",
            t.segment, t.offset, t.reason, t.first_lost_seq
        );
    }
    if let Some(c) = &r.head {
        println!("checkpoint: {c}");
    }
}

fn print_record(r: &AuditRecord) {
    println!("{}", r.to_json());
}

fn report_recovery(log: &AuditLog) {
    if let Some(r) = log.recovery() {
        eprintln!(
            "recovered: cut a torn tail of {} bytes in segment {} (record {} was never completed); kept at {}",
            r.bytes_cut,
            r.torn.segment,
            r.torn.first_lost_seq,
            r.kept_at.display()
        );
    }
}

fn open(section: &AuditConfig) -> govdata::Result<AuditLog> {
    let log = section.open()?;
    report_recovery(&log);
    Ok(log)
}

pub fn run(cmd: &AuditCommand) -> ExitCode {
    let result = match cmd {
        AuditCommand::Verify {
            store: Some(url),
            key_files,
            store_args,
            ..
        } => verify_store(url, key_files, store_args),
        AuditCommand::Verify {
            dir,
            config,
            key_files,
            checkpoint,
            ..
        } => (|| {
            let key = match &key_files[..] {
                [] | [_] => KeyArg {
                    config: config.clone(),
                    key_file: key_files.first().cloned(),
                },
                _ => {
                    return Err(govdata::Error::RequestInvalid {
                        message: "verifying a log directory takes one `--key-file`".into(),
                    })
                }
            };
            let cp = checkpoint
                .as_deref()
                .map(str::parse::<Checkpoint>)
                .transpose()?;
            let a = key.section(dir.as_ref())?;
            let key = a.key.sealing_key()?;
            let host = HostLogs::discover(&a.dir)?;
            let report = host.verify(&key, cp.as_ref())?;
            if let [(worker, r)] = &report.logs[..] {
                if worker.is_empty() {
                    print_report(r);
                    return Ok(ExitCode::SUCCESS);
                }
            }
            for (worker, r) in &report.logs {
                print!("{worker}: ");
                print_report(r);
            }
            println!(
                "ok: {} logs, {} records in all",
                report.logs.len(),
                report.records()
            );
            Ok(ExitCode::SUCCESS)
        })(),
        AuditCommand::Query(q) => query(q),
        AuditCommand::Watch(w) => return crate::store::watch(w),
        AuditCommand::Backup { paths, key, seal } => (|| {
            let (dir, dest) = match &paths[..] {
                [dest] => (None, dest),
                [dir, dest] => (Some(dir), dest),
                _ => {
                    return Err(govdata::Error::RequestInvalid {
                        message: "give `[DIR] DEST`: the log directory (the configuration's if omitted) and the backup directory".to_owned(),
                    })
                }
            };
            let log = open(&key.section(dir)?)?;
            if *seal {
                log.seal()?;
            }
            let r = log.backup(dest)?;
            println!(
                "backed up to {}: {} segments copied, {} already there; the copy verifies ({} records)",
                r.dest.display(),
                r.copied.len(),
                r.already_present.len(),
                r.verified.records
            );
            Ok(ExitCode::SUCCESS)
        })(),
        AuditCommand::Restore { backup, dir, key } => (|| {
            let a = key.section(dir.as_ref())?;
            let r = AuditLog::restore(backup, &a.dir, a.key.sealing_key()?, a.options())?;
            println!(
                "restored {} segments; the log verifies ({} records); recorded as record {}",
                r.restored.len(),
                r.verified.records,
                r.event_seq
            );
            Ok(ExitCode::SUCCESS)
        })(),
        AuditCommand::Purge { dir, key, before } => (|| {
            let before = Date::parse(before)?;
            let log = open(&key.section(dir.as_ref())?)?;
            let r = log.purge(before)?;
            match (r.segments.first(), r.segments.last(), r.through_seq) {
                (Some(a), Some(b), Some(s)) => println!(
                    "purged segments {a}..={b} (records through {s}); recorded as record {}",
                    r.event_seq.unwrap_or(0)
                ),
                _ => println!("nothing to purge before {before}"),
            }
            Ok(ExitCode::SUCCESS)
        })(),
        AuditCommand::Tail {
            dir,
            key,
            lines,
            follow,
        } => tail(dir.as_ref(), key, *lines, *follow),
    };
    match result {
        Ok(code) => code,
        Err(e) => finish(&e),
    }
}

fn query(q: &QueryArgs) -> govdata::Result<ExitCode> {
    let mut config = q.key.node_with(
        q.dir.as_ref(),
        Overrides {
            inventory: q.inventory.clone(),
            policies: q.policies.clone(),
            ..Overrides::default()
        },
    )?;
    // The log is all the viewing needs of the node.
    config.vault = None;
    let Some(section) = config.audit.as_mut() else {
        return Err(govdata::Error::RequestInvalid {
            message: NO_LOG.to_owned(),
        });
    };
    let dir = section.dir.clone();
    // A store's viewer may have no log yet: its node makes one for the decision.
    let host = if q.store.is_some() && !dir.exists() {
        None
    } else {
        Some(HostLogs::discover(&dir)?)
    };
    let single = host
        .as_ref()
        .is_none_or(|h| matches!(h.logs(), [only] if only.worker.is_empty()));
    if !single {
        // A host directory: the viewing decision goes to the command line's own
        // log beside the workers' logs.
        section.dir = dir.join(CLI_WORKER);
    }
    let key = section.key.sealing_key()?;
    let store = match &q.store {
        Some(url) => Some(q.store_args.reading(url, &config)?),
        None => None,
    };
    let node = Platform::from_config(config)?;
    let Some(log) = node.audit_log() else {
        return Err(govdata::Error::RequestInvalid {
            message: NO_LOG.to_owned(),
        });
    };
    report_recovery(log);
    let engine = node.engine();
    let parse_time = |t: &Option<String>| t.as_deref().map(Timestamp::parse).transpose();
    let query = AuditQuery {
        department: q.department.clone(),
        user: q.user.clone(),
        action: q
            .action
            .as_deref()
            .map(|a| {
                a.parse::<Action>()
                    .map_err(|message| govdata::Error::RequestInvalid { message })
            })
            .transpose()?,
        dataset: q.dataset.clone(),
        decision: q.decision.as_deref().map(str::parse).transpose()?,
        kind: q.kind.clone(),
        since: parse_time(&q.since)?,
        until: parse_time(&q.until)?,
        limit: q.limit,
    };
    if let Some(section) = store {
        let mut keys = crate::store::sealing_keys(&q.store_key_files)?;
        keys.push(key);
        let mut client = StoreConnector::from_section(&section)?.connect()?;
        let view = log.view_store(engine, &q.viewer, &query, &q.nodes, &mut client, &keys)?;
        if !view.decision.allowed() {
            eprintln!("{}", view.decision.to_json_string());
            return Ok(ExitCode::from(1));
        }
        for r in &view.records {
            println!("{}", r.to_json());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let view = match &host {
        Some(host) if !single => log.view_host(engine, &q.viewer, &query, host, &key)?,
        _ => log.view(engine, &q.viewer, &query)?,
    };
    if !view.decision.allowed() {
        eprintln!("{}", view.decision.to_json_string());
        return Ok(ExitCode::from(1));
    }
    for r in &view.records {
        print_record(r);
    }
    Ok(ExitCode::SUCCESS)
}

fn tail(
    dir: Option<&PathBuf>,
    key: &KeyArg,
    lines: usize,
    follow: bool,
) -> govdata::Result<ExitCode> {
    let a = key.section(dir)?;
    let (dir, key) = (&a.dir, a.key.sealing_key()?);
    let host = HostLogs::discover(dir)?;
    let mut last = VecDeque::with_capacity(lines + 1);
    // The last sequence number printed, per worker's log.
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (worker, r) in host.records(&key)? {
        seen.insert(worker, r.seq);
        last.push_back(r);
        if last.len() > lines {
            last.pop_front();
        }
    }
    for r in &last {
        print_record(r);
    }
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        std::thread::sleep(Duration::from_millis(500));
        // Workers that began since are found too.
        for (worker, r) in HostLogs::discover(dir)?.records(&key)? {
            let last = seen.entry(worker).or_insert(0);
            if r.seq > *last {
                *last = r.seq;
                print_record(&r);
            }
        }
    }
}
