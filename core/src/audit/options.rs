//! How a log is opened: when appends reach the disk, which decisions the engine's log
//! records, the clock, segment limits and the writer's lock wait.

use super::HashSuite;
use crate::error::{Error, Result};
use crate::lock::DEFAULT_LOCK_WAIT;
use crate::model::Action;
use crate::time::Timestamp;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

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
