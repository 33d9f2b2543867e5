//! A record as a row: the 等保 fields the store keeps beside the payload, taken out of
//! it the same way when shipping and when verifying, and a row read back checked with
//! the log's own rules the same way by every reader (verification, queries, watches).

use crate::audit::export::ChainCheck;
use crate::audit::{AuditRecord, Date, Outcome, Timestamp};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type Hash = [u8; 32];

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

/// The columns a reader of records selects, in the order [`StoredRow::read`] takes
/// them.
pub(crate) const ROW_COLUMNS: &str = "node_id, seq, month::text, time, kind, user_id, department, action, resource_type, resource_id,
     decision, policies, policy_version, outcome, fields::text, payload, prev_head, head, tag, stored_at";

/// One row of `govdata.audit_records` as read, before anything in it is trusted.
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub(crate) node_id: String,
    pub(crate) seq: u64,
    month: String,
    time: Timestamp,
    columns: Columns,
    payload: Vec<u8>,
    /// `None` when the column does not hold 32 bytes.
    pub(crate) prev_head: Option<Hash>,
    head: Option<Hash>,
    tag: Option<Hash>,
    /// When the store received it (the server's clock).
    pub(crate) stored_at: Timestamp,
}

fn hash(v: &[u8]) -> Option<Hash> {
    <Hash>::try_from(v).ok()
}

/// A row that authenticates: its leaf, the chain head after it and its record.
pub(crate) struct Authentic {
    pub(crate) leaf: Hash,
    pub(crate) head: Hash,
    pub(crate) record: AuditRecord,
}

impl StoredRow {
    /// The row selected with [`ROW_COLUMNS`].
    pub(crate) fn read(row: &postgres::Row) -> StoredRow {
        let fields: serde_json::Value =
            serde_json::from_str(&row.get::<_, String>(14)).unwrap_or(serde_json::Value::Null);
        StoredRow {
            node_id: row.get(0),
            seq: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
            month: row.get(2),
            time: timestamp(row.get::<_, SystemTime>(3)),
            columns: Columns {
                kind: row.get(4),
                user_id: row.get(5),
                department: row.get(6),
                action: row.get(7),
                resource_type: row.get(8),
                resource_id: row.get(9),
                decision: row.get(10),
                policies: row.get(11),
                policy_version: row.get(12),
                outcome: row.get(13),
                fields,
            },
            payload: row.get(15),
            prev_head: hash(&row.get::<_, Vec<u8>>(16)),
            head: hash(&row.get::<_, Vec<u8>>(17)),
            tag: hash(&row.get::<_, Vec<u8>>(18)),
            stored_at: timestamp(row.get::<_, SystemTime>(19)),
        }
    }

    /// What is wrong with the row's chain values, if their form is.
    pub(crate) fn malformed(&self) -> Option<String> {
        (self.prev_head.is_none() || self.head.is_none() || self.tag.is_none())
            .then(|| format!("record {} has malformed chain values", self.seq))
    }

    /// Checks the row with its log's rules under `check`: its head follows from the
    /// head before it and its payload, its MAC is the sealing key's, and its query
    /// columns, time and month are those of its authenticated payload. Where it
    /// stands in its node's chain is the caller's to check. What is wrong, otherwise.
    pub(crate) fn authenticate(
        &self,
        check: &ChainCheck,
    ) -> std::result::Result<Authentic, String> {
        let seq = self.seq;
        let (Some(prev), Some(head), Some(tag)) = (self.prev_head, self.head, self.tag) else {
            return Err(format!("record {seq} has malformed chain values"));
        };
        let leaf = check.leaf(seq, &self.payload);
        if check.link(&prev, &leaf) != head || !check.record_tag_ok(&head, &tag) {
            return Err(format!(
                "record {seq} does not authenticate under the node's sealing key (modified or forged)"
            ));
        }
        let record =
            ChainCheck::decode(seq, &self.payload).map_err(|e| format!("record {seq}: {e}"))?;
        if let Some(what) = Columns::of(&record).differs(&self.columns) {
            return Err(format!(
                "record {seq}: the column `{what}` differs from the record's authenticated payload (modified)"
            ));
        }
        if self.time != record.time || self.month != month_of(record.time) {
            return Err(format!(
                "record {seq}: its time or month differs from the record's authenticated payload (modified)"
            ));
        }
        Ok(Authentic { leaf, head, record })
    }
}

impl Columns {
    /// The first column of `have` that differs from these.
    pub(crate) fn differs(&self, have: &Columns) -> Option<&'static str> {
        [
            ("kind", self.kind == have.kind),
            ("user_id", self.user_id == have.user_id),
            ("department", self.department == have.department),
            ("action", self.action == have.action),
            ("resource_type", self.resource_type == have.resource_type),
            ("resource_id", self.resource_id == have.resource_id),
            ("decision", self.decision == have.decision),
            ("policies", self.policies == have.policies),
            ("policy_version", self.policy_version == have.policy_version),
            ("outcome", self.outcome == have.outcome),
            ("fields", self.fields == have.fields),
        ]
        .into_iter()
        .find_map(|(column, same)| (!same).then_some(column))
    }
}
