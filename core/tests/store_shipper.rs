//! The shipper against the real server: every record in the store exactly once and
//! verified (seals included); tampering by a superuser found by verification; a fork
//! reported, never papered over; decisions on L4 and above failing closed beyond the
//! lag bound; the server stopped mid-stream for ten seconds and restarted while
//! decisions go on.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod store_support;

use govdata::audit::SealingKey;
use govdata::platform::{Platform, PlatformConfig};
use govdata::store::{verify_store, StoreConnector, StoreVerifyReport};
use std::sync::RwLock;
use std::time::{Duration, Instant};
use store_support::*;

const KEY: [u8; 32] = [9; 32];

/// The restart test stops the server: the others wait for it.
static SERVER: RwLock<()> = RwLock::new(());

fn verify(url: &str) -> StoreVerifyReport {
    let mut c = StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    verify_store(&mut c, &[SealingKey::from_bytes(KEY)]).unwrap()
}

fn count(url: &str, sql: &str) -> i64 {
    let mut c = StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn every_record_once_in_the_store_with_its_seals() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let scratch = Scratch::new("once");
    let (db, url) = fresh_db("once");
    // Small segments: many seals on the way.
    let log = log_with(scratch.path(), KEY, 300, None, Some(4096));
    let shipper = ship(&db, "etl-01", &log, scratch.path(), 17);
    let st = shipper.status();
    assert_eq!((st.shipped_seq, st.lag_records), (300, 0), "{st:?}");
    assert!(st.connected && st.last_error.is_none());
    // More records wake the shipper (the log's append hook), batch after batch.
    for i in 0..50u64 {
        log.append(&govdata::audit::Event::new("test.more").field("i", i))
            .unwrap();
    }
    shipper.sync(Duration::from_secs(30)).unwrap();
    assert_eq!(
        count(&url, "SELECT count(*) FROM govdata.audit_records"),
        350
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(DISTINCT seq) FROM govdata.audit_records WHERE node_id = 'etl-01'"
        ),
        350
    );
    let seals = count(&url, "SELECT count(*) FROM govdata.audit_seals");
    assert!(seals >= 5, "{seals} seals");
    let report = verify(&url);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.nodes[0].records, 350);
    assert_eq!(report.nodes[0].seals as i64, seals);
}

/// Two nodes, `a` and `b`, under the same sealing key, shipped to a fresh database.
fn two_nodes(tag: &str) -> (Scratch, String) {
    let scratch = Scratch::new(tag);
    let (db, url) = fresh_db(tag);
    for node in ["a", "b"] {
        let dir = scratch.path().join(node);
        std::fs::create_dir_all(&dir).unwrap();
        let log = log_with(&dir, KEY, 30, None, Some(8192));
        let s = ship(&db, node, &log, &dir, 7);
        s.stop();
    }
    assert!(verify(&url).is_clean());
    (scratch, url)
}

fn bad_of(report: &StoreVerifyReport, node: &str) -> (u64, String) {
    let n = report
        .nodes
        .iter()
        .find(|n| n.node_id == node)
        .unwrap_or_else(|| panic!("no node {node} in {report:?}"));
    let b = n
        .first_bad
        .as_ref()
        .unwrap_or_else(|| panic!("node {node} is clean: {report:?}"));
    (b.seq, b.message.clone())
}

fn clean(report: &StoreVerifyReport, node: &str) -> bool {
    report
        .nodes
        .iter()
        .any(|n| n.node_id == node && n.first_bad.is_none())
}

/// A superuser with the triggers switched off.
fn tamper(url: &str, sql: &str) {
    su(url)
        .batch_execute(&format!(
            "SET session_replication_role = replica; {sql}; RESET session_replication_role;"
        ))
        .unwrap();
}

#[test]
fn a_changed_column_is_found() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_s, url) = two_nodes("tamper_col");
    tamper(
        &url,
        "UPDATE govdata.audit_records SET user_id = 'mallory' WHERE node_id = 'a' AND seq = 7",
    );
    let r = verify(&url);
    let (seq, msg) = bad_of(&r, "a");
    assert_eq!(seq, 7);
    assert!(msg.contains("user_id"), "{msg}");
    assert!(clean(&r, "b"));
}

