"""The example ETL job (examples/etl_job.py), run as a user runs it: govdata carries
out the obligations on the rows (the job has no masking of its own), the output is
encrypted by the vault, and decrypting it shows the rows masked as the core's masks
give them, with a watermark that names the analyst and the decision."""

import csv
import json
import os
import random
import subprocess
import sys

import pyarrow as pa
import pytest

import govdata

from conftest import ROOT

EXAMPLE = ROOT / "bindings-python" / "examples" / "etl_job.py"
#: The declared fields of the example inventory's `hukou`, by type.
HUKOU = {"xm": "name", "sfzh": "resident_id", "sjhm": "mobile", "zz": "address", "csrq": "date_of_birth", "hjlb": None}
ROWS = [
    {"dataset": "population-stats", "xm": "", "sfzh": "", "sjhm": "", "zz": "", "csrq": "", "hjlb": "", "district": "西湖区", "value": "120931"},
    {"dataset": "hukou", "xm": "张小明", "sfzh": "330106199001011234", "sjhm": "13800001111", "zz": "浙江省杭州市西湖区文三路1号", "csrq": "1990-01-01", "hjlb": "非农业", "district": "", "value": ""},
    {"dataset": "hukou", "xm": "欧阳红", "sfzh": "33010619850505234X", "sjhm": "13900002222", "zz": "浙江省杭州市上城区解放路2号", "csrq": "1985-05-05", "hjlb": "农业", "district": "", "value": ""},
    {"dataset": "social-insurance", "xm": "王五", "sfzh": "330102197001013456", "sjhm": "13700003333", "zz": "", "csrq": "", "hjlb": "", "district": "拱墅区", "value": "3200"},
    {"dataset": "medical-records", "xm": "赵六", "sfzh": "330102196001014567", "sjhm": "13600004444", "zz": "", "csrq": "", "hjlb": "", "district": "滨江区", "value": "诊断"},
]
ANALYST, PURPOSE = "li.si", "social_security_check"
MASTER = bytes(range(7, 39))
AUDIT_KEY = bytes(range(32))
MASK_KEY = bytes(range(50, 82))


def _masked(row):
    """A hukou row as the core's masks give it (the standard profile)."""
    return {k: (govdata.mask_values(t, [row[k]])[0] if t else row[k]) for k, t in HUKOU.items()}


def _write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _example():
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import etl_job
    finally:
        sys.path.pop(0)
    return etl_job


@pytest.fixture
def setup(tmp_path, engine):
    """The platform's side: a master key file, a vault with the datasets' data keys made
    by the key administrator, and the input CSV."""
    key_file = tmp_path / "master.key"
    key_file.write_bytes(MASTER)
    vault = govdata.Vault.init(tmp_path / "vault", master_key=key_file, engine=engine)
    for ds in ("population-stats", "hukou", "social-insurance"):
        vault.rotate_key("key.admin", ds)
    vault.rotate_key("key.admin", "medical-records", witness="ops.admin")
    src = tmp_path / "records.csv"
    _write_rows(src, ROWS)
    (tmp_path / "audit.key").write_bytes(AUDIT_KEY)
    (tmp_path / "mask.key").write_bytes(MASK_KEY)
    return {"vault": vault, "key": key_file, "input": src, "output": tmp_path / "extract", "tmp": tmp_path}


