"""An ETL job under govdata: the rows the analyst may see, with the obligations of
the decision carried out by govdata itself, written encrypted in the vault.

    python etl_job.py --analyst li.si --purpose social_security_check \\
        --input records.csv --output extract/ \\
        --vault vault/ --master-key master.key --mask-key mask.key \\
        [--audit audit/ --audit-key audit.key]

The input CSV has a ``dataset`` column (the inventory id of the dataset each record
belongs to) and the record's fields, named as the inventory declares them. For each
dataset in the file, its rows (the columns that hold a value in at least one of them)
go to ``govdata.mask_stream`` as one Arrow table, which decides ``query`` (recorded in
the audit log) and carries out the decision's obligations on the data:

- the masking profile (``mask_personal_info`` is ``mask:standard``): each declared field
  masked by the mask of its type of personal information, pseudonymized or nulled;
- ``watermark``: canary rows that name the analyst and the decision's audit record, read
  back from a leaked extract with ``govdata.detect_watermark`` and the mask key;
- a deny, an obligation no batch job can carry out (``dual_control``), a dataset that
  declares no fields or a column it does not declare: govdata raises and releases
  nothing, and the dataset's rows are dropped and counted (fail closed).

What is left to the job is where the data goes: ``encrypt_at_rest`` (the output is
always encrypted); any other such obligation (``encrypt_in_transit``) keeps the rows
out, since this job writes files. The job has no masking of its own.

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
The mask key (``--mask-key``, at least 32 raw bytes) keys the pseudonyms and the
watermarks; a watermark names the decision's audit record, so it needs ``--audit``.
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

import pyarrow as pa
import pyarrow.csv as pacsv

import govdata

#: The obligations about where the data goes that this job meets (it encrypts every
#: file it writes); govdata carries out those on the data itself.
HOST_APPLIED = {"encrypt_at_rest"}
#: The suffix of an encrypted extract.
SUFFIX = ".csv.gdv"


@dataclass
class Report:
    """What the job did."""

    kept: int = 0
    canaries: int = 0
    dropped_denied: Dict[str, int] = field(default_factory=dict)
    dropped_unappliable: Dict[str, int] = field(default_factory=dict)
    errors: Dict[str, str] = field(default_factory=dict)
    obligations: Dict[str, List[str]] = field(default_factory=dict)
    audit_seqs: Dict[str, Optional[int]] = field(default_factory=dict)


@dataclass
class Extract:
    """The released rows of one dataset, as CSV, and what encrypting them needs."""

    dataset: str
    grade: govdata.Grade
    csv: bytes
    rows: int
    obligations: List[str]


def _table(rows: List[Dict[str, str]]) -> pa.Table:
    """One dataset's rows as an Arrow table of the columns that hold a value."""
    names = [k for k in rows[0] if k != "dataset" and any(r.get(k) for r in rows)]
    return pa.table({k: pa.array([r.get(k, "") for r in rows], pa.string()) for k in names})


def _csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return out.getvalue()


def filter_rows(
    engine: govdata.Engine,
    analyst: str,
    purpose: str,
    rows: Iterable[Dict[str, str]],
    scenario_risk: Optional[str] = None,
    mask_key: Optional[bytes] = None,
) -> Tuple[List[Extract], Report]:
    """The rows the analyst may see, with their obligations carried out by govdata,
    grouped by dataset."""
    by_dataset: Dict[str, List[Dict[str, str]]] = {}
    for row in rows:
        by_dataset.setdefault(row["dataset"], []).append(row)
    context: govdata.Context = {"purpose": purpose}
    if scenario_risk:
        context["scenario_risk"] = scenario_risk  # type: ignore[typeddict-item]
    grades = {d["id"]: d.get("grade") for d in engine.inventory()["datasets"]}

    report = Report()
    extracts = []
    for ds in sorted(by_dataset):
        ds_rows = by_dataset[ds]
        request: govdata.Request = {"principal": analyst, "action": "query", "resource": ds, "context": context}
        try:
            released = govdata.mask_stream(engine, request, _table(ds_rows), key=mask_key)
        except govdata.AccessDeniedError as e:
            # A deny, or an obligation that no data call can carry out.
            report.dropped_denied[ds] = len(ds_rows)
            report.errors[ds] = f"[{e.code}] {e}"
            continue
        except govdata.RequestInvalidError as e:
            # Columns govdata cannot check against the dataset's declared fields.
            report.dropped_unappliable[ds] = len(ds_rows)
            report.errors[ds] = f"[{e.code}] {e}"
            continue
        d = released.decision
        report.audit_seqs[ds] = d.audit_seq
        report.obligations[ds] = list(d.obligations)
        # An obligation about where the data goes that this job cannot meet, or a
        # dataset not yet graded (the vault binds the grade to the ciphertext).
        if set(released.host_obligations) - HOST_APPLIED or not grades.get(ds):
            report.dropped_unappliable[ds] = len(ds_rows)
            continue
        table = pa.table(released)
        report.kept += len(ds_rows)
        report.canaries += table.num_rows - len(ds_rows)
        extracts.append(Extract(ds, grades[ds], _csv(table), table.num_rows, list(d.obligations)))
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
    p.add_argument("--mask-key", help="a file of at least 32 raw bytes keying pseudonyms and watermarks")
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
        extracts, report = filter_rows(engine, args.analyst, args.purpose, rows, args.scenario_risk,
                                       mask_key=args.mask_key)
        manifest = {"analyst": args.analyst, "purpose": args.purpose,
                    "policy_version": engine.policy_version}
        files = write_encrypted(vault, extracts, args.output, manifest)
    except govdata.GovdataError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return 1
    finally:
        if log is not None:
            log.close()
    print(json.dumps({"kept": report.kept, "canaries": report.canaries,
                      "dropped_denied": report.dropped_denied,
                      "dropped_unappliable": report.dropped_unappliable, "errors": report.errors,
                      "obligations": report.obligations, "audit_seqs": report.audit_seqs,
                      "files": [f["file"] for f in files]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
