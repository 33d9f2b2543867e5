//! One place to look, from the command line against the real server (scripts/test.sh
//! starts it): `audit query --store` across nodes with every filter, a department's
//! view allowed and another's denied by the engine, each viewing decision recorded;
//! `audit watch --store` raising every kind of alert and recording it (and its node's
//! shipper shipping it), and reading on without a gap after the server restarts;
//! `assess --store` reading the store as a local log; `demo --store`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

#[path = "../../core/tests/store_support/mod.rs"]
mod store_support;

use govdata::audit::{AuditLog, AuditOptions, AuditRecord, Event, SealingKey, Verdict};
use govdata::{Action, Resource, Timestamp};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use store_support::*;

const READER: (&str, &str) = ("gd_test_reader", "reader-pw");

/// The restart test stops the server: the others wait for it.
static SERVER: RwLock<()> = RwLock::new(());

fn govdata<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A node `id` in `root/id` sealed with `key`, shipping to `db` when `ship`; `extra`
/// is appended to its govdata.toml.
fn node(root: &Path, id: &str, key: u8, db: &str, ship: bool, extra: &str) -> PathBuf {
    let s = server();
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    private(&dir.join("seal.key"), &[key; 32]);
    private(&dir.join("store.pass"), SHIPPER.1.as_bytes());
    let store = if ship {
        format!(
            "[store]\nurl = \"{}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\nbatch_size = 50\n",
            tls_url(db, SHIPPER.0),
            s.ca
        )
    } else {
        String::new()
    };
    let config = dir.join("govdata.toml");
    std::fs::write(
        &config,
        format!("node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nlock_wait_ms = 60000\n{store}{extra}"),
    )
    .unwrap();
    config
}

/// A fresh database, its shipping and reading login roles, and the flags that reach
/// it as the reader over TLS.
fn store(root: &Path, tag: &str) -> (String, String, Vec<String>) {
    let (db, url) = fresh_db(tag);
    login(SHIPPER.0, "govdata_shipper", SHIPPER.1);
    login(READER.0, "govdata_reader", READER.1);
    let pass = root.join("reader.pass");
    private(&pass, READER.1.as_bytes());
    let reader = vec![
        "--store".to_owned(),
        tls_url(&db, READER.0),
        "--ca-file".to_owned(),
        server().ca,
        "--password-file".to_owned(),
        pass.display().to_string(),
    ];
    (db, url, reader)
}

