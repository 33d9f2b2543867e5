//! Why a decision came out as it did: the forbids that fired, the permits that
//! allowed, or — for a request that nothing permits — the permits that came closest
//! and the condition each one lacked.
//!
//! This module owns that analysis ([`Engine::explain`]). It reuses the engine's own
//! conversion of a request into Cedar's terms (plain Cedar's view of the pack,
//! which the differential tests hold equal to the engine's decisions) and evaluates
//! one-off policies built from each permit: its scope alone, then each conjunct of
//! its conditions alone. It never decides: the decision it explains is the engine's,
//! made by [`Engine::decide`]. It does not record anything in an audit log beyond what
//! that decision records.
//!
//! Approvals cited by the request are analysed as plain Cedar sees them, unresolved:
//! a `context has approval` condition shows as false even where an approval resolver
//! installed on the engine vouched for it.

mod conditions;

use crate::engine::{Decision, Engine, Request, DEFAULT_DENY};
use crate::error::{Error, Result};
use crate::policy::{Citation, PolicyInfo, PolicyPack};
use cedar_policy::{Authorizer, Entities, Policy, PolicyId, PolicySet};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// A policy of the pack as an explanation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyNote {
    #[serde(flatten)]
    citation: Citation,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl PolicyNote {
    fn of(info: &PolicyInfo) -> Self {
        PolicyNote {
            citation: info.citation().clone(),
            file: Some(info.file().to_owned()),
            line: Some(info.line()),
            error: None,
        }
    }

    /// The policy id (`@id`), or `default-deny` / `engine-error`.
    pub fn policy(&self) -> &str {
        self.citation.policy()
    }
    /// The article it enforces (`@article`).
    pub fn article(&self) -> &str {
        self.citation.article()
    }
    /// The rule in Chinese (`@zh`).
    pub fn zh(&self) -> &str {
        self.citation.zh()
    }
    /// The rule in English (`@en`).
    pub fn en(&self) -> &str {
        self.citation.en()
    }
    /// What the note cites: policy, article and rule.
    pub fn citation(&self) -> &Citation {
        &self.citation
    }
    /// The file the policy came from, for a policy of the pack.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }
    /// The 1-based line the policy starts on, for a policy of the pack.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
    /// For a policy that failed to evaluate (which denies), the evaluation error.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// Whether a condition comes from a `when` or an `unless` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClauseKind {
    /// A `when { … }` clause: each of its conjuncts must be true.
    When,
    /// An `unless { … }` clause: its whole body must be false.
    Unless,
}

/// One condition of a permit that did not hold for the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    kind: ClauseKind,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Condition {
    /// The clause the condition belongs to.
    pub fn kind(&self) -> ClauseKind {
        self.kind
    }
    /// The condition as Cedar source text: one conjunct of a `when` clause, or the
    /// whole body of an `unless` clause (which must be false).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// When the condition could not be evaluated (a missing attribute, say), why.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// A permit whose scope matches the request but whose conditions did not all hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    #[serde(flatten)]
    policy: PolicyNote,
    held: usize,
    total: usize,
    failed: Condition,
}

impl NearMiss {
    /// The permit.
    pub fn policy(&self) -> &PolicyNote {
        &self.policy
    }
    /// How many of its conditions held.
    pub fn held(&self) -> usize {
        self.held
    }
    /// How many conditions it has (the conjuncts of its `when` clauses, and one per
    /// `unless` clause).
    pub fn total(&self) -> usize {
        self.total
    }
    /// The first condition, in the order of the policy's source, that did not hold.
    pub fn failed(&self) -> &Condition {
        &self.failed
    }
}

/// Why the engine decided a request as it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    decision: Decision,
    forbids: Vec<PolicyNote>,
    permits: Vec<PolicyNote>,
    errors: Vec<PolicyNote>,
    closest: Vec<NearMiss>,
}

impl Explanation {
    /// The decision explained, exactly as [`Engine::decide`] gave it.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
    /// For a deny, the forbids that fired, in pack order.
    pub fn forbids(&self) -> &[PolicyNote] {
        &self.forbids
    }
    /// For an allow, the permits that allowed it, in pack order.
    pub fn permits(&self) -> &[PolicyNote] {
        &self.permits
    }
    /// Policies that could not be evaluated (each denies: the engine fails closed).
    pub fn errors(&self) -> &[PolicyNote] {
        &self.errors
    }
    /// For a deny that no forbid caused, the permits whose scope matches the request,
    /// closest first: most conditions held, then pack order.
    pub fn closest(&self) -> &[NearMiss] {
        &self.closest
    }
    /// Whether the deny is the default one: no forbid fired, no permit applied.
    pub fn is_default_deny(&self) -> bool {
        !self.decision.allowed() && self.decision.reason_ids() == [DEFAULT_DENY]
    }
    /// The explanation as JSON: the decision in the wire format, then `forbids`,
    /// `permits`, `errors` and `closest`.
    pub fn to_json(&self) -> Value {
        json!({
            "decision": self.decision.to_json(),
            "forbids": self.forbids,
            "permits": self.permits,
            "errors": self.errors,
            "closest": self.closest,
        })
    }
}

