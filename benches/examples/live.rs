//! The live inventory and the published bundles against a real PostgreSQL server:
//!
//! 1. decide latency of a node whose inventory comes from the store against the same
//!    node with the inventory file, the same pack and requests, rounds alternated
//!    (the store is never on the decision path: the ratio should be 1.0, target ≤ 1.1);
//! 2. propagation to three node processes (this program started again as `node`), each
//!    following the store over TLS: the time from a push's or a publication's commit to
//!    the moment each node's engine runs the change, p50 and p99 (target p99 ≤ 1 s).
//!
//! `bash scripts/bench-live.sh [ROUNDS]` starts a throwaway server and runs it;
//! by hand, with the exports of `scripts/pg-test-server.sh start`:
//! `cargo run --release -p govdata-benches --features store --example live -- 50`.

#![expect(
    clippy::expect_used,
    reason = "benchmark setup: a failure ends the run with its message"
)]

use govdata::audit::Timestamp;
use govdata::bundle::Bundle;
use govdata::platform::Platform;
use govdata::sign::{Algorithm, SigningKey, VerifyingKey};
use govdata::store::testing::ensure_login;
use govdata::store::{
    init_schema, publish_bundle, push_inventory, InventoryChange, StoreConnector,
};
use govdata_benches::{example_inventory, root, sample_requests};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NODE: (&str, &str) = ("gd_bench_node", "bench-node-pw");
const ADMIN: (&str, &str) = ("gd_bench_admin", "bench-admin-pw");
const PUBLISHER: (&str, &str) = ("gd_bench_publisher", "bench-publisher-pw");

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{name} is not set: run scripts/bench-live.sh, or export what `scripts/pg-test-server.sh start` prints");
        std::process::exit(2)
    })
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).expect("write a private file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

/// The TLS connector of `db` for a login role.
fn as_role(db: &str, role: (&str, &str)) -> StoreConnector {
    StoreConnector::new(
        &format!(
            "postgresql://{}@localhost:{}/{db}",
            role.0,
            var("GOVDATA_TEST_PG_PORT")
        ),
        Some(Path::new(&var("GOVDATA_TEST_PG_CA"))),
        Some(zeroize::Zeroizing::new(role.1.to_owned())),
    )
    .expect("connector")
}

/// A node's govdata.toml: the inventory from the store (or the example file), the
/// bundles from the store when `trust` is given, no audit log (the engine alone).
fn config(dir: &Path, id: &str, db: &str, store_inventory: bool, trust: Option<&Path>) -> PathBuf {
    let home = dir.join(id);
    std::fs::create_dir_all(&home).expect("node dir");
    private(&home.join("store.pass"), NODE.1.as_bytes());
    let mut text = format!("node_id = \"{id}\"\n");
    if store_inventory {
        text.push_str("[inventory]\nsource = \"store\"\n");
    } else {
        text.push_str(&format!(
            "[inventory]\nfile = {:?}\n",
            root()
                .join("policies/examples/inventory.json")
                .display()
                .to_string()
        ));
    }
    if let Some(key) = trust {
        text.push_str(&format!(
            "[policies]\nsource = \"store\"\ntrust_keys = [{:?}]\nstate_file = \"bundle-state.json\"\n",
            key.display().to_string()
        ));
    }
    if !store_inventory && trust.is_none() {
        // A node that takes nothing from the store names none.
        let path = home.join("govdata.toml");
        std::fs::write(&path, text).expect("govdata.toml");
        return path;
    }
    text.push_str(&format!(
        "[store]\nurl = \"postgresql://{}@localhost:{}/{db}\"\nca_file = {:?}\npassword_file = \"store.pass\"\n",
        NODE.0,
        var("GOVDATA_TEST_PG_PORT"),
        var("GOVDATA_TEST_PG_CA")
    ));
    let path = home.join("govdata.toml");
    std::fs::write(&path, text).expect("govdata.toml");
    path
}

/// Child mode: open the node, say `ready`, then print a line each time its engine runs
/// another inventory or pack; exit when standard input closes.
fn node(config: &str) {
    let node = Platform::open(config).expect("open the node");
    let engine = node.engine().clone();
    let (mut generation, mut pack) = (engine.inventory().generation(), engine.policy_version());
    println!("ready");
    let (closed, quit) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = std::io::stdin().read_line(&mut sink);
        let _ = closed.send(());
    });
    let mut out = std::io::stdout().lock();
    while quit.try_recv().is_err() {
        let g = engine.inventory().generation();
        if g != generation {
            generation = g;
            let _ = writeln!(out, "inventory {:.3}", now_ms());
            let _ = out.flush();
        }
        let p = engine.policy_version();
        if p != pack {
            pack = p;
            let _ = writeln!(out, "bundle {:.3}", now_ms());
            let _ = out.flush();
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let _ = node.close();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

/// Nanoseconds per decision of `node` over `n` of the sample requests.
fn decide_ns(node: &Platform, n: usize) -> f64 {
    let sample = sample_requests();
    let engine = node.engine();
    let t = Instant::now();
    for i in 0..n {
        let _ = std::hint::black_box(engine.decide(&sample[i % sample.len()]));
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn pack_dir(dir: &Path, name: &str, leave_out: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).expect("pack dir");
    for entry in std::fs::read_dir(root().join("policies")).expect("policies") {
        let p = entry.expect("entry").path();
        let file = p
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_file() && (leave_out.is_empty() || !file.starts_with(leave_out)) {
            std::fs::copy(&p, d.join(&file)).expect("copy");
        }
    }
    d
}

fn signed(dir: &Path, version: u64, key: &SigningKey) -> Bundle {
    let now = Timestamp::now().unix_millis();
    let mut b = Bundle::build(
        &[dir],
        version,
        Timestamp::from_unix_millis(now - 60_000),
        Timestamp::from_unix_millis(now + 86_400_000),
    )
    .expect("build");
    b.sign(key).expect("sign");
    b
}

fn report(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    println!(
        "| {name} to 3 nodes | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(0.0)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("node") {
        node(args.get(2).expect("node CONFIG"));
        return;
    }
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let superuser =
        StoreConnector::new(&var("GOVDATA_TEST_PG"), None, None).expect("superuser URL");
    let db = format!("gd_bench_live_{}", std::process::id());
    let mut su = superuser.connect().expect("connect");
    su.batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create database");
    let url = format!(
        "postgresql://postgres@/{db}?host={}&port={}",
        var("GOVDATA_TEST_PG_DIR"),
        var("GOVDATA_TEST_PG_PORT")
    );
    init_schema(
        &mut StoreConnector::new(&url, None, None)
            .expect("db")
            .connect()
            .expect("db"),
    )
    .expect("store init");
    for (role, group) in [
        (NODE, "govdata_node"),
        (ADMIN, "govdata_inventory_admin"),
        (PUBLISHER, "govdata_publisher"),
    ] {
        ensure_login(&mut su, role.0, role.1, &[group]).expect("roles");
    }
    let dir = std::env::temp_dir().join(format!("govdata-bench-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let mut admin = as_role(&db, ADMIN).connect().expect("admin");
    let mut publisher = as_role(&db, PUBLISHER).connect().expect("publisher");
    push_inventory(&mut admin, InventoryChange::Replace(&example_inventory())).expect("push");
    let key = SigningKey::generate(Algorithm::Ed25519).expect("key");
    let public = key.write_files(dir.join("mgmt.key")).expect("key files");
    let trusted = [VerifyingKey::from_file(&public).expect("public key")];
    let packs = [
        pack_dir(&dir, "pack-a", ""),
        pack_dir(&dir, "pack-b", "art12"),
    ];
    publish_bundle(
        &mut publisher,
        &signed(&packs[0], 1, &key),
        &trusted,
        Timestamp::now(),
    )
    .expect("publish");

    // 1. Decide latency: the inventory from the store against the file.
    let from_file = Platform::open(config(&dir, "file", &db, false, None)).expect("file node");
    let from_store = Platform::open(config(&dir, "store", &db, true, None)).expect("store node");
    let n = 200_000;
    decide_ns(&from_file, n / 4);
    decide_ns(&from_store, n / 4);
    let (mut file_ns, mut store_ns) = (Vec::new(), Vec::new());
    for _ in 0..6 {
        file_ns.push(decide_ns(&from_file, n));
        store_ns.push(decide_ns(&from_store, n));
    }
    let (f, s) = (median(file_ns), median(store_ns));
    from_file.close().expect("close");
    from_store.close().expect("close");

    // 2. Propagation to three node processes.
    let exe = std::env::current_exe().expect("this program");
    let mut children = Vec::new();
    let (lines, events) = mpsc::channel::<(usize, String)>();
    for i in 0..3 {
        let cfg = config(&dir, &format!("n{i}"), &db, true, Some(&public));
        let mut child = Command::new(&exe)
            .arg("node")
            .arg(&cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn a node");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let tx = lines.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send((i, line));
            }
        });
        children.push(child);
    }
    let wait = |kind: &str| -> Vec<f64> {
        let mut at = Vec::new();
        while at.len() < 3 {
            let (_, line) = events
                .recv_timeout(Duration::from_secs(30))
                .expect("a node did not follow within 30 s");
            if let Some(t) = line.strip_prefix(kind).map(str::trim) {
                at.push(t.parse::<f64>().unwrap_or(0.0));
            }
        }
        at
    };
    wait("ready");
    let (mut inventory, mut bundles) = (Vec::new(), Vec::new());
    let mut doc = example_inventory().to_json();
    for round in 0..rounds {
        // A user's roles change.
        doc["users"][0]["roles"] = serde_json::json!([format!("role-{round}")]);
        let next = govdata::Inventory::from_json(&doc).expect("inventory");
        push_inventory(&mut admin, InventoryChange::Replace(&next)).expect("push");
        let committed = now_ms();
        inventory.extend(wait("inventory").into_iter().map(|t| t - committed));
        // A new bundle, alternating two packs.
        let b = signed(&packs[(round + 1) % 2], round as u64 + 2, &key);
        publish_bundle(&mut publisher, &b, &trusted, Timestamp::now()).expect("publish");
        let committed = now_ms();
        bundles.extend(wait("bundle").into_iter().map(|t| t - committed));
    }
    for mut c in children {
        drop(c.stdin.take());
        let _ = c.wait();
    }

    println!("\n| measure | store-fed | local file | ratio | target |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| `decide`, {} mixed requests, median of 6 × {n} | {:.2} µs | {:.2} µs | **{:.3}×** | ≤ 1.1× |",
        sample_requests().len(),
        s / 1000.0,
        f / 1000.0,
        s / f
    );
    println!("\n| propagation (commit → engine) | changes | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    report("an inventory push", inventory);
    report("a bundle (default pack)", bundles);

    drop((admin, publisher));
    let _ = su.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"));
    let _ = std::fs::remove_dir_all(&dir);
}
