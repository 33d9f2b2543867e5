//! The vault's speed: streaming file encryption and decryption against OpenSSL's
//! single-core `chacha20-poly1305`, measured in the same run, with SM4-GCM beside it;
//! then criterion groups for records and streams.
//!
//! `cargo bench -p govdata-benches --bench vault` (see RESULTS-vault.md for the flags
//! that enable the AVX-512 backend of ChaCha20).

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up or run has nothing to report"
)]

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use govdata::model::Grade;
use govdata::vault::{MasterKey, Operator, Suite, Vault, VaultConfig};
use govdata::Engine;
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

/// The arguments of the OpenSSL side: one core, 1 MiB buffers, wall-clock time
/// (`-elapsed`; without it `openssl speed` divides by its CPU time, which flatters it
/// on a busy machine while the vault is measured by the clock).
const OPENSSL_ARGS: &[&str] = &[
    "speed",
    "-elapsed",
    "-evp",
    "chacha20-poly1305",
    "-bytes",
    "1048576",
    "-seconds",
    "3",
];

/// `openssl speed -elapsed -evp chacha20-poly1305` on one core, in bytes/s.
fn openssl_chacha() -> Option<f64> {
    let out = Command::new("openssl").args(OPENSSL_ARGS).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.to_ascii_lowercase().starts_with("chacha20-poly1305"))?;
    let k: f64 = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some(k * 1000.0)
}

/// Whether this build was made with `--cfg chacha20_avx512` (the chacha20 crate's
/// AVX-512 backend, still chosen at run time only on CPUs that have it).
#[allow(unexpected_cfgs)]
fn avx512_cfg() -> bool {
    cfg!(chacha20_avx512)
}

fn gbs(x: f64) -> String {
    format!("{:.2} GB/s", x / 1e9)
}

/// The comparison the README quotes: both sides in this run.
fn compare() {
    let threads = rayon::current_num_threads();
    let b = vault(govdata::vault::DEFAULT_CHUNK_SIZE);
    let pt = data(STREAM_LEN);
    let openssl = openssl_chacha();
    let (x_enc, x_dec) = stream_rates(
        &b.vault,
        Suite::XChaCha20Poly1305,
        &pt,
        Duration::from_secs(3),
    );
    let sm4 = &pt[..64 << 20];
    let (s_enc, s_dec) = stream_rates(&b.vault, Suite::Sm4Gcm, sm4, Duration::from_secs(2));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avx512 = if avx512_cfg() { "on" } else { "off" };
    println!();
    println!(
        "vault streaming, 64 KiB chunks, {} MiB in memory, {threads} threads; chacha20 AVX-512 backend {avx512}; load average {}",
        STREAM_LEN >> 20,
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("openssl {}", OPENSSL_ARGS.join(" "));
    println!("| | encrypt | decrypt | vs OpenSSL (1 core) |");
    println!("|---|---|---|---|");
    match openssl {
        Some(o) => {
            println!(
                "| OpenSSL chacha20-poly1305, 1 core, 1 MiB buffers | {} | | 1.00× |",
                gbs(o)
            );
            println!(
                "| vault xchacha20poly1305 | {} | {} | {:.2}× / {:.2}× |",
                gbs(x_enc),
                gbs(x_dec),
                x_enc / o,
                x_dec / o
            );
            println!(
                "| vault sm4-gcm | {} | {} | {:.2}× / {:.2}× |",
                gbs(s_enc),
                gbs(s_dec),
                s_enc / o,
                s_dec / o
            );
        }
        None => {
            println!("| OpenSSL | not available | | |");
            println!(
                "| vault xchacha20poly1305 | {} | {} | |",
                gbs(x_enc),
                gbs(x_dec)
            );
            println!("| vault sm4-gcm | {} | {} | |", gbs(s_enc), gbs(s_dec));
        }
    }
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
