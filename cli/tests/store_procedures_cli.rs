//! The procedures shared by every node, across processes in three languages, against
//! the real server (scripts/test.sh starts it): node A is the command line, node B a
//! Python process, node C a Node process that decides a request citing an approval in
//! a loop and reports each change of its decision. A share requested on A and reviewed
//! and provisioned on B is allowed on C within a second, and denied within a second of
//! its revocation on A; a destruction requested on A and approved on B is allowed on C
//! within a second, and denied within a second of its execution on A. Then four
//! processes race through the reviews and provisions of 500 requests (1,000
//! transitions in all): each happens once, none is lost, and every process that lost a
//! race was told with `workflow_invalid`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

use govdata::store::StoreConnector;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const NODE_ROLE: (&str, &str) = ("gd_cli_proc_node", "cli-proc-pw");

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the store's tests need the PostgreSQL server that scripts/test.sh starts (and the Python and Node builds it makes)")
    })
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "govdata-proc-cli-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn connect(url: &str) -> postgres::Client {
    StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap()
}

fn int(url: &str, sql: &str) -> i64 {
    connect(url).query_one(sql, &[]).unwrap().get(0)
}

/// The standard output of a command that must succeed.
fn stdout_of(mut command: Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh database made with `govdata store init`, and the nodes' login role; its
/// name and superuser URL.
fn fresh_db(tag: &str) -> (String, String) {
    let dir = var("GOVDATA_TEST_PG_DIR");
    let port = var("GOVDATA_TEST_PG_PORT");
    let name = format!(
        "gd_proc_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    connect(&var("GOVDATA_TEST_PG"))
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = format!("postgresql://postgres@/{name}?host={dir}&port={port}");
    let mut init = Command::new(env!("CARGO_BIN_EXE_govdata"));
    init.args(["store", "init", &url]);
    stdout_of(init);
    govdata::store::testing::ensure_login(
        &mut connect(&var("GOVDATA_TEST_PG")),
        NODE_ROLE.0,
        NODE_ROLE.1,
        &["govdata_shipper", "govdata_procedures"],
    )
    .unwrap();
    (name, url)
}

fn private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A node's directory and govdata.toml: its log, and the store over TLS.
fn node(root: &Path, id: &str, db: &str) -> PathBuf {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    private(&dir.join("seal.key"), &[7; 32]);
    private(&dir.join("store.pass"), NODE_ROLE.1.as_bytes());
    let config = dir.join("govdata.toml");
    std::fs::write(
        &config,
        format!(
            "node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nsync = \"none\"\n\
             [store]\nurl = \"postgresql://{}@localhost:{}/{db}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\n",
            NODE_ROLE.0,
            var("GOVDATA_TEST_PG_PORT"),
            var("GOVDATA_TEST_PG_CA")
        ),
    )
    .unwrap();
    config
}

/// Runs a command-line step on node A (its arguments split at spaces); its JSON
/// output.
fn cli(config: &Path, args: &str) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govdata"));
    command
        .args(args.split_whitespace())
        .arg("--config")
        .arg(config);
    let out = stdout_of(command);
    serde_json::from_slice(&out).unwrap()
}

/// A long-running node process spoken to in JSON lines.
struct Peer {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    fn start(name: &'static str, mut command: Command) -> Peer {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut peer = Peer {
            name,
            child,
            stdin,
            stdout,
        };
        assert_eq!(peer.read()["ready"], true, "{name} did not start");
        peer
    }

    fn send(&mut self, message: Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "{} exited", self.name);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{}: {e}: {line}", self.name))
    }

    /// Has node B take step `op` with `args`, which must leave the request `status`.
    fn step(&mut self, op: &str, args: Value, status: &str) {
        self.send(json!({"op": op, "args": args}));
        let reply = self.read();
        assert_eq!(reply["record"]["status"], status, "{}: {reply}", self.name);
    }

    fn finish(mut self) {
        self.send(json!({"op": "quit"}));
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{} failed", self.name);
    }
}

