//! The regulation's invariants over every request: they hold on the default pack and
//! beside a careless department policy (the pack's forbids still apply), and a pack
//! that lost a forbid gets a counterexample that the engine really allows.
//!
//! These tests need the cvc5 solver (`apt-get install cvc5`, or the CVC5 variable);
//! without it they fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use govdata::engine::{ApprovalResolver, ResolvedApproval};
use govdata::policy::testing::default_pack_with;
use govdata::{Engine, Inventory, PolicyPack, Request};
use govdata_prove::{prove, Counterexample, INVARIANTS};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govdata-prove-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A copy of the default pack without the files named in `drop`.
fn pack_dir_without(name: &str, drop: &[&str]) -> PathBuf {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_file()
            && (file.ends_with(".cedar") || file.ends_with(".cedarschema"))
            && !drop.contains(&file.as_str())
        {
            std::fs::copy(&path, dir.join(&file)).unwrap();
        }
    }
    dir
}

fn department_dir(name: &str, policy: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("department.cedar"), policy).unwrap();
    dir
}

const GRANT_ANYONE: &str = r#"
@id("dept-platform-admins-grant-superadmin")
@article("第十七条")
@zh("本部门平台管理员可授予最高管理员权限")
@en("our platform administrators may grant super-administrator rights")
permit (principal, action == Action::"grant_superadmin", resource is System)
when { principal.roles.contains("platform_admin") };
"#;

const CATALOG_ANYTHING: &str = r#"
@id("dept-stewards-catalog")
@article("第十条")
@zh("数据专员可编目任何数据")
@en("data stewards may catalogue any dataset")
permit (principal, action == Action::"catalog", resource is Dataset)
when { principal.roles.contains("data_steward") };
"#;

#[derive(Debug)]
struct Vouch(ResolvedApproval);

impl ApprovalResolver for Vouch {
    fn resolve(&self, id: &str, _: &Request) -> Option<ResolvedApproval> {
        (id == self.0.id).then(|| self.0.clone())
    }
}

/// Replays a counterexample through the engine: as an inventory and a wire-format
/// request, decided by the pack. Returns the decision's reasons.
fn replay_allows(pack: &PolicyPack, cex: &Counterexample) -> Vec<String> {
    let replay = cex.replay();
    let inventory = Inventory::from_json(&replay.inventory)
        .unwrap_or_else(|e| panic!("{e}: {:#}", replay.inventory));
    let request =
        Request::from_json(&replay.request).unwrap_or_else(|e| panic!("{e}: {:#}", replay.request));
    let engine = Engine::new(pack.clone(), inventory);
    if let Some(a) = replay.approval {
        engine.set_approval_resolver(Some(Arc::new(Vouch(a))));
    }
    let decision = engine.decide(&request).unwrap();
    assert!(
        decision.allowed(),
        "the engine denies the counterexample: {}\nrequest {:#}\ninventory {:#}",
        decision.to_json_string(),
        replay.request,
        replay.inventory
    );
    decision
        .reason_ids()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_default_pack_keeps_every_invariant() {
    let report = prove(&PolicyPack::default_pack().unwrap()).unwrap();
    assert_eq!(report.results().len(), INVARIANTS.len());
    for r in report.results() {
        assert!(
            r.holds(),
            "{} broken: {:?}",
            r.invariant().id,
            r.counterexamples()
                .iter()
                .map(|c| c.request_json())
                .collect::<Vec<_>>()
        );
        assert!(r.queries() >= 1, "{} was not checked", r.invariant().id);
    }
    assert!(report.all_hold());
    // grant_superadmin, catalog, the three sharing actions, purge_audit.
    let queries: usize = report.results().iter().map(|r| r.queries()).sum();
    assert_eq!(queries, 6);
}

#[test]
fn the_pack_forbids_still_apply_beside_a_careless_department_policy() {
    let dept = department_dir("careless", &format!("{GRANT_ANYONE}\n{CATALOG_ANYTHING}"));
    let pack = default_pack_with(&[&dept]).unwrap();
    let report = prove(&pack).unwrap();
    assert!(report.all_hold(), "{:#}", report.to_json());
    let _ = std::fs::remove_dir_all(&dept);
}

#[test]
fn a_department_policy_in_a_pack_without_the_art17_forbid_is_caught_and_replays() {
    let base = pack_dir_without("no-art17", &["art17-superadmin.cedar"]);
    let dept = department_dir("grant", GRANT_ANYONE);
    let pack = PolicyPack::from_dirs(&[&base, &dept]).unwrap();
    let report = prove(&pack).unwrap();
    let art17 = &report.results()[0];
    assert_eq!(art17.invariant().id, "art17-no-vendor-superadmin");
    assert!(!art17.holds());
    let cex = &art17.counterexamples()[0];
    assert_eq!(cex.allowed_by(), ["dept-platform-admins-grant-superadmin"]);
    let req = cex.request_json();
    assert_eq!(req["action"], "Action::\"grant_superadmin\"");
    assert!(req["context"]["grantee"].is_object(), "{req:#}");
    // The grantee is vendor staff in the counterexample's entities.
    let replay = cex.replay();
    let grantee = replay.request["context"]["grantee"]
        .as_str()
        .unwrap()
        .to_owned();
    let users = replay.inventory["users"].as_array().unwrap();
    let user = users.iter().find(|u| u["id"] == grantee.as_str()).unwrap();
    assert!(user["vendor"].is_string(), "{user:#}");
    // And the engine really allows it.
    assert_eq!(
        replay_allows(&pack, cex),
        ["dept-platform-admins-grant-superadmin"]
    );
    // The other invariants still hold.
    assert!(report.results()[1..].iter().all(|r| r.holds()));
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&dept);
}

#[test]
fn cataloguing_ungraded_data_is_caught_when_the_art10_forbid_is_gone() {
    let base = pack_dir_without("no-art10", &["art10-grading.cedar"]);
    let dept = department_dir("catalog", CATALOG_ANYTHING);
    let pack = PolicyPack::from_dirs(&[&base, &dept]).unwrap();
    let report = prove(&pack).unwrap();
    let art10 = report
        .results()
        .iter()
        .find(|r| r.invariant().id == "art10-no-catalog-ungraded")
        .unwrap();
    assert!(!art10.holds());
    let cex = &art10.counterexamples()[0];
    let replay = cex.replay();
    let dataset = &replay.inventory["datasets"][0];
    assert!(dataset["grade"].is_null(), "{dataset:#}");
    assert_eq!(replay_allows(&pack, cex), ["dept-stewards-catalog"]);
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&dept);
}

#[test]
fn sharing_and_purging_are_caught_when_their_forbids_are_gone() {
    let base = pack_dir_without(
        "no-art14-art08",
        &["art14-sharing.cedar", "art08-audit.cedar"],
    );
    let dept = department_dir(
        "share-purge",
        r#"
@id("dept-share") @article("第十四条") @zh("共享") @en("share")
permit (principal, action == Action::"share", resource is Dataset);
@id("dept-purge") @article("第八条") @zh("清除") @en("purge")
permit (principal, action == Action::"purge_audit", resource is AuditLog)
when { principal.roles.contains("auditor") };
"#,
    );
    let pack = PolicyPack::from_dirs(&[&base, &dept]).unwrap();
    let report = prove(&pack).unwrap();
    for id in ["art14-no-share-none", "art8-no-purge"] {
        let r = report
            .results()
            .iter()
            .find(|r| r.invariant().id == id)
            .unwrap();
        assert!(!r.holds(), "{id} holds");
        for cex in r.counterexamples() {
            replay_allows(&pack, cex);
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&dept);
}
