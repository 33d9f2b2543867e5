//! Finding records by department, user, action, dataset, decision, kind and time.
//! Viewing them as the regulation allows (a `view_audit` decision) is not decided
//! here but in the composition root (`platform::view`).

use super::record::{AuditRecord, Verdict};
use super::AuditLog;
use crate::error::Result;
use crate::model::{Action, Inventory};
use crate::time::Timestamp;

/// Which records to return; every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The acting user's department (and its sub-departments, as the inventory has
    /// them).
    pub department: Option<String>,
    /// The acting user.
    pub user: Option<String>,
    /// The action.
    pub action: Option<Action>,
    /// The dataset acted on.
    pub dataset: Option<String>,
    /// Allow or deny.
    pub decision: Option<Verdict>,
    /// The record kind (`decision`, `sharing.approved` …).
    pub kind: Option<String>,
    /// From this time on (inclusive).
    pub since: Option<Timestamp>,
    /// Before this time (exclusive).
    pub until: Option<Timestamp>,
    /// At most this many records (the latest ones).
    pub limit: Option<usize>,
}

impl AuditQuery {
    /// Drops all but the latest [`AuditQuery::limit`] of `records` (oldest first).
    pub fn keep_latest(&self, records: &mut Vec<AuditRecord>) {
        if let Some(n) = self.limit {
            let skip = records.len().saturating_sub(n);
            records.drain(..skip);
        }
    }

    /// Whether `record` matches; departments nest as in `inventory` when given.
    pub fn matches(&self, record: &AuditRecord, inventory: Option<&Inventory>) -> bool {
        let e = &record.event;
        if let Some(d) = &self.department {
            match &e.department {
                Some(rd) if rd == d || inventory.is_some_and(|inv| inv.is_within(rd, d)) => {}
                _ => return false,
            }
        }
        if self.user.is_some() && e.user != self.user {
            return false;
        }
        if self.action.is_some() && e.action != self.action {
            return false;
        }
        if let Some(ds) = &self.dataset {
            if record.dataset() != Some(ds.as_str()) {
                return false;
            }
        }
        if self.decision.is_some() && e.decision != self.decision {
            return false;
        }
        if self.kind.is_some() && Some(&e.kind) != self.kind.as_ref() {
            return false;
        }
        if self.since.is_some_and(|t| record.time < t)
            || self.until.is_some_and(|t| record.time >= t)
        {
            return false;
        }
        true
    }
}

impl AuditLog {
    /// The records matching `query`, oldest first, without any access decision (the
    /// host's own use; people view through [`AuditLog::view`]).
    pub fn query(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        self.query_in(query, None)
    }

    /// The records matching `query`, with departments nested as in `inventory`.
    pub(crate) fn query_in(
        &self,
        query: &AuditQuery,
        inventory: Option<&Inventory>,
    ) -> Result<Vec<AuditRecord>> {
        let mut out = Vec::new();
        self.for_each_record(|r| {
            if query.matches(&r, inventory) {
                out.push(r);
            }
            Ok(())
        })?;
        query.keep_latest(&mut out);
        Ok(out)
    }
}
