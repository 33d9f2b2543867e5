//! The audit log is the procedures' only store: their state is rebuilt from it after a
//! restart and after a purge, and concurrent steps neither lose nor repeat a
//! transition.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod workflow_support;

use govdata::audit::{AuditOptions, Date, SyncMode, RETAINED_KIND};
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, MemoryShredder, ShareStatus, Step, WorkflowConfig,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use workflow_support::*;

fn query_allowed(f: &Fixture, who: &str, dataset: &str, approval: &str) -> bool {
    f.decide(
        json!({"principal": who, "action": "query", "resource": dataset,
                    "context": {"approval": approval}}),
    )
    .allowed()
}

/// A bit of everything: a provisioned share, a rejected one, a pending one, a revoked
/// one, an executed crypto-erasure and an approved destruction.
fn history(f: &Fixture) {
    let flows = &f.flows;
    let a = flows
        .request_share("wang.wu", "hukou", application())
        .unwrap()
        .into_record()
        .unwrap();
    flows
        .approve_share("gongan.officer", &a.id, Some("同意"))
        .unwrap();
    flows.provision_share("li.si", &a.id).unwrap();
    let b = flows
        .request_share("chen.yi", "hukou", application())
        .unwrap()
        .into_record()
        .unwrap();
    flows
        .reject_share("gongan.officer", &b.id, "用途不符")
        .unwrap();
    flows
        .request_share("zheng.shi", "social-insurance", application())
        .unwrap();
    let c = flows
        .request_share("chen.yi", "population-stats", application())
        .unwrap()
        .into_record()
        .unwrap();
    flows.provision_share("li.si", &c.id).unwrap();
    flows
        .revoke_share("gongan.officer", &c.id, "停止共享")
        .unwrap();
    flows
        .request_share("wang.wu", "criminal-records", application())
        .unwrap();

    let keys = Arc::new(MemoryShredder::new());
    keys.add_key("population-stats", "dk-1");
    flows.set_shredder(Some(keys));
    let d = flows
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::CryptoErase,
            "到期",
        )
        .unwrap()
        .into_record()
        .unwrap();
    flows
        .approve_destruction("gongan.officer", &d.id, None)
        .unwrap();
    let witness = ExecutionDetails {
        witness: Some("zhang.san".into()),
        ..ExecutionDetails::default()
    };
    assert!(flows
        .execute_destruction("li.si", &d.id, witness)
        .unwrap()
        .allowed());
    let e = flows
        .request_destruction(
            "zhou.ba",
            "medical-records",
            DestructionMethod::Overwrite,
            "介质报废",
        )
        .unwrap()
        .into_record()
        .unwrap();
    flows
        .approve_destruction("weijian.officer", &e.id, None)
        .unwrap();
}

#[test]
fn the_state_is_rebuilt_from_the_log_after_a_restart() {
    let mut f = Fixture::new();
    history(&f);
    let shares = f.flows.shares();
    let destructions = f.flows.destructions();
    assert_eq!(shares.len(), 4);
    assert_eq!(destructions.len(), 2);

    f.restart();
    let report = f.flows.rebuild_report();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.shares, 4);
    assert_eq!(report.destructions, 2);
    assert_eq!(f.flows.shares(), shares);
    assert_eq!(f.flows.destructions(), destructions);

    // Approvals resolve after the restart exactly as before it.
    assert!(query_allowed(&f, "wang.wu", "hukou", "apr-shr-000001"));
    assert!(
        !query_allowed(&f, "chen.yi", "hukou", "apr-shr-000002"),
        "rejected"
    );
    assert_eq!(
        f.flows.share("shr-000004").unwrap().status,
        ShareStatus::Revoked
    );
    let destroy = f.decide(json!({"principal": "zhou.ba", "action": "destroy",
        "resource": "medical-records", "context": {"approval": "apr-dst-000002"}}));
    assert_eq!(destroy.reason_ids(), ["art15-destroy"]);

    // New requests continue the numbering.
    let next = f
        .flows
        .request_share("zheng.shi", "hukou", application())
        .unwrap()
        .into_record()
        .unwrap();
    assert_eq!(next.id, "shr-000005");
    f.restart();
    assert_eq!(f.flows.shares().len(), 5);
}

