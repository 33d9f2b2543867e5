//! The platform store from the command line against the real server (scripts/test.sh
//! starts it): `store init` twice; K node processes — command-line nodes and a Python
//! node — shipping at once, every acknowledged record in the store exactly once and
//! `audit verify --store` clean; a shipping process SIGKILLed at random moments,
//! mid-batch, many times (`STORE_SOAK_KILLS`, 20 by default; scripts/store-soak.sh
//! runs 100), with no gap and no duplicate after restart; tampering found by
//! `verify --store` with exit status 1.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

use govdata::audit::{AuditLog, AuditOptions, Event, SealingKey};
use govdata::store::StoreConnector;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

const KEY: [u8; 32] = [3; 32];
const SHIPPER: (&str, &str) = ("gd_cli_shipper", "cli-shipper-pw");

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the store's tests need the PostgreSQL server that scripts/test.sh starts")
    })
}

struct Server {
    url: String,
    port: String,
    ca: String,
    dir: String,
}

fn server() -> Server {
    Server {
        url: var("GOVDATA_TEST_PG"),
        port: var("GOVDATA_TEST_PG_PORT"),
        ca: var("GOVDATA_TEST_PG_CA"),
        dir: var("GOVDATA_TEST_PG_DIR"),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "govdata-store-cli-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .output()
        .unwrap()
}

fn client(url: &str) -> postgres_client::Client {
    postgres_client::Client(
        StoreConnector::new(url, None, None)
            .unwrap()
            .connect()
            .unwrap(),
    )
}

/// The few queries the tests make, on the core's connection type.
mod postgres_client {
    pub struct Client(pub postgres::Client);
    impl Client {
        pub fn int(&mut self, sql: &str) -> i64 {
            self.0.query_one(sql, &[]).unwrap().get(0)
        }
        pub fn exec(&mut self, sql: &str) {
            self.0.batch_execute(sql).unwrap();
        }
    }
}

/// A fresh database made with `govdata store init` (twice: idempotent), and a shipping
/// login role; its name and superuser URL.
fn fresh_db(tag: &str) -> (String, String) {
    let s = server();
    let name = format!(
        "gd_cli_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    client(&s.url).exec(&format!("CREATE DATABASE {name}"));
    let url = format!(
        "postgresql://postgres@/{name}?host={}&port={}",
        s.dir, s.port
    );
    for _ in 0..2 {
        let out = govdata(&["store", "init", &url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    client(&s.url).exec(&format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{0}') THEN
             CREATE ROLE {0} LOGIN PASSWORD '{1}';
           END IF;
         END $$;
         GRANT govdata_shipper TO {0};",
        SHIPPER.0, SHIPPER.1
    ));
    (name, url)
}

fn private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A node directory with its govdata.toml shipping to `db` over TLS.
fn node(dir: &Path, id: &str, db: &str, batch: usize) -> PathBuf {
    let s = server();
    std::fs::create_dir_all(dir).unwrap();
    private(&dir.join("seal.key"), &KEY);
    private(&dir.join("store.pass"), SHIPPER.1.as_bytes());
    let config = dir.join("govdata.toml");
    std::fs::write(
        &config,
        format!(
            "node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nlock_wait_ms = 60000\n[store]\nurl = \"postgresql://{}@localhost:{}/{db}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\nbatch_size = {batch}\n",
            SHIPPER.0, s.port, s.ca
        ),
    )
    .unwrap();
    config
}

fn sync(config: &Path) {
    let out = govdata(&[
        "store",
        "sync",
        "--config",
        config.to_str().unwrap(),
        "--timeout",
        "60",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn verify_store(url: &str, key_file: &Path) -> Output {
    govdata(&[
        "audit",
        "verify",
        "--store",
        url,
        "--key-file",
        key_file.to_str().unwrap(),
    ])
}

const REQUEST: &str = r#"{"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}"#;

const PYTHON_NODE: &str = r#"
import json, sys, govdata
node = govdata.Platform(sys.argv[1])
seqs = []
for i in range(int(sys.argv[2])):
    d = node.engine.decide({"principal": "zhang.san", "action": "query", "resource": "hukou",
                            "context": {"scenario_risk": "low"}})
    assert d.allowed
    seqs.append(d.audit_seq)
node.store_sync(60)
status = node.status()["store"]
assert status["lag_records"] == 0 and status["last_error"] is None, status
node.close()
print(json.dumps(seqs))
"#;

#[test]
fn k_nodes_ship_at_once_and_the_store_holds_each_record_once() {
    let python = var("GOVDATA_TEST_PYTHON");
    let root = scratch("k");
    let (db, url) = fresh_db("k");
    let per_node = 12;
    let cli_nodes: Vec<(String, PathBuf)> = (0..3)
        .map(|i| {
            let id = format!("cli-{i}");
            let config = node(&root.join(&id), &id, &db, 5);
            std::fs::write(root.join(&id).join("request.json"), REQUEST).unwrap();
            (id, config)
        })
        .collect();
    let py_config = node(&root.join("py-0"), "py-0", &db, 5);
    let py = Command::new(&python)
        .arg("-c")
        .arg(PYTHON_NODE)
        .arg(&py_config)
        .arg("60")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Each command-line node decides in a loop of processes, all nodes at once.
    let workers: Vec<_> = cli_nodes
        .iter()
        .cloned()
        .map(|(id, config)| {
            let request = config.parent().unwrap().join("request.json");
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                for _ in 0..per_node {
                    let out = govdata(&[
                        "decide",
                        "--config",
                        config.to_str().unwrap(),
                        request.to_str().unwrap(),
                    ]);
                    assert!(
                        out.status.success(),
                        "{id}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    seqs.push(d["audit_seq"].as_u64().unwrap());
                }
                (id, seqs)
            })
        })
        .collect();
    let mut acknowledged: Vec<(String, Vec<u64>)> =
        workers.into_iter().map(|w| w.join().unwrap()).collect();
    let out = py.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py_seqs: Vec<u64> = serde_json::from_slice(&out.stdout).unwrap();
    acknowledged.push(("py-0".into(), py_seqs));
    for (_, config) in &cli_nodes {
        sync(config);
    }
    let mut c = client(&url);
    for (id, seqs) in &acknowledged {
        for seq in seqs {
            let n = c.int(&format!(
                "SELECT count(*) FROM govdata.audit_records WHERE node_id = '{id}' AND seq = {seq}"
            ));
            assert_eq!(n, 1, "{id} record {seq}");
        }
        let (rows, distinct) = (
            c.int(&format!(
                "SELECT count(*) FROM govdata.audit_records WHERE node_id = '{id}'"
            )),
            c.int(&format!(
                "SELECT count(DISTINCT seq) FROM govdata.audit_records WHERE node_id = '{id}'"
            )),
        );
        assert_eq!(
            (rows, distinct),
            (seqs.len() as i64, seqs.len() as i64),
            "{id}"
        );
    }
    let out = verify_store(&url, &root.join("cli-0").join("seal.key"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ok: 4 nodes"), "{text}");
    // A superuser's change is found, exit 1, naming the node and the record.
    c.exec(
        "SET session_replication_role = replica;
         UPDATE govdata.audit_records SET decision = 'deny' WHERE node_id = 'cli-1' AND seq = 4;
         RESET session_replication_role;",
    );
    let out = verify_store(&url, &root.join("cli-0").join("seal.key"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("cli-1: TAMPERED at record 4"), "{text}");
    let _ = std::fs::remove_dir_all(&root);
}

/// A small pseudo-random sequence (no dependency for it).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn append(dir: &Path, n: usize, from: usize) {
    let log = AuditLog::open(
        dir.join("audit"),
        SealingKey::from_bytes(KEY),
        AuditOptions::default()
            .lock_wait(Duration::from_secs(30))
            .segment_max_bytes(16 << 10),
    )
    .unwrap();
    let events: Vec<Event> = (from..from + n)
        .map(|i| {
            Event::new("soak.event")
                .user(format!("u{}", i % 13))
                .field("i", i as u64)
        })
        .collect();
    for chunk in events.chunks(100) {
        log.append_batch(chunk).unwrap();
    }
    log.close().unwrap();
}

#[test]
fn a_shipper_killed_mid_batch_again_and_again_leaves_no_gap_and_no_duplicate() {
    let kills: usize = std::env::var("STORE_SOAK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let root = scratch("kill");
    let (db, url) = fresh_db("kill");
    let dir = root.join("node");
    let config = node(&dir, "killed", &db, 7);
    let mut total = 0;
    append(&dir, 600, total);
    total += 600;
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut rng = Lcg(seed);
    let mut c = client(&url);
    let mut progressed = 0;
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_govdata"))
            .args([
                "store",
                "sync",
                "--config",
                config.to_str().unwrap(),
                "--timeout",
                "60",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let before = c.int("SELECT count(*) FROM govdata.audit_records");
        // Once it ships (the process has opened the node), at a random moment after.
        let t = Instant::now();
        while c.int("SELECT count(*) FROM govdata.audit_records") == before
            && t.elapsed() < Duration::from_secs(20)
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.next(60)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let after = c.int("SELECT count(*) FROM govdata.audit_records");
        if after > before {
            progressed += 1;
        }
        // What the store holds is always a prefix of the log, without a gap.
        let (rows, max) = (
            c.int("SELECT count(*) FROM govdata.audit_records"),
            c.int("SELECT coalesce(max(seq), 0) FROM govdata.audit_records"),
        );
        assert_eq!(rows, max, "round {round}: a gap or a duplicate");
        if round % 5 == 4 {
            append(&dir, 150, total);
            total += 150;
        }
    }
    assert!(progressed > 0, "no killed shipper ever shipped anything");
    let t = Instant::now();
    sync(&config);
    eprintln!("final sync in {:?}", t.elapsed());
    let rows = c.int("SELECT count(*) FROM govdata.audit_records");
    let distinct = c.int("SELECT count(DISTINCT seq) FROM govdata.audit_records");
    let max = c.int("SELECT max(seq) FROM govdata.audit_records");
    assert_eq!(
        (rows, distinct, max),
        (total as i64, total as i64, total as i64)
    );
    let seals = c.int("SELECT count(*) FROM govdata.audit_seals");
    let out = verify_store(&url, &dir.join("seal.key"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(seals > 0);
    let _ = std::fs::remove_dir_all(&root);
}