impl Engine {
    /// Decides `request` and explains the decision.
    ///
    /// For a deny, the forbids that fired (with `@id`, `@article`, `@zh`, `@en`, file
    /// and line); for a deny that no forbid caused, every permit whose scope
    /// (principal, action and resource constraints) matches the request, with how
    /// many of its conditions held and the first that did not, as Cedar source; for
    /// an allow, the permits that allowed it (the obligations are the decision's).
    ///
    /// The errors are those of [`Engine::decide`] (`request_invalid`,
    /// `unknown_entity`).
    pub fn explain(&self, request: &Request) -> Result<Explanation> {
        let decision = self.decide(request)?;
        let pack = self.pack();
        let mut forbids = Vec::new();
        let mut permits = Vec::new();
        let mut errors = Vec::new();
        for reason in decision.reasons() {
            let mut note = match pack.policy(reason.policy()) {
                Some(info) => PolicyNote::of(info),
                None => PolicyNote {
                    citation: reason.citation().clone(),
                    file: None,
                    line: None,
                    error: None,
                },
            };
            if let Some(e) = reason.error() {
                note.error = Some(e.to_owned());
                errors.push(note);
            } else if decision.allowed() {
                permits.push(note);
            } else if pack.policy(reason.policy()).is_some_and(|p| p.is_forbid()) {
                forbids.push(note);
            }
        }
        let mut explanation = Explanation {
            decision,
            forbids,
            permits,
            errors,
            closest: Vec::new(),
        };
        if explanation.is_default_deny() {
            explanation.closest = self.near_misses(&pack, request)?;
        }
        Ok(explanation)
    }

    /// The permits whose scope matches `request`, with the conditions that held.
    fn near_misses(&self, pack: &PolicyPack, request: &Request) -> Result<Vec<NearMiss>> {
        let plain = self.plain_view()?;
        let cedar_request = plain.cedar_request(request)?;
        let entities = Entities::from_json_value(plain.entities_json()?, None)
            .map_err(|e| Error::request(format!("internal: entities: {e}")))?;

        // One set holds, for every permit, its scope alone (`s<i>`) and each of its
        // conditions alone (`c<i>_<k>`); one evaluation answers them all.
        let mut probes = Vec::new();
        let mut permits = Vec::new();
        for (i, info) in pack.policies().iter().enumerate() {
            if info.is_forbid() {
                continue;
            }
            let Some(policy) = pack.cedar_policy_set().policy(&PolicyId::new(info.id())) else {
                continue;
            };
            let est = policy
                .to_json()
                .map_err(|e| Error::request(format!("internal: `{}`: {e}", info.id())))?;
            let conds = conditions::of(&est, info.text());
            let mut scope = est.clone();
            if let Some(obj) = scope.as_object_mut() {
                obj.insert("conditions".into(), json!([]));
                obj.remove("annotations");
            }
            probes.push(probe(format!("s{i}"), scope)?);
            for (k, c) in conds.iter().enumerate() {
                let clause = match c.kind {
                    ClauseKind::When => "when",
                    ClauseKind::Unless => "unless",
                };
                let body = json!({
                    "effect": "permit",
                    "principal": {"op": "All"},
                    "action": {"op": "All"},
                    "resource": {"op": "All"},
                    "conditions": [{"kind": clause, "body": c.expr}],
                });
                probes.push(probe(format!("c{i}_{k}"), body)?);
            }
            permits.push((i, info, conds));
        }
        let set = PolicySet::from_policies(probes)
            .map_err(|e| Error::request(format!("internal: probes: {e}")))?;
        let response = Authorizer::new().is_authorized(&cedar_request, &set, &entities);
        let held: HashSet<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        let failed: HashMap<String, String> = response
            .diagnostics()
            .errors()
            .map(|e| {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(e) = e;
                (e.policy_id().to_string(), e.inner().to_string())
            })
            .collect();

        let mut out: Vec<(usize, NearMiss)> = Vec::new();
        for (i, info, conds) in permits {
            if !held.contains(&format!("s{i}")) {
                continue;
            }
            let mut count = 0;
            let mut first: Option<Condition> = None;
            for (k, c) in conds.iter().enumerate() {
                let id = format!("c{i}_{k}");
                if held.contains(&id) {
                    count += 1;
                } else if first.is_none() {
                    first = Some(Condition {
                        kind: c.kind,
                        text: c.text.clone(),
                        error: failed.get(&id).cloned(),
                    });
                }
            }
            if let Some(failed) = first {
                out.push((
                    i,
                    NearMiss {
                        policy: PolicyNote::of(info),
                        held: count,
                        total: conds.len(),
                        failed,
                    },
                ));
            }
        }
        out.sort_by(|(ia, a), (ib, b)| b.held.cmp(&a.held).then(ia.cmp(ib)));
        Ok(out.into_iter().map(|(_, m)| m).collect())
    }
}

fn probe(id: String, est: Value) -> Result<Policy> {
    Policy::from_json(Some(PolicyId::new(&id)), est)
        .map_err(|e| Error::request(format!("internal: probe `{id}`: {e}")))
}
