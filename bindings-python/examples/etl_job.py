"""An ETL job under govdata: keep the rows the analyst may see, apply the obligations,
write the result encrypted in the vault.

    python etl_job.py --analyst li.si --purpose social_security_check \\
        --input records.csv --output extract/ \\
        --vault vault/ --master-key master.key [--audit audit/ --audit-key audit.key]

The input CSV has a ``dataset`` column (the inventory id of the dataset each record
belongs to) and the record's fields. For each dataset in the file the engine decides
``query`` once (in one parallel batch); the rows of denied datasets are dropped and
counted, the rows of allowed ones get their decision's obligations applied:

- ``mask_personal_info``: the personal-information columns are masked;
- ``watermark``: every row carries a watermark naming the analyst and the policy version;
- ``encrypt_at_rest``: the output is encrypted (it always is);
- anything else (``dual_control`` needs a second person; an obligation this job does not
  know) cannot be applied by a batch job, so those rows are dropped: fail closed.

The rows of each dataset are written to ``<output>/<dataset>.csv.gdv``, encrypted by the
vault under that dataset's data key and bound to its grade, so the extract follows its
source: shredding the dataset's key (Art. 15) makes the extract unreadable too. Nothing
is written in the clear; ``<output>/manifest.json`` lists the files (no record data).
The plaintext exists only in memory.

The vault is the platform's: its key administrator created it and the datasets' data
keys beforehand, for instance::

    engine = govdata.Engine.default()
    vault = govdata.Vault.init("vault/", master_key="master.key", engine=engine)
    vault.rotate_key("key.admin", "hukou")

The master key is a file holding its 32 raw bytes (``--master-key``) or an environment
variable holding 64 hex digits (``--master-key-env``, ``GOVDATA_MASTER_KEY`` by default).
With ``--audit``, every decision the job relies on is recorded in that audit log.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import govdata

#: The columns that hold personal information (masked under ``mask_personal_info``).
PERSONAL_COLUMNS = ("name", "id_number", "phone", "address")
#: The obligations this job knows how to apply.
APPLIED = {"mask_personal_info", "watermark", "encrypt_at_rest"}
#: The suffix of an encrypted extract.
SUFFIX = ".csv.gdv"


def mask(value: str) -> str:
    """Keeps the first and last characters of a value, masks the rest."""
    if len(value) <= 2:
        return "*" * len(value)
    keep = 1 if len(value) < 8 else 3
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


@dataclass
class Report:
    """What the job did."""

    kept: int = 0
    dropped_denied: Dict[str, int] = field(default_factory=dict)
    dropped_unappliable: Dict[str, int] = field(default_factory=dict)
    obligations: Dict[str, List[str]] = field(default_factory=dict)
    reasons: Dict[str, List[str]] = field(default_factory=dict)
    audit_seqs: Dict[str, Optional[int]] = field(default_factory=dict)


@dataclass
class Extract:
    """The visible rows of one dataset, as CSV, and what encrypting them needs."""

    dataset: str
    grade: govdata.Grade
    csv: bytes
    rows: int
    obligations: List[str]


def _count(d: Dict[str, int], key: str) -> None:
    d[key] = d.get(key, 0) + 1


def filter_rows(
    engine: govdata.Engine,
    analyst: str,
    purpose: str,
    rows: Iterable[Dict[str, str]],
    scenario_risk: Optional[str] = None,
) -> Tuple[List[Extract], Report]:
    """The rows the analyst may see, obligations applied, grouped by dataset."""
    rows = list(rows)
    datasets = sorted({r["dataset"] for r in rows})
    context: govdata.Context = {"purpose": purpose}
    if scenario_risk:
        context["scenario_risk"] = scenario_risk  # type: ignore[typeddict-item]
    requests: List[govdata.Request] = [
        {"principal": analyst, "action": "query", "resource": d, "context": context} for d in datasets
    ]
    decisions = dict(zip(datasets, engine.decide_many(requests)))
    grades = {d["id"]: d.get("grade") for d in engine.inventory()["datasets"]}

    report = Report()
    kept: Dict[str, List[Dict[str, str]]] = {}
    for row in rows:
        ds = row["dataset"]
        d = decisions[ds]
        report.reasons[ds] = [r.policy for r in d.reasons]
        report.audit_seqs[ds] = d.audit_seq
        if not d.allowed:
            _count(report.dropped_denied, ds)
            continue
        report.obligations[ds] = list(d.obligations)
        # An obligation the job cannot apply, or a dataset not yet graded (the vault binds
        # the grade to the ciphertext), keeps the rows out: fail closed.
        if set(d.obligations) - APPLIED or not grades.get(ds):
            _count(report.dropped_unappliable, ds)
            continue
        row = dict(row)
        if "mask_personal_info" in d.obligations:
            for col in PERSONAL_COLUMNS:
                if row.get(col):
                    row[col] = mask(row[col])
        if "watermark" in d.obligations:
            row["_watermark"] = f"{analyst}|{d.policy_version[:19]}"
        kept.setdefault(ds, []).append(row)
        report.kept += 1

    extracts = []
    for ds, ds_rows in kept.items():
        fieldnames: List[str] = []
        for row in ds_rows:
            fieldnames += [k for k in row if k not in fieldnames]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fieldnames, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(ds_rows)
        extracts.append(Extract(ds, grades[ds], buf.getvalue().encode("utf-8"), len(ds_rows),
                                report.obligations[ds]))
    return extracts, report


def write_encrypted(vault: govdata.Vault, extracts: Sequence[Extract], output: str,
                    manifest: Dict[str, object]) -> List[Dict[str, object]]:
    """Encrypts every extract first (so that a missing or destroyed key writes nothing),
    then writes the files and the manifest."""
    sealed = [(e, vault.encrypt(e.dataset, e.grade, e.csv)) for e in extracts]
    os.makedirs(output, exist_ok=True)
    files = []
    for e, data in sealed:
        name = e.dataset + SUFFIX
        tmp = os.path.join(output, f".{name}.partial")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(output, name))
        files.append({"dataset": e.dataset, "grade": e.grade, "file": name, "rows": e.rows,
                      "obligations": e.obligations, "suite": vault.default_suite})
    with open(os.path.join(output, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(dict(manifest, files=files), f, ensure_ascii=False, indent=2)
    return files


def read_extract(vault: govdata.Vault, output: str, entry: Dict[str, str]) -> List[Dict[str, str]]:
    """Decrypts one file of an extract (a manifest entry) back into rows."""
    with open(os.path.join(output, entry["file"]), "rb") as f:
        plain = vault.decrypt(entry["dataset"], entry["grade"], f.read())
    return list(csv.DictReader(io.StringIO(plain.decode("utf-8"))))


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--analyst", required=True)
    p.add_argument("--purpose", required=True)
    p.add_argument("--scenario-risk", choices=govdata.SCENARIO_RISKS)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True, help="the directory of the encrypted extract")
    p.add_argument("--vault", required=True, help="the vault directory")
    p.add_argument("--master-key", help="a file holding the 32 raw bytes of the master key")
    p.add_argument("--master-key-env", default="GOVDATA_MASTER_KEY",
                   help="else: an environment variable holding them as 64 hex digits")
    p.add_argument("--audit", help="record the decisions in the audit log in this directory")
    p.add_argument("--audit-key", help="the audit log's sealing key file (with --audit)")
    p.add_argument("--policies", nargs="*", help="policy directories (default: the default pack)")
    p.add_argument("--inventory", help="inventory JSON (default: the example inventory)")
    args = p.parse_args(argv)
    if bool(args.audit) != bool(args.audit_key):
        p.error("--audit and --audit-key go together")

    log = None
    try:
        if args.audit:
            log = govdata.AuditLog(args.audit, key=args.audit_key)
        if args.inventory or args.policies:
            engine = govdata.Engine(policies=args.policies or None, inventory=args.inventory, audit=log)
        else:
            engine = govdata.Engine.default(audit=log)
        if args.master_key:
            vault = govdata.Vault.open(args.vault, master_key=args.master_key, engine=engine)
        else:
            vault = govdata.Vault.open(args.vault, master_key_env=args.master_key_env, engine=engine)
        with open(args.input, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        extracts, report = filter_rows(engine, args.analyst, args.purpose, rows, args.scenario_risk)
        manifest = {"analyst": args.analyst, "purpose": args.purpose,
                    "policy_version": engine.policy_version}
        files = write_encrypted(vault, extracts, args.output, manifest)
    except govdata.GovdataError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return 1
    finally:
        if log is not None:
            log.close()
    print(json.dumps({"kept": report.kept, "dropped_denied": report.dropped_denied,
                      "dropped_unappliable": report.dropped_unappliable,
                      "obligations": report.obligations, "audit_seqs": report.audit_seqs,
                      "files": [f["file"] for f in files]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