/// Node B: takes the steps it is sent.
const PYTHON_NODE: &str = r#"
import json, sys, govdata
node = govdata.Platform(sys.argv[1])
flows = node.workflows
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m["op"] == "quit":
        break
    try:
        step = getattr(flows, m["op"])(*m["args"], **m.get("kwargs", {}))
        reply = {"done": step.done, "record": step.record}
    except govdata.GovdataError as e:
        reply = {"error": e.code, "message": str(e)}
    print(json.dumps(reply), flush=True)
node.close()
"#;

/// Node C: decides the watched request in a loop and reports every change of the
/// decision with its time.
const NODE_NODE: &str = r#"
const readline = require('node:readline');
const { Platform } = require(process.env.GOVDATA_TEST_NODE);
const node = Platform.open(process.argv[1]);
const engine = node.engine();
let watched = null, last = null, timer = null;
const out = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const now = () => performance.timeOrigin + performance.now();
function tick() {
  if (watched) {
    const allowed = engine.decide(watched).decision === 'allow';
    if (allowed !== last) { last = allowed; out({ allowed, at: now() }); }
  }
  timer = setTimeout(tick, 1);
}
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.op === 'watch') { watched = m.request; last = null; }
  if (m.op === 'status') out(node.status());
  if (m.op === 'quit') { clearTimeout(timer); node.close(); process.exit(0); }
});
out({ ready: true });
tick();
"#;

fn python(config: &Path) -> Command {
    let mut c = Command::new(var("GOVDATA_TEST_PYTHON"));
    c.arg("-c").arg(PYTHON_NODE).arg(config);
    c
}

fn node_js(config: &Path) -> Command {
    let mut c = Command::new("node");
    c.arg("-e")
        .arg(NODE_NODE)
        .arg(config)
        .env("GOVDATA_TEST_NODE", var("GOVDATA_TEST_NODE"));
    c
}

/// Makes node C decide `request` in a loop; it is denied at first.
fn watch(c: &mut Peer, request: Value) {
    c.send(json!({"op": "watch", "request": request}));
    assert_eq!(
        c.read()["allowed"],
        false,
        "{} is allowed before any step",
        c.name
    );
}

/// Node C's next decision change, which must be `allowed` and come within a second of
/// the step of `kind` — of its record, written in the acting node's log just before
/// the store committed the step; how long after it came.
fn expect_change(c: &mut Peer, allowed: bool, url: &str, kind: &str, what: &str) -> f64 {
    let m = c.read();
    assert_eq!(m["allowed"], allowed, "{what}: {m}");
    let step: f64 = connect(url)
        .query_one(
            "SELECT CAST(extract(epoch FROM time) * 1000 AS float8) FROM govdata.procedure_steps WHERE kind = $1",
            &[&kind],
        )
        .unwrap()
        .get(0);
    let after = m["at"].as_f64().unwrap() - step;
    eprintln!("{what}: {after:.1} ms after the step's record");
    assert!(
        (0.0..1000.0).contains(&after),
        "{what}: {after:.1} ms after the step's record, not within 1 s"
    );
    after
}

