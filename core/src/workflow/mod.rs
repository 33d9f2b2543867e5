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
//! record ([`kind`]); a refused step is recorded too. The audit log is the only store:
//! [`Workflows::open`] rebuilds the state from it, so nothing else needs a backup.
//! The records are marked to be kept through purges.
//!
//! It must not decide by itself what the policies decide, nor keep state anywhere
//! but the log. It does not destroy data itself: crypto-erasure goes through a
//! [`Shredder`] (the vault), and the other methods are carried out by the host and
//! recorded here.
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

mod calendar;
mod destruction;
mod records;
mod sharing;

pub use calendar::{ReviewDays, WorkingCalendar};
pub use destruction::{
    DestructionApproval, DestructionMethod, DestructionRequest, DestructionStatus, Execution,
    ExecutionDetails, MemoryShredder, Shredder,
};
pub use records::kind;
pub use sharing::{
    Deadlines, ShareApplication, ShareApproval, ShareStatus, SharingRequest, StepRecord,
};

use crate::audit::{
    AuditLog, AuditRecord, Clock, Event, Outcome, Timestamp, Verdict, RETAIN_FIELD,
};
use crate::engine::{
    ApprovalResolver, Context, Decision, Engine, Request, ResolvedApproval, Resource,
};
use crate::error::{Error, Result};
use crate::model::{Action, Inventory, ResourceKind, ShareType, Stage};
use records::State;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, Weak};
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

/// A record the rebuild could not fit into the procedures (it authenticates, but
/// does not follow from the records before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The record's sequence number.
    pub seq: u64,
    /// Its kind.
    pub kind: String,
    /// Why it does not fit.
    pub reason: String,
}

/// What rebuilding the state from the log found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    /// Records read.
    pub records: u64,
    /// Transitions applied.
    pub transitions: u64,
    /// Sharing requests known.
    pub shares: usize,
    /// Destruction requests known.
    pub destructions: usize,
    /// Records that did not fit.
    pub skipped: Vec<Skipped>,
}

/// What the resolver needs: the state, the clock and the inventory (through the
/// engine, held weakly so that the engine and its resolver do not keep each other).
struct Inner {
    state: RwLock<State>,
    config: WorkflowConfig,
    engine: Weak<Engine>,
}

