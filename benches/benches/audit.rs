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
//! The disk of a shared machine changes speed from one second to the next (on a
//! virtual machine a sync that leaves the CPUs idle can also cost the time the
//! hypervisor takes to wake a halted virtual CPU, about 4 ms on the machine of
//! `RESULTS-audit.md`). So the table's single-writer disk-bound measures run one
//! operation at a time, each measure in turn (`AUDIT_BENCH_ROUNDS` rounds, 600), the
//! order turning from round to round, and each ratio compares the two sides over the
//! same rounds: over all of them, and split by whether the disk's own in-place sync
//! took under 1 ms in that round. Concurrent appenders run in slices of half a second
//! next to SQLite's (`AUDIT_BENCH_SLICES` pairs, 8). The logs stay open throughout and
//! roll their segments as in service. `AUDIT_BENCH_SPIN=1` keeps a thread spinning on
//! one CPU during the disk-bound measures, so that on such a virtual machine they
//! measure the disk rather than the wake-up.
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
        g.bench_function("batch_of_100_2_threads", |b| {
            b.iter_custom(|n| parallel_batches(&log, 2, n))
        });
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

/// The disk-bound measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// One `always` append.
    Always,
    /// One record-sized overwrite + fdatasync of a file of zeros.
    DiskInPlace,
    /// One record-sized append + fdatasync.
    DiskAppend,
    /// One SQLite transaction of one insert.
    Sqlite1,
    /// One `batch` append of 100 records.
    Batch,
    /// One SQLite transaction of 100 inserts.
    Sqlite100,
}

/// The measures taken one operation at a time, in turn.
const ONE_BY_ONE: [Measure; 6] = [
    Measure::Always,
    Measure::DiskInPlace,
    Measure::DiskAppend,
    Measure::Sqlite1,
    Measure::Batch,
    Measure::Sqlite100,
];

/// Everything the disk-bound measures write to, kept open throughout (the logs fill
/// and roll their segments as in service).
struct Contenders {
    always: AuditLog,
    batch: AuditLog,
    batch2: Arc<AuditLog>,
    group: Arc<AuditLog>,
    in_place: std::fs::File,
    in_place_at: u64,
    append: std::fs::File,
    db: Sqlite,
    events: Vec<Event>,
    _dirs: Vec<Scratch>,
}

/// The bytes of zeros the in-place fdatasync measure overwrites, round and round.
const IN_PLACE_FILE: u64 = 4 << 20;
const RAW_RECORD: [u8; 260] = [0x5a; 260];

impl Contenders {
    fn new() -> Self {
        let dirs: Vec<Scratch> = [
            "sum-always",
            "sum-batch",
            "sum-batch2",
            "sum-group",
            "sum-raw",
        ]
        .iter()
        .map(|t| Scratch::new(t))
        .collect();
        let in_place = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(dirs[4].0.join("raw-in-place.bin"))
            .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for k in 0..IN_PLACE_FILE / (1 << 20) {
            write_at(&in_place, &zeros, k << 20);
        }
        in_place.sync_all().unwrap();
        let append = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dirs[4].0.join("raw-append.bin"))
            .unwrap();
        Contenders {
            always: open(&dirs[0].0, SyncMode::Always),
            batch: open(&dirs[1].0, SyncMode::Batch),
            batch2: Arc::new(open(&dirs[2].0, SyncMode::Batch)),
            group: Arc::new(open(&dirs[3].0, SyncMode::Batch)),
            in_place,
            in_place_at: 0,
            append,
            db: sqlite(),
            events: (0..BATCH as u64).map(event).collect(),
            _dirs: dirs,
        }
    }

    /// One operation of measure `m`: how long it took.
    fn op(&mut self, m: Measure) -> Duration {
        let t = Instant::now();
        match m {
            Measure::Always => {
                self.always.append(&self.events[3]).unwrap();
            }
            Measure::DiskInPlace => {
                write_at(&self.in_place, &RAW_RECORD, self.in_place_at);
                self.in_place.sync_data().unwrap();
                self.in_place_at = (self.in_place_at + RAW_RECORD.len() as u64)
                    % (IN_PLACE_FILE - RAW_RECORD.len() as u64);
            }
            Measure::DiskAppend => {
                self.append.write_all(&RAW_RECORD).unwrap();
                self.append.sync_data().unwrap();
            }
            Measure::Sqlite1 => {
                sqlite_inserts(&mut self.db, 1, 1);
            }
            Measure::Batch => {
                self.batch.append_batch(&self.events).unwrap();
            }
            Measure::Sqlite100 => {
                sqlite_inserts(&mut self.db, 100, 100);
            }
        }
        t.elapsed()
    }
}

