//! The engine records itself in the log; viewing the log is a `view_audit` decision
//! (Art. 8, 18, 19); workflows read their events back; proofs; suites; concurrency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod audit_support;

use audit_support::*;
use govdata::audit::{
    AuditLog, AuditOptions, AuditQuery, Event, HashSuite, Outcome, RecordScope, SealingKey,
    SyncMode, Verdict,
};
use govdata::{Action, Engine, Request, Resource};
use std::sync::Arc;

fn engine_with_log(dir: &TempDir, opts: AuditOptions) -> (Engine, Arc<AuditLog>) {
    let engine = Engine::with_defaults().unwrap();
    let log = Arc::new(AuditLog::open(dir.path(), key(), opts).unwrap());
    engine.set_decision_sink(Some(log.clone()));
    (engine, log)
}

fn req(principal: &str, action: Action, dataset: &str) -> Request {
    Request::new(principal, action, Resource::dataset(dataset))
}

#[test]
fn every_decision_is_recorded_with_the_audit_fields() {
    let dir = TempDir::new("engine");
    let (engine, log) = engine_with_log(&dir, AuditOptions::default());
    let mut r = req("zhang.san", Action::Query, "hukou");
    r.context.purpose = Some("social_security_check".into());
    let requests = vec![
        r,
        req("zhang.san", Action::Export, "hukou"),
        req("wang.wu", Action::Delete, "hukou"),
        req("vendor.wang", Action::Modify, "criminal-records"),
    ];
    let mut seqs = Vec::new();
    for r in &requests {
        let d = engine.decide(r).unwrap();
        seqs.push(d.audit_seq().expect("recorded"));
    }
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    let mut g = Request::new(
        "ops.admin",
        Action::GrantSuperadmin,
        Resource::system("lake-db"),
    );
    g.context.grantee = Some("vendor.li".into());
    let d = engine.decide(&g).unwrap();
    assert!(!d.allowed());
    assert_eq!(d.audit_seq(), Some(5));

    let records = log.records().unwrap();
    assert_eq!(records.len(), 5);
    for (rec, r) in records.iter().zip(&requests) {
        let e = &rec.event;
        assert_eq!(e.kind, "decision");
        assert_eq!(e.user.as_deref(), Some(r.principal.as_str()));
        assert_eq!(e.action, Some(r.action));
        assert_eq!(rec.dataset(), Some(r.resource.id.as_str()));
        let user = engine
            .inventory()
            .user(&r.principal)
            .unwrap()
            .department
            .clone();
        assert_eq!(e.department.as_deref(), Some(user.as_str()));
        let d = engine.decide(r).unwrap(); // same answer again
        assert_eq!(
            e.decision,
            Some(if d.allowed() {
                Verdict::Allow
            } else {
                Verdict::Deny
            })
        );
        assert_eq!(
            e.outcome,
            if d.allowed() {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        );
        let ids: Vec<&str> = d.reason_ids();
        assert_eq!(
            e.policies.iter().map(String::as_str).collect::<Vec<_>>(),
            ids
        );
        assert_eq!(e.policy_version.as_deref(), Some(d.policy_version()));
    }
    assert_eq!(records[0].event.fields["purpose"], "social_security_check");
    assert_eq!(
        records[4].event.policies,
        vec!["art17-no-vendor-superadmin"]
    );
    assert_eq!(records[4].event.fields["grantee"], "vendor.li");
}

#[test]
fn a_log_that_cannot_record_makes_every_decision_a_deny() {
    let dir = TempDir::new("engine");
    let (engine, log) = engine_with_log(&dir, AuditOptions::default());
    let mut r = req("zhang.san", Action::Query, "hukou");
    r.context.purpose = Some("social_security_check".into());
    let before = engine.decide(&r).unwrap();
    log.close().unwrap();
    let d = engine.decide(&r).unwrap();
    assert!(!d.allowed(), "{}", d.to_json_string());
    assert_eq!(d.reason_ids(), vec!["audit-unavailable"]);
    assert_eq!(d.audit_seq(), None);
    assert!(before.audit_seq().is_some());
    assert_eq!(
        log.append(&Event::new("x")).unwrap_err().code(),
        "audit_unavailable"
    );
}

#[test]
fn required_scope_records_what_the_regulation_asks() {
    use RecordScope::Required;
    for a in [
        Action::Query,
        Action::Modify,
        Action::Delete,
        Action::Export,
    ] {
        assert!(Required.records(a, true));
    }
    for a in [
        Action::GrantSuperadmin,
        Action::ManageKeys,
        Action::PurgeAudit,
        Action::ViewAudit,
        Action::Share,
        Action::Destroy,
        Action::ReviewShare,
    ] {
        assert!(Required.records(a, true), "{a}");
    }
    for a in Action::ALL {
        assert!(Required.records(*a, false), "every deny: {a}");
        assert!(RecordScope::All.records(*a, true));
    }
    assert!(!Required.records(Action::Transmit, true));
}

#[test]
fn viewing_is_a_view_audit_decision_and_is_recorded() {
    let dir = TempDir::new("engine");
    let (engine, log) = engine_with_log(&dir, AuditOptions::default());
    for (who, ds) in [
        ("zhang.san", "hukou"),
        ("huzheng.analyst", "hukou"),
        ("wang.wu", "social-insurance"),
        ("zhou.ba", "medical-records"),
    ] {
        engine.decide(&req(who, Action::Query, ds)).unwrap();
    }
    let gongan = AuditQuery {
        department: Some("gongan".into()),
        ..AuditQuery::default()
    };
    // The public security bureau's security officer sees its own staff (and its
    // sub-department's), no one else's.
    let v = log.view(&engine, "gongan.officer", &gongan).unwrap();
    assert!(v.decision.allowed(), "{}", v.decision.to_json_string());
    let users: Vec<_> = v
        .records
        .iter()
        .filter_map(|r| r.event.user.clone())
        .collect();
    assert!(
        users.contains(&"zhang.san".to_string()) && users.contains(&"huzheng.analyst".to_string())
    );
    assert!(!users.contains(&"wang.wu".to_string()) && !users.contains(&"zhou.ba".to_string()));
    // ... and not the social security bureau's.
    let renshe = AuditQuery {
        department: Some("renshe".into()),
        ..AuditQuery::default()
    };
    let v = log.view(&engine, "gongan.officer", &renshe).unwrap();
    assert!(!v.decision.allowed());
    assert!(v.records.is_empty());
    // A whole-log view needs an operator or management auditor.
    let all = AuditQuery::default();
    assert!(!log
        .view(&engine, "gongan.officer", &all)
        .unwrap()
        .decision
        .allowed());
    assert!(!log
        .view(&engine, "zhang.san", &all)
        .unwrap()
        .decision
        .allowed());
    let v = log.view(&engine, "yunying.auditor", &all).unwrap();
    assert!(v.decision.allowed());
    assert!(v
        .records
        .iter()
        .any(|r| r.event.user.as_deref() == Some("zhou.ba")));
    assert!(log
        .view(&engine, "audit.he", &renshe)
        .unwrap()
        .decision
        .allowed());
    // Every view is itself on the record.
    let views = log
        .query(&AuditQuery {
            action: Some(Action::ViewAudit),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(views.len(), 6);
    assert_eq!(
        views
            .iter()
            .filter(|r| r.event.decision == Some(Verdict::Deny))
            .count(),
        3
    );
    assert_eq!(views[0].event.fields["audit_department"], "gongan");
}

#[test]
fn query_filters() {
    let dir = TempDir::new("engine");
    let log = AuditLog::open(
        dir.path(),
        key(),
        AuditOptions::default().sync(SyncMode::None),
    )
    .unwrap();
    for i in 0..100 {
        log.append(&sample_event(i)).unwrap();
    }
    let q = |q: AuditQuery| log.query(&q).unwrap();
    assert_eq!(
        q(AuditQuery {
            user: Some("li.si".into()),
            ..Default::default()
        })
        .len(),
        20
    );
    assert_eq!(
        q(AuditQuery {
            department: Some("renshe".into()),
            ..Default::default()
        })
        .len(),
        40
    );
    assert_eq!(
        q(AuditQuery {
            action: Some(Action::Export),
            ..Default::default()
        })
        .len(),
        34
    );
    assert_eq!(
        q(AuditQuery {
            dataset: Some("hukou".into()),
            ..Default::default()
        })
        .len(),
        50
    );
    assert_eq!(
        q(AuditQuery {
            decision: Some(Verdict::Deny),
            ..Default::default()
        })
        .len(),
        25
    );
    let latest = q(AuditQuery {
        limit: Some(3),
        ..Default::default()
    });
    assert_eq!(
        latest.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![98, 99, 100]
    );
    let t = latest[0].time;
    assert!(
        q(AuditQuery {
            since: Some(t),
            ..Default::default()
        })
        .len()
            >= 3
    );
    assert!(q(AuditQuery {
        until: Some(latest[0].time),
        since: Some(latest[0].time),
        ..Default::default()
    })
    .is_empty());
}

#[test]
fn workflows_rebuild_their_state_from_their_events() {
    let dir = TempDir::new("engine");
    let log = AuditLog::open(dir.path(), key(), AuditOptions::default()).unwrap();
    let steps = [
        ("sharing.submitted", "shr-1"),
        ("sharing.submitted", "shr-2"),
        ("sharing.approved", "shr-1"),
        ("sharing.rejected", "shr-2"),
        ("sharing.provisioned", "shr-1"),
    ];
    for (kind, id) in steps {
        log.append(
            &Event::new(kind)
                .user("li.si")
                .department("gongan")
                .action(Action::ReviewShare)
                .resource(Resource::dataset("hukou"))
                .field("request", id),
        )
        .unwrap();
    }
    drop(log);
    let log = AuditLog::open(dir.path(), key(), AuditOptions::default()).unwrap();
    let mut state = std::collections::BTreeMap::new();
    log.for_each_record(|r| {
        if let Some(state_name) = r.event.kind.strip_prefix("sharing.") {
            let id = r.event.fields["request"].as_str().unwrap().to_owned();
            state.insert(id, state_name.to_owned());
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(state["shr-1"], "provisioned");
    assert_eq!(state["shr-2"], "rejected");
}

#[test]
fn inclusion_proofs() {
    let dir = TempDir::new("engine");
    let log = AuditLog::open(
        dir.path(),
        key(),
        AuditOptions::default()
            .sync(SyncMode::None)
            .segment_max_bytes(8192),
    )
    .unwrap();
    for i in 0..100 {
        log.append(&sample_event(i)).unwrap();
    }
    log.seal().unwrap();
    for seq in [1, 2, 17, 31, 32, 33, 64, 99, 100] {
        let p = log.prove(seq).unwrap();
        let r = p.verify(&key()).unwrap();
        assert_eq!(r.seq, seq);
        assert_eq!(r.event.fields["n"], seq - 1);
        let json = serde_json::to_string(&p).unwrap();
        let back: govdata::audit::InclusionProof = serde_json::from_str(&json).unwrap();
        back.verify(&key()).unwrap();
        let mut forged = p.clone();
        forged.payload = forged
            .payload
            .replace("\"allow\"", "\"deny\"")
            .replace("\"deny\"", "\"allow\"");
        if forged.payload != p.payload {
            assert_eq!(forged.verify(&key()).unwrap_err().code(), "audit_tampered");
        }
        assert!(p.verify(&SealingKey::from_bytes([1; 32])).is_err());
    }
    log.append(&sample_event(0)).unwrap();
    assert!(log.prove(101).is_err());
}

#[test]
fn sm3_suite_and_concurrent_batches() {
    for mode in [SyncMode::Batch, SyncMode::Always, SyncMode::None] {
        let dir = TempDir::new("engine");
        let log = Arc::new(
            AuditLog::open(
                dir.path(),
                key(),
                AuditOptions::default()
                    .sync(mode)
                    .suite(HashSuite::Sm3)
                    .segment_max_bytes(32 << 10),
            )
            .unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut seqs = Vec::new();
                    for i in 0..50u64 {
                        if i % 10 == 0 {
                            let evs: Vec<Event> =
                                (0..5).map(|k| sample_event(i * 10 + k)).collect();
                            seqs.extend(log.append_batch(&evs).unwrap());
                        } else {
                            seqs.push(log.append(&sample_event(i).field("t", t)).unwrap());
                        }
                    }
                    seqs
                })
            })
            .collect();
        let mut all: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        all.sort();
        assert_eq!(all, (1..=all.len() as u64).collect::<Vec<_>>());
        let cp = log.checkpoint();
        let v = log.verify_with(&cp).unwrap();
        assert_eq!(v.last_seq, Some(all.len() as u64));
        assert!(v.sealed_segments >= 1, "{v:?}");
        assert_eq!(log.suite(), HashSuite::Sm3);
        drop(log);
        AuditLog::verify_dir(dir.path(), &key(), Some(&cp)).unwrap();
        let log = AuditLog::open(dir.path(), key(), AuditOptions::default()).unwrap();
        assert!(log.recovery().is_none());
        assert_eq!(log.suite(), HashSuite::Sm3);
    }
}

#[test]
fn wrong_key_and_bad_key_files() {
    let dir = TempDir::new("engine");
    drop(AuditLog::open(dir.path(), key(), AuditOptions::default()).unwrap());
    let err = AuditLog::open(
        dir.path(),
        SealingKey::from_bytes([9; 32]),
        AuditOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "key_invalid");
    let kf = dir.join("short.key");
    std::fs::write(&kf, [1u8; 31]).unwrap();
    assert_eq!(
        SealingKey::from_file(&kf).err().unwrap().code(),
        "key_invalid"
    );
    std::fs::write(&kf, KEY).unwrap();
    assert!(SealingKey::from_file(&kf).is_ok());
}