#[test]
fn procedure_records_survive_a_purge_of_their_segments() {
    let options = AuditOptions::default()
        .sync(SyncMode::None)
        .segment_max_age(Some(Duration::from_secs(86_400)));
    let mut f = Fixture::with(options, WorkflowConfig::default());
    f.set_time("2025-01-06T02:00:00Z");
    let mut a = application();
    a.until = ts("2026-12-31");
    let s = f
        .flows
        .request_share("wang.wu", "hukou", a)
        .unwrap()
        .into_record()
        .unwrap();
    f.advance_days(1);
    f.flows
        .approve_share("gongan.officer", &s.id, None)
        .unwrap();
    f.advance_days(1);
    f.flows.provision_share("li.si", &s.id).unwrap();
    let d = f
        .flows
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::LogicalDelete,
            "到期",
        )
        .unwrap()
        .into_record()
        .unwrap();
    f.flows
        .approve_destruction("gongan.officer", &d.id, None)
        .unwrap();
    let witness = ExecutionDetails {
        witness: Some("zhang.san".into()),
        ..ExecutionDetails::default()
    };
    f.flows
        .execute_destruction("li.si", &d.id, witness)
        .unwrap();
    // Ordinary records, one day after another, until September.
    for _ in 0..240 {
        f.advance_days(1);
        f.decide(
            json!({"principal": "zhang.san", "action": "query", "resource": "population-stats"}),
        );
    }
    let before = f.flows.shares();
    let destructions = f.flows.destructions();
    f.log.seal().unwrap();
    f.log.backup(f.dir.path().join("backup")).unwrap();
    let purge = f.log.purge(Date::parse("2025-03-01").unwrap()).unwrap();
    assert!(!purge.segments.is_empty());

    let records = f.log.records().unwrap();
    assert!(records.iter().all(|r| r.seq > purge.through_seq.unwrap()));
    let first_copies: Vec<u64> = records
        .iter()
        .filter(|r| r.event.kind == RETAINED_KIND)
        .map(|r| r.seq)
        .collect();
    assert_eq!(
        first_copies.len(),
        6,
        "three sharing and three destruction records carried"
    );
    let purge_record = records
        .iter()
        .find(|r| r.event.kind == "audit.purge")
        .unwrap();
    assert_eq!(purge_record.event.fields["retained"], 6);
    // Ordinary decisions of January and February are gone.
    assert!(records
        .iter()
        .all(|r| r.event.kind != "decision" || r.time >= ts("2025-03-01")));

    f.restart();
    assert!(f.flows.rebuild_report().skipped.is_empty());
    assert_eq!(f.flows.shares(), before);
    assert_eq!(f.flows.destructions(), destructions);
    assert!(query_allowed(&f, "wang.wu", "hukou", "apr-shr-000001"));
    f.log.verify().unwrap();

    // A second purge carries the copies on.
    for _ in 0..200 {
        f.advance_days(1);
        f.decide(
            json!({"principal": "zhang.san", "action": "query", "resource": "population-stats"}),
        );
    }
    f.log.seal().unwrap();
    f.log.backup(f.dir.path().join("backup")).unwrap();
    let second = f.log.purge(Date::parse("2025-09-20").unwrap()).unwrap();
    assert!(
        second.through_seq.unwrap() >= first_copies[5],
        "the copies' segment is purged"
    );
    let copies = f
        .log
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.event.kind == RETAINED_KIND)
        .count();
    assert_eq!(copies, 6, "carried again, not doubled");
    f.restart();
    assert_eq!(f.flows.shares(), before);
    assert_eq!(f.flows.destructions(), destructions);
}