fn records(m: Measure) -> u64 {
    match m {
        Measure::Batch | Measure::Sqlite100 => BATCH as u64,
        _ => 1,
    }
}

fn write_at(f: &std::fs::File, buf: &[u8], at: u64) {
    std::os::unix::fs::FileExt::write_all_at(f, buf, at).unwrap();
}

/// `threads` threads appending (batches of 100, or single events whose worst latency
/// goes to `worst`) until `secs` have passed: records per second.
fn threads_for_secs(
    log: &Arc<AuditLog>,
    threads: u64,
    secs: f64,
    batch: bool,
    worst: &mut Duration,
) -> f64 {
    let t = Instant::now();
    let deadline = t + Duration::from_secs_f64(secs);
    let hs: Vec<_> = (0..threads)
        .map(|k| {
            let log = log.clone();
            std::thread::spawn(move || {
                let events: Vec<Event> = (0..BATCH as u64).map(|i| event(k * 1000 + i)).collect();
                let (mut ops, mut w) = (0u64, Duration::ZERO);
                while Instant::now() < deadline {
                    if batch {
                        log.append_batch(&events).unwrap();
                        ops += BATCH as u64;
                    } else {
                        let s = Instant::now();
                        log.append(&events[0]).unwrap();
                        w = w.max(s.elapsed());
                        ops += 1;
                    }
                }
                (ops, w)
            })
        })
        .collect();
    let mut ops = 0;
    for h in hs {
        let (o, w) = h.join().unwrap();
        ops += o;
        *worst = (*worst).max(w);
    }
    ops as f64 / t.elapsed().as_secs_f64()
}