impl Inner {
    fn now(&self) -> Timestamp {
        match &self.config.clock {
            Some(c) => c(),
            None => Timestamp::now(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn snapshot_share(&self, s: &SharingRequest, now: Timestamp) -> SharingRequest {
        let mut s = s.clone();
        s.status = s.status_at(now);
        s.overdue = s.status == ShareStatus::Submitted
            && self.config.calendar.local_date(now) > s.deadlines.provider_reply;
        s
    }
}

/// Whether department `dept` is `root` or one of its sub-departments.
fn within(inv: &Inventory, dept: &str, root: &str) -> bool {
    let mut cur = Some(dept);
    let mut hops = 0;
    while let Some(d) = cur {
        if d == root {
            return true;
        }
        if hops > 64 {
            return false;
        }
        hops += 1;
        cur = inv.department(d).and_then(|d| d.parent.as_deref());
    }
    false
}

fn is_vendor(inv: &Inventory, user: &str) -> bool {
    inv.user(user).is_none_or(|u| u.is_vendor_staff())
}

impl ApprovalResolver for Inner {
    fn resolve(&self, id: &str, request: &Request) -> Option<ResolvedApproval> {
        if request.resource.kind != ResourceKind::Dataset {
            return None;
        }
        let request_id = id.strip_prefix("apr-")?;
        let engine = self.engine.upgrade()?;
        let inv = engine.inventory();
        let now = self.now();
        let state = self.read();
        if let Some(share) = state.shares.get(request_id) {
            return resolve_share(share, id, request, &inv, now);
        }
        if let Some(d) = state.destructions.get(request_id) {
            return resolve_destruction(d, id, request, &inv, now);
        }
        None
    }
}

fn resolve_share(
    share: &SharingRequest,
    id: &str,
    request: &Request,
    inv: &Inventory,
    now: Timestamp,
) -> Option<ResolvedApproval> {
    let approval = share.approval.as_ref()?;
    if approval.id != id || share.dataset != request.resource.id {
        return None;
    }
    let dataset = inv.dataset(&share.dataset)?;
    // Entitled: a reviewer who is not the requester and not vendor staff, or no
    // review at all for data that is (still) shared without conditions.
    match &approval.approver {
        Some(by) if by != &share.requester && !is_vendor(inv, by) => {}
        None if dataset.share_type == ShareType::Unconditional => {}
        _ => return None,
    }
    if dataset.share_type == ShareType::None || now >= share.until {
        return None;
    }
    match (request.action, share.recorded_status()) {
        (Action::Share, ShareStatus::Approved) => {
            if request.context.recipient_department.as_deref()
                != Some(share.recipient_department.as_str())
                || request.principal == share.requester
            {
                return None;
            }
        }
        (Action::Query | Action::Process, ShareStatus::Provisioned) => {
            let user = inv.user(&request.principal)?;
            if !within(inv, &user.department, &share.recipient_department) {
                return None;
            }
            if let Some(p) = &request.context.purpose {
                if p != &share.purpose {
                    return None;
                }
            }
            if let Some(r) = request.context.scenario_risk {
                if r.ordinal() > share.scenario_risk.ordinal() {
                    return None;
                }
            }
        }
        _ => return None,
    }
    Some(ResolvedApproval {
        id: approval.id.clone(),
        approver: approval
            .approver
            .clone()
            .unwrap_or_else(|| UNCONDITIONAL_APPROVER.to_owned()),
    })
}

fn resolve_destruction(
    d: &DestructionRequest,
    id: &str,
    request: &Request,
    inv: &Inventory,
    now: Timestamp,
) -> Option<ResolvedApproval> {
    let approval = d.approval.as_ref()?;
    if approval.id != id
        || d.dataset != request.resource.id
        || request.action != Action::Destroy
        || d.status != DestructionStatus::Approved
        || now >= approval.valid_until
        || request.principal != approval.executor
        || approval.approver == d.requester
        || is_vendor(inv, &approval.approver)
    {
        return None;
    }
    Some(ResolvedApproval {
        id: approval.id.clone(),
        approver: approval.approver.clone(),
    })
}

/// The approver an approval without review names (unconditional data, Art. 14).
pub const UNCONDITIONAL_APPROVER: &str = "share_type:unconditional";

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
}

impl fmt::Debug for Workflows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflows")
            .field("config", &self.inner.config)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// A step that was tried: what a refusal record names.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    kind: &'a str,
    user: &'a str,
    action: Action,
    dataset: &'a str,
    request: Option<&'a str>,
    step: &'a str,
}

/// A rule of the procedure itself, which no policy sees.
struct Rule {
    id: &'static str,
    article: &'static str,
    zh: &'static str,
    en: &'static str,
}

const NO_SELF_REVIEW: Rule = Rule {
    id: "workflow-no-self-review",
    article: "第十四条",
    zh: "共享申请人不得审核本人提出的申请",
    en: "the requester never reviews their own sharing request",
};
const NO_VENDOR_REVIEW: Rule = Rule {
    id: "workflow-no-vendor-review",
    article: "第十四条",
    zh: "供应商人员不得审核共享申请",
    en: "vendor staff never review a sharing request",
};
const NO_SHARE_NONE: Rule = Rule {
    id: "workflow-no-share-none",
    article: "第十四条",
    zh: "不予共享类数据不得提出共享申请",
    en: "data marked not for sharing (不予共享) cannot be requested",
};
const NO_SELF_APPROVAL: Rule = Rule {
    id: "workflow-no-self-approval",
    article: "第十五条",
    zh: "销毁申请人不得审批本人提出的销毁申请",
    en: "the requester never approves their own destruction request",
};
const NO_VENDOR_APPROVAL: Rule = Rule {
    id: "workflow-no-vendor-approval",
    article: "第十五条",
    zh: "供应商人员不得审批数据销毁",
    en: "vendor staff never approve a destruction",
};
const DUAL_CONTROL: Rule = Rule {
    id: "workflow-dual-control",
    article: "第十五条",
    zh: "双人控制：须由执行人以外的另一名本平台人员在场见证",
    en: "dual control: another platform user than the executor witnesses the destruction",
};
const PHYSICAL_NEEDS_OPERATOR: Rule = Rule {
    id: "workflow-physical-destruction-record",
    article: "第十五条",
    zh: "物理销毁须记录外部执行单位和见证人",
    en: "a physical destruction records the external operator and a witness",
};
const UNMET_OBLIGATION: Rule = Rule {
    id: "workflow-unmet-obligation",
    article: "第十五条",
    zh: "销毁判定附带的义务无法由销毁流程履行",
    en: "the destruction decision carries an obligation the procedure cannot meet",
};

fn required(name: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::request(format!("`{name}` is required and empty")));
    }
    Ok(v.to_owned())
}