#[test]
fn a_share_and_a_destruction_across_three_nodes_in_three_languages() {
    let root = scratch("three");
    let (db, url) = fresh_db("three");
    let a = node(&root, "cli-a", &db);
    let b = node(&root, "python-b", &db);
    let c = node(&root, "node-c", &db);
    let mut b = Peer::start("python node B", python(&b));
    let mut c = Peer::start("node node C", node_js(&c));

    // A share of 户籍 data, requested on the command line.
    let req = cli(
        &a,
        "share request hukou --as wang.wu --purpose social_security_check \
         --legal-basis 《社会保险法》第五十八条 --field name --until 2099-12-31 --risk low",
    );
    let id = req["request"]["id"].as_str().unwrap().to_owned();
    let approval = format!("apr-{id}");
    watch(
        &mut c,
        json!({"principal": "wang.wu", "action": "query", "resource": "hukou",
               "context": {"approval": approval}}),
    );
    // Reviewed and provisioned by Python.
    b.step("approve_share", json!(["gongan.officer", id]), "approved");
    b.step("provision_share", json!(["li.si", id]), "provisioned");
    let what = "provision on B → allowed on C";
    expect_change(&mut c, true, &url, "sharing.provisioned", what);
    // Revoked on the command line.
    cli(
        &a,
        &format!("share revoke {id} --as gongan.officer --reason 核验结束"),
    );
    let what = "revocation on A → denied on C";
    expect_change(&mut c, false, &url, "sharing.revoked", what);
    // Reviewing again is told, whichever node.
    b.send(json!({"op": "approve_share", "args": ["gongan.officer", id]}));
    assert_eq!(b.read()["error"], "workflow_invalid");

    // A destruction, requested on the command line, approved by Python.
    let req = cli(
        &a,
        "destroy request population-stats --as li.si --method logical_delete --reason 统计口径调整",
    );
    let dst = req["request"]["id"].as_str().unwrap().to_owned();
    watch(
        &mut c,
        json!({"principal": "ops.admin", "action": "destroy", "resource": "population-stats",
               "context": {"approval": format!("apr-{dst}")}}),
    );
    let args = json!(["gongan.officer", dst, "ops.admin"]);
    b.step("approve_destruction", args, "approved");
    let what = "destruction approval on B → allowed on C";
    expect_change(&mut c, true, &url, "destruction.approved", what);
    let x = cli(
        &a,
        &format!("destroy execute {dst} --as ops.admin --witness key.admin"),
    );
    assert_eq!(x["request"]["status"], "executed");
    let what = "execution on A → denied on C";
    expect_change(&mut c, false, &url, "destruction.executed", what);

    // C reports the shared procedures in its status.
    c.send(json!({"op": "status"}));
    let st = c.read();
    assert_eq!(st["procedures"]["fresh"], true, "{st}");
    assert_eq!(st["procedures"]["shares"], 1, "{st}");
    b.finish();
    c.finish();
    // Every step is in the store, by the node that took it.
    let by = |kind: &str| -> String {
        let mut c = connect(&url);
        c.query_one(
            "SELECT string_agg(node_id, ',') FROM govdata.procedure_steps WHERE kind = $1",
            &[&kind],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(by("sharing.submitted"), "cli-a");
    assert_eq!(by("sharing.approved"), "python-b");
    assert_eq!(by("sharing.provisioned"), "python-b");
    assert_eq!(by("sharing.revoked"), "cli-a");
    assert_eq!(by("destruction.requested"), "cli-a");
    assert_eq!(by("destruction.approved"), "python-b");
    assert_eq!(by("destruction.executed"), "cli-a");
    // The command line's list reads the store too.
    let list = cli(&a, "share list --json");
    assert_eq!(list[0]["status"], "revoked", "{list}");
    let _ = std::fs::remove_dir_all(&root);
}

/// A racer: one of four processes going through every request in its own order,
/// reviewing then provisioning each; what it won and what it was told.
const RACER: &str = r#"
import json, sys, govdata
node = govdata.Platform(sys.argv[1])
flows = node.workflows
ids = json.loads(sys.argv[2])
k = int(sys.argv[3])
ids = ids[k * len(ids) // 4:] + ids[:k * len(ids) // 4]
if k % 2:
    ids.reverse()
won = {"approved": [], "provisioned": []}
told = {}
for i in ids:
    for step, call in (("approved", lambda: flows.approve_share("gongan.officer", i)),
                       ("provisioned", lambda: flows.provision_share("li.si", i))):
        try:
            r = call()
            assert r.done, r
            won[step].append(i)
        except govdata.GovdataError as e:
            told[e.code] = told.get(e.code, 0) + 1
node.close()
print(json.dumps({"won": won, "told": told}))
"#;

#[test]
fn four_processes_race_through_a_thousand_transitions_and_each_happens_once() {
    let requests = 500;
    let root = scratch("race");
    let (db, url) = fresh_db("race");
    // The requests, made by a fifth node (one process).
    let maker = node(&root, "maker", &db);
    let script = format!(
        "import json, sys, govdata\n\
         node = govdata.Platform(sys.argv[1])\n\
         ids = [node.workflows.request_share('wang.wu', 'hukou', purpose='social_security_check', \
         legal_basis='law', fields=['name'], until='2099-12-31', scenario_risk='low').record['id'] \
         for _ in range({requests})]\n\
         node.close()\n\
         print(json.dumps(ids))\n"
    );
    let mut make = Command::new(var("GOVDATA_TEST_PYTHON"));
    make.arg("-c").arg(&script).arg(&maker);
    let ids: Vec<String> = serde_json::from_slice(&stdout_of(make)).unwrap();
    assert_eq!(ids.len(), requests);
    let ids_json = serde_json::to_string(&ids).unwrap();
    let t = std::time::Instant::now();
    let racers: Vec<Child> = (0..4)
        .map(|k| {
            let config = node(&root, &format!("racer-{k}"), &db);
            Command::new(var("GOVDATA_TEST_PYTHON"))
                .arg("-c")
                .arg(RACER)
                .arg(&config)
                .arg(&ids_json)
                .arg(k.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut won: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut told: BTreeMap<String, u64> = BTreeMap::new();
    for (k, r) in racers.into_iter().enumerate() {
        let out = r.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "racer {k}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for step in ["approved", "provisioned"] {
            let step: &'static str = if step == "approved" {
                "approved"
            } else {
                "provisioned"
            };
            for id in v["won"][step].as_array().unwrap() {
                won.entry(step)
                    .or_default()
                    .push(id.as_str().unwrap().to_owned());
            }
        }
        for (code, n) in v["told"].as_object().unwrap() {
            *told.entry(code.clone()).or_default() += n.as_u64().unwrap();
        }
        let node_id = format!("racer-{k}");
        let mine = v["won"]["approved"].as_array().unwrap().len()
            + v["won"]["provisioned"].as_array().unwrap().len();
        assert_eq!(
            int(
                &url,
                &format!(
                    "SELECT count(*) FROM govdata.procedure_steps WHERE node_id = '{node_id}'"
                )
            ),
            mine as i64,
            "{node_id}: the store holds the steps it won"
        );
    }
    eprintln!(
        "{} transitions by four processes in {:?}; told: {told:?}",
        2 * requests,
        t.elapsed()
    );
    let all: BTreeSet<&String> = ids.iter().collect();
    for step in ["approved", "provisioned"] {
        let list = &won[step];
        let set: BTreeSet<&String> = list.iter().collect();
        assert_eq!(list.len(), requests, "{step}: each request once");
        assert_eq!(set, all, "{step}: none lost, none twice");
    }
    // Every other attempt was told: the request had moved on.
    assert_eq!(
        told.keys().collect::<Vec<_>>(),
        ["workflow_invalid"],
        "{told:?}"
    );
    assert_eq!(
        told["workflow_invalid"],
        4 * 2 * requests as u64 - 2 * requests as u64
    );
    // In the store: three steps per request, numbered 1 to 3, and every request provisioned.
    assert_eq!(
        int(&url, "SELECT count(*) FROM govdata.procedure_steps"),
        3 * requests as i64
    );
    assert_eq!(
        int(
            &url,
            "SELECT count(*) FROM govdata.procedure_requests WHERE status = 'provisioned' AND steps = 3"
        ),
        requests as i64
    );
    assert_eq!(
        int(
            &url,
            "SELECT count(*) FROM (SELECT request_id FROM govdata.procedure_steps
               GROUP BY request_id HAVING array_agg(step ORDER BY step) = '{1,2,3}'
                 AND array_agg(kind ORDER BY step) = '{sharing.submitted,sharing.approved,sharing.provisioned}') t"
        ),
        requests as i64
    );
    let _ = std::fs::remove_dir_all(&root);
}
