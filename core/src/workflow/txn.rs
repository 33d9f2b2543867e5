//! One step's view of the procedures' state: the node's own state, rebuilt from its
//! log, or the requests of a shared store locked for the step. The steps of
//! `sharing.rs` and `destruction.rs` are written once against it and run the same way
//! on either: [`Workflows::begin`], read and lock what the step is about, decide,
//! [`Txn::commit`] the transition's records, and end with `done_*` (which commits a
//! shared store's transaction). A step that returns early — refused, or an error —
//! drops its `Txn`, and a shared store's transaction is rolled back.

use super::records::{self, State};
use super::shared::{mirror_into, Procedure, ProcedureRequest, ProcedureTransaction, Transition};
use super::{DestructionRequest, SharingRequest, Step, Workflows};
use crate::audit::{AuditRecord, Event};
use crate::engine::Decision;
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::sync::MutexGuard;

/// The state a step reads and moves, with the node's writer lock held.
pub(super) struct Txn<'a> {
    flows: &'a Workflows,
    _writer: MutexGuard<'a, ()>,
    /// A shared store's transaction (`None`: the node's own state).
    shared: Option<Box<dyn ProcedureTransaction + 'a>>,
    /// Shared: the requests locked for the step, and moved by it.
    scratch: State,
    /// Shared: what the step stored, for the node's mirror once committed.
    stored: Vec<(u64, ProcedureRequest)>,
}

/// The error for a request that does not exist.
pub(super) fn unknown(procedure: Procedure, id: &str) -> Error {
    Error::UnknownEntity {
        kind: match procedure {
            Procedure::Sharing => "sharing request",
            Procedure::Destruction => "destruction request",
        },
        id: id.to_owned(),
    }
}

impl Workflows {
    /// Begins a step: takes the node's writer lock and, for shared procedures, a
    /// transaction of the store.
    pub(super) fn begin(&self) -> Result<Txn<'_>> {
        let writer = self.lock();
        let shared = self.shared.as_ref().map(|s| s.begin()).transpose()?;
        Ok(Txn {
            flows: self,
            _writer: writer,
            shared,
            scratch: State::default(),
            stored: Vec::new(),
        })
    }
}

