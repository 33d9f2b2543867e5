//! The audit log: appends per second in each sync mode (records of about 200 bytes),
//! `verify` records per second, and — in the same run — the disk's own fdatasync rate
//! and SQLite in WAL mode (`synchronous=FULL`) inserting the same records, with the
//! ratios the targets are stated in.
//!
//! The disk's fdatasync rate is measured two ways: after appending a record to a file
//! (the file grows, so the filesystem commits its journal too) and after overwriting
//! a record's worth of a file already written and synced (data only). The log writes
//! its records in place over zero padding, so the in-place rate is the fair reference
//! for `always`; the appending one is what the log paid before it padded.
//!
//! The disk-bound measures run in rounds (`AUDIT_BENCH_ROUNDS`, 3 by default), in
//! alternating order, each log new in each round; the table gives the median of the
//! rounds and the range of each ratio.
//!
//! `cargo bench -p govdata-benches --bench audit`

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot run its subject should stop at once"
)]

use criterion::{Criterion, Throughput};
use govdata::audit::{AuditLog, AuditOptions, Event, SealingKey, SyncMode, Verdict};
use govdata::{Action, Resource};
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 100;

fn event(i: u64) -> Event {
    let mut e = Event::new("decision")
        .user("zhang.san")
        .department("gongan")
        .action(Action::Query)
        .resource(Resource::dataset("hukou"));
    e.decision = Some(if i.is_multiple_of(7) {
        Verdict::Deny
    } else {
        Verdict::Allow
    });
    e.policies = vec!["art13-purpose-limited".into()];
    e.policy_version = Some("sha256:dd2985bd154e4d0de641ccc0f0a4612b".into());
    e
}

struct Scratch(PathBuf);
impl Scratch {
    fn new(tag: &str) -> Self {
        // Beside the build, on the same disk as the project (not a tmpfs).
        let base = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"));
        let p = base.join(format!("bench-audit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &Path, mode: SyncMode) -> AuditLog {
    AuditLog::open(
        dir,
        SealingKey::from_bytes([7; 32]),
        AuditOptions::default().sync(mode).segment_max_age(None),
    )
    .unwrap()
}

fn appends(log: &AuditLog, n: u64) -> Duration {
    let events: Vec<Event> = (0..64).map(event).collect();
    let t = Instant::now();
    for i in 0..n {
        log.append(&events[(i % 64) as usize]).unwrap();
    }
    if log.sync_mode() == SyncMode::None {
        log.sync().unwrap();
    }
    t.elapsed()
}

fn batches(log: &AuditLog, n: u64) -> Duration {
    let events: Vec<Event> = (0..BATCH as u64).map(event).collect();
    let t = Instant::now();
    for _ in 0..n.div_ceil(BATCH as u64) {
        log.append_batch(&events).unwrap();
    }
    t.elapsed()
}

/// `threads` threads each appending batches of 100: one thread's sync overlaps the
/// others' encoding (group commit across callers).
fn parallel_batches(log: &Arc<AuditLog>, threads: u64, n: u64) -> Duration {
    let per = n.div_ceil(threads);
    let t = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let log = log.clone();
            std::thread::spawn(move || batches(&log, per))
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    t.elapsed()
}

/// Group commit: `threads` threads each appending single records; returns the time
/// and the worst append latency.
fn group_commit(log: &Arc<AuditLog>, threads: u64, n: u64) -> (Duration, Duration) {
    let t = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|k| {
            let log = log.clone();
            std::thread::spawn(move || {
                let e = event(k);
                let mut worst = Duration::ZERO;
                for _ in 0..n / threads {
                    let s = Instant::now();
                    log.append(&e).unwrap();
                    worst = worst.max(s.elapsed());
                }
                worst
            })
        })
        .collect();
    let worst = hs.into_iter().map(|h| h.join().unwrap()).max().unwrap();
    (t.elapsed(), worst)
}

/// The disk itself: append one record-sized write and fdatasync, n times (the file
/// grows at each write).
fn fdatasync(dir: &Path, n: u64) -> Duration {
    let path = dir.join("raw.bin");
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let rec = [0x5au8; 260];
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(&rec).unwrap();
        f.sync_data().unwrap();
    }
    t.elapsed()
}

/// The disk itself: one record-sized write and fdatasync, n times, over a file of
/// zeros written and synced beforehand (not timed): the file's size and blocks do
/// not change.
fn fdatasync_in_place(dir: &Path, n: u64) -> Duration {
    let path = dir.join("raw-in-place.bin");
    let rec = [0x5au8; 260];
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = n * rec.len() as u64;
    while left > 0 {
        let k = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..k]).unwrap();
        left -= k as u64;
    }
    f.sync_all().unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(&rec).unwrap();
        f.sync_data().unwrap();
    }
    t.elapsed()
}

