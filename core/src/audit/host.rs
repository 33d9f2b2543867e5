//! The logs of one host, read together.
//!
//! One process writes a log directory at a time (its lock, see [`crate::lock`]). A
//! host where many worker processes record decisions at once — the workers of a
//! Python ETL job, a Node service in cluster mode — gives each worker a log of its
//! own under one host directory, so that no worker ever waits for another:
//!
//! ```text
//! DIR/worker-1/   a log (audit.meta, segments, govdata.lock), written by worker 1 only
//! DIR/worker-2/   another, written by worker 2 only
//! DIR/cli/        the command line's own log (its calls queue on its lock)
//! ```
//!
//! All of them are sealed by the host's one sealing key. [`HostLogs`] reads them as
//! one log of the host: verification checks every log and reports the first bad
//! record of each by worker; reading merges the records of every log in time order
//! (within a log, in sequence). A directory that is itself a log is a host of one
//! log, so every reader takes either layout. Readers take no lock.

use super::{AuditLog, AuditRecord, Checkpoint, SealingKey, VerifyReport};
use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// One log of a host: the worker's name (its directory's name) and its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLog {
    /// The worker's name: the name of its directory under the host directory (empty
    /// when the host directory is itself the log).
    pub worker: String,
    /// The log's directory.
    pub dir: PathBuf,
}

/// The logs of a host directory: the directory itself when it is a log, otherwise
/// every subdirectory that is one, in name order.
#[derive(Debug, Clone)]
pub struct HostLogs {
    dir: PathBuf,
    logs: Vec<HostLog>,
}

/// What verifying every log of a host found: one report per log, in name order.
#[derive(Debug, Clone)]
pub struct HostVerifyReport {
    /// Each log's worker and its report.
    pub logs: Vec<(String, VerifyReport)>,
}

impl HostVerifyReport {
    /// Records in every log together.
    pub fn records(&self) -> u64 {
        self.logs.iter().map(|(_, r)| r.records).sum()
    }
}

fn is_log(dir: &Path) -> bool {
    dir.join(super::format::META_FILE).is_file()
}

impl HostLogs {
    /// Finds the logs of the host directory `dir`. A directory that is neither a log
    /// nor holds one is an `io` error naming it.
    pub fn discover(dir: impl AsRef<Path>) -> Result<HostLogs> {
        let dir = dir.as_ref().to_path_buf();
        if is_log(&dir) {
            return Ok(HostLogs {
                logs: vec![HostLog {
                    worker: String::new(),
                    dir: dir.clone(),
                }],
                dir,
            });
        }
        let mut logs = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            if path.is_dir() && is_log(&path) {
                logs.push(HostLog {
                    worker: entry.file_name().to_string_lossy().into_owned(),
                    dir: path,
                });
            }
        }
        if logs.is_empty() {
            return Err(Error::io(
                &dir,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "neither an audit log nor a directory of audit logs",
                ),
            ));
        }
        logs.sort_by(|a, b| a.worker.cmp(&b.worker));
        Ok(HostLogs { dir, logs })
    }

    /// The host directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The logs, in name order.
    pub fn logs(&self) -> &[HostLog] {
        &self.logs
    }

    /// Verifies every log (each against `checkpoint` when it is that log's). The first
    /// bad record of any log is `audit_tampered`, naming the worker; a checkpoint that
    /// is no log's of this host is `request_invalid`.
    pub fn verify(
        &self,
        key: &SealingKey,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<HostVerifyReport> {
        let mut logs = Vec::with_capacity(self.logs.len());
        let mut checkpoint_used = checkpoint.is_none();
        for log in &self.logs {
            let own = match checkpoint {
                Some(c) if super::format::Meta::read(&log.dir, key)?.0.log_id == c.log_id => {
                    checkpoint_used = true;
                    Some(c)
                }
                _ => None,
            };
            let report = AuditLog::verify_dir(&log.dir, key, own).map_err(|e| in_log(log, e))?;
            logs.push((log.worker.clone(), report));
        }
        if !checkpoint_used {
            return Err(Error::request(format!(
                "the checkpoint belongs to none of the audit logs in `{}`",
                self.dir.display()
            )));
        }
        Ok(HostVerifyReport { logs })
    }

    /// Reads every record of every log, verifying each, merged in time order (within
    /// one log in sequence order; logs in name order at equal times). The worker of
    /// each record is beside it.
    pub fn records(&self, key: &SealingKey) -> Result<Vec<(String, AuditRecord)>> {
        let mut all: Vec<(usize, AuditRecord)> = Vec::new();
        for (i, log) in self.logs.iter().enumerate() {
            AuditLog::read_dir(&log.dir, key, |r| {
                all.push((i, r));
                Ok(())
            })
            .map_err(|e| in_log(log, e))?;
        }
        // Stable: a log's own records keep their sequence order.
        all.sort_by(|(a, ra), (b, rb)| ra.time.cmp(&rb.time).then(a.cmp(b)));
        Ok(all
            .into_iter()
            .map(|(i, r)| (self.logs[i].worker.clone(), r))
            .collect())
    }
}

/// Names the worker in an error about one of a host's logs.
pub(crate) fn in_log(log: &HostLog, e: Error) -> Error {
    if log.worker.is_empty() {
        return e;
    }
    match e {
        Error::AuditTampered { seq, message } => Error::AuditTampered {
            seq,
            message: format!("in the log of worker `{}`: {message}", log.worker),
        },
        other => other,
    }
}
