//! govdata `decide` against plain Cedar `is_authorized` on the same pack, inventory
//! and requests, in the same run; batch throughput on 1 and 2 threads; latency as
//! the inventory grows; pack and inventory load times.
//!
//! Plain Cedar is given its best case: the whole entity store built once and kept
//! resident, and each Cedar request built before the timing loop.

#![expect(
    clippy::expect_used,
    reason = "benchmark setup: a failure ends the benchmark run with its message"
)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use govdata::{Engine, Inventory, PolicyPack};
use govdata_benches::*;
use std::time::{Duration, Instant};

fn per_decision(c: &mut Criterion) {
    let engine = default_engine();
    let plain = engine.plain_cedar().expect("plain cedar");
    let requests = sample_requests();
    let cedar_requests: Vec<_> = requests
        .iter()
        .map(|r| plain.cedar_request(r).expect("request"))
        .collect();
    let mut g = c.benchmark_group("decide/default-pack");
    g.bench_function("govdata", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % requests.len();
            black_box(engine.decide(&requests[i]).expect("decision"))
        })
    });
    g.bench_function("plain-cedar", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % cedar_requests.len();
            black_box(plain.is_authorized(&cedar_requests[i]))
        })
    });
    g.finish();

    let pack = pack_with_department_policies(3000);
    let inventory = with_datasets(example_inventory(), 3000);
    let engine = Engine::new(pack, inventory);
    let plain = engine.plain_cedar().expect("plain cedar");
    let mut requests = dataset_requests(3000, 64);
    requests.extend(sample_requests());
    let cedar_requests: Vec<_> = requests
        .iter()
        .map(|r| plain.cedar_request(r).expect("request"))
        .collect();
    let mut g = c.benchmark_group("decide/default-pack+3000-department-policies");
    g.bench_function("govdata", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % requests.len();
            black_box(engine.decide(&requests[i]).expect("decision"))
        })
    });
    g.bench_function("plain-cedar", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % cedar_requests.len();
            black_box(plain.is_authorized(&cedar_requests[i]))
        })
    });
    g.finish();
}

fn batches(c: &mut Criterion) {
    let engine = default_engine();
    let sample = sample_requests();
    let batch: Vec<_> = (0..20_000)
        .map(|i| sample[i % sample.len()].clone())
        .collect();
    let mut g = c.benchmark_group("decide_many/20000");
    g.throughput(criterion::Throughput::Elements(batch.len() as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        // Warm each worker's compiled pack.
        pool.install(|| engine.decide_many(&batch));
        g.bench_function(format!("{threads}-thread"), |b| {
            b.iter(|| pool.install(|| black_box(engine.decide_many(&batch))))
        });
    }
    g.finish();
}

fn inventory_size(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide/datasets-in-inventory");
    for n in [100usize, 10_000, 1_000_000] {
        let engine = Engine::new(
            PolicyPack::default_pack().expect("pack"),
            with_datasets(example_inventory(), n),
        );
        let requests = dataset_requests(n, 4096);
        g.bench_function(format!("{n}"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % requests.len();
                black_box(engine.decide(&requests[i]).expect("decision"))
            })
        });
    }
    g.finish();
}

fn loading(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    g.bench_function("default-pack", |b| {
        b.iter(|| black_box(PolicyPack::default_pack().expect("pack")))
    });
    g.sample_size(10);
    let json = serde_json::to_string(&with_datasets(example_inventory(), 1_000_000).to_json())
        .expect("json");
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("inventory-1000000-datasets", |b| {
        b.iter_batched(
            || (),
            |_| black_box(Inventory::from_json_str(&json).expect("inventory")),
            BatchSize::PerIteration,
        )
    });
    g.finish();
    let start = Instant::now();
    let _ = Inventory::from_json_str(&json).expect("inventory");
    println!(
        "one load of a 1,000,000-dataset inventory ({} MB of JSON): {:?}",
        json.len() / 1_000_000,
        start.elapsed()
    );
}

criterion_group!(benches, per_decision, batches, inventory_size, loading);
criterion_main!(benches);
