//! The sharing (Art. 14) and destruction (Art. 15) procedures, and the approvals they
//! grant (Art. 3(1): who provides, circulates and uses is responsible).
//!
//! It owns the procedures' state machines —
//! sharing `submitted → approved | rejected → provisioned → revoked | expired`,
//! destruction `requested → approved | rejected → executed` — and the
//! [`ApprovalResolver`] that makes a request's `context.approval` a fact: an approval
//! id resolves only when it exists, is approved by someone entitled to approve it, is
//! for this dataset, action and principal, is within its term and is not revoked.
//!
//! Every transition is a decision of the engine (`request_share`, `review_share`,
//! `share`, `request_destruction`, `approve_destruction`, `destroy`) and an audit
//! record ([`kind`]); a refused step is recorded too. On one node the audit log is the
//! only store: [`Workflows::open`] rebuilds the state from it, so nothing else needs a
//! backup. On a platform of many nodes the requests are shared through a
//! [`ProcedureStore`] ([`Workflows::open_shared`]): each transition is also stored
//! there, in a transaction that makes it happen once, and every node resolves
//! approvals against its mirror of the store (module `shared`). The records are
//! marked to be kept through purges.
//!
//! It must not decide by itself what the policies decide, nor keep state anywhere
//! but the log and the shared store. It does not destroy data itself: crypto-erasure
//! goes through a [`Shredder`] (the vault), and the other methods are carried out by
//! the host and recorded here. It does not install itself in the engine: the
//! composition root makes [`Workflows::approvals`] the engine's resolver.
//!
//! ```
//! use govdata::audit::{AuditLog, AuditOptions, SealingKey, Timestamp};
//! use govdata::workflow::{ShareApplication, WorkflowConfig, Workflows};
//! use govdata::model::ScenarioRisk;
//! use govdata::Engine;
//! use std::sync::Arc;
//! # let dir = std::env::temp_dir().join(format!("govdata-wf-doc-{}", std::process::id()));
//! let engine = Arc::new(Engine::with_defaults()?);
//! let log = Arc::new(AuditLog::open(&dir, SealingKey::from_bytes([7; 32]), AuditOptions::default())?);
//! let flows = Workflows::open(engine.clone(), log, WorkflowConfig::default())?;
//! engine.set_approval_resolver(Some(flows.approvals()));
//!
//! let app = ShareApplication {
//!     purpose: "social_security_check".into(),
//!     legal_basis: "社会保险法第五十八条".into(),
//!     fields: vec!["name".into(), "id_number".into()],
//!     until: Timestamp::parse("2099-12-31")?,
//!     scenario_risk: ScenarioRisk::Low,
//!     recipient_department: None,
//! };
//! let submitted = flows.request_share("wang.wu", "hukou", app)?.into_record().unwrap();
//! let approved = flows.approve_share("gongan.officer", &submitted.id, None)?;
//! assert!(approved.allowed());
//! let provisioned = flows.provision_share("li.si", &submitted.id)?.into_record().unwrap();
//! assert_eq!(provisioned.status.as_str(), "provisioned");
//! // The receiving analyst's query cites the approval, which the engine resolves.
//! let query = govdata::Request::from_json(&serde_json::json!({
//!     "principal": "wang.wu", "action": "query", "resource": "hukou",
//!     "context": {"approval": provisioned.approval_id()}}))?;
//! assert!(engine.decide(&query)?.allowed());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), govdata::Error>(())
//! ```

mod approval;
mod calendar;
mod destruction;
mod records;
mod replay;
mod shared;
mod sharing;
#[cfg(feature = "testing")]
mod testing;
mod txn;

pub use approval::UNCONDITIONAL_APPROVER;

