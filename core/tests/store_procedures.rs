//! The procedures shared by every node, against the real server (scripts/test.sh starts
//! it): two nodes reviewing one request at once (one wins, the other is told, nothing
//! twice), an approval and a revocation reaching another node within a second, a
//! destruction approved on one node and executed on another, the store's refusals, and
//! the store stopped and started again (approvals fail closed past the staleness bound,
//! then resolve again without reopening the node).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

mod store_support;

use govdata::model::ScenarioRisk;
use govdata::platform::{Platform, PlatformConfig};
use govdata::workflow::{DestructionMethod, ExecutionDetails, ShareApplication, Step};
use govdata::{Error, Request};
use std::path::Path;
use std::sync::{Arc, Barrier, RwLock};
use std::time::{Duration, Instant};
use store_support::{fresh_db, login, password_file, server, superuser, tls_url, Scratch};

/// The login role of the nodes: it ships its log and takes steps.
const NODE: (&str, &str) = ("gd_test_node", "node-pw");

/// The restart test stops the one server every test uses: it runs alone.
static SERVER: RwLock<()> = RwLock::new(());

fn node_login() {
    login(NODE.0, "govdata_shipper", NODE.1);
    login(NODE.0, "govdata_procedures", NODE.1);
    // The assessment of a node with `[store]` reads the store's records.
    login(NODE.0, "govdata_reader", NODE.1);
}

/// A node of `db` in `dir`, its mirror good for `staleness_ms` without the store.
fn open_node(dir: &Path, id: &str, db: &str, staleness_ms: u64) -> Platform {
    node_login();
    std::fs::create_dir_all(dir).unwrap();
    let key = dir.join("seal.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    password_file(dir, NODE.1);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = format!(
        "node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nsync = \"none\"\n\
         [procedures]\nstaleness_ms = {staleness_ms}\n\
         [store]\nurl = \"{}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\n",
        tls_url(db, NODE.0),
        server().ca
    );
    let config = PlatformConfig::from_toml_str(&text, dir).unwrap();
    Platform::from_config(config).unwrap()
}

/// Two nodes of a fresh database: its scratch directory, name and superuser URL.
fn two_nodes(tag: &str) -> (Scratch, String, String, Platform, Platform) {
    let scratch = Scratch::new(tag);
    let (db, url) = fresh_db(&tag.replace('-', "_"));
    let a = open_node(&scratch.path().join("a"), "node-a", &db, 3000);
    let b = open_node(&scratch.path().join("b"), "node-b", &db, 3000);
    (scratch, db, url, a, b)
}

fn application() -> ShareApplication {
    ShareApplication {
        purpose: "social_security_check".into(),
        legal_basis: "《社会保险法》第五十八条".into(),
        fields: vec!["name".into(), "id_number".into()],
        until: govdata::audit::Timestamp::parse("2099-12-31").unwrap(),
        scenario_risk: ScenarioRisk::Low,
        recipient_department: None,
    }
}

fn done<T>(step: Step<T>) -> T {
    match step {
        Step::Done { record, .. } => record,
        Step::Refused { decision } => panic!("refused: {:?}", decision.reason_ids()),
    }
}

fn allowed(node: &Platform, json: serde_json::Value) -> bool {
    node.engine()
        .decide(&Request::from_json(&json).unwrap())
        .unwrap()
        .allowed()
}

fn query(approval: &str) -> serde_json::Value {
    serde_json::json!({"principal": "wang.wu", "action": "query", "resource": "hukou",
                       "context": {"approval": approval}})
}

