//! The procedures shared by every node of a platform (Art. 14, 15): the port through
//! which they keep their requests in a store that every node reaches, and the mirror of
//! that store that a node's engine resolves approvals against.
//!
//! A step taken on a shared store runs in one of its transactions: the request is
//! locked against every other node ([`ProcedureTransaction::lock`]), the step is
//! decided by the engine and recorded in the acting node's audit log while the lock is
//! held, and the transition (that very audit record) and the request's new state are
//! stored and committed before the lock is let go. Two nodes taking the same step at once are
//! serialised by the lock: the second finds the request moved on and is told so
//! (`workflow_invalid`), with nothing stored.
//!
//! Approvals are resolved from the mirror only, never from the store: the store's
//! watcher ([`ProcedureStore::watch`]) hands it every committed change and tells it each
//! time the store was reached. A mirror not reached within its staleness bound resolves
//! every approval to nothing (fail closed) until it is reached again.
//!
//! The store's side (PostgreSQL) is `govdata::store`, connected in the composition root.

use super::records::State;
use super::{DestructionRequest, SharingRequest};
use crate::audit::AuditRecord;
use crate::error::{Error, Result};
use serde::Serialize;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, Instant};

/// The two procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Procedure {
    /// Sharing (Art. 14): requests `shr-…`.
    Sharing,
    /// Destruction (Art. 15): requests `dst-…`.
    Destruction,
}

impl Procedure {
    /// The wire name: `sharing` or `destruction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Procedure::Sharing => "sharing",
            Procedure::Destruction => "destruction",
        }
    }

    /// The prefix of its request ids.
    pub fn prefix(self) -> &'static str {
        match self {
            Procedure::Sharing => "shr-",
            Procedure::Destruction => "dst-",
        }
    }

    /// The request id numbered `n`.
    pub fn request_id(self, n: u64) -> String {
        format!("{}{n:06}", self.prefix())
    }

    /// The procedure of a record kind (`sharing.…`, `destruction.…`).
    pub(crate) fn of_kind(kind: &str) -> Option<Procedure> {
        if kind.starts_with("sharing.") {
            Some(Procedure::Sharing)
        } else if kind.starts_with("destruction.") {
            Some(Procedure::Destruction)
        } else {
            None
        }
    }
}

impl fmt::Display for Procedure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Procedure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sharing" => Ok(Procedure::Sharing),
            "destruction" => Ok(Procedure::Destruction),
            other => Err(Error::request(format!(
                "unknown procedure `{other}`, expected sharing or destruction"
            ))),
        }
    }
}

/// A request of either procedure as a shared store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcedureRequest {
    /// A sharing request.
    Sharing(SharingRequest),
    /// A destruction request.
    Destruction(DestructionRequest),
}

impl ProcedureRequest {
    /// Its procedure.
    pub fn procedure(&self) -> Procedure {
        match self {
            ProcedureRequest::Sharing(_) => Procedure::Sharing,
            ProcedureRequest::Destruction(_) => Procedure::Destruction,
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        match self {
            ProcedureRequest::Sharing(s) => &s.id,
            ProcedureRequest::Destruction(d) => &d.id,
        }
    }

    /// Its dataset.
    pub fn dataset(&self) -> &str {
        match self {
            ProcedureRequest::Sharing(s) => &s.dataset,
            ProcedureRequest::Destruction(d) => &d.dataset,
        }
    }

    /// Its status as recorded (a share past its term but not yet expired is still
    /// approved or provisioned).
    pub fn status(&self) -> &'static str {
        match self {
            ProcedureRequest::Sharing(s) => s.recorded_status().as_str(),
            ProcedureRequest::Destruction(d) => d.status.as_str(),
        }
    }

    /// Whether it is a destruction still open (requested or approved).
    pub fn is_open_destruction(&self) -> bool {
        matches!(self, ProcedureRequest::Destruction(d) if d.is_open())
    }

    /// The JSON a store keeps: the request's own form, its status as recorded.
    pub fn to_json(&self) -> Result<String> {
        let text = match self {
            ProcedureRequest::Sharing(s) => {
                let mut s = s.clone();
                s.status = s.recorded_status();
                s.overdue = false;
                serde_json::to_string(&s)
            }
            ProcedureRequest::Destruction(d) => serde_json::to_string(d),
        };
        text.map_err(|e| Error::request(format!("cannot encode a procedure request: {e}")))
    }

    /// A request of `procedure` from the JSON a store keeps.
    pub fn from_json(procedure: Procedure, text: &str) -> Result<Self> {
        let fail = |e: serde_json::Error| Error::WorkflowInvalid {
            message: format!("a stored {procedure} request does not parse: {e}"),
        };
        Ok(match procedure {
            Procedure::Sharing => {
                ProcedureRequest::Sharing(serde_json::from_str(text).map_err(fail)?)
            }
            Procedure::Destruction => {
                ProcedureRequest::Destruction(serde_json::from_str(text).map_err(fail)?)
            }
        })
    }
}

