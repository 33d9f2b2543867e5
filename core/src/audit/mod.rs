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

mod crypto;
#[cfg(feature = "store")]
pub(crate) mod export;
mod format;
pub mod host;
mod merkle;
mod pad;
mod query;
mod record;
mod report;
mod retention;
mod scan;
mod time;

pub use crypto::{HashSuite, SealingKey};
pub use host::{HostLog, HostLogs, HostVerifyReport};
pub use query::{AuditQuery, AuditView};
pub use record::{
    AuditRecord, Event, Outcome, Verdict, DECISION_KIND, RETAINED_KIND, RETAIN_FIELD,
};
pub use retention::{
    BackupReport, InclusionProof, ProofSeal, PurgeReport, RestoreReport, RETENTION_MONTHS,
};
pub use time::{Date, Timestamp};

use crate::engine::{Decision, DecisionSink, Request};
use crate::error::{Error, Result};
use crate::lock::{StoreLock, DEFAULT_LOCK_WAIT};
use crate::model::{Action, Inventory};
use crypto::{ct_eq, label, parse_hash, Hash, Mac32};
use format::{
    encode_frame, segment_name, sync_dir, Header, Meta, Seal, FRAME_OVERHEAD, HEADER_LEN,
    HEAD_FILE, KIND_RECORD, MAX_PAYLOAD, META_FILE, SEAL_FRAME_LEN, TORN_DIR,
};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// When an append is on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// `fsync` (fdatasync) before the append returns; appends that arrive while a sync
    /// runs share the next one.
    #[default]
    Always,
    /// Group commit: an append returns once the batch that holds it is on disk. The
    /// batch waits for appends already under way, at most
    /// [`AuditOptions::batch_max_delay`].
    Batch,
    /// Buffered in the process; written out when the buffer fills, on
    /// [`AuditLog::sync`], on sealing and on drop. A crash may lose the buffer.
    None,
}

impl SyncMode {
    /// The wire name: `always`, `batch` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Always => "always",
            SyncMode::Batch => "batch",
            SyncMode::None => "none",
        }
    }
}

impl FromStr for SyncMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "always" => Ok(SyncMode::Always),
            "batch" => Ok(SyncMode::Batch),
            "none" => Ok(SyncMode::None),
            _ => Err(Error::request(format!(
                "unknown sync mode `{s}`, expected one of: always, batch, none"
            ))),
        }
    }
}

/// Which decisions the engine's log records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RecordScope {
    /// Every decision (the default).
    #[default]
    All,
    /// What the regulation requires and no more: every decision on query, modify,
    /// delete and export, every deny, every administrative action (grants, key
    /// management, audit review, export and purge, classification, cataloguing,
    /// backup, restore) and every workflow step. Allowed `aggregate`, `transmit` and
    /// `process` decisions are not recorded.
    Required,
}

impl FromStr for RecordScope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "all" => Ok(RecordScope::All),
            "required" => Ok(RecordScope::Required),
            other => Err(Error::request(format!(
                "unknown record scope `{other}`, expected one of: all, required"
            ))),
        }
    }
}

impl RecordScope {
    /// Whether a decision on `action` that came out `allowed` is recorded.
    pub fn records(self, action: Action, allowed: bool) -> bool {
        match self {
            RecordScope::All => true,
            RecordScope::Required => {
                !allowed
                    || !matches!(
                        action,
                        Action::Aggregate | Action::Transmit | Action::Process
                    )
            }
        }
    }
}

/// The clock the log stamps records with.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How to open (or create) a log.
#[derive(Clone)]
pub struct AuditOptions {
    /// When an append is on disk.
    pub sync: SyncMode,
    /// The hash suite of a new log (an existing log keeps its own).
    pub suite: HashSuite,
    /// A segment is sealed and a new one begun before it would exceed this size.
    pub segment_max_bytes: u64,
    /// A segment is sealed and a new one begun once its first record is this old
    /// (so that retention can remove whole segments by date); `None`: size only.
    pub segment_max_age: Option<Duration>,
    /// The longest a `batch` append waits for other appends to join its batch.
    pub batch_max_delay: Duration,
    /// Which decisions the engine's log records.
    pub scope: RecordScope,
    /// The clock (the system clock when `None`); for replay and tests.
    pub clock: Option<Clock>,
    /// How long opening waits for another process that writes the log to close it
    /// before failing with `store_locked`.
    pub lock_wait: Duration,
}

