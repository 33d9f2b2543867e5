//! The engine decides exactly as plain Cedar: on the example inventory and on inventories
//! that proptest generates (department trees, vendors and their staff, datasets of every
//! grade, stage and share type, systems), for random requests with contexts of every shape.
//!
//! The engine's slices, per-thread sets and per-decision entities must change nothing
//! against plain Cedar's `is_authorized` over the whole pack and a whole entity store
//! validated against the schema. The test command runs 4,000 requests on the example
//! inventory and `GOVDATA_DIFF_INVENTORIES` (64) generated inventories of
//! `GOVDATA_DIFF_REQUESTS` (250) requests each, 20,000 in all;
//! `scripts/differential-soak.sh` raises both.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: an unwrap that fails is the test failing"
)]

use govdata::engine::{PlainCedar, Resource};
use govdata::model::{
    DepartmentKind, Grade, PersonalInfo, ResourceKind, ScenarioRisk, ShareType, Stage, SystemKind,
};
use govdata::{Action, Engine, Inventory, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::cell::RefCell;

fn env_or(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Random requests drawn from `inv`, including contexts of every shape.
fn random_requests(inv: &Inventory, n: usize, seed: u64) -> Vec<Request> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut users: Vec<String> = inv.users().map(|u| u.id.clone()).collect();
    let mut datasets: Vec<String> = inv.datasets().map(|d| d.id.clone()).collect();
    let mut systems: Vec<String> = inv.systems().map(|s| s.id.clone()).collect();
    let mut depts: Vec<String> = inv.departments().map(|d| d.id.clone()).collect();
    users.sort();
    datasets.sort();
    systems.sort();
    depts.sort();
    let mut purposes: Vec<String> = inv
        .datasets()
        .flat_map(|d| d.allowed_purposes.clone())
        .collect();
    purposes.sort();
    purposes.dedup();
    purposes.push("marketing".into());
    purposes.push(String::new());
    (0..n)
        .map(|_| {
            let action = *Action::ALL.choose(&mut rng).unwrap();
            let kind = *action.resource_kinds().choose(&mut rng).unwrap();
            let resource = match kind {
                ResourceKind::Dataset => Resource::dataset(datasets.choose(&mut rng).unwrap()),
                ResourceKind::System => Resource::system(systems.choose(&mut rng).unwrap()),
                ResourceKind::AuditLog => Resource::audit_log("main"),
            };
            let mut r = Request::new(users.choose(&mut rng).unwrap(), action, resource);
            let c = &mut r.context;
            if rng.gen_bool(0.5) {
                c.purpose = purposes.choose(&mut rng).cloned();
            }
            if rng.gen_bool(0.4) {
                c.legal_basis = Some(if rng.gen_bool(0.8) {
                    "某法规第N条".into()
                } else {
                    String::new()
                });
            }
            if rng.gen_bool(0.4) {
                c.intended_use = Some("report".into());
            }
            if rng.gen_bool(0.5) {
                c.scenario_risk = ScenarioRisk::ALL.choose(&mut rng).copied();
            }
            if rng.gen_bool(0.4) {
                c.channel = Some(govdata::engine::Channel {
                    encrypted: rng.gen_bool(0.8),
                    authenticated: rng.gen_bool(0.8),
                    integrity_checked: rng.gen_bool(0.8),
                });
            }
            if rng.gen_bool(0.2) {
                c.approval = Some("apr-unknown".into());
            }
            if rng.gen_bool(0.4) {
                c.grantee = users.choose(&mut rng).cloned();
            }
            if rng.gen_bool(0.3) {
                c.recipient_department = depts.choose(&mut rng).cloned();
            }
            if rng.gen_bool(0.3) {
                c.audit_department = depts.choose(&mut rng).cloned();
            }
            r
        })
        .collect()
}

/// How the decisions of a run came out.
#[derive(Debug, Default)]
struct Tally {
    requests: usize,
    allows: usize,
    forbids: usize,
}

/// Decides every request by the engine and by plain Cedar and asserts that they agree on
/// the decision and on the deciding policies.
fn compare(engine: &Engine, plain: &PlainCedar, requests: &[Request], tally: &mut Tally) {
    for r in requests {
        let d = engine.decide(r).unwrap();
        let (allowed, ids, errored) = plain.decide(r).unwrap();
        assert!(!errored, "plain Cedar errored on {r:?}");
        let mut expected = ids;
        if !allowed && expected.is_empty() {
            expected.push("default-deny".into());
        }
        let mut got: Vec<String> = d.reason_ids().into_iter().map(String::from).collect();
        got.sort();
        assert_eq!(
            (d.allowed(), &got),
            (allowed, &expected),
            "request {}",
            serde_json::to_string(r).unwrap()
        );
        tally.requests += 1;
        if allowed {
            tally.allows += 1;
        } else if got != ["default-deny"] {
            tally.forbids += 1;
        }
    }
}

#[test]
fn decisions_equal_plain_cedar_on_random_requests_on_the_example_inventory() {
    let engine = Engine::with_defaults().unwrap();
    let plain = engine.plain_cedar().unwrap();
    let n = env_or("GOVDATA_DIFF_EXAMPLE_REQUESTS", 4_000);
    let requests = random_requests(&engine.inventory(), n, 20261125);
    let mut tally = Tally::default();
    compare(&engine, &plain, &requests, &mut tally);
    // The sample exercises all three outcomes in earnest.
    assert!(tally.allows * 33 > n && tally.forbids * 10 > n, "{tally:?}");
}

const ROLES: &[&str] = &[
    "analyst",
    "auditor",
    "data_steward",
    "developer",
    "key_admin",
    "ops_engineer",
    "platform_admin",
    "security_officer",
];

const PURPOSES: &[&str] = &[
    "public_security",
    "statistics",
    "open_data",
    "social_assistance",
];

fn pick<T: Clone + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

fn subset(all: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(all, 0..=3.min(all.len()))
        .prop_map(|v| v.into_iter().map(String::from).collect())
}

/// A generated inventory as JSON: a department tree (each parent comes before its child),
/// vendors with or without contract roles, users in any department (some vendor staff),
/// datasets kept within the inventory's rules (sensitive data at `L4` or above, only graded
/// data catalogued), and systems.
fn inventory_json() -> impl Strategy<Value = Value> {
    let departments = prop::collection::vec(
        (
            pick(DepartmentKind::ALL),
            any::<Option<prop::sample::Index>>(),
        ),
        1..6,
    );
    let vendors = prop::collection::vec(prop::option::of(subset(ROLES)), 0..3);
    let users = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            subset(ROLES),
            any::<Option<prop::sample::Index>>(),
            prop::bool::weighted(0.2),
        ),
        1..10,
    );
    let datasets = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::option::weighted(0.9, pick(Grade::ALL)),
            pick(Stage::ALL),
            pick(PersonalInfo::ALL),
            pick(ShareType::ALL),
            any::<bool>(),
            subset(PURPOSES),
        ),
        1..6,
    );
    let systems =
        prop::collection::vec((pick(SystemKind::ALL), any::<prop::sample::Index>()), 1..4);
    (departments, vendors, users, datasets, systems).prop_map(
        |(departments, vendors, users, datasets, systems)| {
            let dept = |i: usize| format!("dept-{i}");
            let nd = departments.len();
            let departments: Vec<Value> = departments
                .iter()
                .enumerate()
                .map(|(i, (kind, parent))| {
                    let parent = parent.filter(|_| i > 0).map(|p| dept(p.index(i)));
                    json!({"id": dept(i), "kind": kind, "parent": parent})
                })
                .collect();
            let nv = vendors.len();
            let vendors: Vec<Value> = vendors
                .iter()
                .enumerate()
                .map(|(i, roles)| json!({"id": format!("vendor-{i}"), "contract_roles": roles}))
                .collect();
            let users: Vec<Value> = users
                .iter()
                .enumerate()
                .map(|(i, (d, roles, vendor, admin))| {
                    let vendor = vendor
                        .filter(|_| nv > 0)
                        .map(|v| format!("vendor-{}", v.index(nv)));
                    json!({"id": format!("user-{i}"), "department": dept(d.index(nd)),
                           "roles": roles, "vendor": vendor, "designated_admin": admin})
                })
                .collect();
            let datasets: Vec<Value> = datasets
                .iter()
                .enumerate()
                .map(
                    |(i, (owner, grade, stage, pi, share, cataloged, purposes))| {
                        let grade = match (grade, pi) {
                            (Some(g), PersonalInfo::Sensitive) if *g < Grade::L4 => Some(Grade::L4),
                            (g, _) => *g,
                        };
                        json!({"id": format!("data-{i}"), "owner": dept(owner.index(nd)),
                           "grade": grade, "stage": stage, "personal_info": pi,
                           "share_type": share, "cataloged": *cataloged && grade.is_some(),
                           "allowed_purposes": purposes})
                    },
                )
                .collect();
            let systems: Vec<Value> = systems
                .iter()
                .enumerate()
                .map(|(i, (kind, owner))| {
                    json!({"id": format!("sys-{i}"), "kind": kind, "owner": dept(owner.index(nd))})
                })
                .collect();
            json!({"departments": departments, "vendors": vendors, "users": users,
                   "datasets": datasets, "systems": systems})
        },
    )
}

