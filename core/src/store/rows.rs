//! A record as a row: the 等保 fields the store keeps beside the payload, taken out of
//! it the same way when shipping and when verifying.

use crate::audit::{AuditRecord, Date, Outcome, Timestamp};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The query columns of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Columns {
    pub(crate) kind: String,
    pub(crate) user_id: Option<String>,
    pub(crate) department: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) resource_type: Option<String>,
    pub(crate) resource_id: Option<String>,
    pub(crate) decision: Option<String>,
    pub(crate) policies: Vec<String>,
    pub(crate) policy_version: Option<String>,
    pub(crate) outcome: String,
    pub(crate) fields: serde_json::Value,
}

impl Columns {
    pub(crate) fn of(r: &AuditRecord) -> Columns {
        let e = &r.event;
        Columns {
            kind: e.kind.clone(),
            user_id: e.user.clone(),
            department: e.department.clone(),
            action: e.action.map(|a| a.as_str().to_owned()),
            resource_type: e.resource.as_ref().map(|r| r.kind.as_str().to_owned()),
            resource_id: e.resource.as_ref().map(|r| r.id.clone()),
            decision: e.decision.map(|d| d.as_str().to_owned()),
            policies: e.policies.clone(),
            policy_version: e.policy_version.clone(),
            outcome: match e.outcome {
                Outcome::Success => "success".to_owned(),
                Outcome::Failure => "failure".to_owned(),
            },
            fields: serde_json::Value::Object(e.fields.clone()),
        }
    }
}

/// The record's time as the database takes it.
pub(crate) fn system_time(t: Timestamp) -> SystemTime {
    let ms = t.unix_millis();
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// The database's time as a record's.
pub(crate) fn timestamp(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp::from_unix_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        Err(e) => Timestamp::from_unix_millis(
            -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        ),
    }
}

/// The first day of the record's UTC month, as `YYYY-MM-01` (the partition key).
pub(crate) fn month_of(t: Timestamp) -> String {
    let d: Date = t.date();
    format!("{:04}-{:02}-01", d.year(), d.month())
}
