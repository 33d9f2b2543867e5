//! `govdata audit verify|query|backup|restore|purge|tail`.
//!
//! Exit status: 0 success; 1 tampering found (`audit_tampered`), or a `view_audit`
//! denial for `query`; 2 any other error. Commands that write to the log (`query`
//! records the viewing decision, `backup`, `purge`, `restore`) open it for writing:
//! they wait for a service that holds the log open (`store_locked` after
//! `GOVDATA_LOCK_WAIT` seconds). `verify`, `query` and `tail` also take a host
//! directory that holds one log per worker process (`DIR/<worker>/`): they read
//! every log as one; `query` records its viewing decision in `DIR/cli/`.

use crate::decide::load_pack;
use crate::output::fail;
use clap::{Args, Subcommand};
use govdata::audit::{
    AuditLog, AuditQuery, AuditRecord, Checkpoint, Date, HostLogs, SealingKey, Timestamp,
    VerifyReport,
};
use govdata::{Action, Engine, Inventory};
use std::collections::{HashMap, VecDeque};

/// The command line's own log in a host directory of workers' logs.
const CLI_WORKER: &str = "cli";
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
        /// The log directory (not with `--store`).
        #[arg(required_unless_present = "store")]
        dir: Option<PathBuf>,
        /// The file holding a 32-byte sealing key, raw (repeat for a store's nodes).
        #[arg(long = "key-file", required = true)]
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
    /// JSON lines.
    Query(Box<QueryArgs>),
    /// Copy the sealed segments to DEST, verify the copy and record the backup.
    Backup {
        /// The log directory.
        dir: PathBuf,
        /// The backup directory (created if absent).
        dest: PathBuf,
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
        /// The log directory.
        dir: PathBuf,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Remove sealed, backed-up segments older than a date at least six calendar
    /// months ago (`audit_retention` otherwise); the purge is recorded.
    Purge {
        /// The log directory.
        dir: PathBuf,
        #[command(flatten)]
        key: KeyArg,
        /// Remove segments whose records are all before this date (YYYY-MM-DD, UTC).
        #[arg(long)]
        before: String,
    },
    /// Print the last records as JSON lines (read-only; safe beside a running writer).
    Tail {
        /// The log directory.
        dir: PathBuf,
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

/// The sealing key file.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The file holding the 32-byte sealing key, raw.
    #[arg(long = "key-file")]
    key_file: PathBuf,
}

impl KeyArg {
    fn load(&self) -> govdata::Result<SealingKey> {
        SealingKey::from_file(&self.key_file)
    }
}

/// Arguments of `govdata audit query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The log directory.
    dir: PathBuf,
    #[command(flatten)]
    key: KeyArg,
    /// The user who views the log (the principal of the `view_audit` decision).
    #[arg(long = "as")]
    viewer: String,
    /// The inventory JSON file.
    #[arg(long)]
    inventory: PathBuf,
    /// Policy directories (the default pack if omitted).
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
    let keys = key_files
        .iter()
        .map(SealingKey::from_file)
        .collect::<govdata::Result<Vec<_>>>()?;
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

fn open(dir: &PathBuf, key: &KeyArg) -> govdata::Result<AuditLog> {
    let log = AuditLog::open(dir, key.load()?, crate::stores::audit_options()?)?;
    if let Some(r) = log.recovery() {
        eprintln!(
            "recovered: cut a torn tail of {} bytes in segment {} (record {} was never completed); kept at {}",
            r.bytes_cut,
            r.torn.segment,
            r.torn.first_lost_seq,
            r.kept_at.display()
        );
    }
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
            key_files,
            checkpoint,
            ..
        } => (|| {
            let [key_file] = &key_files[..] else {
                return Err(govdata::Error::RequestInvalid {
                    message: "verifying a log directory takes one `--key-file`".into(),
                });
            };
            let key = KeyArg {
                key_file: key_file.clone(),
            };
            let Some(dir) = dir else {
                return Err(govdata::Error::RequestInvalid {
                    message: "name the log directory, or a store with `--store`".into(),
                });
            };
            let cp = checkpoint
                .as_deref()
                .map(str::parse::<Checkpoint>)
                .transpose()?;
            let host = HostLogs::discover(dir)?;
            let report = host.verify(&key.load()?, cp.as_ref())?;
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
        AuditCommand::Backup {
            dir,
            dest,
            key,
            seal,
        } => (|| {
            let log = open(dir, key)?;
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
            let r = AuditLog::restore(backup, dir, key.load()?, crate::stores::audit_options()?)?;
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
            let log = open(dir, key)?;
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
        } => tail(dir, key, *lines, *follow),
    };
    match result {
        Ok(code) => code,
        Err(e) => finish(&e),
    }
}

fn query(q: &QueryArgs) -> govdata::Result<ExitCode> {
    let engine = Engine::new(load_pack(&q.policies)?, Inventory::from_file(&q.inventory)?);
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
    let host = HostLogs::discover(&q.dir)?;
    let view = match host.logs() {
        [only] if only.worker.is_empty() => {
            open(&q.dir, &q.key)?.view(&engine, &q.viewer, &query)?
        }
        _ => {
            // A host directory: the viewing decision goes to the command line's own
            // log beside the workers' logs.
            let log = open(&q.dir.join(CLI_WORKER), &q.key)?;
            log.view_host(&engine, &q.viewer, &query, &host, &q.key.load()?)?
        }
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

fn tail(dir: &PathBuf, key: &KeyArg, lines: usize, follow: bool) -> govdata::Result<ExitCode> {
    let key = key.load()?;
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