pub use calendar::{ReviewDays, WorkingCalendar};
pub use destruction::{
    DestructionApproval, DestructionMethod, DestructionRequest, DestructionStatus, Execution,
    ExecutionDetails, Shredder,
};
pub use records::kind;
pub use replay::{replay, RebuildReport, Replay, Skipped};
pub use shared::{
    MirrorStatus, Procedure, ProcedureMirror, ProcedureRequest, ProcedureStore,
    ProcedureTransaction, Transition,
};
pub use sharing::{
    Deadlines, ShareApplication, ShareApproval, ShareStatus, SharingRequest, StepRecord,
};
#[cfg(feature = "testing")]
pub use testing::MemoryShredder;

use crate::audit::{AuditLog, AuditRecord, Clock, Event, Timestamp, RETAIN_FIELD};
use crate::engine::{ApprovalResolver, Context, Decision, Engine, Request, Resource};
use crate::error::{Error, Result};
use crate::model::Action;
use crate::platform::record;
use crate::policy::Citation;
use approval::Inner;
use records::State;
use replay::rebuild;
use serde::Serialize;
use serde_json::Value;
use shared::Freshness;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How the procedures run.
#[derive(Clone)]
pub struct WorkflowConfig {
    /// The working days each review may take.
    pub review_days: ReviewDays,
    /// Which days are working days.
    pub calendar: WorkingCalendar,
    /// How long a destruction approval stays valid: 30 days.
    pub destruction_approval_valid: Duration,
    /// The clock (the system clock when `None`); give the audit log the same one.
    pub clock: Option<Clock>,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        WorkflowConfig {
            review_days: ReviewDays::default(),
            calendar: WorkingCalendar::new(),
            destruction_approval_valid: Duration::from_secs(30 * 24 * 3600),
            clock: None,
        }
    }
}

impl fmt::Debug for WorkflowConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowConfig")
            .field("review_days", &self.review_days)
            .field("calendar", &self.calendar)
            .field(
                "destruction_approval_valid",
                &self.destruction_approval_valid,
            )
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl WorkflowConfig {
    /// Sets the review deadlines.
    pub fn review_days(mut self, days: ReviewDays) -> Self {
        self.review_days = days;
        self
    }
    /// Sets the working calendar.
    pub fn calendar(mut self, calendar: WorkingCalendar) -> Self {
        self.calendar = calendar;
        self
    }
    /// Sets how long a destruction approval stays valid.
    pub fn destruction_approval_valid(mut self, valid: Duration) -> Self {
        self.destruction_approval_valid = valid;
        self
    }
    /// Sets the clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }
}

/// The outcome of a step: done (the record as it now stands, and the allowing
/// decision) or refused (the denying decision, recorded in the log).
#[derive(Debug, Clone)]
pub enum Step<T> {
    /// The step happened.
    Done {
        /// The request after the step.
        record: T,
        /// The decision that allowed it.
        decision: Decision,
    },
    /// The step was refused; nothing changed but the record of the refusal.
    Refused {
        /// The deny, with its reasons.
        decision: Decision,
    },
}

impl<T> Step<T> {
    /// Whether the step happened.
    pub fn allowed(&self) -> bool {
        matches!(self, Step::Done { .. })
    }
    /// The decision of the step.
    pub fn decision(&self) -> &Decision {
        match self {
            Step::Done { decision, .. } | Step::Refused { decision } => decision,
        }
    }
    /// The request after the step, if it happened.
    pub fn record(&self) -> Option<&T> {
        match self {
            Step::Done { record, .. } => Some(record),
            Step::Refused { .. } => None,
        }
    }
    /// The request after the step, if it happened.
    pub fn into_record(self) -> Option<T> {
        match self {
            Step::Done { record, .. } => Some(record),
            Step::Refused { .. } => None,
        }
    }
}

