//! The shared procedures on the platform store: what they cost a decision, and how fast
//! an approval and a revocation reach the other nodes.
//!
//! 1. Decide latency: two nodes alike (the same pack, inventory, audit log settings and
//!    `[store]`, so both ship their logs) but for their procedures — one shares them
//!    through the store (`[procedures] shared = true`), the other keeps them on its log
//!    (`shared = false`) — each deciding a query that cites a provisioned share of its
//!    own, in alternating rounds, each begun with both logs shipped (no shipping
//!    during a round). The ratio is platform / local (target ≤ 1.1×).
//! 2. Propagation: an actor node approves and provisions a share, then revokes it; three
//!    other nodes decide the query that cites it every half millisecond, and the time
//!    from the start of the actor's step until each node's decision changes is taken,
//!    p50 and p99 over every node and round (target p99 ≤ 1 s).
//!
//! `bash scripts/bench-procedures.sh [ROUNDS]` (it starts a throwaway server unless
//! `GOVDATA_TEST_PG` names one).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "benchmark setup: a failure ends the run with its message"
)]

use govdata::audit::Timestamp;
use govdata::model::ScenarioRisk;
use govdata::platform::{Platform, PlatformConfig};
use govdata::store::testing::ensure_login;
use govdata::store::StoreConnector;
use govdata::workflow::{ShareApplication, Step};
use govdata::Request;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const ROLE: (&str, &str) = ("gd_bench_node", "bench-pw");

fn var(name: &str) -> String {
    std::env::var(name)
        .expect("the test server's variables: run through scripts/bench-procedures.sh")
}