/// How long until `cond` holds, polled every 5 ms; `None` past `limit`.
fn within(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let t = Instant::now();
    loop {
        if cond() {
            return Some(t.elapsed());
        }
        if t.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn count(db_url: &str, sql: &str) -> i64 {
    let mut c = govdata::store::StoreConnector::new(db_url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn two_nodes_review_at_once_and_each_request_is_approved_once() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_scratch, _, url, a, b) = two_nodes("proc-race");
    let (a, b) = (Arc::new(a), Arc::new(b));
    let rounds = 20;
    let mut ids = Vec::new();
    for _ in 0..rounds {
        let s = done(
            a.workflows()
                .unwrap()
                .request_share("wang.wu", "hukou", application())
                .unwrap(),
        );
        ids.push(s.id);
    }
    // Both nodes approve every request at the same moment.
    let barrier = Arc::new(Barrier::new(2));
    let reviewers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|node| {
            let ids = ids.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                for id in &ids {
                    barrier.wait();
                    let r = node
                        .workflows()
                        .unwrap()
                        .approve_share("gongan.officer", id, None);
                    outcomes.push(match r {
                        Ok(step) => {
                            assert!(step.allowed());
                            true
                        }
                        Err(e) => {
                            assert!(
                                matches!(e, Error::WorkflowInvalid { .. }),
                                "the loser is told with workflow_invalid, got {e}"
                            );
                            assert_eq!(e.code(), "workflow_invalid");
                            false
                        }
                    });
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<Vec<bool>> = reviewers.into_iter().map(|r| r.join().unwrap()).collect();
    for i in 0..rounds {
        assert!(
            outcomes[0][i] ^ outcomes[1][i],
            "request {}: exactly one review wins ({} / {})",
            ids[i],
            outcomes[0][i],
            outcomes[1][i]
        );
    }
    // The store holds each request's submission and one approval, each step the record
    // of the node that took it.
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM govdata.procedure_steps WHERE kind = 'sharing.approved'"
        ),
        rounds as i64
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM govdata.procedure_requests WHERE status = 'approved'"
        ),
        rounds as i64
    );
    let wins_b = outcomes[1].iter().filter(|w| **w).count() as i64;
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM govdata.procedure_steps WHERE kind = 'sharing.approved' AND node_id = 'node-b'"
        ),
        wins_b
    );
    let logged_b = b
        .audit_log()
        .unwrap()
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.event.kind == "sharing.approved")
        .count() as i64;
    assert_eq!(logged_b, wins_b, "node B's log holds the approvals it took");
    a.close().unwrap();
    b.close().unwrap();
}

#[test]
fn an_approval_and_a_revocation_reach_another_node_within_a_second() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_scratch, _, _, a, b) = two_nodes("proc-reach");
    let s = done(
        a.workflows()
            .unwrap()
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    let approval = format!("apr-{}", s.id);
    assert!(!allowed(&b, query(&approval)));
    // B reviews and provisions what A's user asked for: B locks the row it has not
    // yet heard of.
    done(
        b.workflows()
            .unwrap()
            .approve_share("gongan.officer", &s.id, None)
            .unwrap(),
    );
    done(
        b.workflows()
            .unwrap()
            .provision_share("li.si", &s.id)
            .unwrap(),
    );
    let seen = within(Duration::from_secs(1), || allowed(&a, query(&approval)));
    assert!(
        seen.is_some(),
        "the provisioned share is not honoured on A within 1 s"
    );
    eprintln!("provision reached A in {seen:?}");
    done(
        b.workflows()
            .unwrap()
            .revoke_share("gongan.officer", &s.id, "停止核验")
            .unwrap(),
    );
    let gone = within(Duration::from_secs(1), || !allowed(&a, query(&approval)));
    assert!(
        gone.is_some(),
        "the revocation does not deny on A within 1 s"
    );
    eprintln!("revocation reached A in {gone:?}");
    let st = a.status().procedures.unwrap();
    assert!(
        st.connected && st.mirror.fresh && st.mirror.shares == 1,
        "{st:?}"
    );
    // Reviewing a request that moved on is told, on either node.
    let e = a
        .workflows()
        .unwrap()
        .approve_share("gongan.officer", &s.id, None)
        .unwrap_err();
    assert_eq!(e.code(), "workflow_invalid");
    a.close().unwrap();
    b.close().unwrap();
}

