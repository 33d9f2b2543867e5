"""An ETL job under govdata: keep the rows the analyst may see, apply the obligations,
write the result sealed.

    python etl_job.py --analyst li.si --purpose social_security_check \\
        --input records.csv --output visible.csv.sealed

The input CSV has a ``dataset`` column (the inventory id of the dataset each record
belongs to) and the record's fields. For each dataset in the file the engine decides
``query`` once (in one parallel batch); the rows of denied datasets are dropped and
counted, the rows of allowed ones get their decision's obligations applied:

- ``mask_personal_info``: the personal-information columns are masked;
- ``watermark``: every row carries a watermark naming the analyst and the policy version;
- ``encrypt_at_rest``: the output is sealed (it always is);
- anything else (``dual_control`` needs a second person; an obligation this job does not
  know) cannot be applied by a batch job, so those rows are dropped: fail closed.

Sealing goes through the ``Sealer`` seam. The package's vault is not exposed yet; until it
is, the only sealer here is ``UnencryptedPlaceholderSealer``, which does NOT encrypt and
which the job refuses to use unless ``--allow-unencrypted-placeholder`` is given.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Protocol, Sequence

import govdata

#: The columns that hold personal information (masked under ``mask_personal_info``).
PERSONAL_COLUMNS = ("name", "id_number", "phone", "address")
#: The obligations this job knows how to apply.
APPLIED = {"mask_personal_info", "watermark", "encrypt_at_rest"}


class Sealer(Protocol):
    """Where the result is encrypted: the seam the vault will fill."""

    #: A short name recorded in the output header.
    name: str

    def seal(self, dataset_ids: Sequence[str], plaintext: bytes) -> bytes:
        """The sealed form of ``plaintext`` (rows of ``dataset_ids``)."""
        ...


class UnencryptedPlaceholderSealer:
    """NOT ENCRYPTION. A stand-in until the vault lands: it frames the plaintext with a
    header that says so, so that nothing can mistake the output for sealed data."""

    name = "unencrypted-placeholder"
    MAGIC = b"GOVDATA-UNENCRYPTED-PLACEHOLDER\n"

    def seal(self, dataset_ids: Sequence[str], plaintext: bytes) -> bytes:
        header = json.dumps({"datasets": sorted(set(dataset_ids))}).encode() + b"\n"
        return self.MAGIC + header + plaintext

    @classmethod
    def unseal(cls, sealed: bytes) -> bytes:
        if not sealed.startswith(cls.MAGIC):
            raise ValueError("not written by UnencryptedPlaceholderSealer")
        return sealed[len(cls.MAGIC):].split(b"\n", 1)[1]


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


def run(
    engine: govdata.Engine,
    analyst: str,
    purpose: str,
    rows: Iterable[Dict[str, str]],
    sealer: Sealer,
    scenario_risk: Optional[str] = None,
) -> tuple[bytes, Report]:
    rows = list(rows)
    datasets = sorted({r["dataset"] for r in rows})
    context: govdata.Context = {"purpose": purpose}
    if scenario_risk:
        context["scenario_risk"] = scenario_risk  # type: ignore[typeddict-item]
    requests: List[govdata.Request] = [
        {"principal": analyst, "action": "query", "resource": d, "context": context} for d in datasets
    ]
    decisions = dict(zip(datasets, engine.decide_many(requests)))

    report = Report()
    fieldnames: List[str] = []
    out_rows: List[Dict[str, str]] = []
    for row in rows:
        d = decisions[row["dataset"]]
        report.reasons[row["dataset"]] = [r.policy for r in d.reasons]
        if not d.allowed:
            report.dropped_denied[row["dataset"]] = report.dropped_denied.get(row["dataset"], 0) + 1
            continue
        report.obligations[row["dataset"]] = list(d.obligations)
        if set(d.obligations) - APPLIED:
            report.dropped_unappliable[row["dataset"]] = report.dropped_unappliable.get(row["dataset"], 0) + 1
            continue
        row = dict(row)
        if "mask_personal_info" in d.obligations:
            for col in PERSONAL_COLUMNS:
                if row.get(col):
                    row[col] = mask(row[col])
        if "watermark" in d.obligations:
            row["_watermark"] = f"{analyst}|{d.policy_version[:19]}"
        for k in row:
            if k not in fieldnames:
                fieldnames.append(k)
        out_rows.append(row)
        report.kept += 1

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fieldnames, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(out_rows)
    sealed = sealer.seal([r["dataset"] for r in out_rows], buf.getvalue().encode("utf-8"))
    return sealed, report


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--analyst", required=True)
    p.add_argument("--purpose", required=True)
    p.add_argument("--scenario-risk", choices=govdata.SCENARIO_RISKS)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--policies", nargs="*", help="policy directories (default: the default pack)")
    p.add_argument("--inventory", help="inventory JSON (default: the example inventory)")
    p.add_argument("--allow-unencrypted-placeholder", action="store_true",
                   help="write through the placeholder sealer, which does NOT encrypt")
    args = p.parse_args(argv)

    if not args.allow_unencrypted_placeholder:
        print("refusing to write: no encrypting sealer is available yet; pass "
              "--allow-unencrypted-placeholder to write the framed plaintext", file=sys.stderr)
        return 2
    if args.inventory or args.policies:
        engine = govdata.Engine(policies=args.policies or None, inventory=args.inventory)
    else:
        engine = govdata.Engine.default()
    with open(args.input, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    try:
        sealed, report = run(engine, args.analyst, args.purpose, rows,
                             UnencryptedPlaceholderSealer(), args.scenario_risk)
    except govdata.GovdataError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return 1
    with open(args.output, "wb") as f:
        f.write(sealed)
    print(json.dumps({"kept": report.kept, "dropped_denied": report.dropped_denied,
                      "dropped_unappliable": report.dropped_unappliable,
                      "obligations": report.obligations}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