impl fmt::Debug for AuditOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditOptions")
            .field("sync", &self.sync)
            .field("suite", &self.suite)
            .field("segment_max_bytes", &self.segment_max_bytes)
            .field("segment_max_age", &self.segment_max_age)
            .field("batch_max_delay", &self.batch_max_delay)
            .field("scope", &self.scope)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("lock_wait", &self.lock_wait)
            .finish()
    }
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            sync: SyncMode::Always,
            suite: HashSuite::Sha256,
            segment_max_bytes: 64 << 20,
            segment_max_age: Some(Duration::from_secs(24 * 3600)),
            batch_max_delay: Duration::from_millis(2),
            scope: RecordScope::All,
            clock: None,
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }
}

impl AuditOptions {
    /// Sets how long opening waits for another writer (see [`AuditOptions::lock_wait`]).
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Sets the sync mode.
    pub fn sync(mut self, sync: SyncMode) -> Self {
        self.sync = sync;
        self
    }
    /// Sets the hash suite of a new log.
    pub fn suite(mut self, suite: HashSuite) -> Self {
        self.suite = suite;
        self
    }
    /// Sets the segment size limit (at least 4 KiB).
    pub fn segment_max_bytes(mut self, bytes: u64) -> Self {
        self.segment_max_bytes = bytes.max(4096);
        self
    }
    /// Sets the segment age limit.
    pub fn segment_max_age(mut self, age: Option<Duration>) -> Self {
        self.segment_max_age = age;
        self
    }
    /// Sets which decisions are recorded.
    pub fn scope(mut self, scope: RecordScope) -> Self {
        self.scope = scope;
        self
    }
    /// Sets the clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }
}

/// A torn tail: the end of the last segment that a crash left incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub segment: u64,
    /// Where the torn bytes begin in the segment file.
    pub offset: u64,
    /// The sequence number the torn record would have had (it was never acknowledged
    /// under `always` or `batch`).
    pub first_lost_seq: u64,
    /// What is incomplete.
    pub reason: String,
}

/// What opening a log after a crash cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The torn tail that was cut.
    pub torn: TornTail,
    /// How many bytes were cut.
    pub bytes_cut: u64,
    /// Where the cut bytes were kept for inspection.
    pub kept_at: PathBuf,
}

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

/// A checkpoint of the chain: a sequence number, the chain head after it and a MAC
/// over both. Keep it outside the log (another host, a ticket, a print-out):
/// `verify_with` against it finds truncation and rollback, which no log can find in
/// itself. Text form: `gdaudit1:<log id>:<seq>:<head>:<mac>` (hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    log_id: [u8; 16],
    seq: u64,
    head: Hash,
    mac: Hash,
}

impl Checkpoint {
    fn new(mac: &Mac32, log_id: [u8; 16], seq: u64, head: Hash) -> Self {
        let tag = mac.mac(&[label::CHECKPOINT, &log_id, &seq.to_le_bytes(), &head]);
        Checkpoint {
            log_id,
            seq,
            head,
            mac: tag,
        }
    }

    /// The last sequence number the checkpoint covers (0: an empty log).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The chain head after that record, in hex.
    pub fn head_hex(&self) -> String {
        hex::encode(self.head)
    }

    /// The id of the log, in hex.
    pub fn log_id_hex(&self) -> String {
        hex::encode(self.log_id)
    }

    fn check(&self, mac: &Mac32, log_id: &[u8; 16]) -> Result<()> {
        if &self.log_id != log_id {
            return Err(Error::request(
                "the checkpoint belongs to another audit log",
            ));
        }
        let expect = mac.mac(&[
            label::CHECKPOINT,
            &self.log_id,
            &self.seq.to_le_bytes(),
            &self.head,
        ]);
        if !ct_eq(&expect, &self.mac) {
            return Err(Error::CryptoAuthFailed {
                message: "the checkpoint does not authenticate under this sealing key".into(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gdaudit1:{}:{}:{}:{}",
            hex::encode(self.log_id),
            self.seq,
            hex::encode(self.head),
            hex::encode(self.mac)
        )
    }
}

impl FromStr for Checkpoint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::request(format!(
                "invalid checkpoint `{s}`: expected gdaudit1:<log id>:<seq>:<head>:<mac>"
            ))
        };
        let parts: Vec<&str> = s.trim().split(':').collect();
        let [tag, id, seq, head, mac] = parts[..] else {
            return Err(bad());
        };
        if tag != "gdaudit1" {
            return Err(bad());
        }
        let mut log_id = [0u8; 16];
        hex::decode_to_slice(id, &mut log_id).map_err(|_| bad())?;
        Ok(Checkpoint {
            log_id,
            seq: seq.parse().map_err(|_| bad())?,
            head: parse_hash(head).ok_or_else(bad)?,
            mac: parse_hash(mac).ok_or_else(bad)?,
        })
    }
}