#[test]
fn a_destruction_approved_on_one_node_is_executed_on_another() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_scratch, _, url, a, b) = two_nodes("proc-dst");
    let d = done(
        a.workflows()
            .unwrap()
            .request_destruction(
                "li.si",
                "population-stats",
                DestructionMethod::LogicalDelete,
                "统计口径调整",
            )
            .unwrap(),
    );
    // One open destruction per dataset, whichever node asks.
    let e = b
        .workflows()
        .unwrap()
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::Overwrite,
            "again",
        )
        .unwrap_err();
    assert_eq!(e.code(), "workflow_invalid");
    let destroy = serde_json::json!({"principal": "ops.admin", "action": "destroy",
        "resource": "population-stats", "context": {"approval": format!("apr-{}", d.id)}});
    assert!(!allowed(&b, destroy.clone()));
    done(
        a.workflows()
            .unwrap()
            .approve_destruction("gongan.officer", &d.id, Some("ops.admin"))
            .unwrap(),
    );
    assert!(
        within(Duration::from_secs(1), || allowed(&b, destroy.clone())).is_some(),
        "the destruction approval is not honoured on B within 1 s"
    );
    let witnessed = ExecutionDetails {
        witness: Some("key.admin".into()),
        ..ExecutionDetails::default()
    };
    let x = done(
        b.workflows()
            .unwrap()
            .execute_destruction("ops.admin", &d.id, witnessed.clone())
            .unwrap(),
    );
    assert_eq!(x.status.as_str(), "executed");
    assert!(
        within(Duration::from_secs(1), || !allowed(&a, destroy.clone())).is_some(),
        "the execution does not end the approval on A within 1 s"
    );
    let e = a
        .workflows()
        .unwrap()
        .execute_destruction("ops.admin", &d.id, witnessed)
        .unwrap_err();
    assert_eq!(e.code(), "workflow_invalid");
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM govdata.procedure_steps WHERE request_id = 'dst-000001'"
        ),
        3
    );
    // The self-assessment reads the requests from the store: B's own log holds only
    // the execution, of a request it never made.
    let report = b
        .assess(&govdata::assess::AssessOptions::default(), None)
        .unwrap();
    let audit = report.sources.audit.unwrap();
    assert_eq!((audit.destructions, audit.shares), (1, 0));
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(
        !ids.iter().any(|id| id.starts_with("destruction_")),
        "the destruction follows its procedure: {ids:?}"
    );
    a.close().unwrap();
    b.close().unwrap();
}

#[test]
fn the_store_refuses_changes_a_node_may_not_make() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let scratch = Scratch::new("proc-refuse");
    let (db, url) = fresh_db("proc_refuse");
    let a = open_node(&scratch.path().join("a"), "node-a", &db, 3000);
    done(
        a.workflows()
            .unwrap()
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    a.close().unwrap();
    // Run again, the schema changes nothing.
    let mut c = govdata::store::StoreConnector::new(&url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    govdata::store::init_schema(&mut c).unwrap();
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'govdata' AND tablename LIKE 'procedure\\_%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 3);
    let mut node = store_support::connect_as(&db, NODE.0, NODE.1);
    for sql in [
        "UPDATE govdata.procedure_steps SET user_id = 'x'",
        "DELETE FROM govdata.procedure_steps",
        "DELETE FROM govdata.procedure_requests",
        "TRUNCATE govdata.procedure_steps",
        // A state moved without a step of its own.
        "UPDATE govdata.procedure_requests SET status = 'approved', steps = steps + 1, change = change + 1",
        "UPDATE govdata.procedure_head SET change = change + 5",
    ] {
        let e = node.batch_execute(sql).unwrap_err();
        let state = store_support::sqlstate(&e);
        assert!(
            state == "GD100" || state == "GD110" || state == "42501",
            "{sql}: {state}"
        );
    }
    // Even the owner cannot change a step.
    let e = superuser_of(&url)
        .batch_execute("UPDATE govdata.procedure_steps SET user_id = 'x'")
        .unwrap_err();
    assert_eq!(store_support::sqlstate(&e), "GD100");
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM govdata.procedure_requests WHERE status = 'submitted'"
        ),
        1
    );
}

fn superuser_of(url: &str) -> postgres::Client {
    govdata::store::StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap()
}

