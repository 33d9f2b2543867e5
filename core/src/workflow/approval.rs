//! Approvals as facts (Art. 14, 15): the engine's [`ApprovalResolver`] over the
//! procedures' state. An approval id resolves only when it exists, was granted by
//! someone entitled to grant it, is for this dataset, action and principal, is within
//! its term and is not revoked. For procedures shared through a store, the state is
//! the node's mirror of it, and a mirror past its staleness bound resolves nothing.

use super::records::State;
use super::shared::{mirror_into, Freshness, ProcedureMirror, ProcedureRequest};
use super::{DestructionRequest, DestructionStatus, ShareStatus, SharingRequest, WorkflowConfig};
use crate::engine::{ApprovalResolver, Engine, Request, ResolvedApproval};
use crate::model::{Action, Inventory, ResourceKind, ShareType};
use crate::time::Timestamp;
use std::sync::{RwLock, RwLockReadGuard, Weak};
use std::time::Instant;

/// What the resolver needs: the state, the clock and the inventory (through the
/// engine, held weakly so that the engine and its resolver do not keep each other),
/// and for shared procedures how fresh the mirror is.
pub(super) struct Inner {
    pub(super) state: RwLock<State>,
    pub(super) config: WorkflowConfig,
    pub(super) engine: Weak<Engine>,
    pub(super) freshness: Option<Freshness>,
}

impl Inner {
    pub(super) fn now(&self) -> Timestamp {
        match &self.config.clock {
            Some(c) => c(),
            None => Timestamp::now(),
        }
    }

    pub(super) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts requests as committed in a shared store into the state.
    pub(super) fn mirror(&self, requests: Vec<(u64, ProcedureRequest)>) {
        if requests.is_empty() {
            return;
        }
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for (change, request) in requests {
            mirror_into(&mut state, change, request);
        }
    }

    pub(super) fn snapshot_share(&self, s: &SharingRequest, now: Timestamp) -> SharingRequest {
        let mut s = s.clone();
        s.status = s.status_at(now);
        s.overdue = s.status == ShareStatus::Submitted
            && self.config.calendar.local_date(now) > s.deadlines.provider_reply;
        s
    }
}

pub(super) fn is_vendor(inv: &Inventory, user: &str) -> bool {
    inv.user(user).is_none_or(|u| u.is_vendor_staff())
}

impl ProcedureMirror for Inner {
    fn changed(&self, requests: Vec<(u64, ProcedureRequest)>) {
        self.mirror(requests);
    }

    fn reached(&self, at: Instant) {
        if let Some(f) = &self.freshness {
            f.mark(at);
        }
    }
}

impl ApprovalResolver for Inner {
    fn resolve(&self, id: &str, request: &Request) -> Option<ResolvedApproval> {
        if request.resource.kind != ResourceKind::Dataset {
            return None;
        }
        // A mirror that has not reached its store within the bound may miss a
        // revocation: it resolves nothing until it is reached again.
        if self.freshness.as_ref().is_some_and(|f| !f.is_fresh()) {
            return None;
        }
        let request_id = id.strip_prefix("apr-")?;
        let engine = self.engine.upgrade()?;
        let inv = engine.inventory();
        let now = self.now();
        let state = self.read();
        if let Some(share) = state.shares.get(request_id) {
            return resolve_share(share, id, request, &inv, now);
        }
        if let Some(d) = state.destructions.get(request_id) {
            return resolve_destruction(d, id, request, &inv, now);
        }
        None
    }
}

fn resolve_share(
    share: &SharingRequest,
    id: &str,
    request: &Request,
    inv: &Inventory,
    now: Timestamp,
) -> Option<ResolvedApproval> {
    let approval = share.approval.as_ref()?;
    if approval.id != id || share.dataset != request.resource.id {
        return None;
    }
    let dataset = inv.dataset(&share.dataset)?;
    // Entitled: a reviewer who is not the requester and not vendor staff, or no
    // review at all for data that is (still) shared without conditions.
    match &approval.approver {
        Some(by) if by != &share.requester && !is_vendor(inv, by) => {}
        None if dataset.share_type == ShareType::Unconditional => {}
        _ => return None,
    }
    if dataset.share_type == ShareType::None || now >= share.until {
        return None;
    }
    match (request.action, share.recorded_status()) {
        (Action::Share, ShareStatus::Approved) => {
            if request.context.recipient_department.as_deref()
                != Some(share.recipient_department.as_str())
                || request.principal == share.requester
            {
                return None;
            }
        }
        (Action::Query | Action::Process, ShareStatus::Provisioned) => {
            let user = inv.user(&request.principal)?;
            if !inv.is_within(&user.department, &share.recipient_department) {
                return None;
            }
            if let Some(p) = &request.context.purpose {
                if p != &share.purpose {
                    return None;
                }
            }
            if let Some(r) = request.context.scenario_risk {
                if r.ordinal() > share.scenario_risk.ordinal() {
                    return None;
                }
            }
        }
        _ => return None,
    }
    Some(ResolvedApproval {
        id: approval.id.clone(),
        approver: approval
            .approver
            .clone()
            .unwrap_or_else(|| UNCONDITIONAL_APPROVER.to_owned()),
    })
}

fn resolve_destruction(
    d: &DestructionRequest,
    id: &str,
    request: &Request,
    inv: &Inventory,
    now: Timestamp,
) -> Option<ResolvedApproval> {
    let approval = d.approval.as_ref()?;
    if approval.id != id
        || d.dataset != request.resource.id
        || request.action != Action::Destroy
        || d.status != DestructionStatus::Approved
        || now >= approval.valid_until
        || request.principal != approval.executor
        || approval.approver == d.requester
        || is_vendor(inv, &approval.approver)
    {
        return None;
    }
    Some(ResolvedApproval {
        id: approval.id.clone(),
        approver: approval.approver.clone(),
    })
}

/// The approver an approval without review names (unconditional data, Art. 14).
pub const UNCONDITIONAL_APPROVER: &str = "share_type:unconditional";
