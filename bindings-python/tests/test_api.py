"""The Python API: engine construction, decisions, batches, filters, inventory and reloads."""

import json
import typing

import pytest

import govdata

from conftest import ROOT

QUERY = {"principal": "zhang.san", "action": "query", "resource": "population-stats", "context": {"purpose": "statistics"}}


def _norm(d):
    """A decision's dict with its reasons in policy order (the engine does not fix their order)."""
    w = d.to_dict()
    w["reasons"] = sorted(w["reasons"], key=lambda r: r["policy"])
    w["obligations"] = sorted(w["obligations"])
    return w


def test_version_is_the_crate_version():
    cargo = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    version = cargo.split("[workspace.package]", 1)[1].split('version = "', 1)[1].split('"', 1)[0]
    assert govdata.__version__ == version


def test_decide_by_keywords_and_by_dict_agree(engine):
    a = engine.decide(**QUERY)
    b = engine.decide(QUERY)
    assert _norm(a) == _norm(b)
    assert a.allowed is True and a.decision == "allow"
    assert a.policy_version == engine.policy_version
    assert a.audit_seq is None


def test_a_decision_cites_the_regulation(engine):
    d = engine.decide({"principal": "ops.admin", "action": "grant_superadmin",
                       "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "vendor.li"}})
    assert not d.allowed and d.decision == "deny"
    (reason,) = d.reasons
    assert reason.policy == "art17-no-vendor-superadmin"
    assert reason.article == "第十七条"
    assert reason.zh and reason.en
    assert reason.error is None
    assert d.reason_ids == ["art17-no-vendor-superadmin"]
    assert d.obligations == []
    assert reason.to_dict() == {"policy": reason.policy, "article": reason.article, "zh": reason.zh, "en": reason.en}
    wire = d.to_dict()
    assert wire == json.loads(d.to_json())
    assert set(wire) == {"decision", "reasons", "obligations", "policy_version", "audit_seq"}
    assert "art17-no-vendor-superadmin" in repr(d)


def test_default_deny_is_a_reason(engine):
    d = engine.decide(principal="zhang.san", action="modify", resource="population-stats")
    assert [r.policy for r in d.reasons] == ["default-deny"]
    assert d.reasons[0].article == "第三条"


def test_obligations_come_with_an_allow(engine):
    d = engine.decide(principal="li.si", action="query", resource="hukou", context={"purpose": "public_security"})
    assert d.allowed, d
    assert "mask_personal_info" in d.obligations


def test_both_forms_at_once_is_a_type_error(engine):
    with pytest.raises(TypeError):
        engine.decide(QUERY, principal="zhang.san")


def test_a_bool_is_not_truthiness(engine):
    req = {"principal": "li.si", "action": "transmit", "resource": "hukou",
           "context": {"channel": {"encrypted": 1, "authenticated": True, "integrity_checked": True}}}
    with pytest.raises(govdata.RequestInvalidError):
        engine.decide(req)


def _fresh(s):
    """The same text as a new, uninterned string object."""
    return "".join(list(s))


class _Str(str):
    pass


def test_strings_built_at_run_time_decide_as_literals_do(engine):
    reqs = [QUERY,
            {"principal": "li.si", "action": "transmit", "resource": "hukou",
             "context": {"scenario_risk": "low",
                         "channel": {"encrypted": True, "authenticated": True, "integrity_checked": True}}},
            {"principal": "ops.admin", "action": "grant_superadmin",
             "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "vendor.li"}}]
    for req in reqs:
        expected = _norm(engine.decide(req))
        for make in (_fresh, _Str):
            def rebuild(v):
                if isinstance(v, dict):
                    return {make(k): rebuild(x) for k, x in v.items()}
                return make(v) if isinstance(v, str) else v
            built = rebuild(req)
            assert all(k is not j for k, j in zip(built, req))
            assert _norm(engine.decide(built)) == expected
        assert _norm(engine.decide(json.loads(json.dumps(req)))) == expected
    # An unknown field or word is rejected whichever way its text was made.
    for bad in ({**QUERY, _fresh("actor"): "x"}, {**QUERY, "action": _fresh("fly")},
                {**QUERY, "context": {_fresh("purpose"): 1}}):
        with pytest.raises(govdata.RequestInvalidError):
            engine.decide(bad)


def test_tuples_and_mappings_are_accepted(engine):
    from types import MappingProxyType

    d = engine.decide(MappingProxyType(QUERY))
    assert d.allowed


def test_decide_many_keeps_the_order(engine):
    reqs = [QUERY, {"principal": "zhang.san", "action": "modify", "resource": "population-stats"}] * 200
    out = engine.decide_many(reqs)
    assert len(out) == 400
    assert [d.allowed for d in out] == [True, False] * 200
    assert _norm(out[0]) == _norm(engine.decide(QUERY))
    assert engine.decide_many([]) == []
    assert len(engine.decide_many(iter(reqs[:3]))) == 3


def test_decide_many_raises_naming_the_request(engine):
    reqs = [QUERY] * 300 + [{"principal": "zhang.san", "action": "fly", "resource": "hukou"}]
    with pytest.raises(govdata.RequestInvalidError, match="#300"):
        engine.decide_many(reqs)
    reqs = [QUERY] * 300 + [{"principal": "nobody", "action": "query", "resource": "hukou"}]
    with pytest.raises(govdata.UnknownEntityError):
        engine.decide_many(reqs)


def test_decide_many_can_return_errors_in_place(engine):
    reqs = [QUERY, {"principal": "zhang.san", "action": "fly", "resource": "hukou"},
            {"principal": "nobody", "action": "query", "resource": "hukou"}, QUERY] * 100
    out = engine.decide_many(reqs, errors="return")
    assert isinstance(out[0], govdata.Decision) and out[0].allowed
    assert isinstance(out[1], govdata.RequestInvalidError) and out[1].code == "request_invalid"
    assert isinstance(out[2], govdata.UnknownEntityError) and out[2].code == "unknown_entity"
    assert isinstance(out[3], govdata.Decision)
    with pytest.raises(ValueError):
        engine.decide_many(reqs, errors="ignore")


def test_allowed_resources_returns_the_callers_objects(engine):
    resources = ["population-stats", "hukou", "traffic-flow", "population-stats"]
    out = engine.allowed_resources("zhang.san", "query", resources, {"purpose": "statistics"})
    expected = [r for r in resources
                if engine.decide(principal="zhang.san", action="query", resource=r, context={"purpose": "statistics"}).allowed]
    assert out == expected
    assert "population-stats" in out
    system = {"type": "System", "id": "lake-db"}
    assert engine.allowed_resources("vendor.li", "grant_superadmin", [system], {"grantee": "vendor.li"}) == []
    with pytest.raises(govdata.UnknownEntityError):
        engine.allowed_resources("zhang.san", "query", ["hukou", "no-such-data"])


def test_upsert_and_remove_change_decisions(fresh_engine):
    e = fresh_engine
    with pytest.raises(govdata.UnknownEntityError):
        e.decide(principal="new.analyst", action="query", resource="population-stats", context={"purpose": "statistics"})
    e.upsert("user", {"id": "new.analyst", "department": "gongan", "roles": ["analyst"]})
    assert e.decide(principal="new.analyst", action="query", resource="population-stats", context={"purpose": "statistics"}).allowed
    assert any(u["id"] == "new.analyst" for u in e.inventory()["users"])
    e.remove("user", "new.analyst")
    with pytest.raises(govdata.UnknownEntityError):
        e.decide(principal="new.analyst", action="query", resource="population-stats")


def test_a_repeated_request_sees_every_inventory_change(fresh_engine):
    e = fresh_engine
    grant = {"principal": "ops.admin", "action": "grant_superadmin",
             "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "vendor.li"}}
    for _ in range(3):
        assert e.decide(grant).reason_ids == ["art17-no-vendor-superadmin"]
    vendor_li = next(u for u in e.inventory()["users"] if u["id"] == "vendor.li")
    e.upsert("user", {**vendor_li, "vendor": None})
    assert "art17-no-vendor-superadmin" not in e.decide(grant).reason_ids
    e.remove("user", "vendor.li")
    with pytest.raises(govdata.UnknownEntityError):
        e.decide(grant)
    e.upsert("user", vendor_li)
    assert e.decide(grant).reason_ids == ["art17-no-vendor-superadmin"]
    # The same in a batch, spread over the worker threads.
    assert all(d.reason_ids == ["art17-no-vendor-superadmin"] for d in e.decide_many([grant] * 300))
    e.remove("user", "vendor.li")
    out = e.decide_many([grant] * 300, errors="return")
    assert all(isinstance(x, govdata.UnknownEntityError) for x in out)


def test_replace_inventory_from_a_dict_and_a_file(fresh_engine, tmp_path):
    inv = json.loads((ROOT / "policies/examples/inventory.json").read_text(encoding="utf-8"))
    inv["users"] = [u for u in inv["users"] if u["id"] != "zhang.san"]
    fresh_engine.replace_inventory(inv)
    with pytest.raises(govdata.UnknownEntityError):
        fresh_engine.decide(**QUERY)
    fresh_engine.replace_inventory(ROOT / "policies/examples/inventory.json")
    assert fresh_engine.decide(**QUERY).allowed


def test_engine_from_paths_and_lists(tmp_path):
    pol = ROOT / "policies"
    a = govdata.Engine(policies=str(pol), inventory=str(ROOT / "policies/examples/inventory.json"))
    b = govdata.Engine(policies=[pol], inventory=ROOT / "policies/examples/inventory.json")
    assert a.policy_version == b.policy_version
    assert _norm(a.decide(QUERY)) == _norm(b.decide(QUERY))
    empty = govdata.Engine()
    with pytest.raises(govdata.UnknownEntityError):
        empty.decide(QUERY)


def test_reload_policies(fresh_engine, tmp_path):
    import shutil

    before = fresh_engine.policy_version
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "local.cedar").write_text(
        '@id("local-forbid-zhang")\n@article("第三条")\n@zh("测试")\n@en("test")\n'
        'forbid (principal == User::"zhang.san", action, resource);\n', encoding="utf-8")
    fresh_engine.reload_policies([ROOT / "policies", extra])
    assert fresh_engine.policy_version != before
    d = fresh_engine.decide(**QUERY)
    assert not d.allowed and d.reason_ids == ["local-forbid-zhang"]
    assert d.policy_version == fresh_engine.policy_version
    fresh_engine.reload_policies()
    assert fresh_engine.decide(**QUERY).allowed


def test_reasons_are_shared_and_follow_a_reload(fresh_engine, tmp_path):
    a = fresh_engine.decide(principal="zhang.san", action="modify", resource="population-stats")
    b = fresh_engine.decide(principal="zhang.san", action="modify", resource="population-stats")
    assert a.reasons[0] is b.reasons[0]
    assert a.reasons is not a.reasons  # a new list each time: changing it changes nothing
    a.reasons.clear()
    assert a.reason_ids == ["default-deny"]

    def pack(text):
        extra = tmp_path / text
        extra.mkdir()
        (extra / "local.cedar").write_text(
            f'@id("local-forbid-zhang")\n@article("第三条")\n@zh("{text}")\n@en("{text}")\n'
            'forbid (principal == User::"zhang.san", action, resource);\n', encoding="utf-8")
        return [ROOT / "policies", extra]

    fresh_engine.reload_policies(pack("one"))
    first = fresh_engine.decide(**QUERY)
    fresh_engine.reload_policies(pack("two"))
    second = fresh_engine.decide(**QUERY)
    assert [(r.policy, r.zh, r.en) for r in first.reasons] == [("local-forbid-zhang", "one", "one")]
    assert [(r.policy, r.zh, r.en) for r in second.reasons] == [("local-forbid-zhang", "two", "two")]
    assert first.to_dict()["reasons"][0]["zh"] == "one"
    assert second.to_dict()["reasons"][0]["zh"] == "two"


def test_to_dict_is_the_wire_format(engine):
    inventory = engine.inventory()
    for user in [u["id"] for u in inventory["users"]][:6]:
        for action in ("query", "export", "transmit", "process"):
            for ds in [d["id"] for d in inventory["datasets"]]:
                d = engine.decide(principal=user, action=action, resource=ds,
                                  context={"purpose": "statistics", "scenario_risk": "low",
                                           "channel": {"encrypted": True, "authenticated": True,
                                                       "integrity_checked": True}})
                wire = d.to_dict()
                assert wire == json.loads(d.to_json())
                assert list(wire) == ["decision", "reasons", "obligations", "policy_version", "audit_seq"]
                assert wire["reasons"] == [r.to_dict() for r in d.reasons]
                assert d.reason_ids == [r.policy for r in d.reasons]
                assert d.decision == wire["decision"] and d.obligations == wire["obligations"]


def test_literals_match_the_engine():
    assert list(typing.get_args(govdata.Grade)) == govdata.GRADES
    assert list(typing.get_args(govdata.Stage)) == govdata.STAGES
    assert list(typing.get_args(govdata.Action)) == govdata.ACTIONS
    assert list(typing.get_args(govdata.PersonalInfo)) == govdata.PERSONAL_INFO
    assert list(typing.get_args(govdata.ShareType)) == govdata.SHARE_TYPES
    assert list(typing.get_args(govdata.ScenarioRisk)) == govdata.SCENARIO_RISKS
    assert list(typing.get_args(govdata.DecisionKind)) == govdata.DECISIONS
    assert list(typing.get_args(govdata.RecordKind)) == govdata.RECORD_KINDS
    assert list(typing.get_args(govdata.ErrorCode)) == govdata.ERROR_CODES + ["internal"]


def test_typed_package_ships_its_marker():
    import pathlib

    pkg = pathlib.Path(govdata.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_native.pyi").exists()
