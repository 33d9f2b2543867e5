"""The audit log from Python: decisions recorded, verification, tampering found, queries,
viewing as the regulation allows (Art. 8, 18, 19), retention, backup, restore, proofs."""

import datetime
import os

import pytest

import govdata

KEY = bytes(range(32))
QUERY = {"principal": "zhang.san", "action": "query", "resource": "population-stats", "context": {"purpose": "statistics"}}
DENY = {"principal": "zhang.san", "action": "modify", "resource": "population-stats"}
RENSHE = {"principal": "wang.wu", "action": "query", "resource": "employment-stats", "context": {"purpose": "statistics"}}


@pytest.fixture
def log(tmp_path):
    log = govdata.AuditLog(tmp_path / "audit", key=KEY)
    yield log
    log.close()


@pytest.fixture
def audited(log):
    """An engine whose decisions the log records."""
    return govdata.Engine.default(audit=log)


def _segments(directory):
    return sorted(p for p in directory.iterdir() if p.name.startswith("seg-") and p.name.endswith(".log"))


def test_decisions_are_recorded_and_carry_their_sequence_number(log, audited):
    assert audited.audited
    a = audited.decide(QUERY)
    b = audited.decide(**DENY)
    c = audited.decide_json('{"principal": "wang.wu", "action": "query", "resource": "employment-stats"}')
    assert (a.audit_seq, b.audit_seq, c.audit_seq) == (1, 2, 3)
    assert a.to_dict()["audit_seq"] == 1
    batch = audited.decide_many([QUERY, DENY, RENSHE])
    assert sorted(d.audit_seq for d in batch) == [4, 5, 6]
    assert log.last_seq == 6

    records = log.records()
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    first = records[0]
    assert first["kind"] == "decision"
    assert first["user"] == "zhang.san" and first["department"] == "gongan"
    assert first["action"] == "query" and first["resource"] == "population-stats"
    assert first["decision"] == "allow" and first["outcome"] == "success"
    assert sorted(first["policies"]) == sorted(a.reason_ids)
    assert first["policy_version"] == a.policy_version
    assert first["fields"] == {"purpose": "statistics"}
    assert records[1]["decision"] == "deny" and records[1]["outcome"] == "failure"
    assert records[1]["policies"] == ["default-deny"]

    report = log.verify()
    assert report["ok"] is True
    assert (report["records"], report["first_seq"], report["last_seq"]) == (6, 1, 6)
    assert report["torn_tail"] is None


def test_an_engine_without_a_log_records_nothing_and_a_log_can_be_attached_later(log, fresh_engine):
    assert not fresh_engine.audited
    assert fresh_engine.decide(QUERY).audit_seq is None
    fresh_engine.attach_audit(log)
    assert fresh_engine.decide(QUERY).audit_seq == 1
    fresh_engine.detach_audit()
    assert not fresh_engine.audited
    assert fresh_engine.decide(QUERY).audit_seq is None
    assert log.last_seq == 1


def test_a_checkpoint_verifies_and_exposes_a_rollback(tmp_path, log, audited):
    audited.decide(QUERY)
    checkpoint = log.checkpoint()
    assert checkpoint.startswith("gdaudit1:")
    audited.decide(DENY)
    assert log.verify(checkpoint)["last_seq"] == 2
    assert log.verify(checkpoint=log.checkpoint())["head"] == log.checkpoint()
    with pytest.raises(govdata.RequestInvalidError) as info:
        log.verify("not a checkpoint")
    assert info.value.code == "request_invalid"
    # A checkpoint of another log (another key) does not authenticate here.
    other = govdata.AuditLog(tmp_path / "other", key=KEY)
    other.append_event("test.event")
    with pytest.raises(govdata.RequestInvalidError):
        log.verify(other.checkpoint())
    other.close()


