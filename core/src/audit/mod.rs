//! The tamper-evident audit log (Art. 3(5), 8, 15, 18, 19; 等保 GB/T 22239 audit
//! clauses; the Cybersecurity Law's six-month retention).
//!
//! It owns the log's files and their guarantees: append-only segments of framed
//! records, each chained to the one before by a hash and authenticated by a keyed MAC
//! under the host's [`SealingKey`]; segments that roll at a size (or age) limit and are
//! sealed when they close (MAC over the chain head and an RFC 6962 Merkle root);
//! durability by [`SyncMode`]; crash recovery of a torn tail; [`AuditLog::verify`]
//! finding the first bad record; [`Checkpoint`]s that expose truncation and rollback;
//! retention ([`AuditLog::purge`] refuses anything younger than six calendar months),
//! backup and restore; queries, and viewing as a Cedar `view_audit` decision.
//!
//! It must not skip, repair or rewrite a record: the only bytes it ever removes are a
//! torn tail of the last segment at open (kept aside under `torn/` and reported), whole
//! sealed segments that a verified backup holds and that are past retention, and the
//! zero padding it wrote itself ahead of the records (see `pad`). It never stores the
//! sealing key. It decides nothing itself: whether a viewer may see records is the
//! engine's `view_audit` decision.
//!
//! ```
//! use govdata::audit::{AuditLog, AuditOptions, Event, SealingKey};
//! # let dir = std::env::temp_dir().join(format!("govdata-audit-doc-{}", std::process::id()));
//! let log = AuditLog::open(&dir, SealingKey::from_bytes([7; 32]), AuditOptions::default())?;
//! let seq = log.append(&Event::new("sharing.submitted").user("wang.wu").field("request", "shr-1"))?;
//! let checkpoint = log.checkpoint();
//! let report = log.verify_with(&checkpoint)?;
//! assert_eq!(report.last_seq, Some(seq));
//! # drop(log); std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), govdata::Error>(())
//! ```
//!
//! One process writes a log directory at a time, and the operating system enforces
//! it: [`AuditLog::open`] takes the directory's advisory lock (a second writer waits,
//! then fails with `store_locked`; a crash releases it). Readers (`verify_dir`,
//! `read_dir`, the host views of [`host`]) never take it and may run beside the
//! writer. A host whose worker processes all record decisions gives each worker a
//! log directory of its own under one host directory (`DIR/<worker-id>`), which the
//! host views read together.

mod checkpoint;
mod crypto;
mod format;
pub mod host;
mod merkle;
mod options;
mod pad;
mod query;
mod record;
mod recovery;
mod report;
mod retention;
mod scan;
mod writer;

/// Time lives at the crate root ([`crate::time`]); kept here for the paths that name it
/// under the log.
pub use crate::time::{Date, Timestamp};
pub use checkpoint::Checkpoint;
pub use crypto::{HashSuite, SealingKey};
pub use host::{HostLog, HostLogs, HostVerifyReport};
pub use options::{AuditOptions, Clock, RecordScope, SyncMode};
pub use query::{AuditQuery, AuditView};
pub use record::{
    AuditRecord, Event, Outcome, Verdict, DECISION_KIND, RETAINED_KIND, RETAIN_FIELD,
};
pub use recovery::{RecoveryReport, TornTail};
pub use retention::{
    BackupReport, InclusionProof, ProofSeal, PurgeReport, RestoreReport, RETENTION_MONTHS,
};

use crate::engine::{Decision, DecisionSink, Request};
use crate::error::{Error, Result};
use crate::lock::StoreLock;
use crate::model::{Action, Inventory};
use checkpoint::{against_stored, stored_head};
use crypto::Mac32;
use format::{Meta, MAX_PAYLOAD};
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Condvar, Mutex, MutexGuard};
use writer::Writer;

/// What `verify` found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records checked.
    pub records: u64,
    /// The first sequence number present (after purges).
    pub first_seq: Option<u64>,
    /// The last sequence number present.
    pub last_seq: Option<u64>,
    /// Segments present.
    pub segments: usize,
    /// Of which sealed.
    pub sealed_segments: usize,
    /// A torn tail not yet recovered (a log read while being written, or after a
    /// crash before it was reopened). Without a checkpoint a torn tail cannot be told
    /// from a cut one; with one, cutting checkpointed records is tampering.
    pub torn_tail: Option<TornTail>,
    /// The checkpoint of the verified head.
    pub head: Option<Checkpoint>,
    /// The last purged sequence number, if any were purged.
    pub purged_through: Option<u64>,
}

/// The tamper-evident audit log. `Send + Sync`: share it behind an `Arc`, and attach
/// it to an engine with `engine.set_decision_sink(Some(log.clone()))`.
pub struct AuditLog {
    dir: PathBuf,
    suite: HashSuite,
    log_id: [u8; 16],
    meta: Mutex<Meta>,
    mac: Mac32,
    options: AuditOptions,
    w: Mutex<Writer>,
    cond: Condvar,
    in_flight: AtomicUsize,
    maintenance: Mutex<()>,
    recovery: Option<RecoveryReport>,
    /// This process's hold on the directory; let go at close.
    lock: Mutex<Option<StoreLock>>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// The directory of the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hash suite of the log.
    pub fn suite(&self) -> HashSuite {
        self.suite
    }

