"""govdata against cedarpy on the same policies, entities and requests, in one run.

    python benches/python/bench_vs_cedarpy.py [--quick] [--write benches/RESULTS-python.md]

Both sides get the default pack and the example inventory: govdata as its engine,
cedarpy through its fastest documented path — a pre-parsed ``PolicySet`` handle, a
pre-parsed ``Entities`` handle (the whole inventory as Cedar entities), and requests whose
context is already a JSON string. Before timing, every request is decided by both and the
answers must agree.

Measured: a single decision from Python (govdata's dict and keyword forms, cedarpy's
``is_authorized``), the same decision made from Rust in the same process (govdata's
engine in a Rust loop, to show what the Python boundary costs), and batch throughput
(``decide_many`` against cedarpy's ``is_authorized_batch``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import sys
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


def per_call(fn, items, min_time):
    """Seconds per call of fn(item), cycling through items for at least min_time; the
    median of five such runs."""
    runs = []
    for _ in range(5):
        n = 0
        start = time.perf_counter()
        while True:
            for it in items:
                fn(it)
            n += len(items)
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        runs.append(elapsed / n)
    return statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter runs (for a smoke test)")
    ap.add_argument("--write", help="write the results as Markdown to this file")
    args = ap.parse_args()
    min_time = 0.05 if args.quick else 0.5
    batch_n = 20_000 if args.quick else 200_000
    cedar_batch_n = 2_000 if args.quick else 20_000

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

    # Single decisions.
    t_dict = per_call(engine.decide, requests, min_time)
    t_kw = per_call(lambda r: engine.decide(principal=r["principal"], action=r["action"],
                                            resource=r["resource"], context=r["context"]), requests, min_time)
    t_cedar = per_call(lambda r: cedarpy.is_authorized(r, policies, entities), cedar_requests, min_time / 2)
    t_parse = per_call(govdata._native._parse_request, requests, min_time)
    t_dumps = per_call(json.dumps, requests, min_time)
    rust_n = 200 if args.quick else 2_000
    t_rust = statistics.median(
        statistics.mean(engine._time_decide_in_rust(r, rust_n) / rust_n for r in requests) for _ in range(3))

    # Batches.
    big = (requests * (batch_n // len(requests) + 1))[:batch_n]
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        engine.decide_many(big)
        runs.append(time.perf_counter() - start)
    t_many = min(runs)
    cbig = (cedar_requests * (cedar_batch_n // len(cedar_requests) + 1))[:cedar_batch_n]
    start = time.perf_counter()
    cedarpy.is_authorized_batch(cbig, policies, entities)
    t_cedar_batch = time.perf_counter() - start

    us = 1e6
    rows = [
        ("govdata `engine.decide(request_dict)`", f"{t_dict * us:.2f} µs", f"{t_cedar / t_dict:.1f}× faster"),
        ("govdata `engine.decide(principal=…, …)`", f"{t_kw * us:.2f} µs", f"{t_cedar / t_kw:.1f}× faster"),
        ("govdata engine from Rust (same process)", f"{t_rust * us:.2f} µs", "—"),
        ("of which: request dict → core `Request` (no JSON)", f"{t_parse * us:.2f} µs", "—"),
        ("for comparison: `json.dumps(request)` alone", f"{t_dumps * us:.2f} µs", "—"),
        ("cedarpy `is_authorized` (pre-parsed handles)", f"{t_cedar * us:.2f} µs", "1×"),
        ("govdata `decide_many` (batch of %d)" % batch_n, f"{batch_n / t_many:,.0f} decisions/s", f"{(batch_n / t_many) / (cedar_batch_n / t_cedar_batch):.1f}× cedarpy batch"),
        ("cedarpy `is_authorized_batch` (batch of %d)" % cedar_batch_n, f"{cedar_batch_n / t_cedar_batch:,.0f} decisions/s", "1×"),
    ]
    overhead = (t_dict - t_rust) * us
    checks = [
        ("single decide ≥ 10× faster than cedarpy", t_cedar / t_dict >= 10, f"{t_cedar / t_dict:.1f}×"),
        ("single decide within 1 µs of Rust", overhead <= 1.0, f"+{overhead:.2f} µs"),
        ("decide_many ≥ 200,000 decisions/s", batch_n / t_many >= 200_000, f"{batch_n / t_many:,.0f}/s"),
    ]

    lines = [
        f"{len(requests)} distinct requests ({allowed} allowed), default pack "
        f"({fixture['policies'].count('@id(')} policies), example inventory "
        f"({len(fixture['entities'])} entities); identical answers from both checked first.",
        "",
        "| measurement | time | ratio |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "| target | met | figure |",
        "|---|---|---|",
        *[f"| {a} | {'yes' if ok else 'NO'} | {fig} |" for a, ok, fig in checks],
    ]
    env = (f"Python {platform.python_version()}, govdata {govdata.__version__}, cedarpy "
           f"{importlib.metadata.version('cedarpy')}, {os.cpu_count()} cores, {platform.machine()}")
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