def test_a_flipped_byte_in_a_segment_is_found_and_named_by_its_sequence_number(tmp_path, log, audited):
    for _ in range(5):
        audited.decide(QUERY)
    log.close()
    (segment,) = _segments(tmp_path / "audit")
    data = bytearray(segment.read_bytes())
    # The payload of every record begins with its time; change one digit of the second.
    second = [i for i in range(len(data)) if data.startswith(b'{"time":"', i)][1]
    at = second + len(b'{"time":"') + 3
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    segment.write_bytes(bytes(data))

    with pytest.raises(govdata.AuditTamperedError) as info:
        govdata.AuditLog.verify_dir(tmp_path / "audit", KEY)
    err = info.value
    assert err.code == "audit_tampered" and isinstance(err, govdata.GovdataError)
    assert err.seq == 2
    # Opening the log for writing refuses it too: the bad record is not in a torn tail.
    with pytest.raises(govdata.AuditTamperedError) as info:
        govdata.AuditLog(tmp_path / "audit", key=KEY)
    assert info.value.seq == 2


def test_tampering_under_an_open_log_is_found_by_verify(tmp_path, log, audited):
    for _ in range(4):
        audited.decide(DENY)
    (segment,) = _segments(tmp_path / "audit")
    data = bytearray(segment.read_bytes())
    first = data.index(b'"user":"zhang.san"')
    data[first + len('"user":"')] = ord("Z")
    segment.write_bytes(bytes(data))
    with pytest.raises(govdata.AuditTamperedError) as info:
        log.verify()
    assert info.value.seq == 1


def test_keys_bytes_or_a_file_and_never_shown(tmp_path):
    key_file = tmp_path / "audit.key"
    key_file.write_bytes(KEY)
    log = govdata.AuditLog(tmp_path / "a", key=str(key_file), suite="sm3", sync="batch")
    assert (log.suite, log.sync_mode) == ("sm3", "batch")
    seq = log.append_event("test.event", user="zhang.san")
    log.close()
    text = repr(log)
    assert KEY.hex() not in text and str(KEY) not in text
    # The same key as bytes (and bytearray) opens it; the log keeps its suite.
    again = govdata.AuditLog(tmp_path / "a", key=bytearray(KEY))
    assert again.suite == "sm3"
    assert again.records()[0]["seq"] == seq
    again.close()
    with pytest.raises(govdata.KeyInvalidError) as info:
        govdata.AuditLog(tmp_path / "a", key=os.urandom(32))
    assert info.value.code == "key_invalid"


@pytest.mark.parametrize("bad", [b"", KEY[:31], KEY + b"\0"])
def test_a_key_of_the_wrong_length_is_key_invalid(tmp_path, bad):
    with pytest.raises(govdata.KeyInvalidError) as info:
        govdata.AuditLog(tmp_path / "a", key=bad)
    assert info.value.code == "key_invalid"
    assert bad.hex() not in str(info.value) or not bad
    key_file = tmp_path / "short.key"
    key_file.write_bytes(bad)
    with pytest.raises(govdata.KeyInvalidError):
        govdata.AuditLog(tmp_path / "b", key=key_file)


def test_bad_options_are_request_invalid(tmp_path):
    for kwargs in ({"sync": "sometimes"}, {"suite": "md5"}, {"scope": "some"}):
        with pytest.raises(govdata.RequestInvalidError):
            govdata.AuditLog(tmp_path / "a", key=KEY, **kwargs)
    with pytest.raises(TypeError):
        govdata.AuditLog(tmp_path / "a", key=12345)


def test_required_scope_skips_allowed_processing_but_keeps_denies(tmp_path):
    log = govdata.AuditLog(tmp_path / "a", key=KEY, scope="required")
    engine = govdata.Engine.default(audit=log)
    allowed = engine.decide(principal="zhang.san", action="process", resource="population-stats",
                            context={"purpose": "statistics"})
    assert allowed.allowed and allowed.audit_seq is None
    denied = engine.decide(principal="zhang.san", action="process", resource="hukou",
                           context={"purpose": "statistics"})
    assert not denied.allowed and denied.audit_seq == 1
    assert engine.decide(QUERY).audit_seq == 2
    log.close()