def _run(setup, *extra, analyst=ANALYST, env=None):
    cmd = [sys.executable, str(EXAMPLE), "--analyst", analyst, "--purpose", PURPOSE,
           "--input", str(setup["input"]), "--output", str(setup["output"]),
           "--vault", str(setup["tmp"] / "vault"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def _audited(setup):
    return ("--audit", str(setup["tmp"] / "audit"), "--audit-key", str(setup["tmp"] / "audit.key"),
            "--mask-key", str(setup["tmp"] / "mask.key"))


def test_the_job_keeps_what_the_analyst_may_see_masks_it_and_encrypts_it(setup, engine):
    audit = setup["tmp"] / "audit"
    proc = _run(setup, "--master-key", str(setup["key"]), *_audited(setup))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    out = setup["output"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["analyst"] == ANALYST and manifest["policy_version"] == engine.policy_version

    # Nothing of the records is on disk in the clear.
    for f in out.iterdir():
        data = f.read_bytes()
        for row in ROWS:
            for value in (row["xm"], row["sfzh"], row["sjhm"], row["zz"], row["district"]):
                assert not value or value.encode() not in data, (f.name, value)

    etl_job = _example()
    vault = setup["vault"]
    got = {e["dataset"]: etl_job.read_extract(vault, str(out), e) for e in manifest["files"]}
    assert sorted(got) == sorted(f[: -len(etl_job.SUFFIX)] for f in summary["files"])

    # The register's rows arrive masked by the core's masks, field by field, in their
    # order (canary rows of the watermark, if any, come between them).
    assert sorted(got) == ["hukou"]
    want = [_masked(r) for r in ROWS if r["dataset"] == "hukou"]
    rows = [{k: r[k] for k in HUKOU} for r in got["hukou"]]
    real = [r for r in rows if r in want]
    assert real == want
    assert len(rows) - len(real) == summary["canaries"] >= 0
    assert want[1]["xm"] == "欧阳*" and want[1]["sfzh"] == "330106********234X"
    assert summary["kept"] == 2 and summary["obligations"]["hukou"]
    assert "mask_personal_info" in summary["obligations"]["hukou"]
    # What the analyst may not see is gone, and what govdata cannot check too: a
    # dataset that declares no fields releases nothing.
    assert summary["dropped_denied"]
    assert "social-insurance" not in got and "medical-records" not in got
    assert summary["dropped_unappliable"].get("population-stats") == 1
    assert "[request_invalid]" in summary["errors"]["population-stats"]

    # Each file is bound to its dataset and grade.
    entry = next(e for e in manifest["files"] if e["dataset"] == "hukou")
    assert entry["grade"] == "L4"
    data = (out / entry["file"]).read_bytes()
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt("hukou", "L3", data)
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt("hukou", "L4", data[:-1] + bytes([data[-1] ^ 1]))

    # The decisions the job relied on are in the audit log: one query per dataset.
    log = govdata.AuditLog(audit, key=AUDIT_KEY)
    assert log.verify()["ok"]
    seqs = {r["seq"] for r in log.query(user=ANALYST, action="query")}
    assert len(seqs) == 4 and set(summary["audit_seqs"].values()) <= seqs
    assert summary["audit_seqs"]["hukou"] in seqs
    log.close()

    # Shredding a dataset's key (Art. 15) makes its extract unreadable too.
    vault.shred("key.admin", "hukou")
    with pytest.raises(govdata.KeyDestroyedError):
        etl_job.read_extract(vault, str(out), entry)


def test_a_leaked_extract_names_the_analyst_and_the_decision(setup):
    rng = random.Random(3)
    rows = []
    for i in range(4000):
        rows.append({"dataset": "hukou", "xm": rng.choice("王李张刘") + rng.choice(["伟", "芳", "娜娜"]),
                     "sfzh": f"3301{rng.randint(0, 99):02d}19{rng.randint(40, 99)}0101{rng.randint(0, 9999):04d}",
                     "sjhm": f"13{rng.randint(0, 999999999):09d}", "zz": "浙江省杭州市西湖区文三路1号",
                     "csrq": "1990-01-01", "hjlb": "农业"})
    _write_rows(setup["input"], rows)
    proc = _run(setup, "--master-key", str(setup["key"]), *_audited(setup))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["kept"] == 4000 and summary["canaries"] > 0
    manifest = json.loads((setup["output"] / "manifest.json").read_text(encoding="utf-8"))
    leaked = _example().read_extract(setup["vault"], str(setup["output"]), manifest["files"][0])
    # A shuffled third of the rows, one column, is enough to name who and which decision.
    rng.shuffle(leaked)
    sample = pa.table({"sjhm": [r["sjhm"] for r in leaked[: len(leaked) // 3]]})
    found = govdata.detect_watermark(sample, key=MASK_KEY, candidates=["zhang.san", ANALYST])
    assert found is not None and found["recipient"] == ANALYST
    assert found["audit_seq"] == summary["audit_seqs"]["hukou"]


def test_the_job_releases_nothing_without_the_mask_key(setup):
    proc = _run(setup, "--master-key", str(setup["key"]), "--audit", str(setup["tmp"] / "audit"),
                "--audit-key", str(setup["tmp"] / "audit.key"))
    assert proc.returncode == 1
    assert "[key_not_found]" in proc.stderr
    assert not setup["output"].exists()


def test_the_master_key_from_the_environment(setup):
    env = dict(os.environ, GOVDATA_MASTER_KEY=MASTER.hex())
    proc = _run(setup, *_audited(setup), env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"]


def test_the_job_writes_nothing_without_a_data_key(setup):
    setup["vault"].shred("key.admin", "hukou")
    proc = _run(setup, "--master-key", str(setup["key"]), *_audited(setup))
    assert proc.returncode == 1
    assert "[key_destroyed]" in proc.stderr
    assert not setup["output"].exists()


def test_the_job_refuses_a_wrong_master_key(setup):
    bad = setup["tmp"] / "bad.key"
    bad.write_bytes(bytes(32))
    proc = _run(setup, "--master-key", str(bad), *_audited(setup))
    assert proc.returncode == 1
    assert "[key_invalid]" in proc.stderr
    assert not setup["output"].exists()


def test_the_job_reports_engine_errors_by_code(setup):
    proc = _run(setup, "--master-key", str(setup["key"]), *_audited(setup), analyst="nobody")
    assert proc.returncode == 1
    assert "[unknown_entity]" in proc.stderr
    assert not setup["output"].exists()
