//! What the audit log gives the assessment: its records, whether it verifies, and
//! whether its latest backup still does.

use crate::audit::{
    AuditLog, AuditRecord, Checkpoint, HostLogs, SealingKey, Timestamp, VerifyReport,
};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The kind of record a backup of the log leaves in it.
pub(crate) const BACKUP_KIND: &str = "audit.backup";
/// The kind of record a purge of the log leaves in it.
pub(crate) const PURGE_KIND: &str = "audit.purge";

/// Whether the log verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// Every record, link and seal checked (and the checkpoint, if one was given).
    Intact(VerifyReport),
    /// Verification stopped at a bad record: the records after it were not read.
    Broken {
        /// The sequence number of the first bad record.
        seq: u64,
        /// What is wrong with it.
        message: String,
    },
}

/// How the latest backup of the log fared when verified again now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupState {
    /// It verifies as a complete log of sealed segments.
    Verified,
    /// It does not verify.
    Failed {
        /// Why.
        message: String,
    },
    /// It is not where the log says it was written (another machine, removed media):
    /// only the record of the backup, made after the backup verified, vouches for it.
    Unreachable,
    /// Not checked again (the evidence did not come with the sealing key).
    NotChecked,
}

/// The latest backup the log records (`audit.backup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCheck {
    /// The sequence number of the record of the backup.
    pub seq: u64,
    /// When it was made.
    pub time: Timestamp,
    /// Where it was written.
    pub dest: String,
    /// How it fares now.
    pub state: BackupState,
}

/// The audit log as the assessment sees it.
#[derive(Debug, Clone)]
pub struct AuditEvidence {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) records: Vec<AuditRecord>,
    pub(crate) integrity: Integrity,
    pub(crate) checkpoint: Option<u64>,
    pub(crate) backup: Option<BackupCheck>,
    /// Where each record comes from (a worker's log, a node of the platform store),
    /// beside `records`, when they come from several logs whose sequence numbers
    /// are each their own; empty for one log.
    pub(crate) origins: Vec<String>,
    /// The platform store the records were read from, when they were.
    pub(crate) store: Option<String>,
}

/// Tampering is evidence; every other error (no log there, a wrong key, a checkpoint
/// of another log) is the caller's.
fn integrity(result: Result<VerifyReport>) -> Result<Integrity> {
    match result {
        Ok(report) => Ok(Integrity::Intact(report)),
        Err(Error::AuditTampered { seq, message }) => Ok(Integrity::Broken { seq, message }),
        Err(e) => Err(e),
    }
}

fn latest_backup(records: &[AuditRecord]) -> Option<BackupCheck> {
    let r = records.iter().rev().find(|r| r.event.kind == BACKUP_KIND)?;
    Some(BackupCheck {
        seq: r.seq,
        time: r.time,
        dest: r
            .event
            .fields
            .get("dest")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        state: BackupState::NotChecked,
    })
}

/// The records of every log of a host in time order and their integrity together:
/// the first broken log's, or one report adding up every log's.
fn read_host(
    host: &HostLogs,
    key: &SealingKey,
    checkpoint: Option<&Checkpoint>,
) -> Result<(Vec<(String, AuditRecord)>, Integrity)> {
    let verified = match host.verify(key, checkpoint) {
        Ok(v) => v,
        Err(Error::AuditTampered { seq, message }) => {
            // The records of the intact logs are still evidence; a broken log's
            // records are not read.
            let mut records = Vec::new();
            for log in host.logs() {
                let _ = AuditLog::read_dir(&log.dir, key, |r| {
                    records.push((log.worker.clone(), r));
                    Ok(())
                });
            }
            records.sort_by_key(|(_, r)| r.time);
            return Ok((records, Integrity::Broken { seq, message }));
        }
        Err(e) => return Err(e),
    };
    let records = host.records(key)?;
    let mut total = VerifyReport {
        records: 0,
        first_seq: None,
        last_seq: None,
        segments: 0,
        sealed_segments: 0,
        torn_tail: None,
        head: None,
        purged_through: None,
    };
    for (_, r) in verified.logs {
        total.records += r.records;
        total.segments += r.segments;
        total.sealed_segments += r.sealed_segments;
        total.first_seq = total.first_seq.or(r.first_seq);
        total.last_seq = r.last_seq.or(total.last_seq);
        total.torn_tail = total.torn_tail.or(r.torn_tail);
        total.purged_through = total.purged_through.or(r.purged_through);
    }
    Ok((records, Integrity::Intact(total)))
}