    /// The sync mode appends use.
    pub fn sync_mode(&self) -> SyncMode {
        self.options.sync
    }

    /// Which decisions are recorded when the log is the engine's sink.
    pub fn scope(&self) -> RecordScope {
        self.options.scope
    }

    /// What opening the log recovered from a crash, if anything.
    pub fn recovery(&self) -> Option<&RecoveryReport> {
        self.recovery.as_ref()
    }

    fn meta(&self) -> Meta {
        self.meta.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        self.w.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> Timestamp {
        match &self.options.clock {
            Some(c) => c(),
            None => Timestamp::now(),
        }
    }

    /// Appends one event and returns its sequence number once it is as durable as the
    /// sync mode promises. After a failed write or sync the log is poisoned: this and
    /// every later append is `audit_unavailable`.
    pub fn append(&self, event: &Event) -> Result<u64> {
        let r = self.append_batch(std::slice::from_ref(event))?;
        Ok(*r.end())
    }

    /// Appends events as one batch (one write, one sync) with consecutive sequence
    /// numbers, returned once all are as durable as the sync mode promises.
    pub fn append_batch(&self, events: &[Event]) -> Result<RangeInclusive<u64>> {
        let time = self.now();
        let payloads = events
            .iter()
            .map(|e| {
                let p = record::encode_payload(time, e)?;
                if p.len() > MAX_PAYLOAD {
                    return Err(Error::request(format!(
                        "an audit event of {} bytes is larger than the limit of {MAX_PAYLOAD}",
                        p.len()
                    )));
                }
                Ok(p)
            })
            .collect::<Result<Vec<_>>>()?;
        self.append_payloads(time, &payloads)
    }

    /// Makes every record appended so far durable (in any sync mode).
    pub fn sync(&self) -> Result<()> {
        let w = self.lock();
        let target = w.next_seq - 1;
        if w.synced_seq >= target {
            return match &w.poisoned {
                Some(p) => Err(Error::AuditUnavailable { message: p.clone() }),
                None => Ok(()),
            };
        }
        self.wait_durable(w, target)
    }

    /// Seals the open segment now and begins a new one (for instance before a backup
    /// at the end of a day). Does nothing when the open segment holds no record.
    pub fn seal(&self) -> Result<()> {
        let mut w = self.lock();
        while w.syncing {
            w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w.usable()?;
        if w.next_seq == w.seg_first_seq {
            return Ok(());
        }
        self.roll(w).map(|_| ())
    }

    /// Syncs and closes the log: later appends are `audit_unavailable` (so an engine
    /// with this log attached then denies every request it must record).
    ///
    /// Closing leaves the checkpoint of every record acknowledged in the directory
    /// (`audit.head`), which readers verify against, and lets go of the directory's
    /// lock, so that another process can open the log for writing at once.
    pub fn close(&self) -> Result<()> {
        let r = self.sync();
        let mut w = self.lock();
        w.closed = true;
        w.stop_extend();
        w.stop_next();
        drop(w);
        let r = r.and_then(|()| self.leave_head());
        // Whatever the sync said, nothing more is written: the lock can go.
        self.lock.lock().unwrap_or_else(|p| p.into_inner()).take();
        r
    }

    /// The sequence number of the last record appended (0 when there is none).
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq - 1
    }

    /// A checkpoint of the current head (covering every record appended so far).
    pub fn checkpoint(&self) -> Checkpoint {
        let w = self.lock();
        Checkpoint::new(&self.mac, self.log_id, w.next_seq - 1, w.head)
    }

    /// Checks every record, link and seal and reports the first bad sequence number as
    /// `audit_tampered`.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_impl(None)
    }

    /// [`AuditLog::verify`], and also that the log still holds the chain the
    /// checkpoint names (truncation, rollback).
    pub fn verify_with(&self, checkpoint: &Checkpoint) -> Result<VerifyReport> {
        self.verify_impl(Some(checkpoint))
    }

    fn snapshot(&self) -> Result<(u64, u64)> {
        self.sync()?;
        let w = self.lock();
        Ok((w.seg_index, w.written_len))
    }

    fn verify_impl(&self, checkpoint: Option<&Checkpoint>) -> Result<VerifyReport> {
        let limit = self.snapshot()?;
        let meta = self.meta();
        scan::walk(
            &scan::Walk {
                dir: &self.dir,
                meta: &meta,
                mac: &self.mac,
                limit: Some(limit),
                checkpoint,
            },
            None,
        )
    }