def test_query_filters(log, audited):
    audited.decide(QUERY)
    audited.decide(DENY)
    audited.decide(RENSHE)
    audited.decide(principal="huzheng.analyst", action="query", resource="hukou")
    log.append_event("sharing.submitted", user="wang.wu", request="shr-1", datasets=["hukou"])

    assert [r["seq"] for r in log.query(user="zhang.san")] == [1, 2]
    assert [r["seq"] for r in log.query(decision="deny", user="zhang.san")] == [2]
    assert [r["seq"] for r in log.query(action="modify")] == [2]
    assert [r["seq"] for r in log.query(dataset="employment-stats")] == [3]
    # Departments nest as the inventory has them... when the engine is asked (view);
    # a plain query matches the department recorded.
    assert [r["seq"] for r in log.query(department="gongan")] == [1, 2]
    assert [r["seq"] for r in log.query(kind="sharing.submitted")] == [5]
    assert log.query(kind="sharing.submitted")[0]["fields"] == {"request": "shr-1", "datasets": ["hukou"]}
    assert [r["seq"] for r in log.query(limit=2)] == [4, 5]

    today = datetime.datetime.now(datetime.timezone.utc).date()
    tomorrow = today + datetime.timedelta(days=1)
    assert len(log.query(since=today)) == 5
    assert len(log.query(since=str(today), until=tomorrow.isoformat())) == 5
    assert log.query(since=tomorrow) == []
    assert log.query(until=today) == []
    now = datetime.datetime.now(datetime.timezone.utc)
    assert len(log.query(until=now + datetime.timedelta(seconds=5))) == 5
    with pytest.raises(ValueError):
        log.query(since=datetime.datetime.now())  # naive: no instant
    with pytest.raises(govdata.RequestInvalidError):
        log.query(since="yesterday")
    with pytest.raises(govdata.RequestInvalidError):
        log.query(decision="maybe")
    with pytest.raises(govdata.RequestInvalidError):
        log.query(action="fly")


def test_append_event_uses_the_core_event_fields(log):
    seq = log.append_event("destruction.executed", user="key.admin", action="destroy",
                           resource="hukou", outcome="success", method="crypto-shredding")
    (r,) = log.records()
    assert r["seq"] == seq == 1
    assert (r["kind"], r["user"], r["action"], r["resource"]) == ("destruction.executed", "key.admin", "destroy", "hukou")
    assert r["fields"] == {"method": "crypto-shredding"}
    with pytest.raises(govdata.RequestInvalidError):
        log.append_event("x", action="fly")
    with pytest.raises(govdata.RequestInvalidError):
        log.append_event("x", outcome="perhaps")
    with pytest.raises(govdata.RequestInvalidError):
        log.append_event("x", blob=object())


def test_a_closed_log_refuses_appends_and_an_engine_recording_into_it_denies(log, audited):
    assert audited.decide(QUERY).allowed
    log.close()
    with pytest.raises(govdata.AuditUnavailableError) as info:
        log.append_event("test.event")
    assert info.value.code == "audit_unavailable"
    d = audited.decide(QUERY)
    assert not d.allowed, "what cannot be recorded does not happen"
    assert d.audit_seq is None


