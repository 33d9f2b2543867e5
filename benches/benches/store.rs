//! The platform store's benchmark, against a real PostgreSQL server (the one
//! `GOVDATA_TEST_PG` … names; `scripts/bench-store.sh` starts a throwaway one):
//!
//! 1. records shipped per second by 1 and 4 nodes' shippers, against `COPY` of the
//!    same rows into the same table in the same run, in transactions of the shipper's
//!    batch size (the ceiling), and against `COPY` with the chain-check trigger off
//!    (what that check costs);
//! 2. the lag from append to committed row, p50 and p99, with 4 nodes appending
//!    2,500 records/s each (10,000 records/s in all);
//! 3. decide latency of a node whose shipper runs against the same node without one;
//! 4. the curve: 1, 2, 4, 8 and 16 shipping nodes (more than the cores), with the
//!    server's CPU time and WAL bytes per record, to see what saturates first.
//!
//! Every node ships over TLS as the shipping role, as in service. Each measure runs in
//! a fresh database. Settings: `STORE_BENCH_RECORDS` (records per node, 20,000),
//! `STORE_BENCH_ROUNDS` (3), `STORE_BENCH_LAG_SECS` (10), `STORE_BENCH_RATE` (10,000),
//! `STORE_BENCH_CURVE` (`1,2,4,8,16`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark: a setup failure ends the run with its message"
)]

use govdata::audit::{AuditLog, AuditOptions, SealingKey, SyncMode};
use govdata::platform::{record_decisions, Platform, PlatformConfig, SecretSource, StoreSection};
use govdata::store::testing::ensure_login;
use govdata::store::{init_schema, Shipper, StoreConnector};
use govdata_benches::{default_engine, sample_requests};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: [u8; 32] = [7; 32];
const ROLE: (&str, &str) = ("gd_bench_shipper", "bench-shipper-pw");
const COLUMNS: &str = "node_id, seq, month, time, kind, user_id, department, action, resource_type, resource_id, decision, policies, policy_version, outcome, fields, payload, prev_head, head, tag";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{name} is not set: run `bash scripts/bench-store.sh`, which starts a PostgreSQL server, or export the variables scripts/pg-test-server.sh prints");
        std::process::exit(2)
    })
}

struct Server {
    url: String,
    port: String,
    ca: PathBuf,
    dir: String,
    scratch: PathBuf,
    password: PathBuf,
}

impl Server {
    fn superuser(&self, db: &str) -> postgres::Client {
        let url = if db == "postgres" {
            self.url.clone()
        } else {
            format!(
                "postgresql://postgres@/{db}?host={}&port={}",
                self.dir, self.port
            )
        };
        StoreConnector::new(&url, None, None)
            .unwrap()
            .connect()
            .unwrap()
    }

    fn tls_url(&self, db: &str) -> String {
        format!("postgresql://{}@localhost:{}/{db}", ROLE.0, self.port)
    }

    /// The shipping role's connection over TLS, as a node has it.
    fn shipper(&self, db: &str) -> postgres::Client {
        StoreConnector::new(
            &self.tls_url(db),
            Some(&self.ca),
            Some(zeroize::Zeroizing::new(ROLE.1.to_owned())),
        )
        .unwrap()
        .connect()
        .unwrap()
    }

    fn section(&self, db: &str) -> StoreSection {
        StoreSection {
            url: self.tls_url(db),
            ca_file: Some(self.ca.clone()),
            password: Some(SecretSource::File(self.password.clone())),
            batch_size: 500,
            lag_max_records: None,
            lag_max_seconds: None,
            fail_closed: false,
        }
    }

