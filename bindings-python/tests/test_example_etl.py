"""The example ETL job (examples/etl_job.py), run as a user runs it: its output is
encrypted by the vault, and decrypting it shows the rows and the masking it owes."""

import csv
import json
import os
import subprocess
import sys

import pytest

import govdata

from conftest import ROOT

EXAMPLE = ROOT / "bindings-python" / "examples" / "etl_job.py"
ROWS = [
    {"dataset": "population-stats", "name": "", "id_number": "", "phone": "", "district": "西湖区", "value": "120931"},
    {"dataset": "hukou", "name": "张小明", "id_number": "330106199001011234", "phone": "13800001111", "district": "西湖区", "value": ""},
    {"dataset": "hukou", "name": "李红", "id_number": "330106198505052345", "phone": "13900002222", "district": "上城区", "value": ""},
    {"dataset": "social-insurance", "name": "王五", "id_number": "330102197001013456", "phone": "13700003333", "district": "拱墅区", "value": "3200"},
    {"dataset": "medical-records", "name": "赵六", "id_number": "330102196001014567", "phone": "13600004444", "district": "滨江区", "value": "诊断"},
]
ANALYST, PURPOSE = "li.si", "social_security_check"
MASTER = bytes(range(7, 39))
AUDIT_KEY = bytes(range(32))


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
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(ROWS[0]))
        w.writeheader()
        w.writerows(ROWS)
    (tmp_path / "audit.key").write_bytes(AUDIT_KEY)
    return {"vault": vault, "key": key_file, "input": src, "output": tmp_path / "extract", "tmp": tmp_path}


def _run(setup, *extra, analyst=ANALYST, env=None):
    cmd = [sys.executable, str(EXAMPLE), "--analyst", analyst, "--purpose", PURPOSE,
           "--input", str(setup["input"]), "--output", str(setup["output"]),
           "--vault", str(setup["tmp"] / "vault"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_the_job_keeps_what_the_analyst_may_see_masks_it_and_encrypts_it(setup, engine):
    audit = setup["tmp"] / "audit"
    proc = _run(setup, "--master-key", str(setup["key"]), "--audit", str(audit), "--audit-key", str(setup["tmp"] / "audit.key"))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    out = setup["output"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["analyst"] == ANALYST and manifest["policy_version"] == engine.policy_version

    # Nothing of the records is on disk in the clear.
    for f in out.iterdir():
        data = f.read_bytes()
        for row in ROWS:
            for value in (row["name"], row["id_number"], row["phone"], row["district"]):
                assert not value or value.encode() not in data, (f.name, value)

    etl_job = _example()
    vault = setup["vault"]
    got = {e["dataset"]: etl_job.read_extract(vault, str(out), e) for e in manifest["files"]}
    assert sorted(got) == sorted(f[: -len(etl_job.SUFFIX)] for f in summary["files"])

    # The engine's own answers, asked directly, are what the job must have followed.
    expected = {}
    for row in ROWS:
        d = engine.decide(principal=ANALYST, action="query", resource=row["dataset"], context={"purpose": PURPOSE})
        if d.allowed and set(d.obligations) <= etl_job.APPLIED:
            expected.setdefault(row["dataset"], []).append((row, d))
    assert sorted(got) == sorted(expected)
    assert sum(len(v) for v in got.values()) == summary["kept"]
    assert 0 < summary["kept"] < len(ROWS), "the example must both keep and drop rows"
    for ds, pairs in expected.items():
        assert len(got[ds]) == len(pairs)
        for out_row, (src, d) in zip(got[ds], pairs):
            assert out_row["dataset"] == src["dataset"]
            for col in ("name", "id_number", "phone"):
                if "mask_personal_info" in d.obligations and src[col]:
                    assert out_row[col] == etl_job.mask(src[col]) and out_row[col] != src[col]
                else:
                    assert out_row[col] == src[col]
            if "watermark" in d.obligations:
                assert out_row["_watermark"].startswith(ANALYST + "|sha256:")
    # Sensitive personal data the analyst may see arrives masked, and what they may not is gone.
    assert got["hukou"] and all("*" in r["id_number"] for r in got["hukou"])
    assert "social-insurance" not in got and "medical-records" not in got
    assert summary["dropped_denied"]

    # Each file is bound to its dataset and grade.
    entry = next(e for e in manifest["files"] if e["dataset"] == "hukou")
    assert entry["grade"] == "L4"
    data = (out / entry["file"]).read_bytes()
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt("hukou", "L3", data)
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt("hukou", "L4", data[:-1] + bytes([data[-1] ^ 1]))

    # The decisions the job relied on are in the audit log.
    log = govdata.AuditLog(audit, key=AUDIT_KEY)
    assert log.verify()["ok"]
    seqs = {r["seq"] for r in log.query(user=ANALYST, action="query")}
    assert set(summary["audit_seqs"].values()) == seqs and len(seqs) == 4
    log.close()

    # Shredding a dataset's key (Art. 15) makes its extract unreadable too.
    vault.shred("key.admin", "hukou")
    with pytest.raises(govdata.KeyDestroyedError):
        etl_job.read_extract(vault, str(out), entry)


def test_the_master_key_from_the_environment(setup):
    env = dict(os.environ, GOVDATA_MASTER_KEY=MASTER.hex())
    proc = _run(setup, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"]


def test_the_job_writes_nothing_without_a_data_key(setup):
    setup["vault"].shred("key.admin", "population-stats")
    proc = _run(setup, "--master-key", str(setup["key"]))
    assert proc.returncode == 1
    assert "[key_destroyed]" in proc.stderr
    assert not setup["output"].exists()


def test_the_job_refuses_a_wrong_master_key(setup):
    bad = setup["tmp"] / "bad.key"
    bad.write_bytes(bytes(32))
    proc = _run(setup, "--master-key", str(bad))
    assert proc.returncode == 1
    assert "[key_invalid]" in proc.stderr
    assert not setup["output"].exists()


def test_the_job_reports_engine_errors_by_code(setup):
    proc = _run(setup, "--master-key", str(setup["key"]), analyst="nobody")
    assert proc.returncode == 1
    assert "[unknown_entity]" in proc.stderr
    assert not setup["output"].exists()
