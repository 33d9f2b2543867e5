//! The engine's behaviour: fail closed, atomic reloads under load, batches. The same
//! decisions as plain Cedar are tested in `differential.rs`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: an unwrap that fails is the test failing"
)]

mod common;

use govdata::engine::{Context, Resource};
use govdata::{Action, Engine, Inventory, PolicyPack, Request};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn example() -> Inventory {
    Inventory::from_file(common::root().join("policies/examples/inventory.json")).unwrap()
}

fn pack_plus(extra: &str) -> PolicyPack {
    let mut files: Vec<(String, String)> = Vec::new();
    for f in std::fs::read_dir(common::policies_dir()).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|x| x == "cedar") {
            files.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    files.sort();
    files.push(("dept.cedar".into(), extra.into()));
    let schema =
        std::fs::read_to_string(common::policies_dir().join("schema.cedarschema")).unwrap();
    PolicyPack::from_sources(("schema.cedarschema", &schema), &files).unwrap()
}

const QUERY: &str = r#"{"principal":"zhang.san","action":"query","resource":"population-stats"}"#;

#[test]
fn a_policy_that_fails_to_evaluate_denies() {
    // Cedar skips a policy whose evaluation errors; for a forbid that would allow.
    let pack = pack_plus(
        r#"@id("dept-overflow") @article("第三条") @zh("溢出") @en("overflows")
forbid (principal, action == Action::"query", resource is Dataset)
when { resource.level * 9223372036854775807 > 0 };"#,
    );
    let engine = Engine::new(pack, example());
    let d = engine.decide_json(QUERY).unwrap();
    assert!(!d.allowed());
    assert!(d.obligations().is_empty());
    let r = d
        .reasons()
        .iter()
        .find(|r| r.policy() == "dept-overflow")
        .expect("the failing policy is named");
    assert!(
        r.error().is_some_and(|e| e.contains("overflow")),
        "{:?}",
        r.error()
    );
    assert!(d.to_json()["reasons"][0]["error"].is_string());
}

#[test]
fn a_deny_without_a_forbid_says_default_deny_citing_article_3() {
    let engine = Engine::with_defaults().unwrap();
    let d = engine
        .decide_json(r#"{"principal":"zhang.san","action":"modify","resource":"population-stats"}"#)
        .unwrap();
    assert_eq!(d.decision(), "deny");
    assert_eq!(d.reasons().len(), 1);
    assert_eq!(d.reasons()[0].policy(), "default-deny");
    assert_eq!(d.reasons()[0].article(), "第三条");
    let json = d.to_json();
    assert_eq!(json["decision"], "deny");
    assert!(json["policy_version"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(json["audit_seq"], serde_json::Value::Null);
}

#[test]
fn reloads_are_atomic_under_load() {
    let a = PolicyPack::default_pack().unwrap();
    let b = pack_plus(
        r#"@id("dept-freeze") @article("第三条") @zh("冻结") @en("freeze")
forbid (principal, action == Action::"query", resource is Dataset);"#,
    );
    let (va, vb) = (a.version().to_owned(), b.version().to_owned());
    assert_ne!(va, vb);
    let engine = Arc::new(Engine::new(a.clone(), example()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (engine, stop, va, vb) = (engine.clone(), stop.clone(), va.clone(), vb.clone());
            std::thread::spawn(move || {
                let (mut seen_a, mut seen_b) = (0, 0);
                while !stop.load(Ordering::Relaxed) {
                    let d = engine.decide_json(QUERY).unwrap();
                    if d.policy_version() == va {
                        assert!(d.allowed(), "old pack must allow");
                        seen_a += 1;
                    } else {
                        assert_eq!(d.policy_version(), vb);
                        assert!(!d.allowed());
                        assert_eq!(d.reason_ids(), vec!["dept-freeze"]);
                        seen_b += 1;
                    }
                }
                (seen_a, seen_b)
            })
        })
        .collect();
    for i in 0..40 {
        engine.reload_policies(if i % 2 == 0 { b.clone() } else { a.clone() });
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let (mut sa, mut sb) = (0, 0);
    for w in workers {
        let (a, b) = w.join().unwrap();
        sa += a;
        sb += b;
    }
    assert!(sa > 0 && sb > 0, "both packs decided ({sa}, {sb})");
}

#[test]
fn decide_many_keeps_the_order_and_reports_errors_per_request() {
    let engine = Engine::with_defaults().unwrap();
    let mut requests = Vec::new();
    for i in 0..500 {
        let principal = if i % 7 == 0 {
            "ghost"
        } else if i % 2 == 0 {
            "zhang.san"
        } else {
            "wang.wu"
        };
        requests.push(Request::new(
            principal,
            Action::Query,
            Resource::dataset("population-stats"),
        ));
    }
    let out = engine.decide_many(&requests);
    assert_eq!(out.len(), 500);
    for (i, d) in out.iter().enumerate() {
        if i % 7 == 0 {
            assert_eq!(d.as_ref().unwrap_err().code(), "unknown_entity");
        } else if i % 2 == 0 {
            assert!(d.as_ref().unwrap().allowed(), "{i}");
        } else {
            // wang.wu (renshe) may query gongan's unconditional L2 statistics
            assert_eq!(
                d.as_ref().unwrap().reason_ids(),
                vec!["art14-query-unconditional"]
            );
        }
    }
}

#[test]
fn allowed_resources_filters_a_batch() {
    let engine = Engine::with_defaults().unwrap();
    let all: Vec<Resource> = [
        "traffic-flow",
        "hukou",
        "population-stats",
        "criminal-records",
        "grid-survey",
    ]
    .into_iter()
    .map(Resource::dataset)
    .collect();
    let ctx = Context {
        scenario_risk: Some(govdata::model::ScenarioRisk::Low),
        ..Context::default()
    };
    let ok = engine
        .allowed_resources("zhang.san", Action::Query, &all, &ctx)
        .unwrap();
    let ids: Vec<&str> = ok.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["traffic-flow", "hukou", "population-stats"]);
    let bad = [Resource::dataset("nope")];
    assert_eq!(
        engine
            .allowed_resources("zhang.san", Action::Query, &bad, &ctx)
            .unwrap_err()
            .code(),
        "unknown_entity"
    );
}

#[test]
fn reasons_come_in_pack_order_every_time() {
    let engine = Engine::with_defaults().unwrap();
    let q = r#"{"principal":"vendor.wang","action":"query","resource":"criminal-records"}"#;
    let first = engine.decide_json(q).unwrap().to_json_string();
    for _ in 0..50 {
        assert_eq!(engine.decide_json(q).unwrap().to_json_string(), first);
    }
    let d = engine.decide_json(q).unwrap();
    assert_eq!(
        d.reason_ids(),
        vec!["art16-vendor-no-sensitive-pi", "art16-vendor-no-important"]
    );
}
