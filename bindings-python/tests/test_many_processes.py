"""Many processes on one host from Python: worker processes appending to one audit
directory queue on its lock and lose nothing; a worker per directory never waits; a
second writer gets StoreLockedError after its wait; a holder killed with SIGKILL lets
go at once; processes sharing one vault lose no data key."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

import govdata

KEY = bytes(range(32))
MASTER = bytes([9]) * 32
QUERY = {"principal": "zhang.san", "action": "query", "resource": "population-stats", "context": {"purpose": "statistics"}}
PROCS, ROUNDS = 4, 15


def _append_rounds(directory, rounds, queue):
    """A worker process: opens the log for each decision, as a short job does."""
    acked = []
    for _ in range(rounds):
        with govdata.AuditLog(directory, key=KEY, lock_wait=120) as log:
            engine = govdata.Engine.default(audit=log)
            acked.append(engine.decide(QUERY).audit_seq)
    queue.put(acked)


def _run_workers(target, args_of):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_of(i), queue)) for i in range(PROCS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def test_worker_processes_on_one_log_queue_and_lose_nothing(tmp_path):
    directory = tmp_path / "audit"
    results = _run_workers(_append_rounds, lambda i: (str(directory), ROUNDS))
    acked = [seq for r in results for seq in r]
    assert len(acked) == PROCS * ROUNDS
    assert len(set(acked)) == len(acked), "a sequence number was handed out twice"
    with govdata.AuditLog(directory, key=KEY) as log:
        report = log.verify()
        decisions = [r["seq"] for r in log.records() if r["kind"] == "decision"]
    assert report["records"] == len(acked)
    assert sorted(decisions) == sorted(acked)


def test_one_log_per_worker_is_read_as_the_hosts_log(tmp_path):
    host = tmp_path / "audit"
    results = _run_workers(_append_rounds, lambda i: (str(host / f"worker-{i}"), 5))
    assert all(r == [1, 2, 3, 4, 5] for r in results)
    for i in range(PROCS):
        assert govdata.AuditLog.verify_dir(host / f"worker-{i}", key=KEY)["records"] == 5


def _holder(directory):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, govdata\n"
            f"log = govdata.AuditLog({str(directory)!r}, key=bytes(range(32)))\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def test_a_second_writer_gets_store_locked_and_a_killed_holder_lets_go(tmp_path):
    directory = tmp_path / "audit"
    holder = _holder(directory)
    try:
        assert holder.stdout.readline().strip() == b"held"
        started = time.monotonic()
        with pytest.raises(govdata.StoreLockedError) as e:
            govdata.AuditLog(directory, key=KEY, lock_wait=0.3)
        assert time.monotonic() - started >= 0.3
        assert e.value.code == "store_locked"
        assert f"process {holder.pid}" in str(e.value)
        assert str(directory) in str(e.value)
        # Nothing was written by the refused opener.
        assert not any(p.name.startswith("torn") for p in directory.iterdir())
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # The kernel released the lock with the process: no wait needed.
    with govdata.AuditLog(directory, key=KEY, lock_wait=0) as log:
        assert log.last_seq == 0
        govdata.Engine.default(audit=log).decide(QUERY)
        assert log.verify()["records"] == 1


def _encrypt_rounds(vault_dir, files_dir, dataset, grade, rounds, queue):
    engine = govdata.Engine.default()
    vault = govdata.Vault.open(vault_dir, engine=engine, master_key=MASTER, lock_wait=120)
    vault.ensure_key("key.admin", dataset)
    done = []
    for i in range(rounds):
        out = os.path.join(files_dir, f"{dataset}-{i}")
        with open(out, "wb") as f:
            f.write(vault.encrypt(dataset, grade, f"{dataset} {i}".encode()))
        done.append(out)
        if i % 4 == 3:
            vault.rotate_key("key.admin", dataset)
    queue.put(done)


def test_processes_sharing_a_vault_lose_no_data_key(tmp_path):
    vault_dir = tmp_path / "vault"
    govdata.Vault.init(vault_dir, engine=govdata.Engine.default(), master_key=MASTER)
    datasets = [("traffic-flow", "L1"), ("population-stats", "L2"), ("employment-stats", "L2"), ("subsidy-list", "L3")]
    results = _run_workers(
        _encrypt_rounds, lambda i: (str(vault_dir), str(tmp_path), datasets[i][0], datasets[i][1], 8)
    )
    vault = govdata.Vault.open(vault_dir, engine=govdata.Engine.default(), master_key=MASTER)
    for files, (dataset, grade) in zip(sorted(results), sorted(datasets)):
        for i, path in enumerate(files):
            with open(path, "rb") as f:
                assert vault.decrypt(dataset, grade, f.read()) == f"{dataset} {i}".encode()
    # One key per dataset and two rotations each: nothing lost to a concurrent rewrite.
    assert len(vault.status()["keys"]) == len(datasets) * 3
