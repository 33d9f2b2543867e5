//! Principal guards: the part of a policy that depends on the principal alone.
//!
//! A policy's principal scope (`principal in Department::"x"`) and the leading
//! conjuncts of its first `when` clause that mention no variable but `principal`
//! (`principal.roles.contains("analyst") && …`) form its *guard*. Cedar evaluates
//! the scope first and `&&` left to right, stopping at the first `false`, so:
//!
//! - when the guard is false for a principal, the policy cannot be satisfied by any
//!   request of that principal and is left out of the principal's policy set;
//! - when it is true, the policy is equivalent to its *residual* — the policy without
//!   the guard — which is cheaper to evaluate;
//! - when it fails to evaluate, the engine keeps the original policy, which fails
//!   the same way and so denies.
//!
//! Only leading conjuncts are taken, so no error that Cedar would raise before
//! reaching a conjunct is ever skipped. The transformation is on the policy's JSON
//! form (Cedar's EST) and produces policies Cedar parses again.

use serde_json::{json, Map, Value};

/// The guard and the residual of a policy, as Cedar JSON policies.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Split {
    /// `permit (<principal scope>, action, resource) when { <guard conjuncts> };`
    pub(crate) guard: Value,
    /// The policy with the principal scope opened up and the guard conjuncts removed.
    pub(crate) residual: Value,
}

/// The policy as the engine evaluates it inside one (action, resource type) slot of
/// the index: the slot already guarantees the action and the resource type, so an
/// action scope (`action in [...]`, which Cedar rebuilds as a set on every request)
/// and a resource-type scope (`resource is Dataset`) are opened up.
pub(crate) fn unscoped(policy: &Value) -> Option<Value> {
    let mut obj = policy.as_object()?.clone();
    let mut changed = false;
    if obj
        .get("action")
        .and_then(|a| a.get("op"))
        .and_then(Value::as_str)
        != Some("All")
    {
        obj.insert("action".into(), json!({"op": "All"}));
        changed = true;
    }
    let resource = obj.get("resource")?;
    if resource.get("op").and_then(Value::as_str) == Some("is") && resource.get("in").is_none() {
        obj.insert("resource".into(), json!({"op": "All"}));
        changed = true;
    }
    changed.then_some(Value::Object(obj))
}

/// Splits `policy` (Cedar JSON) into guard and residual, or `None` when it has no guard.
pub(crate) fn split(policy: &Value) -> Option<Split> {
    let obj = policy.as_object()?;
    let principal = obj.get("principal")?;
    let scoped = principal.get("op").and_then(Value::as_str) != Some("All");
    if scoped && !scope_is_static(principal) {
        return None;
    }
    let conditions = obj
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut guard_conjuncts = Vec::new();
    let mut rest_conjuncts = Vec::new();
    if let Some(first) = conditions.first() {
        if first.get("kind").and_then(Value::as_str) == Some("when") {
            if let Some(body) = first.get("body") {
                let mut conjuncts = Vec::new();
                flatten_and(body, &mut conjuncts);
                let cut = conjuncts.iter().take_while(|c| principal_only(c)).count();
                guard_conjuncts = conjuncts[..cut].iter().map(|c| (*c).clone()).collect();
                rest_conjuncts = conjuncts[cut..].iter().map(|c| (*c).clone()).collect();
            }
        }
    }
    if !scoped && guard_conjuncts.is_empty() {
        return None;
    }

    let mut guard = Map::new();
    guard.insert("effect".into(), json!("permit"));
    guard.insert("principal".into(), principal.clone());
    guard.insert("action".into(), json!({"op": "All"}));
    guard.insert("resource".into(), json!({"op": "All"}));
    let guard_conditions = match and_all(guard_conjuncts.clone()) {
        Some(body) => json!([{"kind": "when", "body": body}]),
        None => json!([]),
    };
    guard.insert("conditions".into(), guard_conditions);

    let mut residual = obj.clone();
    residual.insert("principal".into(), json!({"op": "All"}));
    let mut residual_conditions: Vec<Value> = Vec::new();
    if !guard_conjuncts.is_empty() {
        if let Some(body) = and_all(rest_conjuncts) {
            residual_conditions.push(json!({"kind": "when", "body": body}));
        }
        residual_conditions.extend(conditions.into_iter().skip(1));
    } else {
        residual_conditions = conditions;
    }
    residual.insert("conditions".into(), Value::Array(residual_conditions));
    Some(Split {
        guard: Value::Object(guard),
        residual: Value::Object(residual),
    })
}

