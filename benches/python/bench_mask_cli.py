"""`govdata mask` on a CSV file of about SIZE_MB megabytes (4 personal-information
columns as in bench_mask.py, and a kept column), timed end to end as a user runs it:
once under a masking profile alone and once with a watermark too (canary rows among
the masked rows). Prints the rate in MB/s of input.

    bindings-python/.venv/bin/python benches/python/bench_mask_cli.py GOVDATA_BIN [SIZE_MB]
"""

import copy
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_mask  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = sys.argv[1]
SIZE = int(sys.argv[2]) * 1_000_000 if len(sys.argv) > 2 else 1_000_000_000
# The dataset of bench_mask.py, with a field that is not personal information (kept).
INVENTORY = copy.deepcopy(bench_mask.INVENTORY)
INVENTORY["datasets"][0]["fields"].append({"name": "jlh"})
REQUEST = bench_mask.REQUEST
POLICY = bench_mask.POLICY.replace("mask:standard", "{obligations}")


def block(rows=100_000):
    rng = random.Random(1)
    digits = lambda k: "".join(rng.choice("0123456789") for _ in range(k))
    lines = []
    for i in range(rows):
        lines.append(",".join([
            f"{rng.randint(11, 65)}{digits(4)}19{digits(2)}0101{digits(3)}X",
            f"1{rng.randint(3, 9)}{digits(9)}",
            rng.choice("王李张刘陈杨") + rng.choice(["伟", "芳娜", "强"]),
            f"622202{digits(10)}",
            str(i),
        ]))
    return ("\n".join(lines) + "\n").encode()


def run(d, obligations, src, audit):
    pack = d / ("pack-" + obligations.replace(",", "-").replace(":", "-"))
    pack.mkdir()
    shutil.copy(ROOT / "policies" / "schema.cedarschema", pack / "schema.cedarschema")
    (pack / "bench.cedar").write_text(POLICY.format(obligations=obligations), encoding="utf-8")
    out = d / "out.csv"
    args = [BIN, "mask", "--policies", str(pack), "--inventory", str(d / "inv.json"),
            "--request", str(d / "req.json"), "--key-file", str(d / "mask.key"), str(src), "-o", str(out)]
    if audit:
        args += ["--audit", str(d / "audit"), "--audit-key-file", str(d / "audit.key")]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    size = src.stat().st_size
    print(f"govdata mask ({obligations:24}) {size / 1e6:7.0f} MB in {took:6.2f} s = {size / 1e6 / took:6.0f} MB/s"
          f"   {proc.stderr.strip().splitlines()[-1]}")
    head = out.open(encoding="utf-8").readlines()[1:3]
    assert all("****" in line for line in head), head
    out.unlink()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        (d / "inv.json").write_text(json.dumps(INVENTORY), encoding="utf-8")
        (d / "req.json").write_text(json.dumps(REQUEST), encoding="utf-8")
        for name in ("mask.key", "audit.key"):
            (d / name).write_bytes(os.urandom(32))
            os.chmod(d / name, 0o600)
        src = d / "in.csv"
        data = block()
        with src.open("wb") as f:
            f.write(b"sfzh,sjhm,xm,yhkh,jlh\n")
            written = 0
            while written < SIZE:
                f.write(data)
                written += len(data)
        print(f"load {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
        run(d, "mask:standard", src, audit=False)
        run(d, "mask:standard,watermark", src, audit=True)


if __name__ == "__main__":
    main()
