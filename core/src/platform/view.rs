//! Viewing the audit log as the regulation allows (Art. 8, 18, 19): a use case of the
//! log and the engine together. Viewing is itself a `view_audit` decision of the
//! engine, recorded in the log whether or not the engine has the log as its sink.

use super::record::ensure_recorded;
use crate::audit::{AuditLog, AuditQuery, AuditRecord, HostLogs, SealingKey};
use crate::engine::{Decision, Engine, Request, Resource};
use crate::error::Result;
use crate::model::{Action, Inventory};

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
            query.keep_latest(&mut out);
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
        ensure_recorded(self, &request, &inventory, &mut decision)?;
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