def test_a_department_officer_views_only_their_own_department(log, audited):
    audited.decide(QUERY)                                                    # gongan
    audited.decide(principal="huzheng.analyst", action="query", resource="hukou")  # gongan-huzheng
    audited.decide(RENSHE)                                                   # renshe

    view = log.view(audited, "gongan.officer", department="gongan")
    assert view.allowed and view.decision.allowed
    assert view.decision.audit_seq is not None, "the viewing is recorded"
    # The sub-department's staff are the officer's department's too (Art. 18); the
    # viewing itself, recorded first, is part of the department's trail.
    assert {r["user"] for r in view.records} == {"zhang.san", "huzheng.analyst", "gongan.officer"}
    assert view.records[-1]["seq"] == view.decision.audit_seq
    assert all(r["department"] in ("gongan", "gongan-huzheng") for r in view.records)

    refused = log.view(audited, "gongan.officer", department="renshe")
    assert not refused.allowed and refused.records == []
    assert "art18-own-department-only" in refused.decision.reason_ids
    refused_all = log.view(audited, "gongan.officer")
    assert not refused_all.allowed and refused_all.records == []

    # The management department's auditor reviews every department (Art. 19).
    everyone = log.view(audited, "audit.he")
    assert everyone.allowed
    assert {"zhang.san", "wang.wu", "huzheng.analyst"} <= {r.get("user") for r in everyone.records}

    views = log.query(action="view_audit")
    assert [r["user"] for r in views] == ["gongan.officer", "gongan.officer", "gongan.officer", "audit.he"]
    assert [r["decision"] for r in views] == ["allow", "deny", "deny", "allow"]


def test_view_records_the_viewing_even_without_an_attached_log(log, engine):
    view = log.view(engine, "renshe.officer", department="renshe")
    assert view.allowed
    assert view.decision.audit_seq == 1
    assert [r["seq"] for r in view.records] == [1]
    assert log.records()[0]["action"] == "view_audit"


def test_purge_within_six_months_is_refused(log, audited):
    audited.decide(QUERY)
    log.seal()
    today = datetime.datetime.now(datetime.timezone.utc).date()
    for before in (today, today.isoformat(), today - datetime.timedelta(days=150)):
        with pytest.raises(govdata.AuditRetentionError) as info:
            log.purge(before)
        assert info.value.code == "audit_retention"
    with pytest.raises(govdata.RequestInvalidError):
        log.purge("2020-13-45")
    with pytest.raises(TypeError):
        log.purge(20200101)
    # Nothing is older than the floor: a purge far back removes nothing.
    report = log.purge(datetime.date(2000, 1, 1))
    assert report["segments"] == [] and report["before"] == "2000-01-01"
    assert log.verify()["records"] >= 1


def test_backup_prove_and_restore(tmp_path, log, audited):
    for _ in range(3):
        audited.decide(QUERY)
    log.seal()
    backup = log.backup(tmp_path / "backup")
    assert backup["copied"] and backup["verified"]["ok"]
    assert backup["event_seq"] is not None
    assert govdata.AuditLog.verify_dir(tmp_path / "backup", KEY)["records"] >= 3

    proof = log.prove(2)
    assert proof["seq"] == 2 and proof["suite"] == "sha256"
    record = govdata.AuditLog.check_proof(proof, KEY)
    assert record["seq"] == 2 and record["user"] == "zhang.san"
    forged = dict(proof, payload=proof["payload"].replace("zhang.san", "zhang.si"))
    with pytest.raises(govdata.AuditTamperedError) as info:
        govdata.AuditLog.check_proof(forged, KEY)
    assert info.value.seq == 2
    with pytest.raises(govdata.UnknownEntityError):
        log.prove(10_000)

    log.close()
    first = _segments(tmp_path / "audit")[0]
    first.unlink()
    with pytest.raises(govdata.AuditTamperedError):
        govdata.AuditLog.verify_dir(tmp_path / "audit", KEY)
    restored = govdata.AuditLog.restore(tmp_path / "backup", tmp_path / "audit", KEY)
    assert restored["restored"] and restored["verified"]["ok"]
    again = govdata.AuditLog(tmp_path / "audit", key=KEY)
    assert again.verify()["records"] == again.last_seq
    assert again.query(kind="audit.restore")
    again.close()


def test_the_log_is_a_context_manager(tmp_path):
    with govdata.AuditLog(tmp_path / "a", key=KEY) as log:
        log.append_event("test.event")
    with pytest.raises(govdata.AuditUnavailableError):
        log.append_event("test.event")
