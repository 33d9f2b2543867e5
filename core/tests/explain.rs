//! `Engine::explain` on the default pack and the example city: a deny by a forbid, a
//! deny that nothing permits with the closest permit's missing condition, an allow.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use govdata::explain::ClauseKind;
use govdata::{Engine, Request};

fn explain(json: &str) -> govdata::Explanation {
    let engine = Engine::with_defaults().unwrap();
    engine
        .explain(&Request::from_json_str(json).unwrap())
        .unwrap()
}

#[test]
fn a_deny_by_a_forbid_names_the_forbid_with_its_article() {
    let x = explain(
        r#"{"principal": "ops.admin", "action": "grant_superadmin",
            "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "vendor.li"}}"#,
    );
    assert!(!x.decision().allowed());
    assert!(!x.is_default_deny());
    let ids: Vec<&str> = x.forbids().iter().map(|f| f.policy()).collect();
    assert_eq!(ids, ["art17-no-vendor-superadmin"]);
    let f = &x.forbids()[0];
    assert_eq!(f.article(), "第十七条");
    assert_eq!(f.zh(), "数据库、操作系统最高管理员权限不得转交供应商人员");
    assert_eq!(
        f.en(),
        "database and OS super-administrator rights may not be given to vendor staff"
    );
    assert_eq!(f.file(), Some("policies/art17-superadmin.cedar"));
    assert!(x.closest().is_empty() && x.permits().is_empty());
    let json = x.to_json();
    assert_eq!(json["forbids"][0]["policy"], "art17-no-vendor-superadmin");
    assert_eq!(json["decision"]["decision"], "deny");
}

#[test]
fn a_default_deny_names_the_closest_permit_and_its_false_condition() {
    // An analyst queries their own department's L4 data in a high-risk scenario:
    // the analysts' L4 permit holds in everything but the risk.
    let x = explain(
        r#"{"principal": "zhang.san", "action": "query", "resource": "hukou",
            "context": {"scenario_risk": "high"}}"#,
    );
    assert!(x.is_default_deny());
    assert!(x.forbids().is_empty());
    let first = &x.closest()[0];
    assert_eq!(first.policy().policy(), "art10-query-own-l4-analyst");
    assert_eq!(first.policy().article(), "第十条");
    assert!(first.policy().zh().contains("中低风险"));
    assert!(first.policy().en().contains("low- or medium-risk"));
    assert_eq!((first.held(), first.total()), (4, 5));
    assert_eq!(first.failed().kind(), ClauseKind::When);
    assert_eq!(first.failed().text(), "context.risk <= 2");
    assert_eq!(first.failed().error(), None);
    // Ranked by conditions held.
    let held: Vec<usize> = x.closest().iter().map(|m| m.held()).collect();
    assert!(held.windows(2).all(|w| w[0] >= w[1]), "{held:?}");
    // Only permits whose scope matches: every one is a query permit.
    let engine = Engine::with_defaults().unwrap();
    let pack = engine.pack();
    for m in x.closest() {
        let info = pack.policy(m.policy().policy()).unwrap();
        assert!(!info.is_forbid());
        assert!(info.text().contains("Action::\"query\""), "{}", info.id());
    }
}

#[test]
fn a_condition_that_cannot_be_evaluated_on_its_own_is_reported() {
    // Without a declared risk, `context has risk` is the first false condition; the
    // next one (`context.risk <= 2`) errors on its own and does not count as held.
    let x = explain(r#"{"principal": "zhang.san", "action": "query", "resource": "hukou"}"#);
    let m = x
        .closest()
        .iter()
        .find(|m| m.policy().policy() == "art10-query-own-l4-analyst")
        .unwrap();
    assert_eq!(m.failed().text(), "context has risk");
    assert_eq!((m.held(), m.total()), (3, 5));
}

#[test]
fn a_deny_with_no_matching_scope_has_no_closest_permit() {
    // Nothing permits purging the audit log, and a forbid denies it.
    let x = explain(
        r#"{"principal": "ops.admin", "action": "purge_audit",
            "resource": {"type": "AuditLog", "id": "main"}}"#,
    );
    assert_eq!(x.forbids()[0].policy(), "art8-no-purge");
    assert!(x.closest().is_empty());
}

#[test]
fn an_allow_shows_the_permits_and_obligations() {
    let x = explain(
        r#"{"principal": "zhang.san", "action": "query", "resource": "hukou",
            "context": {"scenario_risk": "low"}}"#,
    );
    assert!(x.decision().allowed());
    let ids: Vec<&str> = x.permits().iter().map(|p| p.policy()).collect();
    assert_eq!(ids, ["art10-query-own-l4-analyst"]);
    assert_eq!(
        x.decision().obligations(),
        ["mask_personal_info", "watermark"]
    );
    assert!(x.forbids().is_empty() && x.closest().is_empty());
}

#[test]
fn bad_input_is_the_error_decide_gives() {
    let engine = Engine::with_defaults().unwrap();
    let r = Request::from_json_str(
        r#"{"principal": "nobody", "action": "query", "resource": "hukou"}"#,
    )
    .unwrap();
    assert_eq!(engine.explain(&r).unwrap_err().code(), "unknown_entity");
}
