//! `decide_many` on 1 and 2 threads: decisions per second of wall-clock time and CPU
//! time per decision, alternating the two pool sizes. CPU time per decision that stays
//! flat from 1 to 2 threads shows there is no contention between the workers; the wall
//! rate shows the scaling the machine allows at the moment.
//!
//! `cargo run --release -p govdata-benches --example scaling`

#![expect(
    clippy::expect_used,
    reason = "benchmark setup: a failure ends the run with its message"
)]

use govdata_benches::{default_engine, sample_requests};
use std::time::Instant;

/// User plus system CPU time of this process, in seconds (Linux `/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn main() {
    let engine = default_engine();
    let sample = sample_requests();
    let batch: Vec<_> = (0..100_000)
        .map(|i| sample[i % sample.len()].clone())
        .collect();
    for threads in [1, 2, 1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| engine.decide_many(&batch[..5000]));
        let (cpu0, start) = (cpu_seconds(), Instant::now());
        pool.install(|| engine.decide_many(&batch));
        let (cpu, wall) = (cpu_seconds() - cpu0, start.elapsed().as_secs_f64());
        println!(
            "{threads} thread(s): {:.0} decisions/s, {:.1} µs CPU per decision, CPU/wall {:.2}",
            batch.len() as f64 / wall,
            cpu * 1e6 / batch.len() as f64,
            cpu / wall
        );
    }
}
