"""The example ETL job (examples/etl_job.py), run as a user runs it."""

import csv
import io
import json
import subprocess
import sys

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


def _write_input(tmp_path):
    path = tmp_path / "records.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(ROWS[0]))
        w.writeheader()
        w.writerows(ROWS)
    return path


def _run(tmp_path, *extra):
    out = tmp_path / "visible.csv.sealed"
    cmd = [sys.executable, str(EXAMPLE), "--analyst", ANALYST, "--purpose", PURPOSE,
           "--input", str(_write_input(tmp_path)), "--output", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120), out


def test_the_job_keeps_what_the_analyst_may_see_and_applies_the_obligations(tmp_path, engine):
    proc, out = _run(tmp_path, "--allow-unencrypted-placeholder")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)

    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        from etl_job import UnencryptedPlaceholderSealer, mask
    finally:
        sys.path.pop(0)
    sealed = out.read_bytes()
    assert sealed.startswith(UnencryptedPlaceholderSealer.MAGIC)
    rows = list(csv.DictReader(io.StringIO(UnencryptedPlaceholderSealer.unseal(sealed).decode("utf-8"))))

    # The engine's own answers, asked directly, are what the job must have followed.
    expected = []
    for row in ROWS:
        d = engine.decide(principal=ANALYST, action="query", resource=row["dataset"], context={"purpose": PURPOSE})
        if d.allowed and set(d.obligations) <= {"mask_personal_info", "watermark", "encrypt_at_rest"}:
            expected.append((row, d))
    assert len(rows) == len(expected) == summary["kept"]
    assert 0 < len(rows) < len(ROWS), "the example must both keep and drop rows"
    for got, (src, d) in zip(rows, expected):
        assert got["dataset"] == src["dataset"]
        for col in ("name", "id_number", "phone"):
            if "mask_personal_info" in d.obligations and src[col]:
                assert got[col] == mask(src[col]) and got[col] != src[col]
            else:
                assert got[col] == src[col]
        if "watermark" in d.obligations:
            assert got["_watermark"].startswith(ANALYST + "|sha256:")
    # Sensitive personal data the analyst may see arrives masked, and what they may not is gone.
    hukou = [r for r in rows if r["dataset"] == "hukou"]
    assert hukou and all("*" in r["id_number"] for r in hukou)
    assert not [r for r in rows if r["dataset"] in ("social-insurance", "medical-records")]
    assert summary["dropped_denied"]


def test_the_job_refuses_to_write_unencrypted_without_being_told(tmp_path):
    proc, out = _run(tmp_path)
    assert proc.returncode == 2
    assert "refusing" in proc.stderr
    assert not out.exists()


def test_the_job_reports_engine_errors_by_code(tmp_path):
    out = tmp_path / "o"
    cmd = [sys.executable, str(EXAMPLE), "--analyst", "nobody", "--purpose", PURPOSE,
           "--input", str(_write_input(tmp_path)), "--output", str(out), "--allow-unencrypted-placeholder"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "[unknown_entity]" in proc.stderr