/// SQLite transactions of 100 inserts for `secs` seconds: records per second.
fn sqlite_for_secs(db: &mut Sqlite, secs: f64) -> f64 {
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < secs {
        sqlite_inserts(db, 100, 100);
        n += 100;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The durations (s) of one measure's operations in the chosen rounds.
fn pick(t: &[[f64; 6]], m: Measure, keep: &dyn Fn(&[f64; 6]) -> bool) -> Vec<f64> {
    let k = ONE_BY_ONE.iter().position(|x| *x == m).unwrap_or(0);
    t.iter().filter(|r| keep(r)).map(|r| r[k]).collect()
}

/// Throughput (records/s over the summed durations) of `a` ÷ that of `b`, and the
/// ratio of their median operation times (b ÷ a).
fn compare(t: &[[f64; 6]], a: Measure, b: Measure, keep: &dyn Fn(&[f64; 6]) -> bool) -> String {
    let (ta, tb) = (pick(t, a, keep), pick(t, b, keep));
    if ta.is_empty() {
        return "–".into();
    }
    let ra = records(a) as f64 * ta.len() as f64 / ta.iter().sum::<f64>();
    let rb = records(b) as f64 * tb.len() as f64 / tb.iter().sum::<f64>();
    format!(
        "{:.2}× (medians {:.2}×; {} rounds)",
        ra / rb,
        (median(&tb) / records(b) as f64) / (median(&ta) / records(a) as f64),
        ta.len()
    )
}

fn rate_of(t: &[[f64; 6]], m: Measure) -> f64 {
    let v = pick(t, m, &|_| true);
    records(m) as f64 * v.len() as f64 / v.iter().sum::<f64>()
}

fn summary() {
    let secs = 1.5;
    let rounds: usize = env_or("AUDIT_BENCH_ROUNDS", 600usize).max(1);
    let slices: usize = env_or("AUDIT_BENCH_SLICES", 8usize).max(1);
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
    let spin = std::env::var_os("AUDIT_BENCH_SPIN").is_some_and(|v| v != "0");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinner = spin.then(|| {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        })
    });
    let mut c = Contenders::new();
    // Warm-up: every log, file and the database past its first writes.
    for _ in 0..20 {
        for m in ONE_BY_ONE {
            c.op(m);
        }
    }
    // One operation of each measure in turn, the order turning round by round, so
    // that both sides of a ratio meet the disk in the same state.
    let mut times: Vec<[f64; 6]> = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut row = [0.0; 6];
        for j in 0..6 {
            let k = if round % 2 == 0 {
                (round / 2 + j) % 6
            } else {
                (round / 2 + 5 * j) % 6
            };
            row[k] = c.op(ONE_BY_ONE[k]).as_secs_f64();
        }
        times.push(row);
    }
    // Concurrent appenders, in slices of half a second next to SQLite's.
    let (mut b2, mut s100, mut group, mut worst) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 0..slices {
        let mut w = Duration::ZERO;
        let mut unused = Duration::ZERO;
        if k % 2 == 0 {
            b2.push(threads_for_secs(&c.batch2, 2, 0.5, true, &mut unused));
            s100.push(sqlite_for_secs(&mut c.db, 0.5));
        } else {
            s100.push(sqlite_for_secs(&mut c.db, 0.5));
            b2.push(threads_for_secs(&c.batch2, 2, 0.5, true, &mut unused));
        }
        group.push(threads_for_secs(&c.group, 8, 0.5, false, &mut w));
        worst.push(w.as_secs_f64() * 1e3);
    }
    drop(c);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(h) = spinner {
        h.join().unwrap();
    }
    let load_disk = loadavg();
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

    // Rounds in which the disk's in-place fdatasync took under / over 1 ms.
    let ip = ONE_BY_ONE
        .iter()
        .position(|x| *x == Measure::DiskInPlace)
        .unwrap_or(0);
    let fast = move |r: &[f64; 6]| r[ip] < 1e-3;
    let slow = move |r: &[f64; 6]| r[ip] >= 1e-3;
    let all = |_: &[f64; 6]| true;
    let n_fast = times.iter().filter(|r| fast(r)).count();
    let ms = |m: Measure, keep: &dyn Fn(&[f64; 6]) -> bool| median(&pick(&times, m, keep)) * 1e3;

    println!();
    println!(
        "## audit log (payload {payload} bytes of JSON + 49 bytes of framing per record; load average at the start: {load_start}, after the disk-bound measures: {load_disk}, at the end: {})",
        loadavg()
    );
    println!();
    println!(
        "Disk-bound measures{}: {rounds} rounds of one operation each, in turn. The disk's own in-place fdatasync took under 1 ms in {n_fast} rounds (median {:.2} ms) and 1 ms or more in {} (median {:.2} ms).",
        if spin { ", one CPU kept busy by a spinning thread" } else { "" },
        ms(Measure::DiskInPlace, &fast),
        rounds - n_fast,
        ms(Measure::DiskInPlace, &slow)
    );
    println!();
    println!("| measure | rate (wall clock) | ratio, all rounds | ratio, disk sync < 1 ms | ratio, disk sync ≥ 1 ms | target |");
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| append, sync `none` | {none:.0}/s | {:.2}× target | | | ≥ 1,000,000/s |",
        none / 1e6
    );
    println!(
        "| append, sync `none`, per CPU-second of the process | {none_cpu:.0}/s | {:.2}× target | | | |",
        none_cpu / 1e6
    );
    let row = |name: &str, a: Measure, b: Measure, what: &str, target: &str| {
        println!(
            "| {name} | {:.0}/s | {} {what} | {} | {} | {target} |",
            rate_of(&times, a),
            compare(&times, a, b, &all),
            compare(&times, a, b, &fast),
            compare(&times, a, b, &slow)
        );
    };
    row(
        "append, sync `always`",
        Measure::Always,
        Measure::DiskInPlace,
        "disk in place",
        "≥ 0.9× disk",
    );
    row(
        "append, sync `always`",
        Measure::Always,
        Measure::DiskAppend,
        "disk appending",
        "",
    );
    row(
        "append, sync `always`",
        Measure::Always,
        Measure::Sqlite1,
        "SQLite 1/txn",
        "",
    );
    row(
        "disk: overwrite 260 B + fdatasync, in place (the fair reference for `always`)",
        Measure::DiskInPlace,
        Measure::DiskAppend,
        "appending",
        "",
    );
    println!(
        "| disk: append 260 B + fdatasync | {:.0}/s | | | | |",
        rate_of(&times, Measure::DiskAppend)
    );
    row(
        &format!("append, sync `batch`, batches of {BATCH}"),
        Measure::Batch,
        Measure::Sqlite100,
        "SQLite 100/txn",
        "≥ 1.5× SQLite",
    );
    println!(
        "| SQLite WAL synchronous=FULL, 1/txn | {:.0}/s | | | | |",
        rate_of(&times, Measure::Sqlite1)
    );
    println!(
        "| SQLite WAL synchronous=FULL, 100/txn | {:.0}/s | | | | |",
        rate_of(&times, Measure::Sqlite100)
    );
    let ratios: Vec<f64> = b2.iter().zip(&s100).map(|(a, b)| a / b).collect();
    println!(
        "| append, sync `batch`, 2 threads, batches of {BATCH} (slices of 0.5 s) | {:.0}/s | {:.2}× SQLite 100/txn (median of {slices} slice pairs; range {:.2}–{:.2}) | | | ≥ 1.5× SQLite |",
        median(&b2),
        median(&ratios),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "| append, sync `batch`, 8 threads single appends (slices of 0.5 s) | {:.0}/s | worst latency {:.2} ms (by slice: {}) | | | on disk ≤ 10 ms |",
        median(&group),
        worst.iter().copied().fold(0.0, f64::max),
        worst
            .iter()
            .map(|w| format!("{w:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| verify ({} records) | {verify:.0}/s | {:.2}× target | | | ≥ 2,000,000/s |",
        r.records,
        verify / 2e6
    );
    println!(
        "| verify, per CPU-second (all threads) | {verify_cpu:.0}/s | cores used: {:.2} | | | |",
        verify / verify_cpu.max(1.0)
    );
    println!();
    println!(
        "Median operation times (ms), disk sync < 1 ms / ≥ 1 ms: `always` append {:.3} / {:.3}; disk in place {:.3} / {:.3}; disk appending {:.3} / {:.3}; SQLite 1/txn {:.3} / {:.3}; `batch` of 100 {:.3} / {:.3}; SQLite 100/txn {:.3} / {:.3}.",
        ms(Measure::Always, &fast),
        ms(Measure::Always, &slow),
        ms(Measure::DiskInPlace, &fast),
        ms(Measure::DiskInPlace, &slow),
        ms(Measure::DiskAppend, &fast),
        ms(Measure::DiskAppend, &slow),
        ms(Measure::Sqlite1, &fast),
        ms(Measure::Sqlite1, &slow),
        ms(Measure::Batch, &fast),
        ms(Measure::Batch, &slow),
        ms(Measure::Sqlite100, &fast),
        ms(Measure::Sqlite100, &slow),
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