#[test]
fn decisions_equal_plain_cedar_on_generated_inventories_and_requests() {
    let inventories = env_or("GOVDATA_DIFF_INVENTORIES", 64);
    let per_inventory = env_or("GOVDATA_DIFF_REQUESTS", 250);
    let base = Engine::with_defaults().unwrap();
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases: u32::try_from(inventories).unwrap(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (inventory_json(), any::<u64>());
    runner
        .run(&strategy, |(json, seed)| {
            let inventory = Inventory::from_json(&json).map_err(|e| {
                TestCaseError::fail(format!("generated a bad inventory: {e}: {json}"))
            })?;
            let engine = Engine::new(base.pack(), inventory);
            let plain = engine.plain_cedar().unwrap();
            let requests = random_requests(&engine.inventory(), per_inventory, seed);
            compare(&engine, &plain, &requests, &mut tally.borrow_mut());
            Ok(())
        })
        .unwrap();
    let tally = tally.into_inner();
    eprintln!("differential: {tally:?} over {inventories} generated inventories, 0 disagreements");
    assert_eq!(tally.requests, inventories * per_inventory);
    // Generated inventories reach every outcome, not only the default deny.
    assert!(
        tally.allows * 50 > tally.requests && tally.forbids * 10 > tally.requests,
        "{tally:?}"
    );
}