#[test]
fn the_store_stopped_approvals_fail_closed_then_resolve_again() {
    let _g = SERVER.write().unwrap_or_else(|p| p.into_inner());
    let _started = store_support::StartOnDrop;
    let run = store_support::pg_ctl;
    let scratch = Scratch::new("proc-stop");
    let (db, _) = fresh_db("proc_stop");
    let staleness = Duration::from_millis(1000);
    let a = open_node(&scratch.path().join("a"), "node-a", &db, 1000);
    let flows = a.workflows().unwrap();
    let s = done(
        flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    done(flows.approve_share("gongan.officer", &s.id, None).unwrap());
    done(flows.provision_share("li.si", &s.id).unwrap());
    let approval = format!("apr-{}", s.id);
    assert!(allowed(&a, query(&approval)));
    let stopping = Instant::now();
    run("stop -m fast");
    let stop_took = stopping.elapsed();
    // Within the bound the mirror still vouches; past it, nothing resolves.
    within(Duration::from_secs(5), || !allowed(&a, query(&approval)))
        .expect("approvals still resolve with the store down");
    let after = stopping.elapsed();
    // The bound runs from the last reading: at most a heartbeat (a quarter of it)
    // before the server went away, at the latest when the stop was done.
    assert!(
        after >= staleness / 2 && after <= staleness + stop_took + Duration::from_millis(500),
        "denied {after:?} after the stop began (it took {stop_took:?}), for a staleness bound of {staleness:?}"
    );
    eprintln!("failed closed {after:?} after the stop began (it took {stop_took:?})");
    let st = a.status().procedures.unwrap();
    assert!(!st.mirror.fresh && st.last_error_code.is_some(), "{st:?}");
    // A step needs the store.
    let e = flows
        .revoke_share("gongan.officer", &s.id, "store down")
        .unwrap_err();
    assert_eq!(e.code(), "store_unavailable");
    run("start");
    let back = within(Duration::from_secs(15), || allowed(&a, query(&approval)))
        .expect("approvals do not resolve again once the store is back");
    eprintln!("resolved again {back:?} after the start");
    assert!(a.status().procedures.unwrap().mirror.fresh);
    // And steps go on, on a new connection.
    done(
        flows
            .revoke_share("gongan.officer", &s.id, "停止核验")
            .unwrap(),
    );
    assert!(!allowed(&a, query(&approval)));
    a.close().unwrap();
    drop(superuser());
}

#[test]
fn expiries_recorded_by_one_node_move_every_share_due_at_once() {
    use govdata::audit::{AuditLog, AuditOptions, SealingKey, Timestamp};
    use govdata::store::SharedProcedures;
    use govdata::workflow::WorkflowConfig;
    use std::sync::atomic::{AtomicI64, Ordering};
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_scratch, db, url, b, _) = two_nodes("proc-expire");
    node_login();
    // Node A on a clock the test moves.
    let dir = Scratch::new("proc-expire-a");
    let now = Arc::new(AtomicI64::new(Timestamp::now().unix_millis()));
    let c = now.clone();
    let clock: govdata::audit::Clock =
        Arc::new(move || Timestamp::from_unix_millis(c.load(Ordering::SeqCst)));
    let engine = Arc::new(govdata::Engine::with_defaults().unwrap());
    let log = Arc::new(
        AuditLog::open(
            dir.path().join("audit"),
            SealingKey::from_bytes([6; 32]),
            AuditOptions::default().clock(clock.clone()),
        )
        .unwrap(),
    );
    govdata::platform::record_decisions(&engine, Some(&log));
    let staleness = Duration::from_secs(3);
    let section = store_support::section(&db, NODE.0, NODE.1, dir.path(), 100);
    let store = Arc::new(SharedProcedures::new("node-clock", &section, staleness).unwrap());
    let flows = govdata::platform::open_shared_procedures(
        engine.clone(),
        log,
        None,
        WorkflowConfig::default().clock(clock),
        store.clone(),
        staleness,
    )
    .unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut app = application();
        app.until = Timestamp::from_unix_millis(now.load(Ordering::SeqCst) + 86_400_000);
        let s = done(flows.request_share("wang.wu", "hukou", app).unwrap());
        done(flows.approve_share("gongan.officer", &s.id, None).unwrap());
        ids.push(s.id);
    }
    now.fetch_add(2 * 86_400_000, Ordering::SeqCst);
    let expired = flows.expire_shares().unwrap();
    assert_eq!(expired.len(), 3);
    assert!(expired.iter().all(|s| s.status.as_str() == "expired"));
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM govdata.procedure_requests WHERE status = 'expired'"
        ),
        3
    );
    // Nothing left to expire, on either node.
    assert!(flows.expire_shares().unwrap().is_empty());
    assert!(
        within(Duration::from_secs(1), || b
            .workflows()
            .unwrap()
            .shares()
            .iter()
            .all(|s| s.status.as_str() == "expired"))
        .is_some(),
        "node B does not see the expiries within 1 s"
    );
    assert_eq!(b.workflows().unwrap().shares().len(), 3);
    store.stop();
    b.close().unwrap();
}