fn unknown_share(id: &str) -> Error {
    Error::UnknownEntity {
        kind: "sharing request",
        id: id.to_owned(),
    }
}

fn unknown_destruction(id: &str) -> Error {
    Error::UnknownEntity {
        kind: "destruction request",
        id: id.to_owned(),
    }
}

fn to_fields(value: &impl Serialize) -> Result<serde_json::Map<String, Value>> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::request("cannot encode a workflow record")),
    }
}

impl Workflows {
    /// Opens the procedures over `engine` and `log`: rebuilds their state from every
    /// record of the log, and installs them as the engine's approval resolver (one
    /// resolver per engine: opening another replaces it).
    pub fn open(engine: Arc<Engine>, log: Arc<AuditLog>, config: WorkflowConfig) -> Result<Self> {
        let mut state = State::default();
        let report = rebuild(&log, &mut state)?;
        let inner = Arc::new(Inner {
            state: RwLock::new(state),
            config,
            engine: Arc::downgrade(&engine),
        });
        engine.set_approval_resolver(Some(inner.clone() as Arc<dyn ApprovalResolver>));
        Ok(Workflows {
            engine,
            log,
            inner,
            writer: Mutex::new(()),
            shredder: RwLock::new(None),
            report,
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

    // ----- sharing -----

    /// Submits a sharing request for `dataset` (a `request_share` decision). Data
    /// shared without conditions is approved at once; conditional data waits for the
    /// providing department's review; data not for sharing is refused.
    pub fn request_share(
        &self,
        requester: &str,
        dataset: &str,
        application: ShareApplication,
    ) -> Result<Step<SharingRequest>> {
        let purpose = required("purpose", &application.purpose)?;
        let legal_basis = required("legal_basis", &application.legal_basis)?;
        if application.fields.is_empty() {
            return Err(Error::request("`fields` lists no field"));
        }
        let fields = application
            .fields
            .iter()
            .map(|f| required("fields", f))
            .collect::<Result<Vec<_>>>()?;
        let _w = self.lock();
        let now = self.now();
        if application.until <= now {
            return Err(Error::request(format!(
                "the term ends at {} which is not after now ({now})",
                application.until
            )));
        }
        let inv = self.engine.inventory();
        let user = inv.user(requester).ok_or_else(|| Error::UnknownEntity {
            kind: "user",
            id: requester.to_owned(),
        })?;
        let ds = inv.dataset(dataset).ok_or_else(|| Error::UnknownEntity {
            kind: "dataset",
            id: dataset.to_owned(),
        })?;
        let recipient = application
            .recipient_department
            .clone()
            .unwrap_or_else(|| user.department.clone());
        let context = Context {
            purpose: Some(purpose.clone()),
            legal_basis: Some(legal_basis.clone()),
            scenario_risk: Some(application.scenario_risk),
            recipient_department: Some(recipient.clone()),
            ..Context::default()
        };
        let decision = self.decide(requester, Action::RequestShare, dataset, context)?;
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user: requester,
            action: Action::RequestShare,
            dataset,
            request: None,
            step: "request",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        if ds.share_type == ShareType::None {
            let d = self.rule(&NO_SHARE_NONE, &decision);
            return self.refused(&attempt, d);
        }
        let id = {
            let state = self.inner.read();
            format!("shr-{:06}", state.share_counter + 1)
        };
        let on_platform = ds.cataloged && ds.stage != Stage::Aggregation;
        let days = self.inner.config.review_days;
        let cal = &self.inner.config.calendar;
        let check = cal.add_working_days(cal.local_date(now), days.conformity_check);
        let reply = cal.add_working_days(
            check,
            if on_platform {
                days.provider_reply
            } else {
                days.provider_reply_off_platform
            },
        );
        let submitted = records::Submitted {
            request: id.clone(),
            at: now,
            provider: ds.owner.clone(),
            share_type: ds.share_type,
            grade: ds.grade,
            on_platform,
            recipient_department: recipient,
            purpose,
            legal_basis,
            fields,
            until: application.until,
            scenario_risk: application.scenario_risk,
            deadlines: Deadlines {
                conformity_check: check,
                provider_reply: reply,
            },
        };
        let mut events = vec![self.event(
            kind::SHARING_SUBMITTED,
            Some(requester),
            Action::RequestShare,
            dataset,
            Some(&decision),
            &submitted,
        )?];
        if ds.share_type == ShareType::Unconditional {
            events.push(self.event(
                kind::SHARING_APPROVED,
                None,
                Action::ReviewShare,
                dataset,
                None,
                &records::Approved {
                    request: id.clone(),
                    at: now,
                    approval: records::approval_id(&id),
                    auto: true,
                    comment: None,
                },
            )?);
        }
        self.commit(&events)?;
        self.done_share(&id, decision)
    }

    /// Approves a submitted request (a `review_share` decision by the providing
    /// department; never the requester, never vendor staff).
    pub fn approve_share(
        &self,
        reviewer: &str,
        id: &str,
        comment: Option<&str>,
    ) -> Result<Step<SharingRequest>> {
        self.review(reviewer, id, Ok(comment.map(str::to_owned)))
    }

    /// Rejects a submitted request, with a reason (a `review_share` decision).
    pub fn reject_share(
        &self,
        reviewer: &str,
        id: &str,
        reason: &str,
    ) -> Result<Step<SharingRequest>> {
        let reason = required("reason", reason)?;
        self.review(reviewer, id, Err(reason))
    }

    fn review(
        &self,
        reviewer: &str,
        id: &str,
        verdict: std::result::Result<Option<String>, String>,
    ) -> Result<Step<SharingRequest>> {
        let _w = self.lock();
        let now = self.now();
        let share = self.share_raw(id)?;
        self.expect_share(&share, &[ShareStatus::Submitted], now)?;
        let context = self.share_context(&share, None);
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user: reviewer,
            action: Action::ReviewShare,
            dataset: &share.dataset,
            request: Some(id),
            step: "review",
        };
        if reviewer == share.requester {
            let d = Decision::refusal(
                NO_SELF_REVIEW.id,
                NO_SELF_REVIEW.article,
                NO_SELF_REVIEW.zh,
                NO_SELF_REVIEW.en,
                &self.engine.policy_version(),
            );
            return self.refused(&attempt, d);
        }
        let decision = self.decide(reviewer, Action::ReviewShare, &share.dataset, context)?;
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        if is_vendor(&self.engine.inventory(), reviewer) {
            let d = self.rule(&NO_VENDOR_REVIEW, &decision);
            return self.refused(&attempt, d);
        }
        let event = match verdict {
            Ok(comment) => self.event(
                kind::SHARING_APPROVED,
                Some(reviewer),
                Action::ReviewShare,
                &share.dataset,
                Some(&decision),
                &records::Approved {
                    request: id.to_owned(),
                    at: now,
                    approval: records::approval_id(id),
                    auto: false,
                    comment,
                },
            )?,
            Err(reason) => self.event(
                kind::SHARING_REJECTED,
                Some(reviewer),
                Action::ReviewShare,
                &share.dataset,
                Some(&decision),
                &records::Reasoned {
                    request: id.to_owned(),
                    at: now,
                    reason,
                },
            )?,
        };
        self.commit(&[event])?;
        self.done_share(id, decision)
    }

    /// Provisions an approved share to its receiving department (a `share` decision
    /// that cites the approval; the policies name who provisions and the obligations
    /// that come with it).
    pub fn provision_share(&self, provisioner: &str, id: &str) -> Result<Step<SharingRequest>> {
        let _w = self.lock();
        let now = self.now();
        let share = self.share_raw(id)?;
        self.expect_share(&share, &[ShareStatus::Approved], now)?;
        let approval = records::approval_id(id);
        let context = self.share_context(&share, Some(approval.clone()));
        let decision = self.decide(provisioner, Action::Share, &share.dataset, context)?;
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user: provisioner,
            action: Action::Share,
            dataset: &share.dataset,
            request: Some(id),
            step: "provision",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        let event = self.event(
            kind::SHARING_PROVISIONED,
            Some(provisioner),
            Action::Share,
            &share.dataset,
            Some(&decision),
            &records::Provisioned {
                request: id.to_owned(),
                at: now,
                approval,
                recipient_department: share.recipient_department.clone(),
                obligations: decision.obligations().to_vec(),
            },
        )?;
        self.commit(&[event])?;
        self.done_share(id, decision)
    }

    /// Revokes an approved or provisioned share before its term ends, with a reason
    /// (a `review_share` decision: the providing department withdraws what it
    /// granted).
    pub fn revoke_share(&self, user: &str, id: &str, reason: &str) -> Result<Step<SharingRequest>> {
        let reason = required("reason", reason)?;
        let _w = self.lock();
        let now = self.now();
        let share = self.share_raw(id)?;
        self.expect_share(
            &share,
            &[ShareStatus::Approved, ShareStatus::Provisioned],
            now,
        )?;
        let context = self.share_context(&share, None);
        let decision = self.decide(user, Action::ReviewShare, &share.dataset, context)?;
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user,
            action: Action::ReviewShare,
            dataset: &share.dataset,
            request: Some(id),
            step: "revoke",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        let event = self.event(
            kind::SHARING_REVOKED,
            Some(user),
            Action::ReviewShare,
            &share.dataset,
            Some(&decision),
            &records::Reasoned {
                request: id.to_owned(),
                at: now,
                reason,
            },
        )?;
        self.commit(&[event])?;
        self.done_share(id, decision)
    }

    /// Records the expiry of every approved or provisioned share whose term has
    /// ended, and returns them. (An expired share resolves to nothing whether or not
    /// its expiry is recorded yet.)
    pub fn expire_shares(&self) -> Result<Vec<SharingRequest>> {
        let _w = self.lock();
        let now = self.now();
        let due: Vec<SharingRequest> = self
            .inner
            .read()
            .shares
            .values()
            .filter(|s| {
                matches!(
                    s.recorded_status(),
                    ShareStatus::Approved | ShareStatus::Provisioned
                ) && now >= s.until
            })
            .cloned()
            .collect();
        let mut events = Vec::new();
        for s in &due {
            events.push(self.event(
                kind::SHARING_EXPIRED,
                None,
                Action::Share,
                &s.dataset,
                None,
                &records::Expired {
                    request: s.id.clone(),
                    at: now,
                    until: s.until,
                },
            )?);
        }
        if !events.is_empty() {
            self.commit(&events)?;
        }
        let state = self.inner.read();
        Ok(due
            .iter()
            .filter_map(|s| state.shares.get(&s.id))
            .map(|s| self.inner.snapshot_share(s, now))
            .collect())
    }

    /// A sharing request as it stands now.
    pub fn share(&self, id: &str) -> Option<SharingRequest> {
        let now = self.now();
        self.inner
            .read()
            .shares
            .get(id)
            .map(|s| self.inner.snapshot_share(s, now))
    }

    /// Every sharing request as it stands now, by id.
    pub fn shares(&self) -> Vec<SharingRequest> {
        let now = self.now();
        self.inner
            .read()
            .shares
            .values()
            .map(|s| self.inner.snapshot_share(s, now))
            .collect()
    }

    /// The sharing requests still waiting for review after the provider's reply was
    /// due.
    pub fn overdue_shares(&self) -> Vec<SharingRequest> {
        self.shares().into_iter().filter(|s| s.overdue).collect()
    }

    // ----- destruction -----

    /// Requests the destruction of `dataset` by `method`, with a reason (a
    /// `request_destruction` decision). A dataset has at most one open destruction.
    pub fn request_destruction(
        &self,
        requester: &str,
        dataset: &str,
        method: DestructionMethod,
        reason: &str,
    ) -> Result<Step<DestructionRequest>> {
        let reason = required("reason", reason)?;
        let _w = self.lock();
        let now = self.now();
        let inv = self.engine.inventory();
        let ds = inv.dataset(dataset).ok_or_else(|| Error::UnknownEntity {
            kind: "dataset",
            id: dataset.to_owned(),
        })?;
        let decision = self.decide(
            requester,
            Action::RequestDestruction,
            dataset,
            Context::default(),
        )?;
        let attempt = Attempt {
            kind: kind::DESTRUCTION_REFUSED,
            user: requester,
            action: Action::RequestDestruction,
            dataset,
            request: None,
            step: "request",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        if let Some(open) = self.inner.read().destructions.values().find(|d| {
            d.dataset == dataset
                && matches!(
                    d.status,
                    DestructionStatus::Requested | DestructionStatus::Approved
                )
        }) {
            return Err(Error::WorkflowInvalid {
                message: format!(
                    "dataset `{dataset}` already has an open destruction request `{}` ({})",
                    open.id, open.status
                ),
            });
        }
        let id = format!("dst-{:06}", self.inner.read().destruction_counter + 1);
        let event = self.event(
            kind::DESTRUCTION_REQUESTED,
            Some(requester),
            Action::RequestDestruction,
            dataset,
            Some(&decision),
            &records::Requested {
                request: id.clone(),
                at: now,
                method,
                reason,
                owner: ds.owner.clone(),
                grade: ds.grade,
            },
        )?;
        self.commit(&[event])?;
        self.done_destruction(&id, decision)
    }

    /// Approves a requested destruction (an `approve_destruction` decision: the owning
    /// department's security officer, never the requester). The approval is granted
    /// to `executor` (the requester when `None`): only they may carry it out, within
    /// the approval's validity.
    pub fn approve_destruction(
        &self,
        approver: &str,
        id: &str,
        executor: Option<&str>,
    ) -> Result<Step<DestructionRequest>> {
        self.decide_destruction(approver, id, Ok(executor))
    }

    /// Rejects a requested destruction, with a reason (an `approve_destruction`
    /// decision).
    pub fn reject_destruction(
        &self,
        approver: &str,
        id: &str,
        reason: &str,
    ) -> Result<Step<DestructionRequest>> {
        let reason = required("reason", reason)?;
        self.decide_destruction(approver, id, Err(reason))
    }

    fn decide_destruction(
        &self,
        approver: &str,
        id: &str,
        verdict: std::result::Result<Option<&str>, String>,
    ) -> Result<Step<DestructionRequest>> {
        let _w = self.lock();
        let now = self.now();
        let d = self.destruction_raw(id)?;
        expect_destruction(&d, DestructionStatus::Requested)?;
        let attempt = Attempt {
            kind: kind::DESTRUCTION_REFUSED,
            user: approver,
            action: Action::ApproveDestruction,
            dataset: &d.dataset,
            request: Some(id),
            step: "approve",
        };
        if approver == d.requester {
            let dec = Decision::refusal(
                NO_SELF_APPROVAL.id,
                NO_SELF_APPROVAL.article,
                NO_SELF_APPROVAL.zh,
                NO_SELF_APPROVAL.en,
                &self.engine.policy_version(),
            );
            return self.refused(&attempt, dec);
        }
        let decision = self.decide(
            approver,
            Action::ApproveDestruction,
            &d.dataset,
            Context::default(),
        )?;
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        let inv = self.engine.inventory();
        if is_vendor(&inv, approver) {
            let dec = self.rule(&NO_VENDOR_APPROVAL, &decision);
            return self.refused(&attempt, dec);
        }
        let event = match verdict {
            Ok(executor) => {
                let executor = executor.unwrap_or(&d.requester).to_owned();
                if inv.user(&executor).is_none() {
                    return Err(Error::UnknownEntity {
                        kind: "user",
                        id: executor,
                    });
                }
                let valid = i64::try_from(self.inner.config.destruction_approval_valid.as_millis())
                    .unwrap_or(i64::MAX);
                self.event(
                    kind::DESTRUCTION_APPROVED,
                    Some(approver),
                    Action::ApproveDestruction,
                    &d.dataset,
                    Some(&decision),
                    &records::DestructionApproved {
                        request: id.to_owned(),
                        at: now,
                        approval: records::approval_id(id),
                        executor,
                        valid_until: Timestamp::from_unix_millis(
                            now.unix_millis().saturating_add(valid),
                        ),
                    },
                )?
            }
            Err(reason) => self.event(
                kind::DESTRUCTION_REJECTED,
                Some(approver),
                Action::ApproveDestruction,
                &d.dataset,
                Some(&decision),
                &records::Reasoned {
                    request: id.to_owned(),
                    at: now,
                    reason,
                },
            )?,
        };
        self.commit(&[event])?;
        self.done_destruction(id, decision)
    }

    /// Carries out an approved destruction (a `destroy` decision that cites the
    /// approval; only the user it was granted to). Crypto-erasure runs the installed
    /// [`Shredder`] and records the destroyed key ids; the other methods are done by
    /// the host and recorded here. Under dual control (the policies' obligation) and
    /// for physical destruction a witness is required; a physical destruction also
    /// names the external operator.
    pub fn execute_destruction(
        &self,
        executor: &str,
        id: &str,
        details: ExecutionDetails,
    ) -> Result<Step<DestructionRequest>> {
        let _w = self.lock();
        let now = self.now();
        let d = self.destruction_raw(id)?;
        expect_destruction(&d, DestructionStatus::Approved)?;
        let Some(approval) = d.approval.clone() else {
            return Err(Error::WorkflowInvalid {
                message: format!("`{id}` has no approval"),
            });
        };
        if now >= approval.valid_until {
            return Err(Error::WorkflowInvalid {
                message: format!(
                    "the approval of `{id}` lapsed at {}; request the destruction again",
                    approval.valid_until
                ),
            });
        }
        let context = Context {
            approval: Some(approval.id.clone()),
            ..Context::default()
        };
        let decision = self.decide(executor, Action::Destroy, &d.dataset, context)?;
        let attempt = Attempt {
            kind: kind::DESTRUCTION_REFUSED,
            user: executor,
            action: Action::Destroy,
            dataset: &d.dataset,
            request: Some(id),
            step: "execute",
        };
        let refuse = |dec: Decision| self.refused(&attempt, dec);
        if !decision.allowed() {
            return refuse(decision);
        }
        let inv = self.engine.inventory();
        let witness = details
            .witness
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty());
        let witness_ok = witness.is_some_and(|w| w != executor && !is_vendor(&inv, w));
        for o in decision.obligations() {
            match o.as_str() {
                "dual_control" if !witness_ok => {
                    return refuse(self.rule(&DUAL_CONTROL, &decision))
                }
                "dual_control" => {}
                _ => return refuse(self.rule(&UNMET_OBLIGATION, &decision)),
            }
        }
        let operator = details
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty());
        if d.method == DestructionMethod::PhysicalDestroy && (operator.is_none() || !witness_ok) {
            return refuse(self.rule(&PHYSICAL_NEEDS_OPERATOR, &decision));
        }
        let key_ids = if d.method == DestructionMethod::CryptoErase {
            let shredder = self
                .shredder
                .read()
                .ok()
                .and_then(|s| s.as_ref().map(Arc::clone))
                .ok_or_else(|| Error::WorkflowInvalid {
                    message: "crypto-erasure needs the vault, and none is attached".into(),
                })?;
            match shredder.shred(&d.dataset, executor, witness) {
                Ok(ids) => ids,
                Err(e) => {
                    let failed = self.event(
                        kind::DESTRUCTION_FAILED,
                        Some(executor),
                        Action::Destroy,
                        &d.dataset,
                        Some(&decision),
                        &records::Reasoned {
                            request: id.to_owned(),
                            at: now,
                            reason: format!("[{}] {e}", e.code()),
                        },
                    )?;
                    let mut failed = failed;
                    failed.outcome = Outcome::Failure;
                    self.commit(&[failed])?;
                    return Err(e);
                }
            }
        } else {
            Vec::new()
        };
        let event = self.event(
            kind::DESTRUCTION_EXECUTED,
            Some(executor),
            Action::Destroy,
            &d.dataset,
            Some(&decision),
            &records::Executed {
                request: id.to_owned(),
                at: now,
                approval: approval.id.clone(),
                method: d.method,
                grade: d.grade,
                owner: d.owner.clone(),
                requester: d.requester.clone(),
                approver: approval.approver.clone(),
                executor: executor.to_owned(),
                witness: witness.map(str::to_owned),
                operator: operator.map(str::to_owned),
                key_ids,
                note: details.note.clone(),
                obligations: decision.obligations().to_vec(),
            },
        )?;
        self.commit(&[event])?;
        self.done_destruction(id, decision)
    }

    /// A destruction request as it stands.
    pub fn destruction(&self, id: &str) -> Option<DestructionRequest> {
        self.inner.read().destructions.get(id).cloned()
    }

    /// Every destruction request, by id.
    pub fn destructions(&self) -> Vec<DestructionRequest> {
        self.inner.read().destructions.values().cloned().collect()
    }

    // ----- internals -----

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn decide(
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

    fn rule(&self, rule: &Rule, decision: &Decision) -> Decision {
        Decision::refusal(
            rule.id,
            rule.article,
            rule.zh,
            rule.en,
            decision.policy_version(),
        )
    }

    fn share_context(&self, share: &SharingRequest, approval: Option<String>) -> Context {
        Context {
            purpose: Some(share.purpose.clone()),
            legal_basis: Some(share.legal_basis.clone()),
            scenario_risk: Some(share.scenario_risk),
            recipient_department: Some(share.recipient_department.clone()),
            approval,
            ..Context::default()
        }
    }

    fn share_raw(&self, id: &str) -> Result<SharingRequest> {
        self.inner
            .read()
            .shares
            .get(id)
            .cloned()
            .ok_or_else(|| unknown_share(id))
    }

    fn destruction_raw(&self, id: &str) -> Result<DestructionRequest> {
        self.destruction(id).ok_or_else(|| unknown_destruction(id))
    }

    fn expect_share(
        &self,
        share: &SharingRequest,
        states: &[ShareStatus],
        now: Timestamp,
    ) -> Result<()> {
        let s = share.status_at(now);
        if states.contains(&s) {
            return Ok(());
        }
        let want: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        Err(Error::WorkflowInvalid {
            message: format!(
                "sharing request `{}` is {s}, not {}",
                share.id,
                want.join(" or ")
            ),
        })
    }

    /// A workflow event: the acting user and their department, the action and
    /// dataset, the decision, and the step's fields (marked to be kept).
    fn event(
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
            e.decision = Some(if d.allowed() {
                Verdict::Allow
            } else {
                Verdict::Deny
            });
            e.policies = d.reason_ids().into_iter().map(str::to_owned).collect();
            e.policy_version = Some(d.policy_version().to_owned());
            e.outcome = if d.allowed() {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            if let Some(seq) = d.audit_seq() {
                e.fields.insert("decision_seq".into(), Value::from(seq));
            }
        }
        Ok(e)
    }

    /// Appends the events as one batch, then applies them to the state.
    fn commit(&self, events: &[Event]) -> Result<()> {
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
    fn refused<T>(&self, at: &Attempt<'_>, mut decision: Decision) -> Result<Step<T>> {
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
        let seqs = self.log.append_batch(&[event])?;
        if decision.audit_seq().is_none() {
            decision.set_audit_seq(*seqs.end());
        }
        Ok(Step::Refused { decision })
    }

    fn done_share(&self, id: &str, decision: Decision) -> Result<Step<SharingRequest>> {
        let record = self.share(id).ok_or_else(|| unknown_share(id))?;
        Ok(Step::Done { record, decision })
    }

    fn done_destruction(&self, id: &str, decision: Decision) -> Result<Step<DestructionRequest>> {
        let record = self
            .destruction(id)
            .ok_or_else(|| unknown_destruction(id))?;
        Ok(Step::Done { record, decision })
    }
}

fn expect_destruction(d: &DestructionRequest, status: DestructionStatus) -> Result<()> {
    if d.status == status {
        return Ok(());
    }
    Err(Error::WorkflowInvalid {
        message: format!(
            "destruction request `{}` is {}, not {status}",
            d.id, d.status
        ),
    })
}

/// Rebuilds the state from every record of the log: the transitions in the order of
/// their original sequence numbers (a purge's copies of retained records come after
/// later records, and may repeat one after an interrupted purge).
fn rebuild(log: &AuditLog, state: &mut State) -> Result<RebuildReport> {
    let mut replay = Replayer::default();
    log.for_each_record(|r| {
        replay.feed(&r);
        Ok(())
    })?;
    Ok(replay.finish(state))
}

/// Collects the procedures' records in sequence order (a retained copy stands for its
/// original), then applies them.
#[derive(Default)]
struct Replayer {
    report: RebuildReport,
    transitions: BTreeMap<u64, AuditRecord>,
}

impl Replayer {
    fn feed(&mut self, r: &AuditRecord) {
        self.report.records += 1;
        let Some(original) = r.original() else {
            self.report.skipped.push(Skipped {
                seq: r.seq,
                kind: r.event.kind.clone(),
                reason: "the copy of a retained record does not parse".into(),
            });
            return;
        };
        if records::is_transition(&original.event.kind) {
            self.transitions.entry(original.seq).or_insert(original);
        }
    }

    fn finish(self, state: &mut State) -> RebuildReport {
        let mut report = self.report;
        for (seq, record) in self.transitions {
            match records::apply(state, &record) {
                Ok(()) => report.transitions += 1,
                Err(reason) => report.skipped.push(Skipped {
                    seq,
                    kind: record.event.kind.clone(),
                    reason,
                }),
            }
        }
        report.shares = state.shares.len();
        report.destructions = state.destructions.len();
        report
    }
}

/// The procedures' state rebuilt from records read elsewhere — a log read with
/// [`AuditLog::read_dir`], a backup — without an engine: what [`Workflows::open`]
/// rebuilds, for reports such as the self-assessment.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// Every sharing request, by id, with its status as recorded (a share past its
    /// term but not yet expired shows as approved or provisioned).
    pub shares: Vec<SharingRequest>,
    /// Every destruction request, by id.
    pub destructions: Vec<DestructionRequest>,
    /// What the rebuild read, applied and skipped.
    pub report: RebuildReport,
}

/// Rebuilds the procedures' state from `records` (in any order; each transition is
/// applied in sequence order, as [`Workflows::open`] does).
pub fn replay<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> Replay {
    let mut replayer = Replayer::default();
    for r in records {
        replayer.feed(r);
    }
    let mut state = State::default();
    let report = replayer.finish(&mut state);
    let shares = state
        .shares
        .into_values()
        .map(|mut s| {
            s.status = s.recorded_status();
            s
        })
        .collect();
    Replay {
        shares,
        destructions: state.destructions.into_values().collect(),
        report,
    }
}