const BUF_LIMIT: usize = 256 << 10;

struct Writer {
    file: Arc<File>,
    /// The open segment's file.
    path: PathBuf,
    seg_index: u64,
    seg_first_seq: u64,
    seg_first_time: Option<Timestamp>,
    seg_max_time: Option<Timestamp>,
    /// Bytes of the open segment, written or buffered.
    seg_len: u64,
    /// Bytes of the open segment written to the file.
    written_len: u64,
    /// The length of the open segment's file: records, then zero padding.
    file_len: u64,
    /// The background job padding the open segment, if one runs.
    extend: Option<pad::Job>,
    /// The background job preparing the next segment's file, if one runs.
    next: Option<pad::Job>,
    /// The bytes of zeros the prepared next segment holds.
    next_len: u64,
    /// A padding job failed: no more for this segment.
    pad_failed: bool,
    /// Preparing the next segment failed: no more tries before it begins.
    next_failed: bool,
    next_seq: u64,
    head: Hash,
    leaves: Vec<Hash>,
    buf: Vec<u8>,
    spare: Vec<u8>,
    buf_calls: usize,
    synced_seq: u64,
    syncing: bool,
    poisoned: Option<String>,
    closed: bool,
}

impl Writer {
    /// The writer of a segment whose good data ends at `end` in a file of `file_len`
    /// bytes.
    fn new(file: File, path: PathBuf, header: &Header, end: u64, file_len: u64) -> Writer {
        Writer {
            file: Arc::new(file),
            path,
            seg_index: header.index,
            seg_first_seq: header.first_seq,
            seg_first_time: None,
            seg_max_time: None,
            seg_len: end,
            written_len: end,
            file_len,
            extend: None,
            next: None,
            next_len: 0,
            pad_failed: false,
            next_failed: false,
            next_seq: header.first_seq,
            head: header.prev_head,
            leaves: Vec::new(),
            buf: Vec::with_capacity(64 << 10),
            spare: Vec::with_capacity(64 << 10),
            buf_calls: 0,
            synced_seq: header.first_seq - 1,
            syncing: false,
            poisoned: None,
            closed: false,
        }
    }

    /// Waits for a background job (stopping it first when `cancel`) and takes note
    /// of what it did. A failed job only means less padding: appends then extend the
    /// file, and their own syncs report any error of the disk.
    fn settle(&mut self, job: pad::Job, cancel: bool) {
        match job.finish(cancel) {
            (pad::Task::Extend { .. }, Ok(end)) => self.file_len = self.file_len.max(end),
            (pad::Task::Extend { .. }, Err(_)) => self.pad_failed = true,
            (pad::Task::Next { .. }, Ok(len)) => self.next_len = len,
            (pad::Task::Next { .. }, Err(_)) => self.next_failed = true,
        }
    }

    /// Stops the job padding the open segment.
    fn stop_extend(&mut self) {
        if let Some(j) = self.extend.take() {
            self.settle(j, true);
        }
    }

    /// Stops the job preparing the next segment (it goes on from there later).
    fn stop_next(&mut self) {
        if let Some(j) = self.next.take() {
            self.settle(j, true);
        }
    }

    /// Takes note of the background jobs that are done.
    fn reap_finished(&mut self) {
        if let Some(j) = self.extend.take_if(|j| j.is_finished()) {
            self.settle(j, false);
        }
        if let Some(j) = self.next.take_if(|j| j.is_finished()) {
            self.settle(j, false);
        }
    }

    fn usable(&self) -> Result<()> {
        if let Some(p) = &self.poisoned {
            return Err(Error::AuditUnavailable { message: p.clone() });
        }
        if self.closed {
            return Err(Error::AuditUnavailable {
                message: "the log is closed".into(),
            });
        }
        Ok(())
    }
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
    /// Called after every append (see [`AuditLog::on_append`]).
    append_hook: arc_swap::ArcSwapOption<AppendHook>,
}

