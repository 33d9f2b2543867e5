//! The audit log's reports and query filter in their JSON form: the one shape that the
//! command line and every binding return (Python dicts, Node objects, C strings), so
//! that a report reads the same in every language.

use super::query::AuditQuery;
use super::record::Verdict;
use super::retention::{BackupReport, PurgeReport, RestoreReport};
use super::{RecoveryReport, TornTail, VerifyReport};
use crate::error::{Error, Result};
use crate::model::Action;
use crate::time::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};
use std::str::FromStr;

impl TornTail {
    /// `{"segment", "offset", "first_lost_seq", "reason"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "segment": self.segment,
            "offset": self.offset,
            "first_lost_seq": self.first_lost_seq,
            "reason": self.reason,
        })
    }
}

impl RecoveryReport {
    /// `{"torn": {…}, "bytes_cut", "kept_at"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "torn": self.torn.to_json(),
            "bytes_cut": self.bytes_cut,
            "kept_at": self.kept_at.display().to_string(),
        })
    }
}

impl VerifyReport {
    /// `{"ok": true, "records", "first_seq", "last_seq", "segments", "sealed_segments",
    /// "torn_tail", "head", "purged_through"}`; `head` is the checkpoint text of the
    /// verified head (`gdaudit1:…`). A failed verification is an error, never a report,
    /// so `ok` is always true; it is there for readers that test it.
    pub fn to_json(&self) -> Value {
        json!({
            "ok": true,
            "records": self.records,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "segments": self.segments,
            "sealed_segments": self.sealed_segments,
            "torn_tail": self.torn_tail.as_ref().map(TornTail::to_json),
            "head": self.head.as_ref().map(ToString::to_string),
            "purged_through": self.purged_through,
        })
    }
}

impl BackupReport {
    /// `{"dest", "copied", "already_present", "verified": {…}, "event_seq"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "dest": self.dest.display().to_string(),
            "copied": self.copied,
            "already_present": self.already_present,
            "verified": self.verified.to_json(),
            "event_seq": self.event_seq,
        })
    }
}

impl PurgeReport {
    /// `{"before": "YYYY-MM-DD", "segments", "through_seq", "event_seq"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "before": self.before.to_string(),
            "segments": self.segments,
            "through_seq": self.through_seq,
            "event_seq": self.event_seq,
        })
    }
}

impl RestoreReport {
    /// `{"restored", "verified": {…}, "event_seq"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "restored": self.restored,
            "verified": self.verified.to_json(),
            "event_seq": self.event_seq,
        })
    }
}

/// The filter as it crosses in JSON; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    department: Option<String>,
    user: Option<String>,
    action: Option<String>,
    dataset: Option<String>,
    decision: Option<String>,
    kind: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
}

impl AuditQuery {
    /// Reads a filter from its JSON form: an object whose fields are all optional —
    /// `department`, `user`, `action`, `dataset`, `decision` (`"allow"` or `"deny"`),
    /// `kind`, `since` (inclusive) and `until` (exclusive) as `YYYY-MM-DD` or RFC 3339
    /// UTC text, and `limit`. `{}` and `null` match every record.
    ///
    /// # Errors
    /// `request_invalid` for anything else: not an object, an unknown field, a value
    /// of the wrong type, an unknown action or decision, a time that does not parse.
    pub fn from_json(value: &Value) -> Result<Self> {
        let invalid = |message: String| Error::RequestInvalid { message };
        let f: Filter = match value {
            Value::Null => Filter::default(),
            Value::Object(_) => Filter::deserialize(value)
                .map_err(|e| invalid(format!("not an audit filter: {e}")))?,
            _ => return Err(invalid("an audit filter must be a JSON object".into())),
        };
        let time = |field: &str, text: Option<String>| {
            text.as_deref()
                .map(|t| {
                    Timestamp::parse(t).map_err(|e| invalid(format!("audit filter `{field}`: {e}")))
                })
                .transpose()
        };
        Ok(AuditQuery {
            department: f.department,
            user: f.user,
            action: f
                .action
                .as_deref()
                .map(|a| Action::from_str(a).map_err(|e| invalid(format!("audit filter: {e}"))))
                .transpose()?,
            dataset: f.dataset,
            decision: f
                .decision
                .as_deref()
                .map(|d| Verdict::from_str(d).map_err(|e| invalid(format!("audit filter: {e}"))))
                .transpose()?,
            kind: f.kind,
            since: time("since", f.since)?,
            until: time("until", f.until)?,
            limit: f.limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_reads_every_field() {
        let q = AuditQuery::from_json(&json!({
            "department": "gongan", "user": "zhang.san", "action": "query",
            "dataset": "hukou", "decision": "deny", "kind": "decision",
            "since": "2026-01-01", "until": "2026-02-01T00:00:00Z", "limit": 5
        }))
        .unwrap();
        assert_eq!(q.department.as_deref(), Some("gongan"));
        assert_eq!(q.action, Some(Action::Query));
        assert_eq!(q.decision, Some(Verdict::Deny));
        assert_eq!(q.since, Some(Timestamp::parse("2026-01-01").unwrap()));
        assert_eq!(
            q.until,
            Some(Timestamp::parse("2026-02-01T00:00:00Z").unwrap())
        );
        assert_eq!(q.limit, Some(5));
        assert_eq!(
            AuditQuery::from_json(&json!({})).unwrap(),
            AuditQuery::default()
        );
        assert_eq!(
            AuditQuery::from_json(&Value::Null).unwrap(),
            AuditQuery::default()
        );
    }

    #[test]
    fn bad_filters_are_request_invalid() {
        for bad in [
            json!([]),
            json!("x"),
            json!({"colour": "red"}),
            json!({"action": "fly"}),
            json!({"decision": "maybe"}),
            json!({"since": "yesterday"}),
            json!({"limit": -1}),
            json!({"user": 3}),
        ] {
            let err = AuditQuery::from_json(&bad).unwrap_err();
            assert_eq!(err.code(), "request_invalid", "{bad}: {err}");
        }
    }
}
