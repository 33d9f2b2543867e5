//! The vault's speed, every side measured in the same run: SM4-GCM in memory before
//! (the `aes-gcm` and `sm4` crates) and after (`govdata-sm4` on each backend the CPU
//! has) on one and two threads; 256 MiB streams of both suites on one and two threads
//! against OpenSSL's single-core `chacha20-poly1305`; `govdata vault encrypt` and
//! `decrypt` of 256 MiB and 1 GiB files end to end. Then criterion groups for records
//! and streams.
//!
//! `bash scripts/bench-vault.sh` builds the release binary and runs it (see
//! RESULTS-vault.md).

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up or run has nothing to report"
)]

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use govdata::model::Grade;
use govdata::vault::{MasterKey, Operator, Suite, Vault, VaultConfig};
use govdata::Engine;
use std::ffi::OsString;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const STREAM_LEN: usize = 256 << 20;

struct Bench {
    vault: Vault,
    dir: PathBuf,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn vault(chunk: usize) -> Bench {
    let dir = std::env::temp_dir().join(format!(
        "govdata-bench-vault-{}-{chunk}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Arc::new(Engine::with_defaults().unwrap());
    let admin = Operator::new("key.admin");
    let vault = Vault::init(
        VaultConfig::new(&dir).with_chunk_size(chunk),
        Box::new(MasterKey::from_bytes(&[9u8; 32]).unwrap()),
        engine,
        &admin,
    )
    .unwrap();
    vault.rotate_key(&admin, "hukou").unwrap();
    Bench { vault, dir }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// Bytes per second of `f` over `len` bytes: the best of several runs of at least
/// `min` in total.
fn rate(len: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let mut best = f64::MAX;
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || start.elapsed() < min {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    len as f64 / best
}

fn seal(v: &Vault, suite: Suite, pt: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pt.len() + pt.len() / 1000 + 4096);
    v.encrypt_stream("hukou", Grade::L4, suite, &mut &pt[..], &mut out, None)
        .unwrap();
    out
}

fn stream_rates(v: &Vault, suite: Suite, pt: &[u8], min: Duration) -> (f64, f64) {
    let enc = rate(pt.len(), min, || {
        v.encrypt_stream(
            "hukou",
            Grade::L4,
            suite,
            &mut &pt[..],
            &mut std::io::sink(),
            None,
        )
        .unwrap();
    });
    let ct = seal(v, suite, pt);
    let dec = rate(pt.len(), min, || {
        v.decrypt_stream("hukou", Grade::L4, &mut &ct[..], &mut std::io::sink(), None)
            .unwrap();
    });
    (enc, dec)
}

/// `openssl speed -elapsed -evp ALG -bytes 1048576 -seconds 3` on one core, in bytes/s:
/// wall-clock time (`-elapsed`; without it `openssl speed` divides by its CPU time, which
/// flatters it on a busy machine while the vault is measured by the clock). `None` if
/// the installed OpenSSL does not offer `alg`.
fn openssl_speed(alg: &str) -> Option<f64> {
    let out = Command::new("openssl")
        .args([
            "speed", "-elapsed", "-evp", alg, "-bytes", "1048576", "-seconds", "3",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.to_ascii_lowercase().starts_with(alg))?;
    let k: f64 = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some(k * 1000.0)
}

fn gbs(x: f64) -> String {
    format!("{:.2} GB/s", x / 1e9)
}

/// Bytes per second of `threads` threads, each running `f` over its own `len`-byte
/// buffer for at least `min` (the sum of the threads' rates).
fn parallel_rate(threads: usize, len: usize, min: Duration, f: impl Fn(&mut [u8]) + Sync) -> f64 {
    let f = &f;
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut buf = data(len);
                    f(&mut buf);
                    let t = Instant::now();
                    let mut n = 0u64;
                    while n < 3 || t.elapsed() < min {
                        f(&mut buf);
                        n += 1;
                    }
                    n as f64 * len as f64 / t.elapsed().as_secs_f64()
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

/// An SM4-GCM implementation measured in memory.
enum Sm4Impl {
    /// `aes-gcm` over the `sm4` crate: the vault's SM4-GCM before `govdata-sm4`.
    Portable,
    Simd(govdata_sm4::Backend),
}

impl Sm4Impl {
    fn name(&self) -> String {
        match self {
            Sm4Impl::Portable => "aes-gcm + sm4 crates (before)".into(),
            Sm4Impl::Simd(b) => format!("govdata-sm4 {}", b.name()),
        }
    }

    /// (encrypt, decrypt) bytes/s over `len`-byte buffers on `threads` threads.
    fn rates(&self, len: usize, threads: usize, min: Duration) -> (f64, f64) {
        use aes_gcm::aead::{AeadInOut, KeyInit};
        type Old = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;
        let key = [7u8; 16];
        let nonce = [3u8; 12];
        let aad = b"header";
        match self {
            Sm4Impl::Portable => {
                let c = Old::new(&key.into());
                let enc = parallel_rate(threads, len, min, |buf| {
                    black_box(
                        c.encrypt_inout_detached(&nonce.into(), aad, buf.into())
                            .unwrap(),
                    );
                });
                let mut ct = data(len);
                let tag = c
                    .encrypt_inout_detached(&nonce.into(), aad, ct.as_mut_slice().into())
                    .unwrap();
                let dec = parallel_rate(threads, len, min, |out| {
                    let io = aes_gcm::aead::inout::InOutBuf::new(&ct, out).unwrap();
                    c.decrypt_inout_detached(&nonce.into(), aad, io, &tag)
                        .unwrap();
                });
                (enc, dec)
            }
            Sm4Impl::Simd(b) => {
                let c = govdata_sm4::Sm4Gcm::with_backend(&key, *b).unwrap();
                let enc = parallel_rate(threads, len, min, |buf| {
                    black_box(c.encrypt_in_place(&nonce, aad, buf).unwrap());
                });
                let mut ct = data(len);
                let tag = c.encrypt_in_place(&nonce, aad, &mut ct).unwrap();
                let dec = parallel_rate(threads, len, min, |out| {
                    c.decrypt_to(&nonce, aad, &ct, out, &tag).unwrap();
                });
                (enc, dec)
            }
        }
    }
}

/// `f` on a thread pool of `threads` threads (the vault's streams use the pool they run in).
fn on_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// The `govdata` binary for the end-to-end rows: `GOVDATA_BIN`, or the release build.
fn govdata_bin() -> Option<PathBuf> {
    let path = std::env::var_os("GOVDATA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| govdata_benches::root().join("target/release/govdata"));
    path.exists().then_some(path)
}

/// Seconds of the best of two runs of `govdata ARGS` (after one unmeasured run).
fn time_cli(bin: &std::path::Path, args: &[OsString]) -> f64 {
    let mut best = f64::MAX;
    for i in 0..3 {
        let t = Instant::now();
        let out = Command::new(bin).args(args).output().unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "govdata {:?}: {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
        if i > 0 {
            best = best.min(secs);
        }
    }
    best
}

/// `govdata vault encrypt` and `decrypt` of a `len`-byte file with each suite, end to
/// end (the file read from the page cache, the output synced): (suite, encrypt s, decrypt s).
fn cli_runs(bin: &std::path::Path, len: usize) -> Vec<(Suite, f64, f64)> {
    let dir = std::env::temp_dir().join(format!("govdata-bench-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("master.key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    let plain = dir.join("plain.bin");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&plain).unwrap());
        let block = data(1 << 20);
        for _ in 0..len >> 20 {
            f.write_all(&block).unwrap();
        }
    }
    let vault = dir.join("vault");
    let os = |s: &str| OsString::from(s);
    let init = Command::new(bin)
        .args([
            os("vault"),
            os("init"),
            vault.clone().into(),
            os("--master-key-file"),
            key.clone().into(),
        ])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mut rows = Vec::new();
    for &suite in Suite::ALL {
        let ct = dir.join(format!("ct.{suite}"));
        let back = dir.join("back.bin");
        let common = [
            os("--master-key-file"),
            key.clone().into(),
            os("--dataset"),
            os("hukou"),
            os("--grade"),
            os("L3"),
        ];
        let mut enc: Vec<OsString> = vec![os("vault"), os("encrypt"), vault.clone().into()];
        enc.extend(common.iter().cloned());
        enc.extend([
            os("--suite"),
            os(suite.as_str()),
            plain.clone().into(),
            ct.clone().into(),
        ]);
        let mut dec: Vec<OsString> = vec![os("vault"), os("decrypt"), vault.clone().into()];
        dec.extend(common.iter().cloned());
        dec.extend([ct.clone().into(), back.clone().into()]);
        let e = time_cli(bin, &enc);
        let d = time_cli(bin, &dec);
        let _ = std::fs::remove_file(&ct);
        let _ = std::fs::remove_file(&back);
        rows.push((suite, e, d));
    }
    let _ = std::fs::remove_dir_all(&dir);
    rows
}

/// The comparisons the README quotes, every side measured in this run.
fn compare() {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<_> = load.split_whitespace().take(3).collect();
    println!();
    println!("load average at the start: {}", load.join(" "));
    println!("SM4-GCM in memory, 1 MiB buffers (each thread its own buffer):");
    println!("| implementation | threads | encrypt | decrypt | vs before |");
    println!("|---|---|---|---|---|");
    let mut impls = vec![Sm4Impl::Portable];
    for b in [
        govdata_sm4::Backend::Avx2AesNi,
        govdata_sm4::Backend::Avx512Gfni,
    ] {
        if b.is_available() {
            impls.push(Sm4Impl::Simd(b));
        }
    }
    let mut before = [(0.0, 0.0); 3];
    for imp in &impls {
        for threads in [1usize, 2] {
            let (e, d) = imp.rates(1 << 20, threads, Duration::from_millis(1500));
            if matches!(imp, Sm4Impl::Portable) {
                before[threads] = (e, d);
            }
            let (be, bd) = before[threads];
            println!(
                "| {} | {threads} | {} | {} | {:.1}× / {:.1}× |",
                imp.name(),
                gbs(e),
                gbs(d),
                e / be,
                d / bd
            );
        }
    }

    let b = vault(govdata::vault::DEFAULT_CHUNK_SIZE);
    let pt = data(STREAM_LEN);
    let openssl_chacha = openssl_speed("chacha20-poly1305");
    let openssl_sm4 = openssl_speed("sm4-gcm");
    println!();
    println!(
        "vault streams, 64 KiB chunks, {} MiB in memory through std::io::Read into a sink:",
        STREAM_LEN >> 20
    );
    println!("| suite | threads | encrypt | decrypt | vs OpenSSL chacha20-poly1305 (1 core) | sm4-gcm / xchacha20poly1305 |");
    println!("|---|---|---|---|---|---|");
    for threads in [1usize, 2] {
        let x = on_pool(threads, || {
            stream_rates(
                &b.vault,
                Suite::XChaCha20Poly1305,
                &pt,
                Duration::from_secs(2),
            )
        });
        let s = on_pool(threads, || {
            stream_rates(&b.vault, Suite::Sm4Gcm, &pt, Duration::from_secs(2))
        });
        for (suite, (e, d)) in [(Suite::XChaCha20Poly1305, x), (Suite::Sm4Gcm, s)] {
            let vs = openssl_chacha
                .map(|o| format!("{:.2}× / {:.2}×", e / o, d / o))
                .unwrap_or_default();
            let ratio = if suite == Suite::Sm4Gcm {
                format!("{:.2}× / {:.2}×", s.0 / x.0, s.1 / x.1)
            } else {
                String::new()
            };
            println!(
                "| {suite} | {threads} | {} | {} | {vs} | {ratio} |",
                gbs(e),
                gbs(d)
            );
        }
    }
    match openssl_chacha {
        Some(o) => println!(
            "| OpenSSL chacha20-poly1305, 1 MiB buffers | 1 | {} | | 1.00× | |",
            gbs(o)
        ),
        None => println!("| OpenSSL chacha20-poly1305 | | not available | | | |"),
    }
    match openssl_sm4 {
        Some(o) => println!("| OpenSSL sm4-gcm, 1 MiB buffers | 1 | {} | | | |", gbs(o)),
        None => println!("| OpenSSL sm4-gcm | | refused by this OpenSSL | | | |"),
    }
    drop(pt);

    println!();
    match govdata_bin() {
        None => println!("`govdata vault encrypt` end to end: no release binary (cargo build --release -p govdata-cli, or set GOVDATA_BIN)"),
        Some(bin) => {
            println!("`govdata vault encrypt` / `decrypt` end to end ({}), page cache warm, output synced; best of 2 after a warm-up:", bin.display());
            println!("| file | suite | encrypt | decrypt | sm4-gcm / xchacha20poly1305 |");
            println!("|---|---|---|---|---|");
            for len in [256usize << 20, 1 << 30] {
                let rows = cli_runs(&bin, len);
                let x = rows.iter().find(|r| r.0 == Suite::XChaCha20Poly1305).map(|r| (r.1, r.2));
                for (suite, e, d) in &rows {
                    let ratio = match (suite, x) {
                        (Suite::Sm4Gcm, Some((xe, xd))) => format!("{:.2}× / {:.2}× (by rate)", xe / e, xd / d),
                        _ => String::new(),
                    };
                    println!(
                        "| {} MiB | {suite} | {:.2} s ({:.0} MB/s) | {:.2} s ({:.0} MB/s) | {ratio} |",
                        len >> 20,
                        e,
                        len as f64 / e / 1e6,
                        d,
                        len as f64 / d / 1e6
                    );
                }
            }
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
}

fn records(c: &mut Criterion) {
    let b = vault(govdata::vault::DEFAULT_CHUNK_SIZE);
    let mut g = c.benchmark_group("vault_record");
    for &suite in Suite::ALL {
        for len in [64usize, 1024, 16 * 1024] {
            let pt = data(len);
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("encrypt/{suite}"), len),
                &pt,
                |bn, pt| bn.iter(|| black_box(b.vault.encrypt("hukou", Grade::L4, pt).unwrap())),
            );
            let ct = b
                .vault
                .encrypt_with("hukou", Grade::L4, suite, &pt)
                .unwrap();
            g.bench_with_input(
                BenchmarkId::new(format!("decrypt/{suite}"), len),
                &ct,
                |bn, ct| bn.iter(|| black_box(b.vault.decrypt("hukou", Grade::L4, ct).unwrap())),
            );
        }
    }
    g.finish();
}

fn streams(c: &mut Criterion) {
    let len = 16 << 20;
    let pt = data(len);
    let mut g = c.benchmark_group("vault_stream_16MiB");
    g.throughput(Throughput::Bytes(len as u64));
    for chunk in [4096usize, 64 * 1024, 1 << 20] {
        let b = vault(chunk);
        g.bench_function(BenchmarkId::new("encrypt/xchacha20poly1305", chunk), |bn| {
            bn.iter(|| {
                b.vault
                    .encrypt_stream(
                        "hukou",
                        Grade::L4,
                        Suite::XChaCha20Poly1305,
                        &mut &pt[..],
                        &mut std::io::sink(),
                        None,
                    )
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = records, streams
}

fn main() {
    compare();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