impl AuditEvidence {
    /// Reads and verifies the log in `dir` without opening it for writing (safe beside
    /// a running writer), against `checkpoint` if given, and verifies its latest
    /// backup again. `dir` may also be a host directory holding one log per worker
    /// process ([`HostLogs`]): every log is read and verified, and the records merged
    /// in time order.
    ///
    /// A log that fails verification is not an error but evidence
    /// ([`Integrity::Broken`], reported as `audit_chain_broken`): the records before
    /// the bad one are kept. A missing log, a wrong key or a checkpoint of another log
    /// is an error.
    pub fn read_dir(
        dir: impl AsRef<Path>,
        key: &SealingKey,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Self> {
        let dir = dir.as_ref();
        let host = HostLogs::discover(dir)?;
        let (records, integrity, origins) = if let [log] = host.logs() {
            let mut records = Vec::new();
            // Reading verifies every record; a checkpoint needs a verification of its own.
            let read = integrity(AuditLog::read_dir(&log.dir, key, |r| {
                records.push(r);
                Ok(())
            }))?;
            let integrity = match (checkpoint, read) {
                (Some(c), Integrity::Intact(_)) => {
                    integrity(AuditLog::verify_dir(&log.dir, key, Some(c)))?
                }
                (_, read) => read,
            };
            (records, integrity, Vec::new())
        } else {
            let (sourced, integrity) = read_host(&host, key, checkpoint)?;
            let (origins, records) = sourced.into_iter().unzip();
            (records, integrity, origins)
        };
        let mut backup = latest_backup(&records);
        if let Some(b) = backup.as_mut() {
            let dest = Path::new(&b.dest);
            b.state = if b.dest.is_empty() || !dest.exists() {
                BackupState::Unreachable
            } else {
                match AuditLog::verify_dir(dest, key, None) {
                    Ok(r) if r.torn_tail.is_none() && r.sealed_segments == r.segments => {
                        BackupState::Verified
                    }
                    Ok(_) => BackupState::Failed {
                        message: "the backup holds a segment that is not sealed".into(),
                    },
                    Err(e) => BackupState::Failed {
                        message: format!("[{}] {e}", e.code()),
                    },
                }
            };
        }
        Ok(AuditEvidence {
            dir: Some(dir.to_path_buf()),
            records,
            integrity,
            checkpoint: checkpoint.map(Checkpoint::seq),
            backup,
            origins,
            store: None,
        })
    }

    /// The evidence of a log this process holds open: verified (against `checkpoint`
    /// if given) and read. Its latest backup is not verified again (that needs the
    /// sealing key): the record of the backup, made after the backup verified, stands.
    pub fn from_log(log: &AuditLog, checkpoint: Option<&Checkpoint>) -> Result<Self> {
        let mut records = Vec::new();
        let read = integrity(log.for_each_record(|r| {
            records.push(r);
            Ok(())
        }))?;
        let integrity = match (checkpoint, read) {
            (Some(c), Integrity::Intact(_)) => integrity(log.verify_with(c))?,
            (_, read) => read,
        };
        let backup = latest_backup(&records);
        Ok(AuditEvidence {
            dir: Some(log.dir().to_path_buf()),
            records,
            integrity,
            checkpoint: checkpoint.map(Checkpoint::seq),
            backup,
            origins: Vec::new(),
            store: None,
        })
    }

    /// Evidence from records read elsewhere, with the outcome of their verification.
    pub fn from_records(records: Vec<AuditRecord>, integrity: Integrity) -> Self {
        let backup = latest_backup(&records);
        AuditEvidence {
            dir: None,
            records,
            integrity,
            checkpoint: None,
            backup,
            origins: Vec::new(),
            store: None,
        }
    }

    /// Evidence from the records of several logs, each beside the log it comes from
    /// (a node of the platform store, a worker), merged in time order, with the
    /// outcome of their verification: sequence numbers are compared within a log
    /// only.
    pub fn from_sources(records: Vec<(String, AuditRecord)>, integrity: Integrity) -> Self {
        let (origins, records): (Vec<String>, Vec<AuditRecord>) = records.into_iter().unzip();
        AuditEvidence {
            origins,
            ..AuditEvidence::from_records(records, integrity)
        }
    }

    /// The same evidence, read from the platform store `store` (its hosts).
    pub fn in_store(mut self, store: impl Into<String>) -> Self {
        self.store = Some(store.into());
        self
    }

    /// The platform store the records were read from, when they were.
    pub fn store(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// Where the record at `index` of [`AuditEvidence::records`] comes from, when the
    /// records come from several logs.
    pub fn origin(&self, index: usize) -> Option<&str> {
        self.origins.get(index).map(String::as_str)
    }

    /// The records read, in order.
    pub fn records(&self) -> &[AuditRecord] {
        &self.records
    }

    /// Whether the log verified.
    pub fn integrity(&self) -> &Integrity {
        &self.integrity
    }

    /// The latest backup the log records, and how it fares now.
    pub fn backup(&self) -> Option<&BackupCheck> {
        self.backup.as_ref()
    }

    /// The directory of the log, when read from one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}