/// One transition as a shared store keeps it: the audit record the acting node wrote
/// for it, in its own log, and the request it moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The request id.
    pub request: String,
    /// The record in the acting node's audit log (its sequence number there).
    pub record: AuditRecord,
}

/// One transaction of a shared store, as a step sees it. Dropped without
/// [`ProcedureTransaction::commit`], it is rolled back: nothing of it stays, and its
/// locks go.
pub trait ProcedureTransaction {
    /// Locks request `id` of `procedure` against every other node until the
    /// transaction ends, and returns it as stored with the number of the change that
    /// last moved it (`None`: no such request).
    fn lock(&mut self, procedure: Procedure, id: &str) -> Result<Option<(ProcedureRequest, u64)>>;
    /// Locks the destructions of `dataset` until the transaction ends, and returns
    /// the one still open (requested or approved), if any.
    fn lock_open_destruction(&mut self, dataset: &str) -> Result<Option<(ProcedureRequest, u64)>>;
    /// The number of a new request of `procedure`, unique in the store.
    fn next_number(&mut self, procedure: Procedure) -> Result<u64>;
    /// Stores `transitions` and the new state of `requests`; returns the number of
    /// this change (every change of the store has a larger one than the changes
    /// committed before it).
    fn store(&mut self, transitions: &[Transition], requests: &[ProcedureRequest]) -> Result<u64>;
    /// Commits what the transaction stored.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// A store that several nodes share for their procedures (the platform store).
pub trait ProcedureStore: Send + Sync {
    /// Begins a transaction (one at a time for a node: a second waits for the first).
    fn begin(&self) -> Result<Box<dyn ProcedureTransaction + '_>>;
    /// Starts keeping `mirror` current in the background: every request as stored,
    /// then every change once committed, and each time the store was reached. Waits
    /// at most `first` for the first reading (whether it succeeded or not).
    fn watch(&self, mirror: Weak<dyn ProcedureMirror>, first: Duration) -> Result<()>;
}

/// What a store's watcher keeps current: a node's copy of the shared requests.
pub trait ProcedureMirror: Send + Sync {
    /// Requests as committed, each with the number of the change that last moved it;
    /// a request already held at that change or a later one is left as it is.
    fn changed(&self, requests: Vec<(u64, ProcedureRequest)>);
    /// The store was reached at `at`, and what it held then has been handed over.
    fn reached(&self, at: Instant);
}

/// How long a mirror stays good without reaching its store.
#[derive(Debug)]
pub(super) struct Freshness {
    base: Instant,
    /// Milliseconds after `base`, plus one, of the last contact (0: never).
    reached: AtomicU64,
    bound: Duration,
}

impl Freshness {
    pub(super) fn new(bound: Duration) -> Freshness {
        Freshness {
            base: Instant::now(),
            reached: AtomicU64::new(0),
            bound,
        }
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_millis()).unwrap_or(u64::MAX - 1)
            + 1
    }

    pub(super) fn mark(&self, at: Instant) {
        self.reached.fetch_max(self.millis(at), Ordering::AcqRel);
    }

    /// How long ago the store was last reached (`None`: never).
    pub(super) fn age(&self) -> Option<Duration> {
        match self.reached.load(Ordering::Acquire) {
            0 => None,
            r => Some(Duration::from_millis(
                self.millis(Instant::now()).saturating_sub(r),
            )),
        }
    }

    pub(super) fn is_fresh(&self) -> bool {
        self.age().is_some_and(|a| a <= self.bound)
    }

    pub(super) fn bound(&self) -> Duration {
        self.bound
    }
}

/// What a node's mirror of the shared procedures reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MirrorStatus {
    /// Whether approvals resolve: the store was reached within the staleness bound.
    pub fresh: bool,
    /// The staleness bound in milliseconds.
    pub staleness_ms: u64,
    /// How long ago the store was last reached, in milliseconds (`None`: never).
    pub reached_ms_ago: Option<u64>,
    /// The last change of the store the mirror holds.
    pub change: u64,
    /// Sharing requests held.
    pub shares: usize,
    /// Destruction requests held.
    pub destructions: usize,
}

/// Puts `request`, moved by change `change`, into `state` unless it holds it at that
/// change or a later one.
pub(super) fn mirror_into(state: &mut State, change: u64, request: ProcedureRequest) {
    let id = request.id().to_owned();
    if state.changes.get(&id).is_some_and(|&c| c >= change) {
        return;
    }
    state.changes.insert(id.clone(), change);
    state.change = state.change.max(change);
    match request {
        ProcedureRequest::Sharing(s) => {
            state.shares.insert(id, s);
        }
        ProcedureRequest::Destruction(d) => {
            state.destructions.insert(id, d);
        }
    }
}