/// A principal scope that names entities, not template slots.
fn scope_is_static(scope: &Value) -> bool {
    !scope.to_string().contains("\"slot\"")
}

fn flatten_and<'v>(e: &'v Value, out: &mut Vec<&'v Value>) {
    if let Some(and) = e.get("&&") {
        if let (Some(l), Some(r)) = (and.get("left"), and.get("right")) {
            flatten_and(l, out);
            flatten_and(r, out);
            return;
        }
    }
    out.push(e);
}

fn and_all(conjuncts: Vec<Value>) -> Option<Value> {
    conjuncts
        .into_iter()
        .reduce(|left, right| json!({"&&": {"left": left, "right": right}}))
}

/// Whether an expression mentions no variable but `principal` and no template slot.
fn principal_only(e: &Value) -> bool {
    match e {
        Value::Object(m) => m.iter().all(|(k, v)| match k.as_str() {
            "Var" => v.as_str() == Some("principal"),
            "Slot" | "Unknown" => false,
            // A literal value: an entity reference or a constant.
            "Value" => true,
            _ => principal_only(v),
        }),
        Value::Array(items) => items.iter().all(principal_only),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cedar_policy::{Policy, PolicyId};

    fn est(text: &str) -> Value {
        Policy::parse(Some(PolicyId::new("p")), text)
            .unwrap()
            .to_json()
            .unwrap()
    }

    fn text(v: &Value) -> String {
        Policy::from_json(Some(PolicyId::new("p")), v.clone())
            .unwrap()
            .to_string()
    }

    #[test]
    fn leading_principal_conjuncts_form_the_guard() {
        let s = split(&est(
            r#"permit (principal in Department::"d", action == Action::"query", resource is Dataset)
               when { principal.roles.contains("analyst") && principal.department.kind == "user" && resource.level <= 2 && principal.designated_admin };"#,
        ))
        .unwrap();
        let g = text(&s.guard);
        assert!(
            g.contains("Department::\"d\"") && g.contains("analyst") && g.contains("kind"),
            "{g}"
        );
        assert!(
            !g.contains("resource.level") && !g.contains("designated_admin"),
            "{g}"
        );
        let r = text(&s.residual);
        assert!(
            r.contains("resource.level") && r.contains("designated_admin"),
            "{r}"
        );
        assert!(
            !r.contains("analyst") && !r.contains("Department::\"d\""),
            "{r}"
        );
    }

    #[test]
    fn a_conjunct_after_a_non_principal_one_stays_in_the_residual() {
        let s = split(&est(
            r#"permit (principal, action, resource) when { context has purpose && principal.roles.contains("x") };"#,
        ));
        assert!(s.is_none());
    }

    #[test]
    fn unless_clauses_and_later_conditions_are_kept() {
        let s = split(&est(
            r#"forbid (principal, action, resource is Dataset) when { principal has vendor } unless { resource.graded };"#,
        ))
        .unwrap();
        let r = text(&s.residual);
        assert!(r.contains("unless") && !r.contains("vendor"), "{r}");
    }

    #[test]
    fn policies_without_principal_conditions_have_no_guard() {
        assert!(split(&est(
            r#"forbid (principal, action, resource is Dataset) unless { resource.graded };"#
        ))
        .is_none());
    }
}