#[test]
fn a_changed_payload_is_found() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_s, url) = two_nodes("tamper_payload");
    tamper(
        &url,
        "UPDATE govdata.audit_records SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'user3', 'user4'), 'UTF8'), user_id = 'user4' WHERE node_id = 'b' AND seq = 11",
    );
    let r = verify(&url);
    let (seq, msg) = bad_of(&r, "b");
    assert_eq!(seq, 11);
    assert!(msg.contains("authenticate"), "{msg}");
    assert!(clean(&r, "a"));
}

#[test]
fn a_deleted_row_is_found() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_s, url) = two_nodes("tamper_delete");
    tamper(
        &url,
        "DELETE FROM govdata.audit_records WHERE node_id = 'a' AND seq = 12",
    );
    let (seq, msg) = bad_of(&verify(&url), "a");
    assert_eq!(seq, 12);
    assert!(msg.contains("missing"), "{msg}");
    // The last row deleted: found against the node's registered head.
    tamper(
        &url,
        "DELETE FROM govdata.audit_records WHERE node_id = 'b' AND seq = 30",
    );
    let (seq, msg) = bad_of(&verify(&url), "b");
    assert_eq!(seq, 30);
    assert!(msg.contains("missing"), "{msg}");
}

#[test]
fn an_inserted_row_is_found() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_s, url) = two_nodes("tamper_insert");
    tamper(
        &url,
        "INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, user_id, policies, outcome, fields, payload, prev_head, head, tag)
         SELECT node_id, 31, month, time, kind, user_id, policies, outcome, fields, payload, head, head, tag
         FROM govdata.audit_records WHERE node_id = 'a' AND seq = 30",
    );
    let (seq, _msg) = bad_of(&verify(&url), "a");
    assert_eq!(seq, 31);
}

#[test]
fn rows_replayed_from_another_node_are_found() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (_s, url) = two_nodes("tamper_replay");
    // b's rows under a's id, in place of a's own.
    tamper(
        &url,
        "DELETE FROM govdata.audit_records WHERE node_id = 'a';
         INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, user_id, department, action, resource_type, resource_id, decision, policies, policy_version, outcome, fields, payload, prev_head, head, tag)
         SELECT 'a', seq, month, time, kind, user_id, department, action, resource_type, resource_id, decision, policies, policy_version, outcome, fields, payload, prev_head, head, tag
         FROM govdata.audit_records WHERE node_id = 'b'",
    );
    let r = verify(&url);
    let (seq, msg) = bad_of(&r, "a");
    assert_eq!(seq, 1);
    assert!(msg.contains("chain"), "{msg}");
    assert!(clean(&r, "b"));
    // b's rows and registration copied under a new id `c`.
    tamper(
        &url,
        "INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, user_id, department, action, resource_type, resource_id, decision, policies, policy_version, outcome, fields, payload, prev_head, head, tag)
         SELECT 'c', seq, month, time, kind, user_id, department, action, resource_type, resource_id, decision, policies, policy_version, outcome, fields, payload, prev_head, head, tag
         FROM govdata.audit_records WHERE node_id = 'b'",
    );
    assert_eq!(verify(&url).unknown_nodes, vec!["c".to_owned()]);
    tamper(
        &url,
        "INSERT INTO govdata.audit_nodes (node_id, log_id, suite, key_check, binding, first_seq, base_head, head_seq, head)
         SELECT 'c', log_id, suite, key_check, binding, first_seq, base_head, head_seq, head FROM govdata.audit_nodes WHERE node_id = 'b'",
    );
    let (seq, msg) = bad_of(&verify(&url), "c");
    assert_eq!(seq, 0);
    assert!(msg.contains("bind"), "{msg}");
}

#[test]
fn a_fork_is_reported_never_papered_over() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let scratch = Scratch::new("fork");
    let (db, url) = fresh_db("fork");
    let one = scratch.path().join("one");
    let two = scratch.path().join("two");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let log = log_with(&one, KEY, 10, None, None);
    ship(&db, "x", &log, &one, 5).stop();
    // Another log shipped under the same node id.
    let other = log_with(&two, KEY, 12, None, None);
    login(SHIPPER.0, "govdata_shipper", SHIPPER.1);
    let s = govdata::store::Shipper::start(
        "x",
        other.clone(),
        &section(&db, SHIPPER.0, SHIPPER.1, &two, 5),
    )
    .unwrap();
    let e = s.sync(Duration::from_secs(2)).unwrap_err();
    assert_eq!(e.code(), "store_unavailable");
    let st = s.status();
    assert_eq!(
        st.last_error_code.as_deref(),
        Some("audit_tampered"),
        "{st:?}"
    );
    s.stop();
    assert_eq!(
        count(&url, "SELECT count(*) FROM govdata.audit_records"),
        10
    );
    assert!(verify(&url).is_clean());
}

