"""Masking N rows x 4 personal-information columns (resident ID, mobile, name, bank
card) three ways in the same run: govdata.mask_table on a pyarrow table (zero-copy in
and out through the Arrow PyCapsule interface), pandas `.str` operations, and
pyarrow.compute, each doing the same masks (ID keeps 6 + 4, mobile 3 + 4, name the
first character, bank card 6 + 4), checked equal on every row. Prints wall time per
side (the best of RUNS runs each), the ratios, and the peak resident memory that
mask_table adds, over the table's size (the kernel's high-water mark, reset before the
call through /proc/self/clear_refs).

    bindings-python/.venv/bin/python benches/python/bench_mask.py [ROWS] [RUNS]
"""

import gc
import os
import pathlib
import random
import shutil
import sys
import tempfile
import time

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import govdata

ROWS = 10_000_000
RUNS = 3
KEY = bytes(range(1, 33))
REQUEST = {"principal": "zhang.san", "action": "query", "resource": "card-holders", "context": {"scenario_risk": "low"}}
INVENTORY = {
    "departments": [{"id": "gongan", "kind": "user"}],
    "users": [{"id": "zhang.san", "department": "gongan", "roles": ["analyst"]}],
    "datasets": [{
        "id": "card-holders", "owner": "gongan", "grade": "L4", "stage": "storage",
        "personal_info": "sensitive", "share_type": "conditional",
        "fields": [
            {"name": "sfzh", "type": "resident_id", "sensitivity": "sensitive"},
            {"name": "sjhm", "type": "mobile", "sensitivity": "personal"},
            {"name": "xm", "type": "name", "sensitivity": "personal"},
            {"name": "yhkh", "type": "bank_card", "sensitivity": "sensitive"},
        ],
    }],
}
POLICY = '''@id("bench-mask") @article("第十三条") @zh("脱敏查询") @en("masked query")
@obligations("mask:standard")
permit (principal, action == Action::"query", resource is Dataset);
'''


def table(n):
    rng = random.Random(1)
    digits = lambda k: "".join(rng.choice("0123456789") for _ in range(k))
    base_ids = [f"{rng.randint(11, 65)}{digits(4)}19{digits(2)}0101{digits(3)}X" for _ in range(1000)]
    base_mob = [f"1{rng.randint(3, 9)}{digits(9)}" for _ in range(1000)]
    base_names = [rng.choice("王李张刘陈杨") + rng.choice(["伟", "芳娜", "强"]) for _ in range(1000)]
    base_cards = [f"622202{digits(10)}" for _ in range(1000)]
    idx = pa.array([rng.randrange(1000) for _ in range(min(n, 1_000_000))])
    reps = -(-n // len(idx))
    take = pa.concat_arrays([idx] * reps).slice(0, n)
    return pa.table({
        "sfzh": pa.array(base_ids).take(take),
        "sjhm": pa.array(base_mob).take(take),
        "xm": pa.array(base_names).take(take),
        "yhkh": pa.array(base_cards).take(take),
    })


def with_pandas(t):
    df = t.to_pandas()
    out = pd.DataFrame({
        "sfzh": df["sfzh"].str[:6] + "********" + df["sfzh"].str[-4:],
        "sjhm": df["sjhm"].str[:3] + "****" + df["sjhm"].str[-4:],
        "xm": df["xm"].str[:1] + df["xm"].str[1:].str.replace(r".", "*", regex=True),
        "yhkh": df["yhkh"].str[:6] + df["yhkh"].str[6:-4].str.replace(r".", "*", regex=True) + df["yhkh"].str[-4:],
    })
    return out


def with_pyarrow(t):
    def ends(col, head, tail):
        n = pc.utf8_length(col)
        stars = pc.binary_repeat("*", pc.subtract(n, head + tail))
        return pc.binary_join_element_wise(pc.utf8_slice_codeunits(col, 0, head), stars,
                                           pc.utf8_slice_codeunits(col, -tail), "")
    return pa.table({
        "sfzh": ends(t["sfzh"], 6, 4),
        "sjhm": ends(t["sjhm"], 3, 4),
        "xm": pc.binary_join_element_wise(pc.utf8_slice_codeunits(t["xm"], 0, 1),
                                          pc.binary_repeat("*", pc.subtract(pc.utf8_length(t["xm"]), 1)), ""),
        "yhkh": ends(t["yhkh"], 6, 4),
    })


def timed(f):
    best, out = None, None
    for _ in range(RUNS):
        out = None
        start = time.perf_counter()
        out = f()
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    return best, out


def _status(field):
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def peak_growth(f):
    """The resident memory `f` adds at its peak, in bytes."""
    gc.collect()
    with open("/proc/self/clear_refs", "w", encoding="ascii") as c:
        c.write("5")  # reset the high-water mark (VmHWM) to the current RSS
    before = _status("VmRSS")
    out = f()
    return _status("VmHWM") - before, out


def main():
    t = table(ROWS)
    size = t.nbytes
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(f"{d}/pack")
        schema = pathlib.Path(__file__).resolve().parents[2] / "policies" / "schema.cedarschema"
        shutil.copy(schema, f"{d}/pack/schema.cedarschema")
        pathlib.Path(f"{d}/pack/bench.cedar").write_text(POLICY, encoding="utf-8")
        engine = govdata.Engine(f"{d}/pack", INVENTORY)
        grown, masked = peak_growth(lambda: govdata.mask_table(engine, REQUEST, t, key=KEY))
        del masked
        g, masked = timed(lambda: govdata.mask_table(engine, REQUEST, t, key=KEY))
    a, aout = timed(lambda: with_pyarrow(t))
    for col in ["sfzh", "sjhm", "xm", "yhkh"]:
        assert masked.column(col).equals(aout.column(col)), col
    del aout
    p, pout = timed(lambda: with_pandas(t))
    for col in ["sfzh", "sjhm", "xm", "yhkh"]:
        assert masked.column(col).to_pylist()[:1000] == pout[col].tolist()[:1000], col
    print(f"rows {ROWS:,}  table {size / 1e6:.0f} MB  best of {RUNS} runs  load {os.getloadavg()[0]:.1f}")
    print(f"govdata.mask_table   {g:8.2f} s")
    print(f"pandas .str          {p:8.2f} s   govdata is {p / g:5.1f}x pandas")
    print(f"pyarrow.compute      {a:8.2f} s   govdata is {a / g:5.1f}x pyarrow.compute")
    print(f"peak memory mask_table adds: {grown / 1e6:.0f} MB = {grown / size:.2f}x the table's size")


if __name__ == "__main__":
    ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else RUNS
    main()