    /// Verifies the log in `dir` without opening it for writing (a log another process
    /// writes, a backup). A torn tail is reported, not cut.
    ///
    /// Without a `checkpoint`, the log is checked against the one its last writer
    /// left when it closed the log (`audit.head`, see [`AuditLog::close`]): a log that
    /// ends before a record its writer acknowledged, or whose chain differs there, is
    /// `audit_tampered`, not a torn tail. A checkpoint kept outside the log (another
    /// host, a ticket) is stronger still: whoever can delete records can delete that
    /// file too.
    pub fn verify_dir(
        dir: impl AsRef<Path>,
        key: &SealingKey,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<VerifyReport> {
        let dir = dir.as_ref();
        let (meta, mac) = Meta::read(dir, key)?;
        if checkpoint.is_some() {
            return scan::walk(
                &scan::Walk {
                    dir,
                    meta: &meta,
                    mac: &mac,
                    limit: None,
                    checkpoint,
                },
                None,
            );
        }
        let stored = stored_head(dir, &meta, &mac)?;
        against_stored(scan::walk(
            &scan::Walk {
                dir,
                meta: &meta,
                mac: &mac,
                limit: None,
                checkpoint: stored.as_ref(),
            },
            None,
        ))
    }

    /// Reads every record of the log in `dir` in order, verifying as it goes, without
    /// opening it for writing.
    pub fn read_dir(
        dir: impl AsRef<Path>,
        key: &SealingKey,
        mut f: impl FnMut(AuditRecord) -> Result<()>,
    ) -> Result<VerifyReport> {
        let dir = dir.as_ref();
        let (meta, mac) = Meta::read(dir, key)?;
        let stored = stored_head(dir, &meta, &mac)?;
        let mut cb = |seq: u64, p: &[u8]| f(record::decode_payload(seq, p)?);
        against_stored(scan::walk(
            &scan::Walk {
                dir,
                meta: &meta,
                mac: &mac,
                limit: None,
                checkpoint: stored.as_ref(),
            },
            Some(&mut cb),
        ))
    }

    /// Reads every record in order (verifying each); the way workflows rebuild their
    /// state from the log. An error from `f` stops the walk and is returned.
    pub fn for_each_record(
        &self,
        mut f: impl FnMut(AuditRecord) -> Result<()>,
    ) -> Result<VerifyReport> {
        let limit = self.snapshot()?;
        let meta = self.meta();
        let mut cb = |seq: u64, p: &[u8]| f(record::decode_payload(seq, p)?);
        scan::walk(
            &scan::Walk {
                dir: &self.dir,
                meta: &meta,
                mac: &self.mac,
                limit: Some(limit),
                checkpoint: None,
            },
            Some(&mut cb),
        )
    }

    /// Every record, in order.
    pub fn records(&self) -> Result<Vec<AuditRecord>> {
        let mut out = Vec::new();
        self.for_each_record(|r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Appends the record of one decision (what the engine does through
    /// [`DecisionSink`]; for decisions made elsewhere).
    pub fn record_decision(
        &self,
        request: &Request,
        inventory: &Inventory,
        decision: &Decision,
    ) -> Result<u64> {
        self.append(&Event::from_decision(request, inventory, decision))
    }
}

impl DecisionSink for AuditLog {
    fn record(
        &self,
        request: &Request,
        inventory: &Inventory,
        decision: &Decision,
    ) -> Result<Option<u64>> {
        if !self
            .options
            .scope
            .records(request.action, decision.allowed())
        {
            return Ok(None);
        }
        self.record_decision(request, inventory, decision).map(Some)
    }
}

/// Key events (creation, rotation, shredding — Art. 7, 15) become audit records of
/// kind `key.<operation>`, with the key ids, operator, witness and master key id;
/// never key material.
impl crate::vault::KeyEventSink for AuditLog {
    fn record_key_event(&self, event: &crate::vault::KeyEvent) -> Result<u64> {
        let mut e = Event::new(format!("key.{}", event.operation.as_str()))
            .user(event.operator.clone())
            .action(Action::ManageKeys)
            .field("key_ids", event.key_ids.clone())
            .field("policy_version", event.policy_version.clone())
            .field("master_key_id", event.master_key_id.clone())
            .field("time_unix", event.time);
        if let Some(d) = &event.dataset {
            e = e.resource(crate::engine::Resource::dataset(d.clone()));
        }
        if let Some(w) = &event.witness {
            e = e.field("witness", w.clone());
        }
        if let Some(seq) = event.decision_seq {
            e = e.field("decision_seq", seq);
        }
        self.append(&e)
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        let synced = self.sync();
        let mut w = self.lock();
        w.stop_extend();
        w.stop_next();
        let open = !w.closed;
        drop(w);
        if open && synced.is_ok() {
            // Best effort: a missing head only means less to check the log against.
            let _ = self.leave_head();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<AuditLog>();
    }

    /// The MAC's prepared inner and outer states are derived from the sealing key: the
    /// hash cores that hold them (an HMAC is two of them) wipe themselves when dropped,
    /// as the key itself is.
    #[test]
    fn mac_states_zeroize_on_drop() {
        use hmac::digest::block_api::EagerHash;
        fn check<T: zeroize::ZeroizeOnDrop>() {}
        check::<<sha2::Sha256 as EagerHash>::Core>();
        check::<<sm3::Sm3 as EagerHash>::Core>();
    }
}