/// What [`AuditLog::on_append`] calls.
type AppendHook = Box<dyn Fn(u64) + Send + Sync>;

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Creates `dir` if missing and takes its writer's lock.
fn lock_dir(dir: &Path, wait: Duration) -> Result<StoreLock> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    StoreLock::acquire(dir, "audit log", wait)
}

fn unavailable(context: &str, e: impl fmt::Display) -> String {
    format!("{context}: {e}; the log refuses further appends until it is reopened")
}

/// Begins segment `header.index` in the prepared file (see [`pad`]), padded to
/// `pad_to` bytes: its file, path and length.
fn new_segment(
    dir: &Path,
    mac: &Mac32,
    header: &Header,
    pad_to: u64,
) -> Result<(File, PathBuf, u64)> {
    let name = segment_name(header.index);
    let (file, file_len) = pad::install(dir, &name, &header.encode(mac), pad_to)?;
    Ok((file, dir.join(name), file_len))
}

impl AuditLog {
    /// Opens the log in `dir`, creating the directory and a new log if there is none.
    ///
    /// A torn tail of the last segment (a crash during an append) is cut back to the
    /// last complete record and kept under `dir/torn/`; see [`AuditLog::recovery`].
    /// Any other bad record in the last segment is `audit_tampered` (verify and
    /// restore from a backup); a key that is not the log's is `key_invalid`.
    ///
    /// One process writes a log directory at a time: opening takes the directory's
    /// lock (see [`crate::lock`]), waiting up to [`AuditOptions::lock_wait`] for
    /// another writer to close it, and fails with `store_locked` past that, before
    /// anything is written. [`AuditLog::close`] (or dropping the log, or the end of
    /// the process, however it ends) lets go of it.
    pub fn open(dir: impl AsRef<Path>, key: SealingKey, options: AuditOptions) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let lock = lock_dir(&dir, options.lock_wait)?;
        AuditLog::open_locked(dir, key, options, lock)
    }

    /// [`AuditLog::open`] once the directory's lock is held.
    fn open_locked(
        dir: PathBuf,
        key: SealingKey,
        options: AuditOptions,
        lock: StoreLock,
    ) -> Result<Self> {
        let (meta, mac) = if dir.join(META_FILE).exists() {
            Meta::read(&dir, &key)?
        } else {
            if !format::list_segments(&dir)?.is_empty() {
                return Err(Error::AuditTampered {
                    seq: 0,
                    message: format!(
                        "`{}` holds segments but no metadata (deleted)",
                        dir.display()
                    ),
                });
            }
            let mut log_id = [0u8; 16];
            getrandom::fill(&mut log_id).map_err(|e| Error::AuditUnavailable {
                message: format!("cannot draw a log id: {e}"),
            })?;
            let meta = Meta {
                suite: options.suite,
                log_id,
                horizon: None,
            };
            let mac = Mac32::new(meta.suite, &key)?;
            meta.write(&dir, &mac)?;
            (meta, mac)
        };
        drop(key);
        let ctx = scan::Ctx {
            suite: meta.suite,
            mac: &mac,
            log_id: meta.log_id,
        };
        let (base_index, base_seq, base_head) = meta.base();
        // Finish an interrupted purge: segments at or below the horizon are purged.
        let mut segs = Vec::new();
        for (i, p) in format::list_segments(&dir)? {
            if i < base_index {
                fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            } else {
                segs.push((i, p));
            }
        }
        let mut recovery = None;
        // Padding (see `pad`): a new segment begins with a step of zeros after its
        // header in `always` and `batch`, and with its header only in `none`.
        let limit = options.segment_max_bytes;
        let pads = options.sync != SyncMode::None;
        let step = pad::step(limit);
        let pad_to = if pads { step } else { HEADER_LEN as u64 };
        let mut next_len = pad::check_prepared(&dir);
        // The segment before the last, when the last must continue it.
        let prev_of = |segs: &[(u64, PathBuf)]| -> Result<(u64, u64, Hash)> {
            if segs.len() < 2 {
                return Ok((base_index, base_seq, base_head));
            }
            let (pi, pp) = &segs[segs.len() - 2];
            let seal = scan::read_tail_seal(pp, &ctx, *pi).ok_or_else(|| Error::AuditTampered {
                seq: 0,
                message: format!("segment {pi} is not sealed although a later segment follows"),
            })?;
            Ok((pi + 1, seal.last_seq + 1, seal.head))
        };
        let mut writer = loop {
            let Some((index, path)) = segs.last().cloned() else {
                let header = Header {
                    suite: meta.suite,
                    log_id: meta.log_id,
                    index: base_index,
                    first_seq: base_seq,
                    prev_head: base_head,
                };
                next_len = 0;
                let (file, path, len) = new_segment(&dir, &mac, &header, pad_to)?;
                break Writer::new(file, path, &header, HEADER_LEN as u64, len);
            };
            let (exp_index, exp_seq, exp_head) = prev_of(&segs)?;
            let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let mut first_time = None;
            let mut max_time = None;
            let s = scan::scan_segment(&bytes, &ctx, index, true, None, true, &mut |seq, p| {
                let t = record::decode_payload(seq, p)?.time;
                first_time.get_or_insert(t);
                max_time = Some(t);
                Ok(())
            })
            .map_err(|e| e.into_error(exp_seq))?;
            let mut file_len = bytes.len() as u64;
            if let Some((off, reason)) = &s.torn {
                let torn = TornTail {
                    segment: index,
                    offset: *off as u64,
                    first_lost_seq: if s.header.is_some() {
                        s.next_seq
                    } else {
                        exp_seq
                    },
                    reason: reason.clone(),
                };
                // The torn bytes, without the zero padding after them.
                let torn_end = off + pad::nonzero_end(&bytes[*off..]);
                let kept = dir.join(TORN_DIR);
                fs::create_dir_all(&kept).map_err(|e| Error::io(&kept, e))?;
                let kept_at = kept.join(format!(
                    "seg-{index:010}-at-{off}-{}.bin",
                    Timestamp::now().unix_millis()
                ));
                fs::write(&kept_at, &bytes[*off..torn_end]).map_err(|e| Error::io(&kept_at, e))?;
                recovery = Some(RecoveryReport {
                    torn,
                    bytes_cut: (torn_end - off) as u64,
                    kept_at,
                });
                if s.header.is_none() {
                    fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                    sync_dir(&dir)?;
                    segs.pop();
                    continue;
                }
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                f.set_len(*off as u64)
                    .and_then(|_| f.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                file_len = *off as u64;
            }
            let Some(h) = &s.header else {
                continue;
            };
            if index != exp_index || h.first_seq != exp_seq || !ct_eq(&h.prev_head, &exp_head) {
                return Err(Error::AuditTampered {
                    seq: exp_seq,
                    message: format!("segment {index} does not continue the segment before it"),
                });
            }
            if let Some((seal, _)) = &s.seal {
                if file_len > s.end as u64 {
                    // Sealed, but not yet cut to its length when the log stopped.
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(|e| Error::io(&path, e))?;
                    f.set_len(s.end as u64)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                }
                let header = Header {
                    suite: meta.suite,
                    log_id: meta.log_id,
                    index: index + 1,
                    first_seq: seal.last_seq + 1,
                    prev_head: seal.head,
                };
                next_len = 0;
                let (file, path, len) = new_segment(&dir, &mac, &header, pad_to)?;
                break Writer::new(file, path, &header, HEADER_LEN as u64, len);
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            let end = s.end as u64;
            // Too little padding left (a log written without, or in `none` mode):
            // pad a step now, before any append has to wait for it. If the zeros
            // cannot be written (a full disk), appends extend the file instead.
            let mut pad_failed = false;
            if pads && file_len < limit && file_len < end + step / 2 {
                let to = limit.min(end + step);
                match pad::fill(&file, file_len.max(end), to, &AtomicBool::new(false)) {
                    Ok(len) => file_len = len,
                    Err(_) => {
                        pad_failed = true;
                        file_len = file.metadata().map_or(file_len, |m| m.len());
                    }
                }
            }
            let mut w = Writer::new(file, path, h, end, file_len);
            w.pad_failed = pad_failed;
            w.seg_first_time = first_time;
            w.seg_max_time = max_time;
            w.next_seq = s.next_seq;
            w.head = s.head;
            w.leaves = s.leaves;
            w.synced_seq = s.next_seq - 1;
            break w;
        };
        writer.next_len = next_len;
        let log = AuditLog {
            dir,
            suite: meta.suite,
            log_id: meta.log_id,
            meta: Mutex::new(meta),
            mac,
            options,
            w: Mutex::new(writer),
            cond: Condvar::new(),
            in_flight: AtomicUsize::new(0),
            maintenance: Mutex::new(()),
            recovery,
            lock: Mutex::new(Some(lock)),
            append_hook: arc_swap::ArcSwapOption::empty(),
        };
        log.plan(&mut log.lock());
        Ok(log)
    }

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
        let appended = self.append_payloads(time, &payloads)?;
        if let Some(hook) = self.append_hook.load().as_ref() {
            hook(*appended.end());
        }
        Ok(appended)
    }

    /// Calls `hook` with the last sequence number after every append, once the
    /// records are as durable as the sync mode promises (a shipper wakes on it); it
    /// runs on the appending thread, so it must return at once. `None` removes it.
    pub fn on_append(&self, hook: Option<Box<dyn Fn(u64) + Send + Sync>>) {
        self.append_hook.store(hook.map(Arc::new));
    }

    fn append_payloads(
        &self,
        time: Timestamp,
        payloads: &[Vec<u8>],
    ) -> Result<RangeInclusive<u64>> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let _flight = InFlight(&self.in_flight);
        let mut w = self.lock();
        w.usable()?;
        // Sealing writes under the lock, after any sync running outside it: wait for
        // that sync before numbering the batch, so that the batch stays contiguous.
        let bytes: u64 = payloads
            .iter()
            .map(|p| (p.len() + FRAME_OVERHEAD) as u64)
            .sum();
        let may_roll = w.seg_len + bytes + SEAL_FRAME_LEN as u64 > self.options.segment_max_bytes
            || self.is_old(&w, time);
        while may_roll && w.syncing {
            w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w.usable()?;
        let first = w.next_seq;
        let suite = self.suite;
        for p in payloads {
            let frame = (p.len() + FRAME_OVERHEAD) as u64;
            let full = w.seg_len + frame + SEAL_FRAME_LEN as u64 > self.options.segment_max_bytes;
            let old = self.is_old(&w, time);
            if w.next_seq > w.seg_first_seq && (full || old) {
                w = self.roll(w)?;
            }
            let seq = w.next_seq;
            let leaf = suite.leaf(seq, p);
            let head = suite.link(&w.head, &leaf);
            let tag = self.mac.record_tag(&head);
            encode_frame(&mut w.buf, KIND_RECORD, seq, p, &tag);
            w.leaves.push(leaf);
            w.head = head;
            w.next_seq += 1;
            w.seg_len += frame;
            w.seg_first_time.get_or_insert(time);
            w.seg_max_time = Some(w.seg_max_time.map_or(time, |m| m.max(time)));
        }
        let last = w.next_seq - 1;
        if payloads.is_empty() {
            return Ok(first..=last);
        }
        w.buf_calls += 1;
        match self.options.sync {
            SyncMode::None => {
                if w.buf.len() >= BUF_LIMIT && !w.syncing {
                    self.write_out(&mut w, false)?;
                }
                Ok(first..=last)
            }
            SyncMode::Always | SyncMode::Batch => {
                if self.options.sync == SyncMode::Batch && w.syncing {
                    self.cond.notify_all();
                }
                self.wait_durable(w, last)?;
                Ok(first..=last)
            }
        }
    }

    /// Whether new segments and the open one are padded (see [`pad`]).
    fn pads(&self) -> bool {
        self.options.sync != SyncMode::None
    }

    /// How many bytes a new segment's file begins with.
    fn pad_to(&self) -> u64 {
        if self.pads() {
            pad::step(self.options.segment_max_bytes)
        } else {
            HEADER_LEN as u64
        }
    }

    /// Starts the background jobs the padding needs, unless they run: another step
    /// of zeros when less than half a step is left ahead of the records, and the next
    /// segment's file. Called under the lock after a sync, a roll and an open.
    fn plan(&self, w: &mut Writer) {
        w.reap_finished();
        if !self.pads() || w.poisoned.is_some() || w.closed {
            return;
        }
        let limit = self.options.segment_max_bytes;
        let step = pad::step(limit);
        if w.extend.is_none() && !w.pad_failed && w.file_len < w.seg_len + step / 2 {
            // Records not yet written lie below `seg_len`, and later ones are kept off
            // the job's bytes by `clear_way`. When the records have caught up with the
            // padding, it resumes a little ahead of them rather than under their feet.
            let from = w.file_len.max(w.seg_len + step / 4);
            let to = limit.min(from + step);
            if from < to {
                match pad::Job::extend(w.path.clone(), from, to) {
                    Ok(j) => w.extend = Some(j),
                    // No thread: appends extend the file instead.
                    Err(_) => w.pad_failed = true,
                }
            }
        }
        if w.next.is_none() && !w.next_failed && w.next_len < step {
            match pad::Job::next(self.dir.clone(), step) {
                Ok(j) => w.next = Some(j),
                // Prepared at the roll instead.
                Err(_) => w.next_failed = true,
            }
        }
    }

    /// Before records are written below `end`: stops a job padding there.
    fn clear_way(&self, w: &mut Writer, end: u64) {
        if w.extend.as_ref().is_some_and(|j| j.overlaps(end)) {
            w.stop_extend();
        }
    }

    /// Whether the open segment's first record is older than the age limit at `time`.
    fn is_old(&self, w: &Writer, time: Timestamp) -> bool {
        match (w.seg_first_time, self.options.segment_max_age) {
            (Some(t0), Some(age)) => {
                time.unix_millis() - t0.unix_millis()
                    >= i64::try_from(age.as_millis()).unwrap_or(i64::MAX)
            }
            _ => false,
        }
    }

    /// Writes the buffer (under the lock, no sync in progress) and optionally syncs.
    fn write_out(&self, w: &mut Writer, sync: bool) -> Result<()> {
        let at = w.written_len;
        self.clear_way(w, at + w.buf.len() as u64);
        let res = pad::write_at(&w.file, &w.buf, at).and_then(|_| {
            if sync {
                w.file.sync_data()
            } else {
                Ok(())
            }
        });
        match res {
            Ok(()) => {
                w.written_len += w.buf.len() as u64;
                w.file_len = w.file_len.max(w.written_len);
                w.buf.clear();
                w.buf_calls = 0;
                if sync {
                    w.synced_seq = w.next_seq - 1;
                }
                Ok(())
            }
            Err(e) => {
                let m = unavailable("writing the audit log failed", e);
                w.poisoned = Some(m.clone());
                self.cond.notify_all();
                Err(Error::AuditUnavailable { message: m })
            }
        }
    }

    /// Waits until `target` is on disk, leading a group commit when no one else is.
    fn wait_durable<'a>(&'a self, mut w: MutexGuard<'a, Writer>, target: u64) -> Result<()> {
        loop {
            if let Some(p) = &w.poisoned {
                return Err(Error::AuditUnavailable { message: p.clone() });
            }
            if w.synced_seq >= target {
                return Ok(());
            }
            if w.syncing {
                w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            w.syncing = true;
            if self.options.sync == SyncMode::Batch {
                let deadline = Instant::now() + self.options.batch_max_delay;
                while self.in_flight.load(Ordering::SeqCst) > w.buf_calls {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    w = self
                        .cond
                        .wait_timeout(w, deadline - now)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
            }
            let spare = std::mem::take(&mut w.spare);
            let buf = std::mem::replace(&mut w.buf, spare);
            w.buf_calls = 0;
            let upto = w.next_seq - 1;
            let at = w.written_len;
            self.clear_way(&mut w, at + buf.len() as u64);
            let file = Arc::clone(&w.file);
            drop(w);
            let res = pad::write_at(&file, &buf, at).and_then(|_| file.sync_data());
            w = self.lock();
            w.syncing = false;
            match res {
                Ok(()) => {
                    w.written_len += buf.len() as u64;
                    w.file_len = w.file_len.max(w.written_len);
                    w.synced_seq = w.synced_seq.max(upto);
                    let mut buf = buf;
                    buf.clear();
                    w.spare = buf;
                    self.plan(&mut w);
                }
                Err(e) => {
                    w.poisoned = Some(unavailable("syncing the audit log failed", e));
                }
            }
            self.cond.notify_all();
        }
    }

    /// Seals the open segment and begins the next one (under the lock, which it
    /// never releases: callers wait for a running sync first).
    fn roll<'a>(&'a self, mut w: MutexGuard<'a, Writer>) -> Result<MutexGuard<'a, Writer>> {
        while w.syncing {
            w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w.usable()?;
        let seal = Seal {
            index: w.seg_index,
            first_seq: w.seg_first_seq,
            last_seq: w.next_seq - 1,
            head: w.head,
            root: merkle::root(self.suite, &w.leaves),
            sealed_at: self.now().unix_millis(),
        };
        let mut buf = std::mem::take(&mut w.buf);
        seal.encode_frame(&self.mac, &self.log_id, &mut buf);
        w.buf = buf;
        self.write_out(&mut w, true)?;
        // Cut the sealed segment to its length (no padding after the seal) before the
        // next segment appears.
        w.stop_extend();
        let cut = w.file.metadata().and_then(|m| {
            if m.len() == w.written_len {
                return Ok(());
            }
            w.file.set_len(w.written_len)?;
            w.file.sync_all()
        });
        if let Err(e) = cut {
            let m = unavailable("sealing an audit segment failed", e);
            w.poisoned = Some(m.clone());
            self.cond.notify_all();
            return Err(Error::AuditUnavailable { message: m });
        }
        let header = Header {
            suite: self.suite,
            log_id: self.log_id,
            index: w.seg_index + 1,
            first_seq: w.next_seq,
            prev_head: w.head,
        };
        // The prepared next segment: a job preparing it stops where it is, and the
        // rest of its zeros is written now.
        w.stop_next();
        match new_segment(&self.dir, &self.mac, &header, self.pad_to()) {
            Ok((file, path, file_len)) => {
                w.file = Arc::new(file);
                w.path = path;
                w.seg_index = header.index;
                w.seg_first_seq = header.first_seq;
                w.seg_first_time = None;
                w.seg_max_time = None;
                w.seg_len = HEADER_LEN as u64;
                w.written_len = HEADER_LEN as u64;
                w.file_len = file_len;
                w.next_len = 0;
                w.pad_failed = false;
                w.next_failed = false;
                w.leaves.clear();
                self.plan(&mut w);
                self.cond.notify_all();
                Ok(w)
            }
            Err(e) => {
                let m = unavailable("beginning a new audit segment failed", &e);
                w.poisoned = Some(m.clone());
                self.cond.notify_all();
                Err(Error::AuditUnavailable { message: m })
            }
        }
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

    /// Leaves the checkpoint of every record acknowledged so far in the directory
    /// (`audit.head`), once they are all durable: a reader that holds no checkpoint
    /// of its own verifies against it, so that a log cut back below what its writer
    /// acknowledged is found as tampering rather than read as a torn tail.
    fn leave_head(&self) -> Result<()> {
        let w = self.lock();
        if w.poisoned.is_some() || w.synced_seq + 1 < w.next_seq {
            return Ok(());
        }
        drop(w);
        let text = format!("{}\n", self.checkpoint());
        format::write_atomic(&self.dir, HEAD_FILE, text.as_bytes())
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

/// The checkpoint the log's last writer left at close, if any, authenticated.
fn stored_head(dir: &Path, meta: &Meta, mac: &Mac32) -> Result<Option<Checkpoint>> {
    let path = dir.join(HEAD_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let damaged = || Error::AuditTampered {
        seq: 0,
        message: format!(
            "the checkpoint its writer left at close (`{HEAD_FILE}`) is damaged or not this log's"
        ),
    };
    let cp: Checkpoint = text.parse().map_err(|_| damaged())?;
    cp.check(mac, &meta.log_id).map_err(|_| damaged())?;
    Ok(Some(cp))
}

/// A walk's outcome against the stored head, saying where the checkpoint came from.
fn against_stored(r: Result<VerifyReport>) -> Result<VerifyReport> {
    r.map_err(|e| match e {
        Error::AuditTampered { seq, message } => Error::AuditTampered {
            seq,
            message: format!(
                "{message} (against the checkpoint its writer left at close in `{HEAD_FILE}`)"
            ),
        },
        other => other,
    })
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

    #[test]
    fn checkpoint_text_round_trips() {
        let mac = Mac32::new(HashSuite::Sha256, &SealingKey::from_bytes([1; 32])).unwrap();
        let c = Checkpoint::new(&mac, [3; 16], 42, [9; 32]);
        assert_eq!(c.to_string().parse::<Checkpoint>().unwrap(), c);
    }
}