    /// A fresh database with the store's schema.
    fn fresh(&self, tag: &str) -> String {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!(
            "gd_bench_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.superuser("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        init_schema(&mut self.superuser(&name)).unwrap();
        name
    }

    fn drop_db(&self, db: &str) {
        let _ = self
            .superuser("postgres")
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    }

    /// The cluster's WAL position, in bytes.
    fn wal(&self) -> i64 {
        self.superuser("postgres")
            .query_one("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", &[])
            .unwrap()
            .get(0)
    }

    /// CPU seconds used so far by the server's processes.
    fn cpu(&self) -> f64 {
        let pid = std::fs::read_to_string(Path::new(&self.dir).join("data/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
            .unwrap_or_default();
        let mut ticks = 0u64;
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 0.0;
        };
        for e in dir.flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let f: Vec<&str> = rest.split(' ').collect();
            // state ppid … utime (14th field overall) stime (15th).
            let own = e.file_name().to_string_lossy() == pid;
            if own || f.get(1) == Some(&pid.as_str()) {
                ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                ticks += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
        ticks as f64 / 100.0
    }
}

/// CPU seconds used so far by this process.
fn own_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split(' ').collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (t(11) + t(12)) as f64 / 100.0
}

/// A node's log of `n` decision records, written ahead (unsynced, then closed).
fn prepare_log(dir: &Path, n: usize) {
    let log = Arc::new(
        AuditLog::open(
            dir,
            SealingKey::from_bytes(KEY),
            AuditOptions::default().sync(SyncMode::None),
        )
        .unwrap(),
    );
    if log.last_seq() as usize >= n {
        return;
    }
    let engine = default_engine();
    record_decisions(&engine, Some(&log));
    let requests = sample_requests();
    for r in requests.iter().cycle().take(n - log.last_seq() as usize) {
        engine.decide(r).unwrap();
    }
    record_decisions(&engine, None);
    log.close().unwrap();
}

fn open_log(dir: &Path) -> Arc<AuditLog> {
    Arc::new(AuditLog::open(dir, SealingKey::from_bytes(KEY), AuditOptions::default()).unwrap())
}

/// Ships `logs` at once into a fresh database: records per second, the database,
/// and the server's CPU seconds and WAL bytes it took.
fn ship(s: &Server, logs: &[Arc<AuditLog>], tag: &str) -> (f64, String, f64, i64) {
    let db = s.fresh(tag);
    let total: u64 = logs.iter().map(|l| l.last_seq()).sum();
    let (cpu, wal) = (s.cpu(), s.wal());
    let t = Instant::now();
    let shippers: Vec<Shipper> = logs
        .iter()
        .enumerate()
        .map(|(i, l)| Shipper::start(&format!("node-{i}"), l.clone(), &s.section(&db)).unwrap())
        .collect();
    for sh in &shippers {
        sh.sync(Duration::from_secs(3600)).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let used = (s.cpu() - cpu, s.wal() - wal);
    for sh in &shippers {
        sh.stop();
    }
    (total as f64 / secs, db, used.0, used.1)
}

/// `COPY` of the rows of `from` (every node's, each node on its own connection) into
/// a fresh database, with the chain trigger on or off, in transactions of 500 rows as
/// the shipper's batches (in one transaction, every row's update of its node's head
/// leaves a row version the next must step over: a 20,000-row COPY then runs at a
/// tenth of this rate and past the statement timeout): records per second.
fn copy(s: &Server, from: &str, nodes: usize, trigger: bool, tag: &str) -> f64 {
    let db = s.fresh(tag);
    let mut src = s.superuser(from);
    let mut dst = s.superuser(&db);
    // The nodes registered at their base, the months made: not timed.
    for r in src
        .query(
            "SELECT node_id, log_id, suite, key_check, binding, first_seq, base_head FROM govdata.audit_nodes",
            &[],
        )
        .unwrap()
    {
        let (first, base): (i64, Vec<u8>) = (r.get(5), r.get(6));
        dst.execute(
            "INSERT INTO govdata.audit_nodes (node_id, log_id, suite, key_check, binding, first_seq, base_head, head_seq, head)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)",
            &[
                &r.get::<_, String>(0),
                &r.get::<_, Vec<u8>>(1),
                &r.get::<_, String>(2),
                &r.get::<_, String>(3),
                &r.get::<_, Vec<u8>>(4),
                &first,
                &base,
                &(first - 1),
            ],
        )
        .unwrap();
    }
    for r in src
        .query(
            "SELECT DISTINCT month::text FROM govdata.audit_records",
            &[],
        )
        .unwrap()
    {
        dst.execute(
            "SELECT govdata.ensure_month(CAST($1::text AS date))",
            &[&r.get::<_, String>(0)],
        )
        .unwrap();
    }
    if !trigger {
        dst.batch_execute("ALTER TABLE govdata.audit_records DISABLE TRIGGER audit_continue")
            .unwrap();
    }
    let data: Vec<Vec<u8>> = (0..nodes)
        .map(|i| {
            let mut out = Vec::new();
            src.copy_out(&format!(
                "COPY (SELECT {COLUMNS} FROM govdata.audit_records WHERE node_id = 'node-{i}' ORDER BY seq) TO STDOUT"
            ))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
            out
        })
        .collect();
    let total: usize = data
        .iter()
        .map(|d| d.iter().filter(|b| **b == b'\n').count())
        .sum();
    let mut conns: Vec<postgres::Client> = (0..nodes).map(|_| s.shipper(&db)).collect();
    let t = Instant::now();
    std::thread::scope(|scope| {
        for (c, d) in conns.iter_mut().zip(&data) {
            scope.spawn(move || {
                // Transactions of a shipper's batch: one COPY per 500 rows.
                let lines: Vec<&[u8]> = d.split_inclusive(|b| *b == b'\n').collect();
                for chunk in lines.chunks(500) {
                    let mut w = c
                        .copy_in(&format!(
                            "COPY govdata.audit_records ({COLUMNS}) FROM STDIN"
                        ))
                        .unwrap();
                    for line in chunk {
                        w.write_all(line).unwrap();
                    }
                    w.finish().unwrap();
                }
            });
        }
    });
    let rate = total as f64 / t.elapsed().as_secs_f64();
    drop(conns);
    s.drop_db(&db);
    rate
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn throughput(s: &Server, logs: &[Arc<AuditLog>], rounds: usize) {
    println!("\n## Records shipped per second against COPY of the same rows (median of {rounds} rounds)\n");
    println!("| nodes | shipper (records/s) | COPY, same table, 500 rows a transaction (records/s) | shipper / COPY | COPY, chain trigger off (records/s) | shipper / COPY without the trigger | target |");
    println!("|---:|---:|---:|---:|---:|---:|---|");
    for nodes in [1usize, 4] {
        let (mut ship_r, mut copy_r, mut raw_r) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (rate, db, _, _) = ship(s, &logs[..nodes], "ship");
            copy_r.push(copy(s, &db, nodes, true, "copy"));
            raw_r.push(copy(s, &db, nodes, false, "raw"));
            ship_r.push(rate);
            s.drop_db(&db);
            eprintln!(
                "round {round}, {nodes} nodes: ship {rate:.0}/s, copy {:.0}/s, copy without trigger {:.0}/s",
                copy_r[round], raw_r[round]
            );
        }
        let (sh, co, raw) = (median(ship_r), median(copy_r), median(raw_r));
        let target = if nodes == 4 { "≥ 0.5×" } else { "—" };
        println!(
            "| {nodes} | {sh:.0} | {co:.0} | {:.2}× | {raw:.0} | {:.2}× | {target} |",
            sh / co,
            sh / raw
        );
    }
}

/// Lag from append to committed row with 4 nodes appending `rate / 4` records a
/// second each.
fn lag(s: &Server, root: &Path, rate: u64, secs: u64) {
    let db = s.fresh("lag");
    let nodes = 4usize;
    let per_ms = (rate as f64 / nodes as f64) / 1000.0;
    let stop = Arc::new(AtomicBool::new(false));
    let mut lags: Vec<f64> = Vec::new();
    let mut appended = 0u64;
    let t0 = Instant::now();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 0..nodes {
            let dir = root.join(format!("lag-{i}"));
            let _ = std::fs::remove_dir_all(&dir);
            let log = Arc::new(
                AuditLog::open(&dir, SealingKey::from_bytes(KEY), AuditOptions::default()).unwrap(),
            );
            let shipper = Arc::new(
                Shipper::start(&format!("node-{i}"), log.clone(), &s.section(&db)).unwrap(),
            );
            shipper.sync(Duration::from_secs(60)).unwrap();
            // The poller: when each sequence number became committed.
            let seen = {
                let shipper = shipper.clone();
                let stop = stop.clone();
                scope.spawn(move || {
                    let mut seen: Vec<(u64, Instant)> = Vec::new();
                    let mut last = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let now = shipper.status().shipped_seq;
                        if now > last {
                            seen.push((now, Instant::now()));
                            last = now;
                        }
                        std::thread::sleep(Duration::from_micros(250));
                    }
                    seen
                })
            };
            // The appender: every millisecond, the records due by then, in one batch.
            let app = {
                let log = log.clone();
                scope.spawn(move || {
                    let engine = default_engine();
                    let requests = sample_requests();
                    let mut sent: Vec<(u64, Instant)> = Vec::new();
                    let start = Instant::now();
                    let mut done = 0u64;
                    let mut k = 0usize;
                    while start.elapsed() < Duration::from_secs(secs) {
                        let due = (start.elapsed().as_secs_f64() * 1000.0 * per_ms) as u64;
                        if due > done {
                            let events: Vec<govdata::audit::Event> = (done..due)
                                .map(|_| {
                                    k += 1;
                                    let d = engine.decide(&requests[k % requests.len()]).unwrap();
                                    govdata::audit::Event::new("bench.decision")
                                        .user("zhang.san")
                                        .field("decision", d.to_json_string())
                                })
                                .collect();
                            let at = Instant::now();
                            let seqs = log.append_batch(&events).unwrap();
                            for seq in seqs {
                                sent.push((seq, at));
                            }
                            done = due;
                        } else {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                    sent
                })
            };
            handles.push((app, seen, shipper, log));
        }
        let mut sent_all = Vec::new();
        let mut shippers = Vec::new();
        for (app, seen, shipper, log) in handles {
            let sent = app.join().unwrap();
            shipper.sync(Duration::from_secs(120)).unwrap();
            sent_all.push((sent, seen, shipper, log));
        }
        stop.store(true, Ordering::Relaxed);
        for (sent, seen, shipper, log) in sent_all {
            let seen = seen.join().unwrap();
            appended += sent.len() as u64;
            let mut j = 0;
            for (seq, at) in sent {
                while j < seen.len() && seen[j].0 < seq {
                    j += 1;
                }
                if let Some((_, when)) = seen.get(j) {
                    lags.push(when.duration_since(at).as_secs_f64() * 1000.0);
                }
            }
            shippers.push((shipper, log));
        }
        for (sh, _) in &shippers {
            sh.stop();
        }
    });
    let achieved = appended as f64 / t0.elapsed().as_secs_f64().max(secs as f64);
    lags.sort_by(f64::total_cmp);
    if lags.is_empty() {
        println!("\nno record of the lag run was seen committed");
        return;
    }
    println!(
        "\n## Lag from append to committed row ({nodes} nodes, {rate} records/s asked, {secs} s)\n"
    );
    println!("| records/s appended | records measured | p50 | p99 | max | target |");
    println!("|---:|---:|---:|---:|---:|---|");
    println!(
        "| {achieved:.0} | {} | {:.1} ms | {:.1} ms | {:.1} ms | p99 ≤ 1 s |",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags.last().copied().unwrap_or(0.0)
    );
    s.drop_db(&db);
}

/// A node of its own, with or without `[store]`.
fn node(s: &Server, dir: &Path, db: Option<&str>, sync: &str) -> Platform {
    std::fs::create_dir_all(dir).unwrap();
    let key = dir.join("seal.key");
    std::fs::write(&key, KEY).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut text = format!(
        "node_id = \"bench\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nsync = \"{sync}\"\n"
    );
    if let Some(db) = db {
        text.push_str(&format!(
            "[store]\nurl = \"{}\"\nca_file = \"{}\"\npassword_file = \"{}\"\n",
            s.tls_url(db),
            s.ca.display(),
            s.password.display()
        ));
    }
    Platform::from_config(PlatformConfig::from_toml_str(&text, dir).unwrap()).unwrap()
}

fn decide_latency(s: &Server, root: &Path, blocks: usize, sync: &str) {
    let db = s.fresh("decide");
    let _ = std::fs::remove_dir_all(root.join("decide-a"));
    let _ = std::fs::remove_dir_all(root.join("decide-b"));
    let without = node(s, &root.join("decide-a"), None, sync);
    let with = node(s, &root.join("decide-b"), Some(&db), sync);
    let requests = sample_requests();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let per = 500;
    for block in 0..blocks {
        // Turn about, so that both meet the machine in the same state.
        let order: [(&Platform, &mut Vec<f64>); 2] = if block % 2 == 0 {
            [(&without, &mut a), (&with, &mut b)]
        } else {
            [(&with, &mut b), (&without, &mut a)]
        };
        for (n, out) in order {
            let e = n.engine();
            for r in requests.iter().cycle().take(per) {
                let t = Instant::now();
                e.decide(r).unwrap();
                out.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    with.store_sync(Duration::from_secs(120)).unwrap();
    let shipped = with.store_status().map_or(0, |st| st.shipped_seq);
    without.close().unwrap();
    with.close().unwrap();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("\n## Decide latency with the shipper running against without ({} decisions each, recorded with sync = {sync})\n", a.len());
    println!("| node | p50 | p99 | mean |");
    println!("|---|---:|---:|---:|");
    println!(
        "| without a store | {:.0} µs | {:.0} µs | {:.0} µs |",
        percentile(&a, 0.5),
        percentile(&a, 0.99),
        mean(&a)
    );
    println!(
        "| shipping ({shipped} records shipped) | {:.0} µs | {:.0} µs | {:.0} µs |",
        percentile(&b, 0.5),
        percentile(&b, 0.99),
        mean(&b)
    );
    println!(
        "| ratio (target ≤ 1.05×) | {:.3}× | {:.3}× | {:.3}× |",
        percentile(&b, 0.5) / percentile(&a, 0.5),
        percentile(&b, 0.99) / percentile(&a, 0.99),
        mean(&b) / mean(&a)
    );
    s.drop_db(&db);
}

fn curve(s: &Server, logs: &[Arc<AuditLog>], counts: &[usize]) {
    println!("\n## Shipping nodes against one server (more nodes than cores)\n");
    println!("| nodes | records/s | COPY, same table (records/s) | shipper / COPY | server CPU per 1,000 records | bench process CPU per 1,000 records | WAL per record |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &n in counts {
        let n = n.min(logs.len());
        let records: u64 = logs[..n].iter().map(|l| l.last_seq()).sum();
        let own = own_cpu();
        let (rate, db, cpu, wal) = ship(s, &logs[..n], "curve");
        let own = own_cpu() - own;
        let c = copy(s, &db, n, true, "curvecopy");
        s.drop_db(&db);
        println!(
            "| {n} | {rate:.0} | {c:.0} | {:.2}× | {:.0} ms | {:.0} ms | {:.0} B |",
            rate / c,
            cpu * 1e6 / records as f64,
            own * 1e6 / records as f64,
            wal as f64 / records as f64
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let s = {
        let scratch =
            std::env::temp_dir().join(format!("govdata-bench-store-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let password = scratch.join("store.pass");
        std::fs::write(&password, ROLE.1).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
        Server {
            url: var("GOVDATA_TEST_PG"),
            port: var("GOVDATA_TEST_PG_PORT"),
            ca: PathBuf::from(var("GOVDATA_TEST_PG_CA")),
            dir: var("GOVDATA_TEST_PG_DIR"),
            scratch,
            password,
        }
    };
    ensure_login(&mut s.superuser("postgres"), ROLE.0, ROLE.1, &[]).unwrap();
    // The store's roles exist once a database was initialised.
    let first = s.fresh("roles");
    ensure_login(
        &mut s.superuser("postgres"),
        ROLE.0,
        ROLE.1,
        &["govdata_shipper"],
    )
    .unwrap();
    s.drop_db(&first);

    let records = env_or("STORE_BENCH_RECORDS", 20_000) as usize;
    let rounds = env_or("STORE_BENCH_ROUNDS", 3) as usize;
    let counts: Vec<usize> = std::env::var("STORE_BENCH_CURVE")
        .unwrap_or_else(|_| "1,2,4,8,16".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let max_nodes = counts.iter().copied().max().unwrap_or(4).max(4);
    let t = Instant::now();
    let logs_dir = s.scratch.join("logs");
    let logs: Vec<Arc<AuditLog>> = (0..max_nodes)
        .map(|i| {
            let dir = logs_dir.join(format!("node-{i}"));
            prepare_log(&dir, records);
            open_log(&dir)
        })
        .collect();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let version: String = s
        .superuser("postgres")
        .query_one("SHOW server_version", &[])
        .unwrap()
        .get(0);
    println!("# The platform store's benchmark\n");
    println!(
        "{records} decision records per node (prepared in {:.0} s); PostgreSQL {version} on this machine over TLS on loopback; {cpus} cores; load average at start {}; batches of 500.",
        t.elapsed().as_secs_f64(),
        load.split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    throughput(&s, &logs, rounds);
    lag(
        &s,
        &s.scratch,
        env_or("STORE_BENCH_RATE", 10_000),
        env_or("STORE_BENCH_LAG_SECS", 10),
    );
    decide_latency(&s, &s.scratch, 20, "always");
    decide_latency(&s, &s.scratch, 20, "none");
    curve(&s, &logs, &counts);
    drop(logs);
    let _ = std::fs::remove_dir_all(&s.scratch);
}
