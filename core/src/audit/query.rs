//! Finding records, and viewing them as the regulation allows (Art. 8, 18, 19):
//! viewing is itself a `view_audit` decision of the engine, recorded in the log.

use super::record::{AuditRecord, Verdict};
use super::{AuditLog, HostLogs, SealingKey};
use crate::engine::{Decision, Engine, Request, Resource};
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

/// What a viewer was shown: the `view_audit` decision and, when it allows, the
/// records.
#[derive(Debug, Clone)]
pub struct AuditView {
    /// The decision on viewing (recorded in the log; see its `audit_seq`).
    pub decision: Decision,
    /// The records the viewer may see (empty on a deny).
    pub records: Vec<AuditRecord>,
}

impl AuditLog {
    /// The records matching `query`, oldest first, without any access decision (the
    /// host's own use; people view through [`AuditLog::view`]).
    pub fn query(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        self.query_in(query, None)
    }

    fn query_in(
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
        if let Some(n) = query.limit {
            let skip = out.len().saturating_sub(n);
            out.drain(..skip);
        }
        Ok(out)
    }

    /// Shows `viewer` the records matching `query` if the engine allows it: a
    /// `view_audit` decision on `{"type": "AuditLog", "id": "main"}` with
    /// `audit_department` set to the query's department. A department's security
    /// officer thus sees that department's staff (Art. 18), the operator's and the
    /// management department's auditors see everyone (Art. 8, 19). The decision is
    /// recorded in this log whether or not the engine has a log attached.
    pub fn view(&self, engine: &Engine, viewer: &str, query: &AuditQuery) -> Result<AuditView> {
        self.view_of(engine, viewer, query, |inventory| {
            self.query_in(query, Some(inventory))
        })
    }

    /// [`AuditLog::view`] of every log of a host ([`HostLogs`]: one log per worker
    /// process), merged in time order; the viewing decision is recorded in this log.
    pub fn view_host(
        &self,
        engine: &Engine,
        viewer: &str,
        query: &AuditQuery,
        host: &HostLogs,
        key: &SealingKey,
    ) -> Result<AuditView> {
        self.view_of(engine, viewer, query, |inventory| {
            let mut out: Vec<AuditRecord> = host
                .records(key)?
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| query.matches(r, Some(inventory)))
                .collect();
            if let Some(n) = query.limit {
                let skip = out.len().saturating_sub(n);
                out.drain(..skip);
            }
            Ok(out)
        })
    }

    fn view_of(
        &self,
        engine: &Engine,
        viewer: &str,
        query: &AuditQuery,
        read: impl FnOnce(&Inventory) -> Result<Vec<AuditRecord>>,
    ) -> Result<AuditView> {
        let mut request = Request::new(viewer, Action::ViewAudit, Resource::audit_log("main"));
        request.context.audit_department = query.department.clone();
        let mut decision = engine.decide(&request)?;
        let inventory = engine.inventory();
        if decision.audit_seq().is_none() {
            let seq = self.record_decision(&request, &inventory, &decision)?;
            decision.set_audit_seq(seq);
        }
        if !decision.allowed() {
            return Ok(AuditView {
                decision,
                records: Vec::new(),
            });
        }
        let records = read(&inventory)?;
        Ok(AuditView { decision, records })
    }
}
