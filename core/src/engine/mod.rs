//! The engine: holds a policy pack and an inventory and answers requests with
//! decisions that cite the regulation.
//!
//! It owns evaluation (only the policies that can apply to the request's action and
//! resource type, on a per-thread copy of the pack), fail-closed error handling, and
//! atomic reloads: the pack and the inventory are each swapped behind an `Arc`, so a
//! request sees either the old or the new one, never half of a reload. It does not
//! parse policies (see [`crate::policy`]) or validate inventories (see
//! [`crate::model`]).
//!
//! With a [`DecisionSink`] attached ([`Engine::set_decision_sink`], the audit log),
//! every decision the sink keeps is recorded before it is returned and carries its
//! `audit_seq`; a decision that cannot be recorded is a deny. Without a sink the engine
//! decides just the same but records nothing: no query, modify, delete or export
//! decision, no deny and no administrative action is kept, and `audit_seq` is `None`.

mod cedar;
mod decision;
mod plain;
mod request;

pub use cedar::ResolvedApproval;
pub use decision::{Decision, Reason, DEFAULT_DENY, ENGINE_ERROR};
#[cfg(feature = "testing")]
pub use plain::PlainCedar;
pub use request::{Channel, Context, Request, Resource};

use crate::error::Result;
use crate::model::{Inventory, Record, RecordKind};
use crate::policy::{slot, Citation, PolicyPack};
use arc_swap::ArcSwap;
use cedar::{Local, LocalPolicy};
#[cfg(not(feature = "testing"))]
use plain::PlainCedar;
use rayon::prelude::*;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use thread_local::ThreadLocal;

/// The reason given when the audit log cannot record a decision it must record.
const AUDIT_UNAVAILABLE: Citation = Citation::fixed(
    "audit-unavailable",
    "第八条",
    "审计日志无法记录该操作，按失败即拒绝处理",
    "the audit log cannot record the request, so it fails closed",
);

/// Resolves the approval ids that requests carry against the workflow records.
///
/// An approval is a reference, never a claim: the engine passes an approval to the
/// policies only when the resolver vouches for it for this principal, action and
/// resource. Without a resolver every approval resolves to nothing.
pub trait ApprovalResolver: Send + Sync {
    /// The approval `id` if it exists, is approved by someone entitled to approve it,
    /// is for this action and resource, is within its term and is not revoked.
    fn resolve(&self, id: &str, request: &Request) -> Option<ResolvedApproval>;
}

/// Receives every decision the engine makes (the audit log implements it).
pub trait DecisionSink: Send + Sync {
    /// Records the decision if the sink keeps decisions of this kind, and returns the
    /// record's sequence number (`None` when it is not recorded). An error makes the
    /// decision a deny: an action that cannot be recorded does not happen.
    fn record(
        &self,
        request: &Request,
        inventory: &Inventory,
        decision: &Decision,
    ) -> Result<Option<u64>>;
}

struct State {
    pack: PolicyPack,
    locals: ThreadLocal<Local>,
}

impl State {
    fn new(pack: PolicyPack) -> Self {
        State {
            pack,
            locals: ThreadLocal::new(),
        }
    }

    fn local(&self) -> Result<&Local> {
        self.locals.get_or_try(|| Local::compile(&self.pack))
    }
}

/// The policy engine. `Send + Sync`: share it between threads behind an `Arc`.
pub struct Engine {
    state: ArcSwap<State>,
    inventory: ArcSwap<Inventory>,
    writer: Mutex<()>,
    approvals: RwLock<Option<Arc<dyn ApprovalResolver>>>,
    sink: RwLock<Option<Arc<dyn DecisionSink>>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("pack", &self.state.load().pack)
            .field("inventory", &**self.inventory.load())
            .finish()
    }
}

/// The example inventory of the default pack (`policies/examples/inventory.json`).
pub const EXAMPLE_INVENTORY: &str = include_str!("../../../policies/examples/inventory.json");

impl Engine {
    /// An engine over a pack and an inventory.
    pub fn new(pack: PolicyPack, inventory: Inventory) -> Self {
        Engine {
            state: ArcSwap::from_pointee(State::new(pack)),
            inventory: ArcSwap::from_pointee(inventory),
            writer: Mutex::new(()),
            approvals: RwLock::new(None),
            sink: RwLock::new(None),
        }
    }

    /// The default pack and the example inventory: a city to try the engine on.
    pub fn with_defaults() -> Result<Self> {
        Ok(Engine::new(
            PolicyPack::default_pack()?,
            Inventory::from_json_str(EXAMPLE_INVENTORY)?,
        ))
    }

