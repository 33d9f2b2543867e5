//! The audit records of the procedures, and the state they add up to.
//!
//! Every transition is one record; [`apply`] turns a record into its change of state,
//! both when a transition happens and when the state is rebuilt from the log, so the
//! two can never disagree.

use super::destruction::{
    DestructionApproval, DestructionMethod, DestructionRequest, DestructionStatus, Execution,
};
use super::sharing::{Deadlines, ShareApproval, ShareStatus, SharingRequest, StepRecord};
use crate::audit::{AuditRecord, Event, Outcome, Timestamp, Verdict};
use crate::model::{Grade, ScenarioRisk, ShareType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The record kinds of the procedures. Each record also carries `"retain": true`
/// (kept through purges), the request id in `request` and the time of the step in
/// `at`; a step that was a decision of the engine carries the decision (verdict,
/// deciding policies, pack version) and, when the engine recorded it separately, its
/// sequence number in `decision_seq`.
pub mod kind {
    /// A sharing request was submitted (`request_share` allowed).
    pub const SHARING_SUBMITTED: &str = "sharing.submitted";
    /// A sharing request was approved (`review_share` allowed, or without review).
    pub const SHARING_APPROVED: &str = "sharing.approved";
    /// A sharing request was rejected, with a reason.
    pub const SHARING_REJECTED: &str = "sharing.rejected";
    /// An approved share was provisioned (`share` allowed).
    pub const SHARING_PROVISIONED: &str = "sharing.provisioned";
    /// A share was revoked, with a reason.
    pub const SHARING_REVOKED: &str = "sharing.revoked";
    /// A share's term ended.
    pub const SHARING_EXPIRED: &str = "sharing.expired";
    /// A sharing step was refused (a deny, or a rule of the procedure).
    pub const SHARING_REFUSED: &str = "sharing.refused";
    /// A destruction was requested (`request_destruction` allowed).
    pub const DESTRUCTION_REQUESTED: &str = "destruction.requested";
    /// A destruction was approved (`approve_destruction` allowed).
    pub const DESTRUCTION_APPROVED: &str = "destruction.approved";
    /// A destruction was rejected, with a reason.
    pub const DESTRUCTION_REJECTED: &str = "destruction.rejected";
    /// A destruction was carried out (`destroy` allowed): the destruction record.
    pub const DESTRUCTION_EXECUTED: &str = "destruction.executed";
    /// Carrying out an allowed destruction failed (the vault's shred).
    pub const DESTRUCTION_FAILED: &str = "destruction.failed";
    /// A destruction step was refused (a deny, or a rule of the procedure).
    pub const DESTRUCTION_REFUSED: &str = "destruction.refused";
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Submitted {
    pub request: String,
    pub at: Timestamp,
    pub provider: String,
    pub share_type: ShareType,
    pub grade: Option<Grade>,
    pub on_platform: bool,
    pub recipient_department: String,
    pub purpose: String,
    pub legal_basis: String,
    pub fields: Vec<String>,
    pub until: Timestamp,
    pub scenario_risk: ScenarioRisk,
    pub deadlines: Deadlines,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Approved {
    pub request: String,
    pub at: Timestamp,
    pub approval: String,
    pub auto: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reasoned {
    pub request: String,
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Provisioned {
    pub request: String,
    pub at: Timestamp,
    pub approval: String,
    pub recipient_department: String,
    #[serde(default)]
    pub obligations: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Expired {
    pub request: String,
    pub at: Timestamp,
    pub until: Timestamp,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Requested {
    pub request: String,
    pub at: Timestamp,
    pub method: DestructionMethod,
    pub reason: String,
    pub owner: String,
    pub grade: Option<Grade>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DestructionApproved {
    pub request: String,
    pub at: Timestamp,
    pub approval: String,
    pub executor: String,
    pub valid_until: Timestamp,
}

/// The destruction record: everything about a destruction in one record.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Executed {
    pub request: String,
    pub at: Timestamp,
    pub approval: String,
    pub method: DestructionMethod,
    pub grade: Option<Grade>,
    pub owner: String,
    pub requester: String,
    pub approver: String,
    pub executor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub obligations: Vec<String>,
}

/// What the procedures know: every request, by id.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub shares: BTreeMap<String, SharingRequest>,
    pub destructions: BTreeMap<String, DestructionRequest>,
    pub share_counter: u64,
    pub destruction_counter: u64,
    /// Shared procedures: the change of the store that last moved each request.
    pub changes: BTreeMap<String, u64>,
    /// Shared procedures: the last change of the store held.
    pub change: u64,
}

/// Whether a record of `kind` changes the state of a procedure.
pub(crate) fn is_transition(kind: &str) -> bool {
    (kind.starts_with("sharing.") || kind.starts_with("destruction."))
        && kind != kind::SHARING_REFUSED
        && kind != kind::DESTRUCTION_REFUSED
}

fn parse<T: DeserializeOwned>(fields: &Map<String, Value>) -> Result<T, String> {
    T::deserialize(Value::Object(fields.clone())).map_err(|e| format!("fields: {e}"))
}

fn counter(id: &str, prefix: &str) -> u64 {
    id.strip_prefix(prefix)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn allowed(event: &Event) -> Result<(), String> {
    if event.decision == Some(Verdict::Allow) && event.outcome == Outcome::Success {
        Ok(())
    } else {
        Err("the step was not allowed".into())
    }
}

fn actor(event: &Event) -> Result<String, String> {
    event.user.clone().ok_or_else(|| "no acting user".into())
}

fn dataset(event: &Event) -> Result<String, String> {
    event
        .resource
        .as_ref()
        .map(|r| r.id.clone())
        .ok_or_else(|| "no dataset".into())
}

/// Applies one record to the state; an error says why the record does not fit (the
/// state is then unchanged).
pub(crate) fn apply(state: &mut State, record: &AuditRecord) -> Result<(), String> {
    let seq = record.seq;
    let e = &record.event;
    let f = &e.fields;
    match e.kind.as_str() {
        kind::SHARING_SUBMITTED => {
            allowed(e)?;
            let s: Submitted = parse(f)?;
            if state.shares.contains_key(&s.request) {
                return Err(format!("`{}` was already submitted", s.request));
            }
            state.share_counter = state.share_counter.max(counter(&s.request, "shr-"));
            state.shares.insert(
                s.request.clone(),
                SharingRequest {
                    id: s.request,
                    dataset: dataset(e)?,
                    provider: s.provider,
                    share_type: s.share_type,
                    grade: s.grade,
                    on_platform: s.on_platform,
                    requester: actor(e)?,
                    recipient_department: s.recipient_department,
                    purpose: s.purpose,
                    legal_basis: s.legal_basis,
                    fields: s.fields,
                    until: s.until,
                    scenario_risk: s.scenario_risk,
                    submitted_at: s.at,
                    submitted_seq: seq,
                    deadlines: s.deadlines,
                    status: ShareStatus::Submitted,
                    overdue: false,
                    approval: None,
                    rejected: None,
                    provisioned: None,
                    obligations: Vec::new(),
                    revoked: None,
                    expired: None,
                },
            );
            Ok(())
        }
        kind::SHARING_APPROVED => {
            let a: Approved = parse(f)?;
            let share = share_mut(state, &a.request, e)?;
            expect_share(share, &[ShareStatus::Submitted])?;
            let approver = if a.auto {
                if share.share_type != ShareType::Unconditional {
                    return Err("only unconditional data is approved without review".into());
                }
                None
            } else {
                allowed(e)?;
                let by = actor(e)?;
                if by == share.requester {
                    return Err("the requester approved their own request".into());
                }
                Some(by)
            };
            if a.approval != approval_id(&share.id) {
                return Err(format!("unexpected approval id `{}`", a.approval));
            }
            share.approval = Some(ShareApproval {
                id: a.approval,
                approver,
                at: a.at,
                comment: a.comment,
                seq,
            });
            Ok(())
        }
        kind::SHARING_REJECTED => {
            allowed(e)?;
            let r: Reasoned = parse(f)?;
            let share = share_mut(state, &r.request, e)?;
            expect_share(share, &[ShareStatus::Submitted])?;
            share.rejected = Some(step(e, r.at, Some(r.reason), seq));
            Ok(())
        }
        kind::SHARING_PROVISIONED => {
            allowed(e)?;
            let p: Provisioned = parse(f)?;
            let share = share_mut(state, &p.request, e)?;
            expect_share(share, &[ShareStatus::Approved])?;
            share.provisioned = Some(step(e, p.at, None, seq));
            share.obligations = p.obligations;
            Ok(())
        }
        kind::SHARING_REVOKED => {
            allowed(e)?;
            let r: Reasoned = parse(f)?;
            let share = share_mut(state, &r.request, e)?;
            expect_share(share, &[ShareStatus::Approved, ShareStatus::Provisioned])?;
            share.revoked = Some(step(e, r.at, Some(r.reason), seq));
            Ok(())
        }
        kind::SHARING_EXPIRED => {
            let x: Expired = parse(f)?;
            let share = share_mut(state, &x.request, e)?;
            expect_share(share, &[ShareStatus::Approved, ShareStatus::Provisioned])?;
            share.expired = Some(step(e, x.at, None, seq));
            Ok(())
        }
        kind::DESTRUCTION_REQUESTED => {
            allowed(e)?;
            let r: Requested = parse(f)?;
            if state.destructions.contains_key(&r.request) {
                return Err(format!("`{}` was already requested", r.request));
            }
            state.destruction_counter = state.destruction_counter.max(counter(&r.request, "dst-"));
            state.destructions.insert(
                r.request.clone(),
                DestructionRequest {
                    id: r.request,
                    dataset: dataset(e)?,
                    owner: r.owner,
                    grade: r.grade,
                    method: r.method,
                    reason: r.reason,
                    requester: actor(e)?,
                    requested_at: r.at,
                    requested_seq: seq,
                    status: DestructionStatus::Requested,
                    approval: None,
                    rejected: None,
                    execution: None,
                    failures: Vec::new(),
                },
            );
            Ok(())
        }
        kind::DESTRUCTION_APPROVED => {
            allowed(e)?;
            let a: DestructionApproved = parse(f)?;
            let d = destruction_mut(state, &a.request, e)?;
            expect_destruction(d, DestructionStatus::Requested)?;
            let approver = actor(e)?;
            if approver == d.requester {
                return Err("the requester approved their own destruction".into());
            }
            if a.approval != approval_id(&d.id) {
                return Err(format!("unexpected approval id `{}`", a.approval));
            }
            d.approval = Some(DestructionApproval {
                id: a.approval,
                approver,
                at: a.at,
                executor: a.executor,
                valid_until: a.valid_until,
                seq,
            });
            d.status = DestructionStatus::Approved;
            Ok(())
        }
        kind::DESTRUCTION_REJECTED => {
            allowed(e)?;
            let r: Reasoned = parse(f)?;
            let d = destruction_mut(state, &r.request, e)?;
            expect_destruction(d, DestructionStatus::Requested)?;
            d.rejected = Some(step(e, r.at, Some(r.reason), seq));
            d.status = DestructionStatus::Rejected;
            Ok(())
        }
        kind::DESTRUCTION_EXECUTED => {
            allowed(e)?;
            let x: Executed = parse(f)?;
            let d = destruction_mut(state, &x.request, e)?;
            expect_destruction(d, DestructionStatus::Approved)?;
            d.execution = Some(Execution {
                executor: actor(e)?,
                at: x.at,
                witness: x.witness,
                operator: x.operator,
                key_ids: x.key_ids,
                note: x.note,
                obligations: x.obligations,
                seq,
            });
            d.status = DestructionStatus::Executed;
            Ok(())
        }
        kind::DESTRUCTION_FAILED => {
            let r: Reasoned = parse(f)?;
            let d = destruction_mut(state, &r.request, e)?;
            expect_destruction(d, DestructionStatus::Approved)?;
            d.failures.push(step(e, r.at, Some(r.reason), seq));
            Ok(())
        }
        other => Err(format!("unknown record kind `{other}`")),
    }
}

/// The approval id of a request.
pub(crate) fn approval_id(request: &str) -> String {
    format!("apr-{request}")
}

fn step(e: &Event, at: Timestamp, reason: Option<String>, seq: u64) -> StepRecord {
    StepRecord {
        by: e.user.clone(),
        at,
        reason,
        seq,
    }
}

fn share_mut<'a>(
    state: &'a mut State,
    id: &str,
    e: &Event,
) -> Result<&'a mut SharingRequest, String> {
    let share = state
        .shares
        .get_mut(id)
        .ok_or_else(|| format!("unknown sharing request `{id}`"))?;
    if e.resource.as_ref().map(|r| r.id.as_str()) != Some(share.dataset.as_str()) {
        return Err(format!("the record is not about the dataset of `{id}`"));
    }
    Ok(share)
}

fn destruction_mut<'a>(
    state: &'a mut State,
    id: &str,
    e: &Event,
) -> Result<&'a mut DestructionRequest, String> {
    let d = state
        .destructions
        .get_mut(id)
        .ok_or_else(|| format!("unknown destruction request `{id}`"))?;
    if e.resource.as_ref().map(|r| r.id.as_str()) != Some(d.dataset.as_str()) {
        return Err(format!("the record is not about the dataset of `{id}`"));
    }
    Ok(d)
}

fn expect_share(share: &SharingRequest, states: &[ShareStatus]) -> Result<(), String> {
    let s = share.recorded_status();
    if states.contains(&s) {
        Ok(())
    } else {
        Err(format!("`{}` is {s}", share.id))
    }
}

fn expect_destruction(d: &DestructionRequest, status: DestructionStatus) -> Result<(), String> {
    if d.status == status {
        Ok(())
    } else {
        Err(format!("`{}` is {}", d.id, d.status))
    }
}
