"""The GIL is released for batches, file encryption and audit verification, and the engine
is safe under threads and reloads."""

import threading
import time

import govdata

KEY = bytes(range(32))

QUERY = {"principal": "zhang.san", "action": "query", "resource": "population-stats", "context": {"purpose": "statistics"}}
DENY = {"principal": "zhang.san", "action": "modify", "resource": "population-stats"}


def _coverage_while(fn):
    """Runs fn() while another thread ticks; the share of fn's duration over which the
    other thread ran. With the GIL held for the whole call the spinner could not tick
    inside it (beyond the instant before the native call starts); released, it ticks
    throughout."""
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.01)
    try:
        start = time.perf_counter()
        fn()
        end = time.perf_counter()
    finally:
        stop.set()
        spinner.join()
    inside = [x for x in ticks if start < x < end]
    assert inside, "no other thread ran during the call"
    return (inside[-1] - inside[0]) / (end - start)


def _long_enough(fn, *, seconds=0.05):
    """Times fn once (warming it up) and says how many times longer it must run."""
    t = time.perf_counter()
    fn()
    took = time.perf_counter() - t
    return max(1, int(seconds / max(took, 1e-6)) + 1)


def test_other_threads_run_while_a_batch_is_decided(engine):
    batch = [QUERY, DENY] * 20_000
    batch = batch * min(8, _long_enough(lambda: engine.decide_many(batch)))
    assert _coverage_while(lambda: engine.decide_many(batch)) > 0.5


def test_other_threads_run_while_a_file_is_encrypted_and_decrypted(tmp_path, engine):
    vault = govdata.Vault.init(tmp_path / "vault", master_key=KEY, engine=engine)
    vault.rotate_key("key.admin", "social-insurance")
    src, enc, out = tmp_path / "big.csv", tmp_path / "big.gdv", tmp_path / "big.out"
    chunk = b"1,\xe5\xbc\xa0\xe6\x9f\x90,2015-03\n" * 4096
    with open(src, "wb") as f:
        for _ in range(256):          # about 6 MB, grown below on a fast machine
            f.write(chunk)
    grow = _long_enough(lambda: vault.encrypt_file("social-insurance", "L3", src, enc))
    if grow > 1:
        with open(src, "ab") as f:
            for _ in range(256 * min(grow, 8)):
                f.write(chunk)
    assert _coverage_while(lambda: vault.encrypt_file("social-insurance", "L3", src, enc)) > 0.5
    assert _coverage_while(lambda: vault.decrypt_file("social-insurance", "L3", enc, out)) > 0.5
    assert out.stat().st_size == src.stat().st_size


def test_other_threads_run_while_the_audit_log_is_verified(tmp_path, engine):
    log = govdata.AuditLog(tmp_path / "audit", key=KEY, sync="none")
    audited = govdata.Engine.default(audit=log)
    audited.decide_many([QUERY, DENY] * 10_000)
    grow = _long_enough(log.verify)
    if grow > 1:
        audited.decide_many([QUERY, DENY] * 10_000 * min(grow, 8))
    assert _coverage_while(log.verify) > 0.5
    log.close()


def test_many_threads_decide_while_policies_reload(fresh_engine, root):
    engine = fresh_engine
    versions = set()
    errors = []
    stop = threading.Event()
    expected = engine.decide(QUERY).to_dict()

    def decider():
        try:
            while not stop.is_set():
                d = engine.decide(QUERY)
                assert d.allowed and sorted(d.reason_ids) == sorted(r["policy"] for r in expected["reasons"])
                versions.add(d.policy_version)
                for d in engine.decide_many([QUERY, DENY] * 100):
                    pass
                assert not engine.decide(DENY).allowed
        except Exception as e:  # reported below with the thread's failure
            errors.append(e)

    threads = [threading.Thread(target=decider) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        for i in range(20):
            engine.reload_policies(root / "policies" if i % 2 else None)
            engine.upsert("user", {"id": f"temp.{i}", "department": "gongan", "roles": ["analyst"]})
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert versions, "the deciders made no decision"
