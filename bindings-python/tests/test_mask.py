"""Masks, pseudonyms and watermarks from Python: the shared vectors of
tests/vectors/masks, and a decision's obligations carried out on pyarrow tables and
pandas frames, failing closed."""

import json
import random

import pyarrow as pa
import pytest

import govdata

from conftest import ROOT

VECTORS = ROOT / "tests" / "vectors" / "masks"
KEY = bytes(range(100, 132))
QUERY = {"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}


def _cases(name):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", _cases("masks.json"), ids=lambda c: f"{c['mask']}:{c['in']}")
def test_every_mask_gives_the_shared_table_s_output(case):
    assert govdata.mask_values(case["mask"], [case["in"]]) == [case["out"]]


def test_pseudonyms_match_the_shared_vectors_in_both_suites():
    doc = json.loads((VECTORS / "pseudonyms.json").read_text(encoding="utf-8"))
    key = bytes.fromhex(doc["key_hex"])
    for c in doc["cases"]:
        assert govdata.mask_values("pseudonym", [c["in"]], key=key, suite=c["suite"]) == [c["out"]]


def test_a_pseudonym_without_a_key_and_an_unknown_mask_are_refused():
    with pytest.raises(govdata.KeyNotFoundError):
        govdata.mask_values("pseudonym", ["13812345678"])
    with pytest.raises(govdata.RequestInvalidError):
        govdata.mask_values("passport", ["x"])


def _people(n, seed=1):
    rng = random.Random(seed)
    ids, names, mobiles = [], [], []
    for _ in range(n):
        ids.append(f"{rng.randint(11, 65)}{rng.randint(0, 9999):04d}19{rng.randint(40, 99)}0101{rng.randint(0, 9999):04d}")
        names.append(rng.choice(["张", "欧阳", "李"]) + rng.choice(["伟", "娜娜", "强"]))
        mobiles.append(f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}")
    return pa.table({"sfzh": ids, "xm": names, "sjhm": mobiles, "hjlb": list(range(n))})


@pytest.fixture
def audited(tmp_path):
    """The default engine recording in a log: the pack's watermark names the record."""
    log = govdata.AuditLog(str(tmp_path / "audit"), key=bytes(range(32)))
    return govdata.Engine.default(audit=log)


def test_a_table_is_masked_as_the_decision_says_and_kept_columns_keep_their_type(audited):
    table = _people(50)
    out = govdata.mask_table(audited, QUERY, table, key=KEY)
    assert out.column("sfzh")[0].as_py() == table.column("sfzh")[0].as_py()[:6] + "*" * 8 + table.column("sfzh")[0].as_py()[-4:]
    assert all("****" in m for m in out.column("sjhm").to_pylist())
    assert out.schema.field("hjlb").type == pa.int64()


def test_a_pandas_frame_is_accepted(audited):
    import pandas as pd

    frame = pd.DataFrame({"xm": ["欧阳娜娜", "张三"], "sjhm": ["13812345678", None]})
    out = govdata.mask_table(audited, QUERY, frame, key=KEY)
    assert out.column("xm").to_pylist()[:2] == ["欧阳**", "张*"]
    assert out.column("sjhm").to_pylist()[1] is None


def test_the_watermark_names_the_recipient_and_the_record_after_a_sample(audited):
    out = govdata.mask_table(audited, QUERY, _people(16_000), key=KEY)
    assert out.num_rows > 16_000
    rows = list(range(out.num_rows))
    random.Random(5).shuffle(rows)
    sample = out.take(rows[: out.num_rows // 10]).select(["sjhm"])
    found = govdata.detect_watermark(sample, key=KEY, candidates=["li.si", "zhang.san"])
    assert found is not None and found["recipient"] == "zhang.san"
    assert found["audit_seq"] >= 1
    assert govdata.detect_watermark(_people(2_000), key=KEY) is None


MASK_ONLY = '''@id("q") @article("第十三条") @zh("查询") @en("query")
@obligations("mask:standard")
permit (principal, action == Action::"query", resource is Dataset);
'''


@pytest.fixture
def masking(tmp_path):
    """A pack of one permit for `query` that names `mask:standard` and no watermark."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "schema.cedarschema").write_bytes((ROOT / "policies" / "schema.cedarschema").read_bytes())
    (pack / "q.cedar").write_text(MASK_ONLY, encoding="utf-8")
    return govdata.Engine(str(pack), str(ROOT / "policies" / "examples" / "inventory.json"))


def _address(table, column, buffer=1):
    return table.column(column).chunk(0).buffers()[buffer].address


def test_kept_columns_are_the_input_s_buffers_in_and_out(masking):
    table = _people(1000)
    out = govdata.mask_table(masking, QUERY, table)
    assert out.num_rows == 1000
    # Zero-copy: the kept column is the caller's own buffer, through the core and back.
    assert _address(out, "hjlb") == _address(table, "hjlb")
    assert out.column("hjlb").equals(table.column("hjlb"))
    # A masked column is new.
    assert _address(out, "sfzh", 2) != _address(table, "sfzh", 2)
    assert out.column("sfzh").to_pylist() == govdata.mask_values("resident_id", table.column("sfzh").to_pylist())


def test_a_stream_is_read_once_and_any_arrow_stream_is_taken(masking):
    table = _people(300)
    # A reader whose batches a Python generator yields, in three batches.
    reader = pa.RecordBatchReader.from_batches(table.schema, iter(table.to_batches(max_chunksize=100)))
    stream = govdata.mask_stream(masking, QUERY, reader)
    assert isinstance(stream, govdata.MaskedStream)
    out = pa.RecordBatchReader.from_stream(stream).read_all()
    assert out.num_rows == 300 and out.column("xm").num_chunks == 3
    assert out.column("xm").to_pylist() == govdata.mask_values("name", table.column("xm").to_pylist())
    with pytest.raises(ValueError):
        pa.table(stream)
    # A record batch, and a table of several chunks.
    batch = table.to_batches()[0]
    assert govdata.mask_table(masking, QUERY, batch).num_rows == batch.num_rows
    chunked = pa.concat_tables([table, table])
    assert govdata.mask_table(masking, QUERY, chunked).num_rows == 600


def test_a_masked_column_of_another_type_is_refused(masking):
    with pytest.raises(govdata.RequestInvalidError):
        govdata.mask_table(masking, QUERY, pa.table({"sfzh": [1, 2]}))
    with pytest.raises(TypeError):
        govdata.mask_table(masking, QUERY, [1, 2])


def test_a_deny_an_undeclared_column_or_a_missing_key_gives_nothing():
    engine = govdata.Engine.default()
    deny = dict(QUERY, principal="vendor.li")
    with pytest.raises(govdata.AccessDeniedError):
        govdata.mask_table(engine, deny, _people(5), key=KEY)
    with pytest.raises(govdata.RequestInvalidError):
        govdata.mask_table(engine, QUERY, pa.table({"passport": ["E123"]}), key=KEY)
    with pytest.raises(govdata.KeyNotFoundError):
        govdata.mask_table(engine, QUERY, _people(5))
