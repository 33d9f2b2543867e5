"""Every shared conformance vector of tests/vectors/, as the Python API sees it."""

import json
import tempfile

import pytest

import govdata

from conftest import ROOT

VECTORS = sorted((ROOT / "tests" / "vectors").glob("*.json"))
_ENGINES = {}


def _node_engine(inventory_path):
    """The engine of a node opened from a govdata.toml that names the inventory."""
    with tempfile.TemporaryDirectory() as d:
        config = f"{d}/govdata.toml"
        with open(config, "w", encoding="utf-8") as f:
            f.write(f'node_id = "vectors"\n[inventory]\nfile = {json.dumps(str(inventory_path))}\n')
        return govdata.Platform(config).engine


def _engine_for(inventory):
    if isinstance(inventory, str):
        if inventory not in _ENGINES:
            _ENGINES[inventory] = _node_engine(ROOT / inventory)
        return _ENGINES[inventory]
    return govdata.Engine(inventory=inventory)


def _norm(d):
    """A decision's dict with its reasons in policy order (the engine does not fix their order)."""
    w = d.to_dict()
    w["reasons"] = sorted(w["reasons"], key=lambda r: r["policy"])
    w["obligations"] = sorted(w["obligations"])
    return w


def test_the_vectors_are_there():
    assert len(VECTORS) >= 40, f"only {len(VECTORS)} vectors in tests/vectors"


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path):
    vector = json.loads(path.read_text(encoding="utf-8"))
    engine = _engine_for(vector["inventory"])
    request = vector["request"]
    expect = vector["expect"]

    def decide():
        if isinstance(request, str):
            return engine.decide_json(request)
        return engine.decide(request)

    if "error" in expect:
        cls = govdata.ERRORS_BY_CODE[expect["error"]]
        with pytest.raises(cls) as info:
            decide()
        assert info.value.code == expect["error"]
        if isinstance(request, dict) and set(request) <= {"principal", "action", "resource", "context"}:
            with pytest.raises(cls):
                engine.decide(**request)
        return

    d = decide()
    assert d.decision == expect["decision"], d
    assert d.allowed == (expect["decision"] == "allow")
    assert sorted(r.policy for r in d.reasons) == sorted(expect["reasons"]), d
    assert sorted(d.obligations) == sorted(expect.get("obligations", [])), d
    # The keyword form decides the same.
    if isinstance(request, dict) and set(request) <= {"principal", "action", "resource", "context"}:
        again = engine.decide(**request)
        assert _norm(again) == _norm(d)
    # The dict form says the same, in the wire format.
    wire = d.to_dict()
    assert wire["decision"] == expect["decision"]
    assert sorted(r["policy"] for r in wire["reasons"]) == sorted(expect["reasons"])
    assert json.loads(d.to_json()) == wire