/// The sharing and destruction procedures over an engine and its audit log.
///
/// `Send + Sync`. Steps are taken one at a time (each is a decision, a durable append
/// and a change of state); approvals resolve concurrently with them.
pub struct Workflows {
    engine: Arc<Engine>,
    log: Arc<AuditLog>,
    inner: Arc<Inner>,
    writer: Mutex<()>,
    shredder: RwLock<Option<Arc<dyn Shredder>>>,
    report: RebuildReport,
    /// The store the procedures are shared through, if they are.
    shared: Option<Arc<dyn ProcedureStore>>,
}

impl fmt::Debug for Workflows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflows")
            .field("config", &self.inner.config)
            .field("report", &self.report)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

/// A step that was tried: what a refusal record names.
#[derive(Clone, Copy)]
pub(super) struct Attempt<'a> {
    kind: &'a str,
    user: &'a str,
    action: Action,
    dataset: &'a str,
    request: Option<&'a str>,
    step: &'a str,
}

pub(super) fn required(name: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::request(format!("`{name}` is required and empty")));
    }
    Ok(v.to_owned())
}

fn to_fields(value: &impl Serialize) -> Result<serde_json::Map<String, Value>> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::request("cannot encode a workflow record")),
    }
}

impl Workflows {
    /// Opens the procedures of one node over `engine` and `log`: rebuilds their state
    /// from every record of the log. Make [`Workflows::approvals`] the engine's
    /// resolver for requests to cite their approvals (the composition root does).
    pub fn open(engine: Arc<Engine>, log: Arc<AuditLog>, config: WorkflowConfig) -> Result<Self> {
        let mut state = State::default();
        let report = rebuild(&log, &mut state)?;
        Ok(Workflows::with_state(
            engine, log, config, state, report, None, None,
        ))
    }

    /// Opens the procedures shared through `store` by every node of a platform: the
    /// requests are the store's, each step is taken in one of its transactions and
    /// recorded in `log`, and approvals resolve against a mirror of the store that its
    /// watcher keeps current. A mirror that has not reached the store for longer than
    /// `staleness` resolves every approval to nothing until it reaches it again.
    /// Waits at most `staleness` for the store's first reading; a store that cannot
    /// be reached is not an error here (steps then fail with `store_unavailable`).
    pub fn open_shared(
        engine: Arc<Engine>,
        log: Arc<AuditLog>,
        config: WorkflowConfig,
        store: Arc<dyn ProcedureStore>,
        staleness: Duration,
    ) -> Result<Self> {
        let flows = Workflows::with_state(
            engine,
            log,
            config,
            State::default(),
            RebuildReport::default(),
            Some(store.clone()),
            Some(Freshness::new(staleness)),
        );
        let mirror: Arc<dyn ProcedureMirror> = flows.inner.clone();
        store.watch(Arc::downgrade(&mirror), staleness)?;
        Ok(flows)
    }

    fn with_state(
        engine: Arc<Engine>,
        log: Arc<AuditLog>,
        config: WorkflowConfig,
        state: State,
        report: RebuildReport,
        shared: Option<Arc<dyn ProcedureStore>>,
        freshness: Option<Freshness>,
    ) -> Self {
        let inner = Arc::new(Inner {
            state: RwLock::new(state),
            config,
            engine: Arc::downgrade(&engine),
            freshness,
        });
        Workflows {
            engine,
            log,
            inner,
            writer: Mutex::new(()),
            shredder: RwLock::new(None),
            report,
            shared,
        }
    }

    /// The resolver of the approval ids that requests cite: install it in the engine
    /// (`engine.set_approval_resolver`; one resolver per engine).
    pub fn approvals(&self) -> Arc<dyn ApprovalResolver> {
        self.inner.clone()
    }

    /// Whether the procedures are shared through a store.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// For shared procedures, what the node's mirror of the store holds and how fresh
    /// it is (`None` for the procedures of one node).
    pub fn mirror_status(&self) -> Option<MirrorStatus> {
        let f = self.inner.freshness.as_ref()?;
        let state = self.inner.read();
        Some(MirrorStatus {
            fresh: f.is_fresh(),
            staleness_ms: u64::try_from(f.bound().as_millis()).unwrap_or(u64::MAX),
            reached_ms_ago: f
                .age()
                .map(|a| u64::try_from(a.as_millis()).unwrap_or(u64::MAX)),
            change: state.change,
            shares: state.shares.len(),
            destructions: state.destructions.len(),
        })
    }