    /// A pack directory and an inventory file.
    pub fn from_files(
        policies_dir: impl AsRef<Path>,
        inventory_file: impl AsRef<Path>,
    ) -> Result<Self> {
        Ok(Engine::new(
            PolicyPack::from_dir(policies_dir)?,
            Inventory::from_file(inventory_file)?,
        ))
    }

    /// Decides one request.
    ///
    /// An error means no decision could be made (bad input); the caller must treat
    /// it as a deny. An evaluation error inside a policy is a deny with that policy in
    /// the reasons.
    pub fn decide(&self, request: &Request) -> Result<Decision> {
        request.check_shape()?;
        let inventory = self.inventory.load();
        let state = self.state.load();
        let mut decision = self.evaluate(&state, &inventory, request)?;
        self.record(request, &inventory, &mut decision);
        Ok(decision)
    }

    /// Decides a request given as JSON text (the wire format).
    pub fn decide_json(&self, json: &str) -> Result<Decision> {
        self.decide(&Request::from_json_str(json)?)
    }

    /// Decides many requests, spread over the available cores. The results are in
    /// the order of the requests.
    pub fn decide_many(&self, requests: &[Request]) -> Vec<Result<Decision>> {
        const MIN_PER_TASK: usize = 64;
        if requests.len() < 2 * MIN_PER_TASK {
            return requests.iter().map(|r| self.decide(r)).collect();
        }
        requests
            .par_iter()
            .with_min_len(MIN_PER_TASK)
            .map(|r| self.decide(r))
            .collect()
    }

    /// The resources among `resources` that `principal` may act on with `action` in
    /// `context`, in their order: the filter an ETL job applies to a batch. Any bad
    /// input (an unknown id, an action that does not apply) is an error for the whole
    /// batch, so nothing is silently dropped for the wrong reason.
    pub fn allowed_resources(
        &self,
        principal: &str,
        action: crate::model::Action,
        resources: &[Resource],
        context: &Context,
    ) -> Result<Vec<Resource>> {
        let requests: Vec<Request> = resources
            .iter()
            .map(|r| Request {
                principal: principal.to_owned(),
                action,
                resource: r.clone(),
                context: context.clone(),
            })
            .collect();
        let mut allowed = Vec::new();
        for (resource, decision) in resources.iter().zip(self.decide_many(&requests)) {
            if decision?.allowed() {
                allowed.push(resource.clone());
            }
        }
        Ok(allowed)
    }

    fn evaluate(
        &self,
        state: &State,
        inventory: &Inventory,
        request: &Request,
    ) -> Result<Decision> {
        let local = state.local()?;
        let approval = match &request.context.approval {
            Some(id) => self
                .approvals
                .read()
                .ok()
                .and_then(|r| r.as_ref().map(Arc::clone))
                .and_then(|r| r.resolve(id, request)),
            None => None,
        };
        let input = {
            let mut cache = local.entities.borrow_mut();
            cedar::to_cedar(
                request,
                inventory,
                &local.types,
                &local.actions[request.action.index()],
                approval.as_ref(),
                &mut cache,
            )?
        };
        let deny = |reasons: Vec<Reason>| Decision {
            allowed: false,
            reasons,
            obligations: Vec::new(),
            policy_version: Arc::clone(&local.version),
            audit_seq: None,
        };
        let reason = |p: &LocalPolicy| Reason {
            text: Arc::clone(&p.text),
            error: None,
        };
        let Some(set) = local.policy_set(
            &request.principal,
            slot(request.action, request.resource.kind),
            &request.resource.id,
            &input,
            inventory.generation(),
        )?
        else {
            return Ok(deny(vec![Reason {
                text: Arc::clone(&local.default_deny),
                error: None,
            }]));
        };
        let response = local
            .authorizer
            .is_authorized(&input.request, &set, &input.entities);
        let diagnostics = response.diagnostics();

        let mut errors = diagnostics.errors().peekable();
        if errors.peek().is_some() {
            // Fail closed: a policy that could not be evaluated denies the request.
            let mut fired: Vec<&LocalPolicy> = diagnostics
                .reason()
                .filter_map(|id| local.policies.get(id))
                .filter(|p| p.forbid)
                .collect();
            fired.sort_by_key(|p| p.order);
            let mut reasons: Vec<Reason> = fired.into_iter().map(reason).collect();
            for err in errors {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(err) = err;
                let text = local
                    .policies
                    .get(err.policy_id())
                    .map_or_else(|| Arc::clone(&local.engine_error), |p| Arc::clone(&p.text));
                reasons.push(Reason {
                    text,
                    error: Some(err.to_string()),
                });
            }
            return Ok(deny(reasons));
        }

        // Cedar reports the determining policies in no fixed order; report them in the
        // order of the pack so that the same request always gets the same decision.
        let mut determining: Vec<&LocalPolicy> = diagnostics
            .reason()
            .filter_map(|id| local.policies.get(id))
            .collect();
        determining.sort_by_key(|p| p.order);
        let determining = determining.into_iter();
        if response.decision() == cedar_policy::Decision::Allow {
            let mut reasons = Vec::new();
            let mut obligations: Vec<String> = Vec::new();
            for p in determining {
                reasons.push(reason(p));
                for o in p.obligations.iter() {
                    if !obligations.contains(o) {
                        obligations.push(o.clone());
                    }
                }
            }
            Ok(Decision {
                allowed: true,
                reasons,
                obligations,
                policy_version: Arc::clone(&local.version),
                audit_seq: None,
            })
        } else {
            let mut reasons: Vec<Reason> = determining.filter(|p| p.forbid).map(reason).collect();
            if reasons.is_empty() {
                reasons.push(Reason {
                    text: Arc::clone(&local.default_deny),
                    error: None,
                });
            }
            Ok(deny(reasons))
        }
    }