#[test]
fn concurrent_requests_and_reviews_lose_and_repeat_nothing() {
    let f = Arc::new(Fixture::with(
        AuditOptions::default().sync(SyncMode::Batch),
        WorkflowConfig::default(),
    ));
    let requesters = [
        "wang.wu",
        "zhao.liu",
        "renshe.officer",
        "chen.yi",
        "lin.er",
        "zhou.ba",
        "zheng.shi",
        "weijian.officer",
    ];
    const PER: usize = 12;
    let approved = AtomicUsize::new(0);
    let rejected = AtomicUsize::new(0);
    let lost_races = AtomicUsize::new(0);
    let submitted_done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for who in requesters {
            let f = &f;
            let submitted_done = &submitted_done;
            scope.spawn(move || {
                for _ in 0..PER {
                    let s = f.flows.request_share(who, "hukou", application()).unwrap();
                    assert!(s.allowed());
                }
                submitted_done.fetch_add(1, Ordering::SeqCst);
            });
        }
        // Two reviewers of the providing department race for the same requests.
        for (reviewer, approve) in [("gongan.officer", true), ("li.si", false)] {
            let f = &f;
            let (approved, rejected, lost_races, submitted_done) =
                (&approved, &rejected, &lost_races, &submitted_done);
            scope.spawn(move || loop {
                let pending: Vec<String> = f
                    .flows
                    .shares()
                    .into_iter()
                    .filter(|s| s.status == ShareStatus::Submitted)
                    .map(|s| s.id)
                    .collect();
                if pending.is_empty() && submitted_done.load(Ordering::SeqCst) == requesters.len() {
                    break;
                }
                for id in pending {
                    let step = if approve {
                        f.flows.approve_share(reviewer, &id, None)
                    } else {
                        f.flows.reject_share(reviewer, &id, "并发审核")
                    };
                    match step {
                        Ok(Step::Done { .. }) if approve => approved.fetch_add(1, Ordering::SeqCst),
                        Ok(Step::Done { .. }) => rejected.fetch_add(1, Ordering::SeqCst),
                        Ok(Step::Refused { decision }) => panic!("{}", decision.to_json_string()),
                        Err(e) => {
                            assert_eq!(e.code(), "workflow_invalid");
                            lost_races.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            });
        }
        // Approvals resolve while the steps run.
        let f2 = &f;
        scope.spawn(move || {
            for i in 0..200 {
                let id = format!("apr-shr-{:06}", i % 96 + 1);
                let _ = f2.decide(json!({"principal": "wang.wu", "action": "query",
                    "resource": "hukou", "context": {"approval": id}}));
            }
        });
    });
    let total = requesters.len() * PER;
    let shares = f.flows.shares();
    assert_eq!(shares.len(), total);
    let ids: std::collections::BTreeSet<&str> = shares.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), total, "ids are unique");
    assert_eq!(
        approved.load(Ordering::SeqCst) + rejected.load(Ordering::SeqCst),
        total
    );
    assert!(shares.iter().all(|s| s.status != ShareStatus::Submitted));

    // In the log: exactly one submission and one review per request.
    let mut per_request: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in f.log.records().unwrap() {
        if r.event.kind.starts_with("sharing.") && r.event.kind != "sharing.refused" {
            let id = r.event.fields["request"].as_str().unwrap().to_owned();
            per_request
                .entry(id)
                .or_default()
                .push(r.event.kind.clone());
        }
    }
    assert_eq!(per_request.len(), total);
    for (id, kinds) in &per_request {
        assert_eq!(kinds.len(), 2, "{id}: {kinds:?}");
        assert_eq!(kinds[0], "sharing.submitted");
        assert!(kinds[1] == "sharing.approved" || kinds[1] == "sharing.rejected");
    }

    let mut f = Arc::into_inner(f).unwrap();
    let before = f.flows.shares();
    f.restart();
    assert_eq!(f.flows.shares(), before);
}