    /// What rebuilding the state from the log found.
    pub fn rebuild_report(&self) -> &RebuildReport {
        &self.report
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The audit log.
    pub fn log(&self) -> &Arc<AuditLog> {
        &self.log
    }

    /// Installs the shredder that carries out crypto-erasure (the vault).
    pub fn set_shredder(&self, shredder: Option<Arc<dyn Shredder>>) {
        if let Ok(mut s) = self.shredder.write() {
            *s = shredder;
        }
    }

    /// The current time of the procedures' clock.
    pub fn now(&self) -> Timestamp {
        self.inner.now()
    }

    // ----- internals -----

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn decide(
        &self,
        principal: &str,
        action: Action,
        dataset: &str,
        context: Context,
    ) -> Result<Decision> {
        self.engine.decide(&Request {
            principal: principal.to_owned(),
            action,
            resource: Resource::dataset(dataset),
            context,
        })
    }

    /// A refusal by a rule of the procedure itself, which no policy sees, under the
    /// pack that made `decision`.
    pub(super) fn rule(&self, rule: &Citation, decision: &Decision) -> Decision {
        Decision::refusal(rule, decision.policy_version())
    }

    /// A workflow event: the acting user and their department, the action and
    /// dataset, the decision, and the step's fields (marked to be kept).
    pub(super) fn event(
        &self,
        kind: &str,
        user: Option<&str>,
        action: Action,
        dataset: &str,
        decision: Option<&Decision>,
        fields: &impl Serialize,
    ) -> Result<Event> {
        let mut e = Event::new(kind)
            .action(action)
            .resource(Resource::dataset(dataset));
        if let Some(u) = user {
            e = e.user(u);
            if let Some(d) = self.engine.inventory().user(u) {
                e = e.department(d.department.clone());
            }
        }
        e.fields = to_fields(fields)?;
        e.fields.insert(RETAIN_FIELD.into(), Value::Bool(true));
        if let Some(d) = decision {
            record::stamp_decision(&mut e, d);
            if let Some(seq) = d.audit_seq() {
                e.fields.insert("decision_seq".into(), Value::from(seq));
            }
        }
        Ok(e)
    }

    /// Appends the events as one batch, then applies them to the state.
    pub(super) fn commit(&self, events: &[Event]) -> Result<()> {
        let seqs = self.log.append_batch(events)?;
        let time = self.now();
        let mut state = self.inner.state.write().unwrap_or_else(|p| p.into_inner());
        for (seq, event) in seqs.zip(events) {
            let record = AuditRecord {
                seq,
                time,
                event: event.clone(),
            };
            if records::is_transition(&event.kind) {
                records::apply(&mut state, &record).map_err(|m| Error::WorkflowInvalid {
                    message: format!("record {seq}: {m}"),
                })?;
            }
        }
        Ok(())
    }

    /// Records a refused step and returns it.
    pub(super) fn refused<T>(&self, at: &Attempt<'_>, mut decision: Decision) -> Result<Step<T>> {
        let Attempt {
            kind,
            user,
            action,
            dataset,
            request,
            step,
        } = *at;
        let mut fields = serde_json::Map::new();
        if let Some(r) = request {
            fields.insert("request".into(), Value::from(r));
        }
        fields.insert("step".into(), Value::from(step));
        fields.insert("at".into(), Value::from(self.now().to_string()));
        let mut event = self.event(kind, Some(user), action, dataset, Some(&decision), &fields)?;
        event.fields.remove(RETAIN_FIELD);
        record::append_citing(&self.log, &event, &mut decision)?;
        Ok(Step::Refused { decision })
    }
}