struct Sqlite {
    conn: rusqlite::Connection,
    _dir: Scratch,
}

fn sqlite() -> Sqlite {
    let dir = Scratch::new("sqlite");
    let conn = rusqlite::Connection::open(dir.0.join("audit.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, time TEXT, kind TEXT, user TEXT,
         department TEXT, action TEXT, resource TEXT, decision TEXT, policies TEXT,
         policy_version TEXT, outcome TEXT, fields TEXT)",
    )
    .unwrap();
    Sqlite { conn, _dir: dir }
}

fn sqlite_inserts(db: &mut Sqlite, n: u64, per_txn: usize) -> Duration {
    let e = event(1);
    let fields = serde_json::to_string(&e.fields).unwrap();
    let t = Instant::now();
    let mut done = 0;
    while done < n {
        let tx = db.conn.transaction().unwrap();
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO audit (time, kind, user, department, action, resource, decision,
                     policies, policy_version, outcome, fields) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                )
                .unwrap();
            for _ in 0..per_txn {
                st.execute(rusqlite::params![
                    govdata::audit::Timestamp::now().to_string(),
                    e.kind,
                    e.user,
                    e.department,
                    "query",
                    "hukou",
                    "allow",
                    "art13-purpose-limited",
                    e.policy_version,
                    "success",
                    fields
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
        done += per_txn as u64;
    }
    t.elapsed()
}

fn verify_log(records: u64) -> (Scratch, AuditLog) {
    let dir = Scratch::new("verify");
    let log = AuditLog::open(
        &dir.0,
        SealingKey::from_bytes([7; 32]),
        AuditOptions::default()
            .sync(SyncMode::None)
            .segment_max_age(None)
            .segment_max_bytes(8 << 20),
    )
    .unwrap();
    batches(&log, records);
    log.sync().unwrap();
    (dir, log)
}

fn criterion_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit_append");
    g.throughput(Throughput::Elements(1));
    for mode in [SyncMode::None, SyncMode::Always] {
        let dir = Scratch::new(mode.as_str());
        let log = open(&dir.0, mode);
        g.bench_function(mode.as_str(), |b| b.iter_custom(|n| appends(&log, n)));
    }
    {
        let dir = Scratch::new("batch");
        let log = open(&dir.0, SyncMode::Batch);
        g.bench_function("batch_of_100", |b| b.iter_custom(|n| batches(&log, n)));
        let log = Arc::new(log);
        g.bench_function("batch_8_threads", |b| {
            b.iter_custom(|n| group_commit(&log, 8, n.max(8)).0)
        });
    }
    {
        let dir = Scratch::new("raw");
        g.bench_function("disk_fdatasync", |b| {
            b.iter_custom(|n| fdatasync(&dir.0, n))
        });
        g.bench_function("disk_fdatasync_in_place", |b| {
            b.iter_custom(|n| fdatasync_in_place(&dir.0, n))
        });
    }
    {
        let mut db = sqlite();
        g.bench_function("sqlite_wal_full_1_per_txn", |b| {
            b.iter_custom(|n| sqlite_inserts(&mut db, n, 1))
        });
        g.bench_function("sqlite_wal_full_100_per_txn", |b| {
            b.iter_custom(|n| {
                sqlite_inserts(&mut db, n.div_ceil(100) * 100, 100) * n as u32
                    / (n.div_ceil(100) * 100) as u32
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("audit_verify");
    let (_dir, log) = verify_log(200_000);
    g.throughput(Throughput::Elements(200_000));
    g.bench_function("verify_200k_records", |b| b.iter(|| log.verify().unwrap()));
    g.finish();
}

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// Runs `f(n)` for about `secs` seconds and returns operations per second.
fn rate(secs: f64, mut f: impl FnMut(u64) -> Duration, start: u64) -> f64 {
    let mut n = start;
    loop {
        let t = f(n).as_secs_f64();
        if t >= secs {
            return n as f64 / t;
        }
        n = ((n as f64) * (secs / t.max(1e-6)) * 1.1).ceil() as u64;
    }
}

/// The disk-bound measures, run in rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Always,
    DiskAppend,
    DiskInPlace,
    Batch,
    Batch2,
    Group,
    Sqlite1,
    Sqlite100,
}

const MEASURES: [Measure; 8] = [
    Measure::Sqlite100,
    Measure::Batch,
    Measure::Batch2,
    Measure::Sqlite1,
    Measure::Always,
    Measure::DiskInPlace,
    Measure::DiskAppend,
    Measure::Group,
];

/// One measure, on a new log (or file) each time; SQLite keeps its database.
fn measure(m: Measure, secs: f64, db: &mut Sqlite, worst: &mut Duration) -> f64 {
    match m {
        Measure::Always => {
            let d = Scratch::new("sum-always");
            let log = open(&d.0, SyncMode::Always);
            rate(secs, |n| appends(&log, n), 200)
        }
        Measure::DiskAppend => {
            let d = Scratch::new("sum-raw");
            rate(secs, |n| fdatasync(&d.0, n), 200)
        }
        Measure::DiskInPlace => {
            let d = Scratch::new("sum-raw-in-place");
            rate(secs, |n| fdatasync_in_place(&d.0, n), 200)
        }
        Measure::Batch => {
            let d = Scratch::new("sum-batch");
            let log = open(&d.0, SyncMode::Batch);
            rate(secs, |n| batches(&log, n), 10_000)
        }
        Measure::Batch2 => {
            let d = Scratch::new("sum-batch2");
            let log = Arc::new(open(&d.0, SyncMode::Batch));
            rate(secs, |n| parallel_batches(&log, 2, n), 10_000)
        }
        Measure::Group => {
            let d = Scratch::new("sum-group");
            let log = Arc::new(open(&d.0, SyncMode::Batch));
            rate(
                secs,
                |n| {
                    let (t, w) = group_commit(&log, 8, n.max(8));
                    *worst = (*worst).max(w);
                    t
                },
                2_000,
            )
        }
        Measure::Sqlite1 => rate(secs, |n| sqlite_inserts(db, n, 1), 200),
        Measure::Sqlite100 => rate(
            secs,
            |n| sqlite_inserts(db, n.div_ceil(100) * 100, 100),
            10_000,
        ),
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of per-round ratios, and their range.
fn ratio(a: &[f64], b: &[f64]) -> String {
    let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y.max(1e-9)).collect();
    let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = r.iter().copied().fold(0.0, f64::max);
    format!("{:.2}× ({lo:.2}–{hi:.2})", median(&r))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn summary() {
    let secs = 1.5;
    let rounds: usize = std::env::var("AUDIT_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let load_start = loadavg();
    let d = Scratch::new("sum-none");
    let log = open(&d.0, SyncMode::None);
    let (c0, mut ops) = (cpu_seconds(), 0u64);
    let none = rate(
        secs,
        |n| {
            ops += n;
            appends(&log, n)
        },
        10_000,
    );
    let none_cpu = ops as f64 / (cpu_seconds() - c0).max(1e-3);
    drop(log);
    let mut db = sqlite();
    let mut rates: Vec<(Measure, Vec<f64>)> = MEASURES.iter().map(|m| (*m, Vec::new())).collect();
    let mut worst = Vec::new();
    for round in 0..rounds {
        let mut order = MEASURES.to_vec();
        if round % 2 == 1 {
            order.reverse();
        }
        let mut w = Duration::ZERO;
        for m in order {
            let r = measure(m, secs, &mut db, &mut w);
            if let Some((_, v)) = rates.iter_mut().find(|(k, _)| *k == m) {
                v.push(r);
            }
        }
        worst.push(w.as_secs_f64() * 1e3);
        eprintln!("round {} of {rounds} done (load {})", round + 1, loadavg());
    }
    let get = |m: Measure| -> &[f64] {
        rates
            .iter()
            .find(|(k, _)| *k == m)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    };
    let (always, disk_append, disk_in_place) = (
        get(Measure::Always),
        get(Measure::DiskAppend),
        get(Measure::DiskInPlace),
    );
    let (batch, batch2, group) = (
        get(Measure::Batch),
        get(Measure::Batch2),
        get(Measure::Group),
    );
    let (sql1, sql100) = (get(Measure::Sqlite1), get(Measure::Sqlite100));
    let (_vd, vlog) = verify_log(500_000);
    let (t, c0) = (Instant::now(), cpu_seconds());
    let mut r = vlog.verify().unwrap();
    for _ in 0..3 {
        r = vlog.verify().unwrap();
    }
    let verify = 4.0 * r.records as f64 / t.elapsed().as_secs_f64();
    let verify_cpu = 4.0 * r.records as f64 / (cpu_seconds() - c0).max(1e-3);
    let mut payload = 0;
    vlog.for_each_record(|r| {
        let mut j = r.to_json();
        if let Some(m) = j.as_object_mut() {
            m.remove("seq");
        }
        payload = j.to_string().len();
        Err(govdata::Error::RequestInvalid {
            message: "first record only".into(),
        })
    })
    .ok();

    println!();
    println!(
        "## audit log (payload {payload} bytes of JSON + 49 bytes of framing per record; {rounds} rounds; load average at the start: {load_start}, at the end: {})",
        loadavg()
    );
    println!();
    println!("| measure | rate (wall clock, median) | ratio (median of rounds, range) | target |");
    println!("|---|---:|---:|---|");
    println!(
        "| append, sync `none` | {none:.0}/s | {:.2}× target | ≥ 1,000,000/s |",
        none / 1e6
    );
    println!(
        "| append, sync `none`, per CPU-second of the process | {none_cpu:.0}/s | {:.2}× target | |",
        none_cpu / 1e6
    );
    println!(
        "| append, sync `always` | {:.0}/s | {} disk fdatasync in place | ≥ 0.9× disk |",
        median(always),
        ratio(always, disk_in_place)
    );
    println!(
        "| disk: overwrite + fdatasync, in place (same run; the fair reference) | {:.0}/s | | |",
        median(disk_in_place)
    );
    println!(
        "| disk: append + fdatasync (same run) | {:.0}/s | `always` is {} of it | |",
        median(disk_append),
        ratio(always, disk_append)
    );
    println!(
        "| append, sync `batch`, batches of {BATCH} | {:.0}/s | {} SQLite (100/txn) | ≥ 1.5× SQLite |",
        median(batch),
        ratio(batch, sql100)
    );
    println!(
        "| append, sync `batch`, 2 threads, batches of {BATCH} | {:.0}/s | {} SQLite (100/txn) | ≥ 1.5× SQLite |",
        median(batch2),
        ratio(batch2, sql100)
    );
    println!(
        "| append, sync `batch`, 8 threads single appends | {:.0}/s | worst latency {:.2} ms (rounds: {}) | on disk ≤ 10 ms |",
        median(group),
        worst.iter().copied().fold(0.0, f64::max),
        worst
            .iter()
            .map(|w| format!("{w:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| SQLite WAL synchronous=FULL, 1/txn | {:.0}/s | `always` is {} | |",
        median(sql1),
        ratio(always, sql1)
    );
    println!(
        "| SQLite WAL synchronous=FULL, 100/txn | {:.0}/s | | |",
        median(sql100)
    );
    println!(
        "| verify ({} records) | {verify:.0}/s | {:.2}× target | ≥ 2,000,000/s |",
        r.records,
        verify / 2e6
    );
    println!(
        "| verify, per CPU-second (all threads) | {verify_cpu:.0}/s | cores used: {:.2} | |",
        verify / verify_cpu.max(1.0)
    );
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    // AUDIT_BENCH_TABLE_ONLY=1 prints the table without the criterion runs.
    if std::env::var_os("AUDIT_BENCH_TABLE_ONLY").is_none() {
        criterion_benches(&mut c);
        c.final_summary();
    }
    summary();
}