fn c(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `govdata decide` on the node of `config`: whether it allowed.
fn decide(config: &Path, principal: &str, action: &str, resource: &str) -> bool {
    let request = config.with_file_name("request.json");
    std::fs::write(
        &request,
        format!(r#"{{"principal": "{principal}", "action": "{action}", "resource": "{resource}", "context": {{"scenario_risk": "low"}}}}"#),
    )
    .unwrap();
    let out = govdata(&["decide", "--config", c(config), c(&request)]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    out.status.success()
}

fn sync(config: &Path) {
    let out = govdata(&["store", "sync", "--config", c(config), "--timeout", "60"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// The records of a log, read with its key.
fn log_records(config: &Path, key: u8) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    AuditLog::read_dir(
        config.with_file_name("audit"),
        &SealingKey::from_bytes([key; 32]),
        |r| {
            out.push(r);
            Ok(())
        },
    )
    .unwrap();
    out
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn node_seq(v: &Value) -> (String, u64) {
    (
        v["node"].as_str().unwrap().to_owned(),
        v["seq"].as_u64().unwrap(),
    )
}

#[test]
fn a_query_across_nodes_filters_and_views_as_the_engine_decides() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let root = Scratch::new("query");
    let (db, su, reader) = store(root.path(), "query");
    let a = node(root.path(), "etl-a", 11, &db, true, "");
    let b = node(root.path(), "svc-b", 12, &db, true, "");
    let desk = node(root.path(), "desk", 13, &db, false, "");
    assert!(decide(&a, "zhang.san", "query", "population-stats"));
    assert!(!decide(&a, "zhang.san", "modify", "population-stats"));
    assert!(decide(&b, "wang.wu", "query", "employment-stats"));
    assert!(decide(&b, "huzheng.analyst", "query", "population-stats"));
    assert!(!decide(&b, "yunwei.ops", "query", "traffic-flow"));
    sync(&a);
    sync(&b);
    let (key_a, key_b) = (a.with_file_name("seal.key"), b.with_file_name("seal.key"));
    let keys = ["--store-key-file", c(&key_a), "--store-key-file", c(&key_b)];
    let query = |viewer: &str, more: &[&str]| -> Output {
        let mut args = vec!["audit", "query", "--config", c(&desk), "--as", viewer];
        args.extend(reader.iter().map(String::as_str));
        args.extend(keys);
        args.extend(more);
        govdata(&args)
    };
    let ok = |viewer: &str, more: &[&str]| -> Vec<Value> {
        let out = query(viewer, more);
        assert!(out.status.success(), "{}", text(&out));
        lines(&out)
    };
    let all = ok("yunying.auditor", &[]);
    let ids: Vec<(String, u64)> = all.iter().map(node_seq).collect();
    assert_eq!(all.len(), 5, "{all:?}");
    for want in [
        ("etl-a", 1),
        ("etl-a", 2),
        ("svc-b", 1),
        ("svc-b", 2),
        ("svc-b", 3),
    ] {
        assert!(ids.contains(&(want.0.to_owned(), want.1)), "{ids:?}");
    }
    // Oldest first across nodes, as each row's payload says.
    let times: Vec<&str> = all.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let pick = |rows: &[Value]| -> Vec<(String, u64)> { rows.iter().map(node_seq).collect() };
    let expect = |f: &dyn Fn(&Value) -> bool| -> Vec<(String, u64)> {
        all.iter().filter(|r| f(r)).map(node_seq).collect()
    };
    assert_eq!(
        pick(&ok("yunying.auditor", &["--node", "etl-a"])),
        expect(&|r| r["node"] == "etl-a")
    );
    assert_eq!(
        pick(&ok("yunying.auditor", &["--user", "zhang.san"])),
        expect(&|r| r["user"] == "zhang.san")
    );
    assert_eq!(
        pick(&ok("yunying.auditor", &["--action", "query"])).len(),
        4
    );
    assert_eq!(
        pick(&ok("yunying.auditor", &["--dataset", "population-stats"])),
        expect(&|r| r["resource"] == "population-stats")
    );
    let denied = ok("yunying.auditor", &["--decision", "deny"]);
    assert_eq!(pick(&denied), [("etl-a".into(), 2), ("svc-b".into(), 3)]);
    let t3 = times[2];
    assert_eq!(
        pick(&ok("yunying.auditor", &["--since", t3])),
        expect(&|r| r["time"].as_str().unwrap() >= t3)
    );
    assert_eq!(
        pick(&ok("yunying.auditor", &["--until", t3])),
        expect(&|r| r["time"].as_str().unwrap() < t3)
    );
    assert_eq!(
        pick(&ok("yunying.auditor", &["--limit", "2"])),
        ids[3..].to_vec()
    );
    assert!(ok("yunying.auditor", &["--since", "2099-01-01"]).is_empty());
    // Art. 18: a department's officer sees her staff on every node, sub-departments
    // included; another department's records are refused, as for a local log.
    let own = ok("gongan.officer", &["--department", "gongan"]);
    assert_eq!(
        pick(&own),
        expect(&|r| r["department"] == "gongan" || r["department"] == "gongan-huzheng")
    );
    assert_eq!(own.len(), 3);
    let other = query("gongan.officer", &["--department", "renshe"]);
    assert_eq!(other.status.code(), Some(1), "{}", text(&other));
    assert!(other.stdout.is_empty());
    let decision: Value = serde_json::from_slice(&other.stderr).unwrap();
    assert_eq!(decision["decision"], "deny");
    // Every viewing decision is in the viewer's node's log.
    let views: Vec<AuditRecord> = log_records(&desk, 13)
        .into_iter()
        .filter(|r| r.event.action == Some(Action::ViewAudit))
        .collect();
    assert_eq!(views.len(), 12, "{views:?}");
    let last = views.last().unwrap();
    assert_eq!(last.event.user.as_deref(), Some("gongan.officer"));
    assert_eq!(last.event.decision, Some(Verdict::Deny));
    assert_eq!(decision["audit_seq"].as_u64(), Some(last.seq));
    // A node whose key is not given is refused, not shown unchecked.
    let mut args = vec![
        "audit",
        "query",
        "--config",
        c(&desk),
        "--as",
        "yunying.auditor",
    ];
    args.extend(reader.iter().map(String::as_str));
    args.extend(&keys[..2]);
    let out = govdata(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("error[request_invalid]"),
        "{}",
        text(&out)
    );
    args.extend(["--node", "etl-a"]);
    assert_eq!(lines(&govdata(&args)).len(), 2);
    // A row changed behind the triggers is audit_tampered (exit 1), never shown.
    superuser_of(&su)
        .batch_execute(
            "SET session_replication_role = replica;
         UPDATE govdata.audit_records SET user_id = 'li.si' WHERE node_id = 'svc-b' AND seq = 1;
         RESET session_replication_role;",
        )
        .unwrap();
    let out = query("yunying.auditor", &["--user", "li.si"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out).contains("error[audit_tampered]"),
        "{}",
        text(&out)
    );
}

fn superuser_of(url: &str) -> postgres::Client {
    govdata::store::StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap()
}

/// A running `govdata audit watch`, its lines collected as they come.
struct Watcher {
    child: Child,
    out: Arc<Mutex<Vec<Value>>>,
    err: Arc<Mutex<String>>,
}

impl Watcher {
    fn start(args: &[String]) -> Watcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_govdata"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let o = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line: {line}: {e}"));
                o.lock().unwrap().push(v);
            }
        });
        let stderr = child.stderr.take().unwrap();
        let e = err.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let mut e = e.lock().unwrap();
                e.push_str(&line.unwrap());
                e.push('\n');
            }
        });
        Watcher { child, out, err }
    }

    /// Waits until `done` holds of the lines so far (at most `secs`).
    fn until(&mut self, what: &str, secs: u64, done: impl Fn(&[Value], &str) -> bool) {
        let t = Instant::now();
        loop {
            {
                let out = self.out.lock().unwrap();
                let err = self.err.lock().unwrap();
                if done(&out, &err) {
                    return;
                }
                if t.elapsed() > Duration::from_secs(secs) {
                    let _ = self.child.kill();
                    panic!("watch: no {what} after {secs} s\nstdout: {out:#?}\nstderr: {err}");
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "watch exited ({status}) before {what}\nstdout: {:#?}\nstderr: {}",
                    self.out.lock().unwrap(),
                    self.err.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(mut self) -> (Vec<Value>, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(200));
        let out = self.out.lock().unwrap().clone();
        let err = self.err.lock().unwrap().clone();
        (out, err)
    }
}

fn watch_args(monitor: &Path, reader: &[String], keys: &[&Path], more: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["audit", "watch", "--config", c(monitor)]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.extend(reader.iter().cloned());
    for k in keys {
        args.push("--store-key-file".into());
        args.push(c(k).to_owned());
    }
    args.extend(more.iter().map(|s| (*s).to_owned()));
    args
}

fn alerts(out: &[Value]) -> Vec<&Value> {
    out.iter().filter(|v| v.get("alert").is_some()).collect()
}

fn records_of(out: &[Value], node: &str) -> Vec<u64> {
    out.iter()
        .filter(|v| v.get("alert").is_none() && v["node"] == node)
        .map(|v| v["seq"].as_u64().unwrap())
        .collect()
}

const ALERTS: &str = "[alerts]\ndenial_burst_count = 3\ndenial_burst_window_secs = 600\nbulk_export_count = 2\nnode_silent_secs = 3\n";

#[test]
fn a_watch_raises_every_alert_and_records_it() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let root = Scratch::new("watch");
    let (db, su, reader) = store(root.path(), "watch");
    let a = node(root.path(), "etl-a", 21, &db, true, "");
    let b = node(root.path(), "svc-b", 22, &db, true, "");
    let monitor = node(root.path(), "monitor", 23, &db, true, ALERTS);
    let keys = [a.with_file_name("seal.key"), b.with_file_name("seal.key")];
    let keys: Vec<&Path> = keys.iter().map(PathBuf::as_path).collect();
    // Watching is viewing every department: a user department's analyst may not.
    let out = govdata(&watch_args(&monitor, &reader, &keys, &["--as", "wang.wu"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let mut w = Watcher::start(&watch_args(
        &monitor,
        &reader,
        &keys,
        &["--as", "yunying.auditor", "--since", "2000-01-01"],
    ));
    // etl-a: three denials of one user (real decisions) and an allowed query.
    for _ in 0..3 {
        assert!(!decide(&a, "zhang.san", "modify", "population-stats"));
    }
    assert!(decide(&a, "zhang.san", "query", "population-stats"));
    sync(&a);
    // svc-b: records made on a Sunday at 04:00 (UTC+8): two exports of L4 data by one
    // user, and vendor staff on sensitive personal information.
    let sunday = Timestamp::parse("2026-03-07T20:00:00Z").unwrap();
    let log = AuditLog::open(
        b.with_file_name("audit"),
        SealingKey::from_bytes([22; 32]),
        AuditOptions::default().clock(Arc::new(move || sunday)),
    )
    .unwrap();
    let allowed = |user: &str, dept: &str, action: Action, dataset: &str| {
        let mut e = Event::new("decision")
            .user(user)
            .department(dept)
            .action(action)
            .resource(Resource::dataset(dataset));
        e.decision = Some(Verdict::Allow);
        e
    };
    for _ in 0..2 {
        log.append(&allowed("li.si", "gongan", Action::Export, "hukou"))
            .unwrap();
    }
    log.append(&allowed("vendor.wang", "gongan", Action::Query, "hukou"))
        .unwrap();
    log.close().unwrap();
    drop(log);
    sync(&b);
    let kinds = [
        "denial_burst",
        "bulk_export",
        "vendor_sensitive",
        "off_hours",
        "node_silent",
    ];
    w.until("alert of every kind", 60, |out, _| {
        let seen: Vec<&str> = alerts(out)
            .iter()
            .filter_map(|a| a["alert"].as_str())
            .collect();
        kinds.iter().all(|k| seen.contains(k))
            && alerts(out)
                .iter()
                .any(|a| a["alert"] == "node_silent" && a["node"] == "etl-a")
    });
    let (out, err) = w.stop();
    assert!(err.contains("watching the platform store"), "{err}");
    // Every record arrived once, with its node.
    assert_eq!(records_of(&out, "etl-a"), [1, 2, 3, 4], "{out:#?}");
    assert_eq!(records_of(&out, "svc-b"), [1, 2, 3], "{out:#?}");
    let raised = alerts(&out);
    let find = |kind: &str| *raised.iter().find(|a| a["alert"] == kind).unwrap();
    let burst = find("denial_burst");
    assert_eq!(burst["user"], "zhang.san");
    assert_eq!(burst["node"], "etl-a");
    let refs: Vec<(String, u64)> = burst["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(node_seq)
        .collect();
    assert_eq!(
        refs,
        [
            ("etl-a".into(), 1),
            ("etl-a".into(), 2),
            ("etl-a".into(), 3)
        ]
    );
    assert_eq!(find("bulk_export")["user"], "li.si");
    assert_eq!(find("bulk_export")["dataset"], "hukou");
    assert_eq!(find("vendor_sensitive")["user"], "vendor.wang");
    assert!(raised
        .iter()
        .any(|a| a["alert"] == "off_hours" && a["node"] == "svc-b"));
    assert!(raised
        .iter()
        .any(|a| a["alert"] == "node_silent" && a["node"] == "etl-a"));
    // Each alert is a record of the watching node's log, at the sequence number it
    // printed, after the viewing decision.
    let recorded: BTreeMap<u64, AuditRecord> = log_records(&monitor, 23)
        .into_iter()
        .map(|r| (r.seq, r))
        .collect();
    let views: Vec<(Option<&str>, Option<Verdict>)> = recorded
        .values()
        .filter(|r| r.event.action == Some(Action::ViewAudit))
        .map(|r| (r.event.user.as_deref(), r.event.decision))
        .collect();
    assert_eq!(
        views,
        [
            (Some("wang.wu"), Some(Verdict::Deny)),
            (Some("yunying.auditor"), Some(Verdict::Allow))
        ]
    );
    for a in &raised {
        let r = &recorded[&a["audit_seq"].as_u64().unwrap()];
        assert_eq!(
            r.event.kind,
            format!("alert.{}", a["alert"].as_str().unwrap())
        );
        assert_eq!(
            r.event.fields.get("records"),
            a.get("records")
                .filter(|v| !v.as_array().unwrap().is_empty())
        );
    }
    // The watching node's shipper takes its alerts to the store in their turn.
    sync(&monitor);
    let shipped: i64 = superuser_of(&su)
        .query_one(
            "SELECT count(DISTINCT kind) FROM govdata.audit_records WHERE node_id = 'monitor' AND kind LIKE 'alert.%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(shipped, 5);
}

#[test]
fn a_watch_reads_on_after_the_server_restarts() {
    let _g = SERVER.write().unwrap_or_else(|p| p.into_inner());
    let ctl = server()
        .ctl
        .expect("GOVDATA_TEST_PG_CTL: this test stops and starts the server (scripts/pg-test-server.sh sets it)");
    let pg = |what: &str| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("{ctl} {what}"))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {what}");
    };
    let root = Scratch::new("restart");
    let (db, _, reader) = store(root.path(), "restart");
    let a = node(root.path(), "etl-a", 31, &db, true, "");
    let monitor = node(root.path(), "monitor", 32, &db, false, "");
    let key = a.with_file_name("seal.key");
    let decisions = |n: usize| {
        for _ in 0..n {
            assert!(decide(&a, "zhang.san", "query", "population-stats"));
        }
    };
    decisions(3);
    sync(&a);
    // From now on: the three records already in the store are not shown.
    let mut w = Watcher::start(&watch_args(
        &monitor,
        &reader,
        &[&key],
        &["--as", "yunying.auditor"],
    ));
    w.until("start", 30, |_, err| err.contains("watching"));
    decisions(3);
    sync(&a);
    w.until("records 4..=6", 30, |out, _| {
        records_of(out, "etl-a").last() == Some(&6)
    });
    pg("stop -m fast");
    // Decisions go on while the store is down; the local log keeps them.
    decisions(3);
    std::thread::sleep(Duration::from_millis(1500));
    pg("start");
    sync(&a);
    decisions(3);
    sync(&a);
    w.until("records through 12", 60, |out, _| {
        records_of(out, "etl-a").last() == Some(&12)
    });
    let (out, err) = w.stop();
    assert_eq!(
        records_of(&out, "etl-a"),
        (4..=12).collect::<Vec<u64>>(),
        "{err}"
    );
    assert!(err.contains("retrying"), "{err}");
    assert!(err.contains("reconnected"), "{err}");
}

#[test]
fn assess_reads_the_store_as_a_local_log() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let root = Scratch::new("assess");
    let (db, su, reader) = store(root.path(), "assess");
    let a = node(root.path(), "etl-a", 41, &db, true, "");
    let b = node(root.path(), "svc-b", 42, &db, true, "");
    for _ in 0..3 {
        assert!(decide(&a, "zhang.san", "query", "population-stats"));
        assert!(decide(&b, "wang.wu", "query", "employment-stats"));
    }
    sync(&a);
    sync(&b);
    let assess = |store: &[String]| -> Output {
        let mut args: Vec<String> = [
            "assess",
            "--config",
            c(&a),
            "--store-key-file",
            c(&b.with_file_name("seal.key")),
            "--json",
            "-",
            "--fail-on",
            "none",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(store.iter().cloned());
        Command::new(env!("CARGO_BIN_EXE_govdata"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = assess(&reader);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let audit = &report["sources"]["audit"];
    assert_eq!(audit["integrity"], "intact", "{audit}");
    assert_eq!(audit["records"], 6, "{audit}");
    assert!(audit["store"].is_string(), "{audit}");
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    // Both nodes number their records from 1: no gap between them.
    assert!(!codes.contains(&"audit_gap"), "{codes:?}");
    assert!(!codes.contains(&"audit_not_assessed"), "{codes:?}");
    // The node's own [store] names the shipping role, which may not read: refused.
    let out = assess(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("error[store_unavailable]"),
        "{}",
        text(&out)
    );
    // A row deleted behind the triggers is the assessment's finding.
    superuser_of(&su)
        .batch_execute(
            "SET session_replication_role = replica;
             DELETE FROM govdata.audit_records WHERE node_id = 'svc-b' AND seq = 2;
             RESET session_replication_role;",
        )
        .unwrap();
    let out = assess(&reader);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sources"]["audit"]["integrity"], "broken");
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "audit_chain_broken"
            && f["detail"]["en"].as_str().unwrap().contains("svc-b")));
}

#[test]
fn the_demo_ships_two_nodes_and_queries_across_them() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    // The demo makes the schema itself: again here, which changes nothing.
    let (_, url) = fresh_db("demo");
    let out = govdata(&["demo", "--store", &url]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(t.matches("verified from the rows").count(), 2, "{t}");
    assert_eq!(
        t.matches("shipped: the store holds its records through #3")
            .count(),
        2,
        "{t}"
    );
    assert!(t.contains("[art18-own-department-only]"), "{t}");
    let mut c = superuser_of(&url);
    let nodes: i64 = c
        .query_one("SELECT count(*) FROM govdata.audit_nodes", &[])
        .unwrap()
        .get(0);
    assert_eq!(nodes, 2);
    // The three viewing decisions were shipped too.
    let views: i64 = c
        .query_one(
            "SELECT count(*) FROM govdata.audit_records WHERE action = 'view_audit'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(views, 3);
}