fn node_config(dir: &std::path::Path, db: &str, extra: &str) -> Platform {
    let s = server();
    std::fs::write(dir.join("seal.key"), KEY).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("seal.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    password_file(dir, SHIPPER.1);
    login(SHIPPER.0, "govdata_shipper", SHIPPER.1);
    let text = format!(
        "node_id = \"svc-1\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n[store]\nurl = \"{}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\nbatch_size = 20\n{extra}",
        tls_url(db, SHIPPER.0),
        s.ca
    );
    Platform::from_config(PlatformConfig::from_toml_str(&text, dir).unwrap()).unwrap()
}

const L4: &str = r#"{"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}"#;
const L2: &str = r#"{"principal": "zhang.san", "action": "query", "resource": "population-stats", "context": {"scenario_risk": "low"}}"#;

#[test]
fn beyond_the_lag_bound_l4_and_above_fail_closed() {
    let scratch = Scratch::new("failclosed");
    let s = server();
    std::fs::write(scratch.path().join("seal.key"), KEY).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        scratch.path().join("seal.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let _ = s;
    // A store nobody serves, a bound of two records.
    let text = format!(
        "node_id = \"n\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n[store]\nurl = \"postgresql://govdata@/govdata?host={}\"\nlag_max_records = 2\nfail_closed = true\n",
        scratch.path().join("no-server").display()
    );
    let node = Platform::from_config(PlatformConfig::from_toml_str(&text, scratch.path()).unwrap())
        .unwrap();
    let e = node.engine();
    assert!(e.decide_json(L4).unwrap().allowed());
    assert!(e.decide_json(L2).unwrap().allowed());
    assert!(e.decide_json(L2).unwrap().allowed());
    // Three records behind: L4 is denied, L2 still allowed.
    let st = node.status().store.unwrap();
    assert!(
        st.lag_exceeded && st.fail_closed && st.lag_records == 3,
        "{st:?}"
    );
    let d = e.decide_json(L4).unwrap();
    assert!(!d.allowed());
    assert_eq!(d.reasons()[0].policy(), "audit-unavailable");
    assert!(e.decide_json(L2).unwrap().allowed());
    node.close().unwrap();
}

#[test]
fn the_server_stopped_mid_stream_and_restarted() {
    let _g = SERVER.write().unwrap_or_else(|p| p.into_inner());
    let _started = store_support::StartOnDrop;
    let run = store_support::pg_ctl;
    let scratch = Scratch::new("restart");
    let (db, url) = fresh_db("restart");
    let node = node_config(scratch.path(), &db, "lag_max_seconds = 3600\n");
    let engine = node.engine().clone();
    let decide = |n: usize| {
        let mut slowest = Duration::ZERO;
        for _ in 0..n {
            let t = Instant::now();
            let d = engine.decide_json(L4).unwrap();
            assert!(d.allowed() && d.audit_seq().is_some());
            slowest = slowest.max(t.elapsed());
        }
        slowest
    };
    decide(100);
    node.store_sync(Duration::from_secs(30)).unwrap();
    run("stop -m fast");
    let t = Instant::now();
    let mut slowest = Duration::ZERO;
    // Ten seconds down, deciding all along.
    while t.elapsed() < Duration::from_secs(10) {
        slowest = slowest.max(decide(20));
    }
    let st = node.status().store.unwrap();
    assert!(st.lag_records > 0 && st.last_error.is_some(), "{st:?}");
    assert!(
        slowest < Duration::from_millis(500),
        "a decision took {slowest:?} while the store was down"
    );
    run("start");
    decide(50);
    node.store_sync(Duration::from_secs(60)).unwrap();
    let last = node.audit_log().unwrap().last_seq();
    let st = node.status().store.unwrap();
    assert_eq!((st.shipped_seq, st.lag_records), (last, 0));
    assert!(st.last_error.is_none());
    assert_eq!(
        count(&url, "SELECT count(*) FROM govdata.audit_records") as u64,
        last
    );
    assert!(verify(&url).is_clean());
    node.close().unwrap();
}
