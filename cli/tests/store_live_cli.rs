//! The live inventory and the published bundles from the command line, with nodes in
//! two processes — this Rust process and a Python process (`GOVDATA_TEST_PYTHON`, the
//! virtualenv scripts/test-python.sh makes) — against the real server (scripts/test.sh
//! starts it): `govdata inventory push` of an invalid inventory changes nothing on any
//! node; a push that removes a user is refused by every node within a second of the
//! command's return, and by a command-line node opened after it; `govdata inventory
//! pull` gives the pushed inventory back; `govdata bundle publish` refuses a tampered,
//! unsigned, foreign, older or expired bundle and stores nothing, and a good one runs
//! on every node within a second; `govdata assess` reads the store's inventory.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

#[path = "../../core/tests/store_support/mod.rs"]
mod store_support;

use govdata::platform::{Platform, PlatformConfig};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store_support::{fresh_db, live_node, login, password_file, server, su, tls_url, Scratch};

const NODE: (&str, &str) = ("gd_cli_live_node", "cli-live-node-pw");
const ADMIN: (&str, &str) = ("gd_cli_live_admin", "cli-live-admin-pw");
const PUBLISHER: (&str, &str) = ("gd_cli_live_publisher", "cli-live-publisher-pw");
const KEY: [u8; 32] = [13; 32];
const QUERY: &str = r#"{"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}"#;

fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// A refusal: exit 2 and `error[code]`, with the bundle's reason when given.
fn refused(out: &Output, code: &str, reason: Option<&str>) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with(&format!("error[{code}]")), "{err}");
    if let Some(r) = reason {
        assert!(err.contains(&format!("({r})")), "{err}");
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The connection flags of a login role over TLS: `--store URL --ca-file CA
/// --password-file FILE`.
fn store_flags(dir: &Path, db: &str, role: (&str, &str)) -> Vec<String> {
    let home = dir.join(role.0);
    std::fs::create_dir_all(&home).unwrap();
    let pass = password_file(&home, role.1);
    vec![
        "--store".into(),
        tls_url(db, role.0),
        "--ca-file".into(),
        server().ca,
        "--password-file".into(),
        pass.display().to_string(),
    ]
}

fn with(args: &[&str], flags: &[String]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(flags.iter().map(String::as_str));
    govdata(&all)
}

/// A node's govdata.toml taking its inventory and its bundles from the store.
fn node(dir: &Path, id: &str, db: &str, trust: &Path) -> PathBuf {
    live_node(dir, id, db, NODE, KEY, true, Some(trust))
}

const PYTHON_NODE: &str = r#"
import json, sys, time, govdata
node = govdata.Platform(sys.argv[1])
QUERY = {"principal": "zhang.san", "action": "query", "resource": "hukou",
         "context": {"scenario_risk": "low"}}
def allowed():
    try:
        return node.engine.decide(QUERY).allowed
    except govdata.UnknownEntityError:
        return False
def reply(**fields):
    fields["allowed"] = allowed()
    fields["status"] = node.status()
    print(json.dumps(fields), flush=True)
reply(ready=True)
for line in sys.stdin:
    cmd, *args = line.split()
    deadline = time.time() + 10
    if cmd == "denied":
        while allowed() and time.time() < deadline:
            time.sleep(0.001)
        reply(at=time.time() * 1000)
    elif cmd == "policy":
        while node.status()["policy_version"] != args[0] and time.time() < deadline:
            time.sleep(0.001)
        reply(at=time.time() * 1000)
    elif cmd == "status":
        reply()
    else:
        break
node.close()
"#;

/// The Python node: commands on its standard input, one JSON line back for each.
struct PythonNode {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl PythonNode {
    fn start(config: &Path) -> (PythonNode, serde_json::Value) {
        let python = std::env::var("GOVDATA_TEST_PYTHON").expect(
            "GOVDATA_TEST_PYTHON: the Python of the virtualenv scripts/test-python.sh makes",
        );
        let mut child = Command::new(python)
            .arg("-c")
            .arg(PYTHON_NODE)
            .arg(config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        let mut node = PythonNode {
            child,
            input,
            output,
        };
        let ready = node.read();
        (node, ready)
    }

    fn read(&mut self) -> serde_json::Value {
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("python node: `{line}`: {e}"))
    }

    fn ask(&mut self, command: &str) -> serde_json::Value {
        writeln!(self.input, "{command}").unwrap();
        self.input.flush().unwrap();
        self.read()
    }

    fn quit(mut self) {
        let _ = writeln!(self.input, "quit");
        drop(self.input);
        assert!(
            self.child.wait().unwrap().success(),
            "the python node failed"
        );
    }
}

fn allowed(node: &Platform) -> bool {
    node.engine()
        .decide_json(QUERY)
        .map(|d| d.allowed())
        .unwrap_or(false)
}

/// Waits until `done` holds on the Rust node, at most ten seconds; the time then.
fn rust_until(node: &Platform, done: impl Fn(&Platform) -> bool) -> f64 {
    let t = Instant::now();
    while !done(node) {
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", node.status());
        std::thread::sleep(Duration::from_millis(1));
    }
    now_ms()
}

#[test]
fn inventory_and_bundles_pushed_from_the_command_line_reach_a_rust_and_a_python_node() {
    let scratch = Scratch::new("clilive");
    let dir = scratch.path();
    let (db, url) = fresh_db("clilive");
    login(NODE.0, "govdata_node", NODE.1);
    login(NODE.0, "govdata_shipper", NODE.1);
    // The assessment of a node with `[store]` reads the store's records.
    login(NODE.0, "govdata_reader", NODE.1);
    login(ADMIN.0, "govdata_inventory_admin", ADMIN.1);
    login(PUBLISHER.0, "govdata_publisher", PUBLISHER.1);
    let admin = store_flags(dir, &db, ADMIN);
    let publisher = store_flags(dir, &db, PUBLISHER);
    let policies = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let example = policies.join("examples/inventory.json");

    // The management department's key, and bundle 1 of the default pack.
    let key = dir.join("mgmt.key");
    ok(&govdata(&["keygen", "-o", s(&key)]));
    let public = dir.join("mgmt.key.pub");
    let build = |version: &str, pack: &Path, extra: &[&str], name: &str| -> PathBuf {
        let out = dir.join(name);
        let mut args = vec![
            "bundle",
            "build",
            "--policies",
            s(pack),
            "--version",
            version,
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-o", s(&out)]);
        ok(&govdata(&args));
        out
    };
    let sign =
        |bundle: &Path, key: &Path| ok(&govdata(&["bundle", "sign", "--key", s(key), s(bundle)]));
    let v1 = build("1", &policies, &[], "v1.bundle");
    sign(&v1, &key);
    let published = ok(&with(
        &["bundle", "publish", "--trust", s(&public), s(&v1)],
        &publisher,
    ));
    assert_eq!(published["version"], 1);

    // The inventory pushed, and pulled back as it is.
    let r = ok(&with(&["inventory", "push", s(&example)], &admin));
    assert_eq!(
        (r["version"].as_u64(), r["removed"].as_u64()),
        (Some(1), Some(0))
    );
    let pulled = dir.join("pulled.json");
    ok(&with(&["inventory", "pull", "-o", s(&pulled)], &admin));
    let expected = govdata::Inventory::from_file(&example).unwrap().to_json();
    let got: serde_json::Value = serde_json::from_slice(&std::fs::read(&pulled).unwrap()).unwrap();
    assert_eq!(got, expected);

    // Two nodes in two processes.
    let rust = Platform::from_config(
        PlatformConfig::from_file(node(dir, "rust-1", &db, &public)).unwrap(),
    )
    .unwrap();
    let py_config = node(dir, "py-1", &db, &public);
    let (mut py, ready) = PythonNode::start(&py_config);
    assert_eq!(ready["allowed"], true);
    assert_eq!(ready["status"]["inventory"]["version"], 1);
    assert_eq!(ready["status"]["bundle"]["version"], 1);
    assert!(allowed(&rust));

    // An invalid push (a dangling department) is refused and changes nothing anywhere.
    let mut bad = expected.clone();
    bad["users"][0]["department"] = "nosuch".into();
    let bad_file = dir.join("bad.json");
    std::fs::write(&bad_file, bad.to_string()).unwrap();
    refused(
        &with(&["inventory", "push", s(&bad_file)], &admin),
        "inventory_invalid",
        None,
    );
    let merge = dir.join("merge.json");
    std::fs::write(
        &merge,
        r#"{"users": [{"id": "zhang.san", "department": "nosuch"}]}"#,
    )
    .unwrap();
    refused(
        &with(&["inventory", "push", "--merge", s(&merge)], &admin),
        "inventory_invalid",
        None,
    );
    std::thread::sleep(govdata::store::CHECK_INTERVAL + Duration::from_millis(200));
    let st = py.ask("status");
    assert_eq!(
        (
            st["allowed"].as_bool(),
            st["status"]["inventory"]["version"].as_u64()
        ),
        (Some(true), Some(1))
    );
    assert!(allowed(&rust));
    assert_eq!(rust.status().inventory.unwrap().version, 1);
    assert_eq!(
        su(&url)
            .query_one("SELECT version FROM govdata.inventory_state", &[])
            .unwrap()
            .get::<_, i64>(0),
        1
    );

    // The user removed: both nodes refuse them within a second of the push.
    let mut removed = expected.clone();
    removed["users"]
        .as_array_mut()
        .unwrap()
        .retain(|u| u["id"] != "zhang.san");
    let removed_file = dir.join("removed.json");
    std::fs::write(&removed_file, removed.to_string()).unwrap();
    let r = ok(&with(&["inventory", "push", s(&removed_file)], &admin));
    let pushed = now_ms();
    assert_eq!(
        (r["version"].as_u64(), r["removed"].as_u64()),
        (Some(2), Some(1))
    );
    let rust_at = rust_until(&rust, |n| !allowed(n));
    let py_at = py.ask("denied");
    assert_eq!(py_at["allowed"], false, "{py_at}");
    let worst = (rust_at - pushed).max(py_at["at"].as_f64().unwrap() - pushed);
    eprintln!("the removal reached both nodes {worst:.0} ms after the push returned");
    assert!(worst < 1000.0, "{worst} ms");
    // A command-line node opened now refuses them too.
    let cli = node(dir, "cli-1", &db, &public);
    let request = dir.join("request.json");
    std::fs::write(&request, QUERY).unwrap();
    refused(
        &govdata(&["decide", "--config", s(&cli), s(&request)]),
        "unknown_entity",
        None,
    );
    // And the assessment reads the store's inventory.
    let report = ok(&govdata(&[
        "assess",
        "--config",
        s(&cli),
        "--json",
        "-",
        "--fail-on",
        "none",
    ]));
    assert_eq!(report["sources"]["inventory"]["users"], 24);
    // A removal alone.
    let r = ok(&with(
        &["inventory", "push", "--merge", "--remove", "user:li.si"],
        &admin,
    ));
    assert_eq!(
        (r["version"].as_u64(), r["removed"].as_u64()),
        (Some(3), Some(1))
    );
    rust_until(&rust, |n| n.engine().inventory().user("li.si").is_none());

    // Bad bundles are refused by the publisher, which stores nothing.
    let small = dir.join("small");
    std::fs::create_dir_all(&small).unwrap();
    for f in ["schema.cedarschema", "art17-superadmin.cedar"] {
        std::fs::copy(policies.join(f), small.join(f)).unwrap();
    }
    let stranger = dir.join("stranger.key");
    ok(&govdata(&["keygen", "--alg", "sm2", "-o", s(&stranger)]));
    let unsigned = build("2", &small, &[], "unsigned.bundle");
    let foreign = build("2", &small, &[], "foreign.bundle");
    sign(&foreign, &stranger);
    // (A bundle is made to expire after it is made: this one a moment after.)
    let soon = govdata::Timestamp::from_unix_millis(govdata::Timestamp::now().unix_millis() + 1500)
        .to_string();
    let expired = build("2", &small, &["--expires", &soon], "expired.bundle");
    sign(&expired, &key);
    std::thread::sleep(Duration::from_millis(1600));
    let older = build("0", &small, &[], "older.bundle");
    sign(&older, &key);
    let tampered = build("2", &small, &[], "tampered.bundle");
    sign(&tampered, &key);
    let text = std::fs::read_to_string(&tampered).unwrap();
    std::fs::write(&tampered, text.replacen("forbid", "permit", 1)).unwrap();
    for (bundle, why) in [
        (&tampered, "tampered"),
        (&unsigned, "unsigned"),
        (&foreign, "untrusted_key"),
        (&older, "rollback"),
        (&expired, "expired"),
    ] {
        refused(
            &with(
                &["bundle", "publish", "--trust", s(&public), s(bundle)],
                &publisher,
            ),
            "bundle_invalid",
            Some(why),
        );
    }
    let count = |sql: &str| -> i64 { su(&url).query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(count("SELECT count(*) FROM govdata.policy_bundles"), 1);

    // A good one runs on both within a second of its publication.
    let v2 = build("2", &small, &[], "v2.bundle");
    let manifest = sign(&v2, &key);
    let target = manifest["policy_version"].as_str().unwrap().to_owned();
    ok(&with(
        &["bundle", "publish", "--trust", s(&public), s(&v2)],
        &publisher,
    ));
    let published = now_ms();
    let rust_at = rust_until(&rust, |n| n.engine().policy_version() == target);
    let py_at = py.ask(&format!("policy {target}"));
    assert_eq!(py_at["status"]["bundle"]["version"], 2, "{py_at}");
    let worst = (rust_at - published).max(py_at["at"].as_f64().unwrap() - published);
    eprintln!("bundle 2 reached both nodes {worst:.0} ms after it was published");
    assert!(worst < 1000.0, "{worst} ms");
    assert_eq!(count("SELECT count(*) FROM govdata.policy_bundles"), 2);

    py.quit();
    rust.close().unwrap();
}
