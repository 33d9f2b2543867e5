"""govdata against cedarpy on the same policies, entities and requests, in one run.

    python benches/python/bench_vs_cedarpy.py [--quick] [--write benches/RESULTS-python.md]

Both sides get the default pack and the example inventory: govdata as its engine,
cedarpy through its fastest documented path — a pre-parsed ``PolicySet`` handle, a
pre-parsed ``Entities`` handle (the whole inventory as Cedar entities), and requests whose
context is already a JSON string. Before timing, every request is decided by both and the
answers must agree.

Measured: a single decision from Python (govdata's dict and keyword forms, and the dict
form followed by reading what a job reads; cedarpy's ``is_authorized``), the same
decisions made from Rust in the same process (govdata's engine in a Rust loop over the
same requests in the same order, to show what the Python boundary costs), and batch
throughput (``decide_many`` against cedarpy's ``is_authorized_batch``, and against the
core's own ``decide_many`` on the same batch). The contenders are interleaved round by
round and each ratio is taken within a round, so that the load of a shared machine falls
on both sides of it. For orientation, also a single decision with an audit log attached
(``sync="none"``: the record is appended, hashed and MACed, not synced), which is what an
audited ETL job pays per decision. The load average before and after the run is printed
with the figures: on a shared machine it explains them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import cedarpy

import govdata

USERS = ["zhang.san", "li.si", "gongan.officer", "wang.wu", "zhao.liu", "zhou.ba", "vendor.wang",
         "yunwei.ops", "ops.engineer", "huzheng.analyst", "chen.yi", "jiaotong.analyst"]
ACTIONS = ["query", "process", "export", "modify", "transmit", "backup"]
PURPOSES = ["statistics", "social_security_check", "public_security", "public_health"]
CHANNEL = {"encrypted": True, "authenticated": True, "integrity_checked": True}


def make_requests(engine: govdata.Engine) -> list:
    datasets = [d["id"] for d in engine.inventory()["datasets"]]
    out = []
    i = 0
    for u in USERS:
        for a in ACTIONS:
            for d in datasets:
                ctx = {"purpose": PURPOSES[i % len(PURPOSES)]}
                if a == "transmit":
                    ctx["channel"] = CHANNEL
                if i % 3 == 0:
                    ctx["scenario_risk"] = ["low", "medium", "high"][i % 3]
                out.append({"principal": u, "action": a, "resource": d, "context": ctx})
                i += 1
    return out


def loop(fn, items):
    """A contender that calls fn(item) for every item, `passes` times; returns the wall
    and the CPU seconds of this thread."""
    def run(passes):
        cpu, start = time.thread_time(), time.perf_counter()
        for _ in range(passes):
            for it in items:
                fn(it)
        return time.perf_counter() - start, time.thread_time() - cpu
    return run


def in_rust(engine, requests):
    """The same decisions from Rust: the helper reads the requests, then times its loop
    (wall); the CPU time of the reading alone (a call with no rounds) is taken off."""
    def run(passes):
        cpu = time.thread_time()
        engine._time_decide_in_rust(requests, 0)
        reading = time.thread_time() - cpu
        cpu = time.thread_time()
        wall = engine._time_decide_in_rust(requests, passes)
        return wall, time.thread_time() - cpu - reading
    return run


def calibrate(run, min_time):
    """How many passes make one measurement of `run` last about min_time."""
    passes = 1
    while True:
        t, _ = run(passes)
        if t >= min_time / 4 or passes >= 1 << 20:
            return max(1, round(passes * min_time / t))
        passes *= 4


def interleaved(contenders, n_items, reps, min_time):
    """Seconds per item of each contender: `reps` rounds, each measuring every contender
    once, the order rotating from round to round so that a change of load falls on all
    of them alike. Returns {name: ([wall per item], [CPU per item])}, one entry per round.

    The CPU time is the calling thread's (every contender here runs on it, the Rust
    loop included): other processes that take the cores lengthen the wall time of
    whichever contender they interrupt, much less its CPU time."""
    passes = {name: calibrate(run, min_time) for name, run in contenders.items()}
    names = list(contenders)
    out = {name: ([], []) for name in names}
    for k in range(reps):
        for name in names[k % len(names):] + names[:k % len(names)]:
            wall, cpu = contenders[name](passes[name])
            out[name][0].append(wall / (passes[name] * n_items))
            out[name][1].append(cpu / (passes[name] * n_items))
    return out


def median_range(xs):
    return statistics.median(xs), min(xs), max(xs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter runs (for a smoke test)")
    ap.add_argument("--write", help="write the results as Markdown to this file")
    args = ap.parse_args()
    min_time = 0.05 if args.quick else 0.3
    reps = 3 if args.quick else 9
    batch_n = 20_000 if args.quick else 200_000
    cedar_batch_n = 2_000 if args.quick else 20_000
    batch_reps = 2 if args.quick else 5

    load_before = os.getloadavg()
    engine = govdata.Engine.default()
    requests = make_requests(engine)
    fixture = engine._plain_cedar(requests)
    policies = cedarpy.PolicySet.from_str(fixture["policies"])
    entities = cedarpy.Entities.from_json_str(json.dumps(fixture["entities"]))
    cedar_requests = [dict(r, context=json.dumps(r["context"])) for r in fixture["requests"]]

    # The same answers, or the comparison means nothing.
    ours = engine.decide_many(requests)
    theirs = cedarpy.is_authorized_batch(cedar_requests, policies, entities)
    mismatches = [(r, o.decision, t.decision.value) for r, o, t in zip(requests, ours, theirs)
                  if o.allowed != t.allowed]
    if mismatches:
        print(f"{len(mismatches)} of {len(requests)} decisions differ, e.g. {mismatches[:3]}", file=sys.stderr)
        return 1
    allowed = sum(d.allowed for d in ours)

    def read(r):
        d = engine.decide(r)
        return d.allowed, d.reason_ids, d.obligations

    # Single decisions: every contender over the same requests in the same order,
    # interleaved round by round.
    n = len(requests)
    single = interleaved({
        "dict": loop(engine.decide, requests),
        "kw": loop(lambda r: engine.decide(principal=r["principal"], action=r["action"],
                                           resource=r["resource"], context=r["context"]), requests),
        "read": loop(read, requests),
        "rust": in_rust(engine, requests),
        "cedar": loop(lambda r: cedarpy.is_authorized(r, policies, entities), cedar_requests),
    }, n, reps, min_time)
    parts = interleaved({
        "parse": loop(govdata._native._parse_request, requests),
        "dumps": loop(json.dumps, requests),
    }, n, reps, min_time)

    # With an audit log attached.
    with tempfile.TemporaryDirectory() as tmp:
        log = govdata.AuditLog(os.path.join(tmp, "audit"), key=os.urandom(32), sync="none")
        audited = govdata.Engine.default(audit=log)
        audit_runs = interleaved({"audited": loop(audited.decide, requests),
                                  "cedar": loop(lambda r: cedarpy.is_authorized(r, policies, entities),
                                                cedar_requests)}, n, 3, min_time)
        log.close()

    # Batches, alternated: govdata's decide_many from Python, the core's decide_many on
    # the same batch from Rust, cedarpy's batch.
    big = (requests * (batch_n // n + 1))[:batch_n]
    cbig = (cedar_requests * (cedar_batch_n // n + 1))[:cedar_batch_n]
    many, many_cpu, many_rust, cedar_batch = [], [], [], []
    for _ in range(batch_reps):
        cpu, start = time.process_time(), time.perf_counter()
        engine.decide_many(big)
        many.append(batch_n / (time.perf_counter() - start))
        many_cpu.append((time.process_time() - cpu) / batch_n)
        many_rust.append(batch_n / engine._time_decide_many_in_rust(big))
        start = time.perf_counter()
        cedarpy.is_authorized_batch(cbig, policies, entities)
        cedar_batch.append(cedar_batch_n / (time.perf_counter() - start))
    rate = median_range(many)
    rate_rust = statistics.median(many_rust)
    cpu_per = statistics.median(many_cpu)
    rate_cedar = statistics.median(cedar_batch)

    us = 1e6
    WALL, CPU = 0, 1

    def med(runs, name, kind=CPU):
        return statistics.median(runs[name][kind]) * us

    def per_round(runs, f, a, b, kind=CPU):
        return median_range([f(x, y) for x, y in zip(runs[a][kind], runs[b][kind])])

    def speedup(runs, ours, kind=CPU):
        return per_round(runs, lambda c, o: c / o, "cedar", ours, kind)

    def gap(runs, ours, kind=CPU):
        return per_round(runs, lambda o, r: (o - r) * us, ours, "rust", kind)

    def rng(m, lo, hi, fmt):
        return f"{fmt.format(m)} ({fmt.format(lo)} to {fmt.format(hi)})"

    def times(runs, name):
        return f"{med(runs, name):.2f} µs", f"{med(runs, name, WALL):.2f} µs"

    ratio, ratio_kw, ratio_read = speedup(single, "dict"), speedup(single, "kw"), speedup(single, "read")
    ratio_wall = speedup(single, "dict", WALL)
    over, over_kw, over_wall = gap(single, "dict"), gap(single, "kw"), gap(single, "dict", WALL)
    rows = [
        ("govdata `engine.decide(request_dict)`", *times(single, "dict"), f"{rng(*ratio, '{:.1f}×')} faster"),
        ("govdata `engine.decide(principal=…, …)`", *times(single, "kw"), f"{rng(*ratio_kw, '{:.1f}×')} faster"),
        ("govdata `decide`, then read `allowed`, `reason_ids`, `obligations`", *times(single, "read"),
         f"{rng(*ratio_read, '{:.1f}×')} faster"),
        ("govdata engine from Rust: the same requests in the same order, same process", *times(single, "rust"),
         f"Python `decide(dict)` +{rng(*over, '{:.2f}')} µs, keywords +{rng(*over_kw, '{:.2f}')} µs"),
        ("of which: request dict → core `Request` (no JSON)", *times(parts, "parse"), "—"),
        ("for comparison: `json.dumps(request)` alone", *times(parts, "dumps"), "—"),
        ("govdata `engine.decide(request_dict)`, audit log attached (sync=none)", *times(audit_runs, "audited"),
         f"{speedup(audit_runs, 'audited')[0]:.1f}× faster"),
        ("cedarpy `is_authorized` (pre-parsed handles)", *times(single, "cedar"), "1×"),
    ]
    batch_rows = [
        ("govdata `decide_many` (batch of %d)" % batch_n,
         f"{rng(rate[0], rate[1], rate[2], '{:,.0f}')}/s", f"{cpu_per * us:.2f} µs",
         f"{rate[0] / rate_cedar:.1f}× cedarpy's batch"),
        ("the core's `decide_many` from Rust, same batch", f"{rate_rust:,.0f}/s", "—",
         f"Python at {rate[0] / rate_rust:.2f}× of it"),
        ("cedarpy `is_authorized_batch` (batch of %d)" % cedar_batch_n, f"{rate_cedar:,.0f}/s", "—", "1×"),
    ]
    def met(cpu_ok, wall_ok):
        return "yes" if cpu_ok and wall_ok else "NO" if not (cpu_ok or wall_ok) else \
            ("on CPU time; NO on wall time" if cpu_ok else "on wall time; NO on CPU time")

    checks = [
        ("single decide ≥ 10× faster than cedarpy", met(ratio[0] >= 10, ratio_wall[0] >= 10),
         f"{ratio[0]:.1f}× CPU, {ratio_wall[0]:.1f}× wall (medians of {reps} rounds)"),
        ("single decide within 1 µs of Rust", met(over[0] <= 1.0, over_wall[0] <= 1.0),
         f"+{over[0]:.2f} µs CPU, +{over_wall[0]:.2f} µs wall (medians of {reps} rounds)"),
        ("decide_many ≥ 200,000 decisions/s", "yes" if rate[0] >= 200_000 else "NO",
         f"{rate[0]:,.0f}/s wall (2 cores ÷ {cpu_per * us:.2f} µs CPU per decision = "
         f"{2 / cpu_per:,.0f}/s if nothing else ran on them)"),
    ]

    lines = [
        f"{n} distinct requests ({allowed} allowed), default pack "
        f"({fixture['policies'].count('@id(')} policies), example inventory "
        f"({len(fixture['entities'])} entities); identical answers from both checked first.",
        "",
        f"Single decisions: {reps} rounds, each timing every contender over all {n} requests "
        f"(as many passes as take about {min_time} s) in an order that rotates from round to "
        f"round. CPU is the calling thread's CPU time (every contender runs on it, the Rust "
        f"loop included), which other processes on the cores disturb far less than the wall "
        f"time; a time is the median over the rounds, a ratio or difference the median (and "
        f"range) of the per-round ones.",
        "",
        "| measurement | CPU per decision | wall per decision | ratio (CPU) |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Batches: {batch_reps} rounds alternating the three; CPU is the whole process's "
        f"(every thread) per decision.",
        "",
        "| measurement | decisions/s (wall) | CPU per decision | ratio |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in batch_rows],
        "",
        "| target | met | figure |",
        "|---|---|---|",
        *[f"| {a} | {ok} | {fig} |" for a, ok, fig in checks],
    ]
    load_after = os.getloadavg()
    env = (f"Python {platform.python_version()}, govdata {govdata.__version__}, cedarpy "
           f"{importlib.metadata.version('cedarpy')}, {os.cpu_count()} cores, {platform.machine()}; "
           f"load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in load_before)} before the run, "
           f"{'/'.join(f'{x:.2f}' for x in load_after)} after")
    print("\n".join(lines))
    print()
    print(env)
    if args.write:
        cmd = "python benches/python/bench_vs_cedarpy.py --write benches/RESULTS-python.md"
        with open(args.write, "w", encoding="utf-8") as f:
            f.write("# govdata (Python) against cedarpy\n\n")
            f.write("Produced by (after `bash scripts/test-python.sh` has built the package into "
                    "`bindings-python/.venv`, and `pip install cedarpy` there):\n\n")
            f.write(f"```sh\nbindings-python/.venv/bin/{cmd}\n```\n\n")
            f.write(env + ".\n\n")
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