    fn record(&self, request: &Request, inventory: &Inventory, decision: &mut Decision) {
        let sink = match self.sink.read() {
            Ok(guard) => guard.as_ref().map(Arc::clone),
            Err(_) => None,
        };
        let Some(sink) = sink else { return };
        match sink.record(request, inventory, decision) {
            Ok(Some(seq)) => decision.set_audit_seq(seq),
            Ok(None) => {}
            Err(e) => {
                // What cannot be recorded does not happen (Art. 3(5), 8).
                decision.allowed = false;
                decision.obligations.clear();
                decision.reasons = vec![Reason {
                    text: Arc::new(AUDIT_UNAVAILABLE),
                    error: Some(e.to_string()),
                }];
            }
        }
    }

    /// Installs the resolver of approval ids (the workflows).
    pub fn set_approval_resolver(&self, resolver: Option<Arc<dyn ApprovalResolver>>) {
        if let Ok(mut guard) = self.approvals.write() {
            *guard = resolver;
        }
    }

    /// Installs the sink that records every decision (the audit log).
    pub fn set_decision_sink(&self, sink: Option<Arc<dyn DecisionSink>>) {
        if let Ok(mut guard) = self.sink.write() {
            *guard = sink;
        }
    }

    /// Whether a decision sink is installed.
    pub fn has_decision_sink(&self) -> bool {
        self.sink.read().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Replaces the policy pack atomically.
    pub fn reload_policies(&self, pack: PolicyPack) {
        self.state.store(Arc::new(State::new(pack)));
    }

    /// The current policy pack.
    pub fn pack(&self) -> PolicyPack {
        self.state.load().pack.clone()
    }

    /// The version of the current policy pack.
    pub fn policy_version(&self) -> String {
        self.state.load().pack.version().to_owned()
    }

    /// A snapshot of the current inventory.
    pub fn inventory(&self) -> Arc<Inventory> {
        self.inventory.load_full()
    }

    /// Replaces the whole inventory atomically.
    pub fn replace_inventory(&self, inventory: Inventory) {
        let _guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.inventory.store(Arc::new(inventory));
    }

    /// Adds or replaces one inventory record; on error nothing changes.
    pub fn upsert(&self, record: Record) -> Result<()> {
        self.update(|inv| inv.upsert(record))
    }

    /// Removes one inventory record; on error nothing changes.
    pub fn remove(&self, kind: RecordKind, id: &str) -> Result<()> {
        self.update(|inv| inv.remove(kind, id))
    }

    fn update(&self, change: impl FnOnce(&mut Inventory) -> Result<()>) -> Result<()> {
        let _guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = (**self.inventory.load()).clone();
        change(&mut next)?;
        self.inventory.store(Arc::new(next));
        Ok(())
    }

    /// The same request as plain Cedar sees it: the whole pack and every entity of the
    /// inventory in one store. For differential tests and benchmarks (the `testing`
    /// feature).
    #[cfg(feature = "testing")]
    pub fn plain_cedar(&self) -> Result<PlainCedar> {
        self.plain_view()
    }

    /// Plain Cedar's view of the pack and inventory (what explanations probe).
    pub(crate) fn plain_view(&self) -> Result<PlainCedar> {
        let pack = self.pack();
        let inventory = self.inventory();
        let entities = cedar::full_store(&inventory, &pack)?;
        Ok(PlainCedar {
            pack,
            inventory,
            entities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }
}