impl Txn<'_> {
    /// Locks a shared request for the step, puts it in the scratch state and (it is
    /// committed) in the node's mirror, and returns it.
    fn lock(&mut self, procedure: Procedure, id: &str) -> Result<Option<ProcedureRequest>> {
        let Some(tx) = self.shared.as_mut() else {
            return Ok(None);
        };
        let Some((request, change)) = tx.lock(procedure, id)? else {
            return Ok(None);
        };
        self.flows.inner.mirror(vec![(change, request.clone())]);
        mirror_into(&mut self.scratch, change, request.clone());
        Ok(Some(request))
    }

    /// The sharing request `id` as it stands (locked, when shared).
    pub(super) fn share(&mut self, id: &str) -> Result<SharingRequest> {
        if self.shared.is_none() {
            return self.flows.share_raw(id);
        }
        match self.lock(Procedure::Sharing, id)? {
            Some(ProcedureRequest::Sharing(s)) => Ok(s),
            _ => Err(unknown(Procedure::Sharing, id)),
        }
    }

    /// The destruction request `id` as it stands (locked, when shared).
    pub(super) fn destruction(&mut self, id: &str) -> Result<DestructionRequest> {
        if self.shared.is_none() {
            return self.flows.destruction_raw(id);
        }
        match self.lock(Procedure::Destruction, id)? {
            Some(ProcedureRequest::Destruction(d)) => Ok(d),
            _ => Err(unknown(Procedure::Destruction, id)),
        }
    }

    /// The open (requested or approved) destruction of `dataset`, if any; when
    /// shared, no other node opens one until the step ends.
    pub(super) fn open_destruction(&mut self, dataset: &str) -> Result<Option<DestructionRequest>> {
        match self.shared.as_mut() {
            None => Ok(self
                .flows
                .inner
                .read()
                .destructions
                .values()
                .find(|d| d.dataset == dataset && d.is_open())
                .cloned()),
            Some(tx) => Ok(match tx.lock_open_destruction(dataset)? {
                Some((ProcedureRequest::Destruction(d), _)) => Some(d),
                _ => None,
            }),
        }
    }

    /// The id of a new request of `procedure`.
    pub(super) fn next_id(&mut self, procedure: Procedure) -> Result<String> {
        let n = match self.shared.as_mut() {
            Some(tx) => tx.next_number(procedure)?,
            None => {
                let state = self.flows.inner.read();
                1 + match procedure {
                    Procedure::Sharing => state.share_counter,
                    Procedure::Destruction => state.destruction_counter,
                }
            }
        };
        Ok(procedure.request_id(n))
    }

    /// Records the events of a transition in the node's log as one batch and applies
    /// them; when shared, stores the transition and the requests' new state in the
    /// step's transaction.
    pub(super) fn commit(&mut self, events: &[Event]) -> Result<()> {
        let Some(tx) = self.shared.as_mut() else {
            return self.flows.commit(events);
        };
        let seqs = self.flows.log.append_batch(events)?;
        let time = self.flows.now();
        let mut transitions = Vec::new();
        let mut moved = BTreeSet::new();
        for (seq, event) in seqs.zip(events) {
            let Some(procedure) = Procedure::of_kind(&event.kind) else {
                continue;
            };
            if !records::is_transition(&event.kind) {
                continue;
            }
            let record = AuditRecord {
                seq,
                time,
                event: event.clone(),
            };
            records::apply(&mut self.scratch, &record).map_err(|m| Error::WorkflowInvalid {
                message: format!("record {seq}: {m}"),
            })?;
            let request = event
                .fields
                .get("request")
                .and_then(|r| r.as_str())
                .unwrap_or_default()
                .to_owned();
            moved.insert((procedure, request.clone()));
            transitions.push(Transition { request, record });
        }
        let requests: Vec<ProcedureRequest> = moved
            .iter()
            .filter_map(|(procedure, id)| match procedure {
                Procedure::Sharing => self
                    .scratch
                    .shares
                    .get(id)
                    .cloned()
                    .map(ProcedureRequest::Sharing),
                Procedure::Destruction => self
                    .scratch
                    .destructions
                    .get(id)
                    .cloned()
                    .map(ProcedureRequest::Destruction),
            })
            .collect();
        let change = tx.store(&transitions, &requests)?;
        self.stored
            .extend(requests.into_iter().map(|r| (change, r)));
        Ok(())
    }

    /// Ends the step: commits a shared store's transaction and puts what it stored in
    /// the node's mirror.
    pub(super) fn finish(&mut self) -> Result<()> {
        if let Some(tx) = self.shared.take() {
            tx.commit()?;
            self.flows.inner.mirror(std::mem::take(&mut self.stored));
        }
        Ok(())
    }

    /// The sharing request `id` as it now stands.
    fn snapshot_share(&self, id: &str) -> Result<SharingRequest> {
        let now = self.flows.now();
        let state = self.flows.inner.read();
        // Shared: the request the step locked or made; else the node's own state.
        self.scratch
            .shares
            .get(id)
            .or_else(|| state.shares.get(id))
            .map(|s| self.flows.inner.snapshot_share(s, now))
            .ok_or_else(|| unknown(Procedure::Sharing, id))
    }

    /// Ends the step done: the sharing request as it now stands.
    pub(super) fn done_share(
        mut self,
        id: &str,
        decision: Decision,
    ) -> Result<Step<SharingRequest>> {
        self.finish()?;
        let record = self.snapshot_share(id)?;
        Ok(Step::Done { record, decision })
    }

    /// Ends the step: the sharing requests `ids` as they now stand.
    pub(super) fn done_shares(mut self, ids: &[&str]) -> Result<Vec<SharingRequest>> {
        self.finish()?;
        ids.iter().map(|id| self.snapshot_share(id)).collect()
    }

    /// Ends the step done: the destruction request as it now stands.
    pub(super) fn done_destruction(
        mut self,
        id: &str,
        decision: Decision,
    ) -> Result<Step<DestructionRequest>> {
        self.finish()?;
        let record = match self.scratch.destructions.get(id) {
            Some(d) => Some(d.clone()),
            None => self.flows.destruction(id),
        }
        .ok_or_else(|| unknown(Procedure::Destruction, id))?;
        Ok(Step::Done { record, decision })
    }
}
