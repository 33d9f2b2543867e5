//! A decision as the audit log records it: the one mapping from a decision of the
//! engine to the fields of its record, used by the log as the engine's sink, by the
//! procedures for their steps and by viewing the log; and the one fallback that records
//! a decision itself when the engine has no log as its sink.

use crate::audit::{AuditLog, Event, Outcome, Verdict, DECISION_KIND};
use crate::engine::{Decision, Request};
use crate::error::Result;
use crate::model::Inventory;
use serde_json::{Map, Value};

/// Sets the decision's fields of `event`: allow or deny, the deciding policies, the
/// pack version and the outcome (a deny is a failed attempt).
pub fn stamp_decision(event: &mut Event, decision: &Decision) {
    event.decision = Some(if decision.allowed() {
        Verdict::Allow
    } else {
        Verdict::Deny
    });
    event.policies = decision
        .reason_ids()
        .into_iter()
        .map(str::to_owned)
        .collect();
    event.policy_version = Some(decision.policy_version().to_owned());
    event.outcome = if decision.allowed() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
}

impl Event {
    /// The record of one decision of the engine: the user and their department (from
    /// the inventory), the action, the resource, allow or deny, the deciding policies,
    /// the pack version, and the request's context.
    pub fn from_decision(request: &Request, inventory: &Inventory, decision: &Decision) -> Self {
        let mut fields = Map::new();
        if let Value::Object(ctx) = serde_json::to_value(&request.context).unwrap_or(Value::Null) {
            fields = ctx;
        }
        let errors: Vec<Value> = decision
            .reasons()
            .iter()
            .filter_map(|r| r.error().map(|e| Value::String(e.to_owned())))
            .collect();
        if !errors.is_empty() {
            fields.insert("errors".into(), Value::Array(errors));
        }
        let mut event = Event {
            kind: DECISION_KIND.into(),
            user: Some(request.principal.clone()),
            department: inventory
                .user(&request.principal)
                .map(|u| u.department.clone()),
            action: Some(request.action),
            resource: Some(request.resource.clone()),
            fields,
            ..Event::default()
        };
        stamp_decision(&mut event, decision);
        event
    }
}

impl AuditLog {
    /// Appends the record of one decision (what the engine does through its
    /// [`DecisionSink`](crate::engine::DecisionSink); for decisions made elsewhere).
    pub fn record_decision(
        &self,
        request: &Request,
        inventory: &Inventory,
        decision: &Decision,
    ) -> Result<u64> {
        self.append(&Event::from_decision(request, inventory, decision))
    }
}

/// Appends `event`, a record that carries `decision`, and makes it the decision's
/// record unless the engine recorded the decision already (the log is its sink).
pub(crate) fn append_citing(log: &AuditLog, event: &Event, decision: &mut Decision) -> Result<u64> {
    let seq = log.append(event)?;
    if decision.audit_seq().is_none() {
        decision.set_audit_seq(seq);
    }
    Ok(seq)
}

/// Makes sure `decision` is in `log`: the engine recorded it when the log is its sink;
/// otherwise its record is appended now.
pub(crate) fn ensure_recorded(
    log: &AuditLog,
    request: &Request,
    inventory: &Inventory,
    decision: &mut Decision,
) -> Result<()> {
    if decision.audit_seq().is_none() {
        let event = Event::from_decision(request, inventory, decision);
        append_citing(log, &event, decision)?;
    }
    Ok(())
}