fn fresh_db() -> String {
    let name = format!("gd_bench_proc_{}", std::process::id());
    let mut admin = StoreConnector::new(&var("GOVDATA_TEST_PG"), None, None)
        .unwrap()
        .connect()
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    ensure_login(&mut admin, ROLE.0, ROLE.1, &[]).unwrap();
    let url = format!(
        "postgresql://postgres@/{name}?host={}&port={}",
        var("GOVDATA_TEST_PG_DIR"),
        var("GOVDATA_TEST_PG_PORT")
    );
    let mut c = StoreConnector::new(&url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    govdata::store::init_schema(&mut c).unwrap();
    ensure_login(
        &mut c,
        ROLE.0,
        ROLE.1,
        &["govdata_shipper", "govdata_procedures"],
    )
    .unwrap();
    name
}

fn private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn open(root: &Path, id: &str, db: &str, shared: bool) -> Platform {
    let dir: PathBuf = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    private(&dir.join("seal.key"), &[9; 32]);
    private(&dir.join("store.pass"), ROLE.1.as_bytes());
    let text = format!(
        "node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nsync = \"none\"\n\
         [procedures]\nshared = {shared}\n\
         [store]\nurl = \"postgresql://{}@localhost:{}/{db}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\n",
        ROLE.0,
        var("GOVDATA_TEST_PG_PORT"),
        var("GOVDATA_TEST_PG_CA")
    );
    Platform::from_config(PlatformConfig::from_toml_str(&text, &dir).unwrap()).unwrap()
}

fn done<T>(step: Step<T>) -> T {
    step.into_record().expect("the step is allowed")
}

fn share(node: &Platform) -> String {
    let app = ShareApplication {
        purpose: "social_security_check".into(),
        legal_basis: "《社会保险法》第五十八条".into(),
        fields: vec!["name".into()],
        until: Timestamp::parse("2099-12-31").unwrap(),
        scenario_risk: ScenarioRisk::Low,
        recipient_department: None,
    };
    done(
        node.workflows()
            .unwrap()
            .request_share("wang.wu", "hukou", app)
            .unwrap(),
    )
    .id
}

fn query(id: &str) -> Request {
    Request::from_json(
        &serde_json::json!({"principal": "wang.wu", "action": "query",
        "resource": "hukou", "context": {"approval": format!("apr-{id}")}}),
    )
    .unwrap()
}

fn provisioned(node: &Platform) -> String {
    let id = share(node);
    let flows = node.workflows().unwrap();
    done(flows.approve_share("gongan.officer", &id, None).unwrap());
    done(flows.provision_share("li.si", &id).unwrap());
    id
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn decide_latency(root: &Path, db: &str) {
    let local = open(root, "local", db, false);
    let platform = open(root, "platform", db, true);
    let (lq, pq) = (query(&provisioned(&local)), query(&provisioned(&platform)));
    assert!(local.engine().decide(&lq).unwrap().allowed());
    assert!(platform.engine().decide(&pq).unwrap().allowed());
    let per_round = 20_000;
    let time = |node: &Platform, q: &Request| {
        // Both nodes ship their logs: each round starts with nothing left to ship, so
        // that neither shipper runs during the other node's round.
        local.store_sync(Duration::from_secs(120)).unwrap();
        platform.store_sync(Duration::from_secs(120)).unwrap();
        let t = Instant::now();
        for _ in 0..per_round {
            assert!(node
                .engine()
                .decide(std::hint::black_box(q))
                .unwrap()
                .allowed());
        }
        t.elapsed().as_nanos() as f64 / per_round as f64
    };
    time(&local, &lq);
    time(&platform, &pq);
    let (mut l, mut p) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        l.push(time(&local, &lq));
        p.push(time(&platform, &pq));
    }
    l.sort_by(f64::total_cmp);
    p.sort_by(f64::total_cmp);
    let (lm, pm) = (percentile(&l, 0.5), percentile(&p, 0.5));
    println!(
        "decide (a query citing a provisioned share, recorded): local procedures {:.2} µs, shared procedures {:.2} µs — ratio {:.3}× (median of 7 rounds of {per_round}; target ≤ 1.1×)",
        lm / 1000.0,
        pm / 1000.0,
        pm / lm
    );
    local.close().unwrap();
    platform.close().unwrap();
}

fn propagation(root: &Path, db: &str, rounds: usize) {
    let actor = open(root, "actor", db, true);
    let observers: Vec<Arc<Platform>> = (0..3)
        .map(|i| Arc::new(open(root, &format!("observer-{i}"), db, true)))
        .collect();
    let (mut grant, mut revoke, mut step) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let id = share(&actor);
        let q = Arc::new(query(&id));
        for (want, out) in [(true, &mut grant), (false, &mut revoke)] {
            let start = Arc::new(Barrier::new(observers.len() + 1));
            let stop = Arc::new(AtomicBool::new(false));
            let watchers: Vec<_> = observers
                .iter()
                .map(|o| {
                    let (o, q, start, stop) = (o.clone(), q.clone(), start.clone(), stop.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let t0: Instant = Instant::now();
                        loop {
                            if o.engine().decide(&q).unwrap().allowed() == want {
                                return Some(t0.elapsed());
                            }
                            if stop.load(Ordering::Relaxed)
                                || t0.elapsed() > Duration::from_secs(10)
                            {
                                return None;
                            }
                            std::thread::sleep(Duration::from_micros(500));
                        }
                    })
                })
                .collect();
            start.wait();
            let t = Instant::now();
            let flows = actor.workflows().unwrap();
            if want {
                done(flows.approve_share("gongan.officer", &id, None).unwrap());
                done(flows.provision_share("li.si", &id).unwrap());
            } else {
                done(flows.revoke_share("gongan.officer", &id, "end").unwrap());
            }
            step.push(t.elapsed().as_secs_f64() * 1000.0);
            for w in watchers {
                let seen = w.join().unwrap().expect("the change never reached a node");
                out.push(seen.as_secs_f64() * 1000.0);
            }
            stop.store(true, Ordering::Relaxed);
        }
    }
    for v in [&mut grant, &mut revoke, &mut step] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "propagation to 3 nodes over {rounds} rounds (from the start of the actor's step): approval p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; revocation p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 ≤ 1000 ms); the actor's steps themselves p50 {:.1} ms",
        percentile(&grant, 0.5),
        percentile(&grant, 0.99),
        grant[grant.len() - 1],
        percentile(&revoke, 0.5),
        percentile(&revoke, 0.99),
        revoke[revoke.len() - 1],
        percentile(&step, 0.5),
    );
    actor.close().unwrap();
    for o in observers {
        o.close().unwrap();
    }
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let root = std::env::temp_dir().join(format!("govdata-bench-proc-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let db = fresh_db();
    decide_latency(&root, &db);
    propagation(&root, &db, rounds);
    std::fs::remove_dir_all(&root).ok();
}
