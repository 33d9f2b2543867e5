//! What a record says: the 等保 audit fields (time, user, department, action,
//! resource, decision, deciding policies, policy version, outcome) and free fields
//! for workflow events.

use crate::engine::{Decision, Request, Resource};
use crate::error::{Error, Result};
use crate::model::{Action, Inventory, ResourceKind};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The kind of record the engine writes for each decision it records.
pub const DECISION_KIND: &str = "decision";

/// The field that marks a record to be kept through purges (`"retain": true`): the
/// records of the sharing and destruction procedures, which Art. 15 wants kept and
/// from which the workflows rebuild their state. A purge that removes the segment
/// holding such a record first appends a copy of it ([`RETAINED_KIND`]).
pub const RETAIN_FIELD: &str = "retain";

/// The kind of the copy a purge appends of a retained record: the original's
/// sequence number (`seq`), time (`time`) and event (`event`), and `retain` again so
/// that later purges carry it on.
pub const RETAINED_KIND: &str = "audit.retained";

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The request was allowed.
    Allow,
    /// The request was denied.
    Deny,
}

impl Verdict {
    /// `"allow"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "allow" => Ok(Verdict::Allow),
            "deny" => Ok(Verdict::Deny),
            _ => Err(Error::request(format!(
                "unknown decision `{}`, expected allow or deny",
                crate::quote::quote(s)
            ))),
        }
    }
}

/// Whether the recorded event succeeded (等保: the outcome of the event). A denied
/// request is a failed attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The event happened (an allowed request, a completed step).
    #[default]
    Success,
    /// The event was refused or failed.
    Failure,
}

/// An event to append: the host's own (a workflow step, an administrative action) or
/// a decision of the engine ([`Event::from_decision`]). The log adds the time and the
/// sequence number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// What happened: `decision` for the engine's decisions; dotted names such as
    /// `sharing.approved`, `destruction.executed`, `audit.purge` for other events.
    pub kind: String,
    /// The acting user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The acting user's department at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The action decided or carried out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The resource acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The engine's decision, for decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Verdict>,
    /// The ids of the deciding policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// The version of the policy pack that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// Whether the event succeeded.
    #[serde(default)]
    pub outcome: Outcome,
    /// Further fields: the request's context for a decision, a workflow's own fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
}

impl Event {
    /// An event of `kind` with no other field set.
    pub fn new(kind: impl Into<String>) -> Self {
        Event {
            kind: kind.into(),
            ..Event::default()
        }
    }

    /// Sets the acting user.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets the acting user's department.
    pub fn department(mut self, department: impl Into<String>) -> Self {
        self.department = Some(department.into());
        self
    }

    /// Sets the action.
    pub fn action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }

    /// Sets the resource.
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Adds a field.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

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
        Event {
            kind: DECISION_KIND.into(),
            user: Some(request.principal.clone()),
            department: inventory
                .user(&request.principal)
                .map(|u| u.department.clone()),
            action: Some(request.action),
            resource: Some(request.resource.clone()),
            decision: Some(if decision.allowed() {
                Verdict::Allow
            } else {
                Verdict::Deny
            }),
            policies: decision
                .reasons()
                .iter()
                .map(|r| r.policy().to_owned())
                .collect(),
            policy_version: Some(decision.policy_version().to_owned()),
            outcome: if decision.allowed() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            fields,
        }
    }
}

/// One record read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// The sequence number (1 for the first record of a log, consecutive).
    pub seq: u64,
    /// When the record was appended (UTC).
    pub time: Timestamp,
    /// What it records.
    pub event: Event,
}

impl AuditRecord {
    /// Whether the record is kept through purges (its event has `"retain": true`).
    pub fn is_retained(&self) -> bool {
        self.event.fields.get(RETAIN_FIELD) == Some(&Value::Bool(true))
    }

    /// The record as first appended: itself, or for the copy a purge made of a
    /// retained record ([`RETAINED_KIND`]), the original with its own sequence number
    /// and time. `None` for a copy whose content does not parse.
    pub fn original(&self) -> Option<AuditRecord> {
        if self.event.kind != RETAINED_KIND {
            return Some(self.clone());
        }
        let f = &self.event.fields;
        let seq = f.get("seq")?.as_u64()?;
        let time = Timestamp::parse(f.get("time")?.as_str()?).ok()?;
        let event = Event::deserialize(f.get("event")?).ok()?;
        Some(AuditRecord { seq, time, event })
    }

    /// The copy of this retained record that a purge appends.
    pub(crate) fn retained_copy(&self) -> Option<Event> {
        let original = self.original()?;
        let e = &original.event;
        let event = serde_json::to_value(e).ok()?;
        let mut copy = Event::new(RETAINED_KIND)
            .field(RETAIN_FIELD, true)
            .field("seq", original.seq)
            .field("time", original.time.to_string())
            .field("event", event);
        copy.user.clone_from(&e.user);
        copy.department.clone_from(&e.department);
        copy.action = e.action;
        copy.resource.clone_from(&e.resource);
        Some(copy)
    }

    /// The dataset the record is about, if its resource is a dataset.
    pub fn dataset(&self) -> Option<&str> {
        match &self.event.resource {
            Some(r) if r.kind == ResourceKind::Dataset => Some(&r.id),
            _ => None,
        }
    }

    /// The record as JSON: `seq`, `time` and the event's fields.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("seq".into(), Value::from(self.seq));
        m.insert("time".into(), Value::String(self.time.to_string()));
        if let Ok(Value::Object(e)) = serde_json::to_value(&self.event) {
            m.extend(e);
        }
        Value::Object(m)
    }
}

/// The payload of a record frame: the time then the event's fields, as one JSON object.
#[derive(Serialize)]
struct PayloadRef<'a> {
    time: Timestamp,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<Verdict>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    policies: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_version: Option<&'a str>,
    outcome: Outcome,
    #[serde(skip_serializing_if = "Map::is_empty")]
    fields: &'a Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadOwned {
    time: Timestamp,
    kind: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    action: Option<Action>,
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default)]
    decision: Option<Verdict>,
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    policy_version: Option<String>,
    #[serde(default)]
    outcome: Outcome,
    #[serde(default)]
    fields: Map<String, Value>,
}

pub(crate) fn encode_payload(time: Timestamp, event: &Event) -> Result<Vec<u8>> {
    let p = PayloadRef {
        time,
        kind: &event.kind,
        user: event.user.as_deref(),
        department: event.department.as_deref(),
        action: event.action,
        resource: event.resource.as_ref(),
        decision: event.decision,
        policies: &event.policies,
        policy_version: event.policy_version.as_deref(),
        outcome: event.outcome,
        fields: &event.fields,
    };
    serde_json::to_vec(&p)
        .map_err(|e| Error::request(format!("cannot encode the audit event: {e}")))
}

pub(crate) fn decode_payload(seq: u64, payload: &[u8]) -> Result<AuditRecord> {
    let p: PayloadOwned = serde_json::from_slice(payload).map_err(|e| Error::AuditTampered {
        seq,
        message: format!("the record authenticates but its content does not parse: {e}"),
    })?;
    Ok(AuditRecord {
        seq,
        time: p.time,
        event: Event {
            kind: p.kind,
            user: p.user,
            department: p.department,
            action: p.action,
            resource: p.resource,
            decision: p.decision,
            policies: p.policies,
            policy_version: p.policy_version,
            outcome: p.outcome,
            fields: p.fields,
        },
    })
}
