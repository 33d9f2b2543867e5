//! Viewing the audit log as the regulation allows (Art. 8, 18, 19): a use case of the
//! log and the engine together. Viewing is itself a `view_audit` decision of the
//! engine, recorded in the log whether or not the engine has the log as its sink.
//! The platform store is viewed the same way: a query across nodes
//! (`AuditLog::view_store`) and a watch that follows it (`Platform::watch_store`)
//! are `view_audit` decisions recorded in the viewer's node's log.

use super::record::ensure_recorded;
#[cfg(feature = "store")]
use super::Platform;
use crate::audit::{AuditLog, AuditQuery, AuditRecord, HostLogs, SealingKey};
use crate::engine::{Decision, Engine, Request, Resource};
use crate::error::Result;
use crate::model::{Action, Inventory};
#[cfg(feature = "store")]
use crate::store::{StoreConnector, StoreWatch, StoredRecord, WatchOptions};

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
        let (decision, records) = self.view_of(engine, viewer, query, |inventory| {
            self.query_in(query, Some(inventory))
        })?;
        Ok(AuditView { decision, records })
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
        let (decision, records) = self.view_of(engine, viewer, query, |inventory| {
            let mut out: Vec<AuditRecord> = host
                .records(key)?
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| query.matches(r, Some(inventory)))
                .collect();
            query.keep_latest(&mut out);
            Ok(out)
        })?;
        Ok(AuditView { decision, records })
    }

    fn view_of<T>(
        &self,
        engine: &Engine,
        viewer: &str,
        query: &AuditQuery,
        read: impl FnOnce(&Inventory) -> Result<Vec<T>>,
    ) -> Result<(Decision, Vec<T>)> {
        let decision = self.decide_view(engine, viewer, query.department.as_deref())?;
        if !decision.allowed() {
            return Ok((decision, Vec::new()));
        }
        let records = read(&engine.inventory())?;
        Ok((decision, records))
    }

    /// The `view_audit` decision on `viewer` seeing the records of `department` (every
    /// department when `None`), recorded in this log.
    fn decide_view(
        &self,
        engine: &Engine,
        viewer: &str,
        department: Option<&str>,
    ) -> Result<Decision> {
        let mut request = Request::new(viewer, Action::ViewAudit, Resource::audit_log("main"));
        request.context.audit_department = department.map(str::to_owned);
        let mut decision = engine.decide(&request)?;
        ensure_recorded(self, &request, &engine.inventory(), &mut decision)?;
        Ok(decision)
    }
}

/// What a viewer was shown of the platform store: the `view_audit` decision and,
/// when it allows, the records with the nodes that wrote them.
#[cfg(feature = "store")]
#[derive(Debug, Clone)]
pub struct StoreView {
    /// The decision on viewing (recorded in the viewer's node's log).
    pub decision: Decision,
    /// The records the viewer may see (empty on a deny).
    pub records: Vec<StoredRecord>,
}

#[cfg(feature = "store")]
impl AuditLog {
    /// [`AuditLog::view`] of the platform store: the records of every node (or of
    /// `nodes`) matching `query`, read and checked by [`crate::store::query_store`]
    /// under the nodes' sealing keys `keys`, shown to `viewer` if the engine allows a
    /// `view_audit` on `query`'s department — the same decision as for a local log,
    /// recorded in this log (the viewer's node's, which ships it in its turn).
    pub fn view_store(
        &self,
        engine: &Engine,
        viewer: &str,
        query: &AuditQuery,
        nodes: &[String],
        client: &mut postgres::Client,
        keys: &[SealingKey],
    ) -> Result<StoreView> {
        let (decision, records) = self.view_of(engine, viewer, query, |inventory| {
            crate::store::query_store(client, keys, nodes, query, Some(inventory))
        })?;
        Ok(StoreView { decision, records })
    }
}

#[cfg(feature = "store")]
impl Platform {
    /// A watch of the platform store for `viewer` ([`StoreWatch`]): a `view_audit`
    /// decision on every department, recorded in this node's log; when it allows, a
    /// watch with the thresholds of `[alerts]` and the working calendar of
    /// `[procedures]` that records its alerts in this node's log. `request_invalid`
    /// for a node without an audit log (an alert must be recorded).
    pub fn watch_store(
        &self,
        viewer: &str,
        connector: StoreConnector,
        keys: Vec<SealingKey>,
        since: Option<crate::time::Timestamp>,
    ) -> Result<(Decision, Option<StoreWatch>)> {
        let Some(log) = self.audit_log() else {
            return Err(crate::Error::RequestInvalid {
                message: format!(
                    "node `{}` keeps no audit log: a watch records its alerts in one",
                    self.node_id()
                ),
            });
        };
        let decision = log.decide_view(self.engine(), viewer, None)?;
        if !decision.allowed() {
            return Ok((decision, None));
        }
        let mut options = WatchOptions::new(
            self.config().alerts.clone(),
            super::working_calendar(&self.config().procedures),
        );
        options.since = since;
        let watch = StoreWatch::new(connector, keys, log.clone(), options);
        Ok((decision, Some(watch)))
    }
}
