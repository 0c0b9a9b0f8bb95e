"""The storage's ProcessCoordination as the fleet uses it: leases on database time, guarded pause/play.

Runs on every backend with a coordination (``backend_profile``); lease keys carry a per-test
uuid so tests sharing the Neo4j service never see each other's leases.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.engine import control
from provgraph.engine.celery.committer import AtomicCommitter
from provgraph.engine.celery.outbox import RECONCILE_AFTER_ENV, drop_ended_leases, expired_leases, reconcile_after
from provgraph.engine.celery.tasks import Lease, lease_key
from provgraph.engine.examples import AddMultiplyWorkChain
from provgraph.engine.launch import create_stored
from provgraph.engine.unit import UnitOfWork
from provgraph.exceptions import ConfigurationError
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend


@pytest.fixture
def coordination(backend_profile):
    """The current backend's coordination, and a key prefix of this test's own."""
    prefix = f"test:{uuid.uuid4().hex}:"
    coordination = get_backend().coordination
    yield coordination, prefix
    coordination.drop_leases([lease.key for lease in coordination.leases(prefix)])


def test_a_lease_is_held_by_one_owner_until_it_expires(coordination):
    coord, prefix = coordination
    key = prefix + "computer:1:poll"
    assert coord.claim_lease(key, "a", 30)
    assert coord.claim_lease(key, "a", 30)  # extending one's own lease
    assert not coord.claim_lease(key, "b", 30)
    (lease,) = coord.leases(prefix)
    assert (lease.key, lease.owner) == (key, "a") and lease.expires > time.time() + 20
    assert coord.leases(prefix, expired_only=True) == []
    coord.release_lease(key, "b")  # not b's: stays
    assert [lease.owner for lease in coord.leases(prefix)] == ["a"]
    coord.release_lease(key, "a")
    assert coord.leases(prefix) == []
    assert coord.claim_lease(key, "b", 0)
    time.sleep(0.05)
    assert [lease.key for lease in coord.leases(prefix, expired_only=True)] == [key]
    assert coord.claim_lease(key, "c", 30)  # b's lease expired: c takes it
    assert coord.claim_lease(key, "d", 30, force=True) and not coord.claim_lease(key, "c", 30)


def test_leases_filter_by_prefix_and_drop(coordination):
    coord, prefix = coordination
    for name in ("x:1", "x:2", "y:1"):
        assert coord.claim_lease(prefix + name, "owner", 30)
    assert [lease.key for lease in coord.leases(prefix + "x:")] == [prefix + "x:1", prefix + "x:2"]
    coord.drop_leases([prefix + "x:1", prefix + "y:1"])
    coord.drop_leases([])
    assert [lease.key for lease in coord.leases(prefix)] == [prefix + "x:2"]


def test_concurrent_claims_of_a_new_key_have_one_winner(coordination):
    coord, prefix = coordination
    key, won = prefix + "race", []
    barrier = threading.Barrier(6)

    def claim(owner: str) -> None:
        barrier.wait()
        if coord.claim_lease(key, owner, 30):
            won.append(owner)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and [lease.owner for lease in coord.leases(prefix)] == won


def test_process_lease_is_seen_by_the_reconciler_and_dropped_when_the_process_ended(backend_profile):
    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})
    lease = Lease(node.pk, seconds=0)
    lease.renew()
    time.sleep(0.05)
    assert lease.key == lease_key(node.pk) == f"process:{node.pk}"
    assert expired_leases(only=[node.pk]) == [node.pk]
    assert lease.key not in drop_ended_leases()  # still running: kept
    control.kill(node.pk, committer=AtomicCommitter())
    assert expired_leases(only=[node.pk]) == []  # ended: not lost
    assert lease.key in drop_ended_leases()
    assert [lease for lease in get_backend().coordination.leases(lease.key) if lease.key == f"process:{node.pk}"] == []


def test_pause_and_play_are_guarded_merges(backend_profile):
    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})
    stale = load_node(node.pk)  # loaded before a step commits
    work = UnitOfWork()
    work.update(stale, {"checkpoint_version": 1, "process_status": "stepped"})
    AtomicCommitter().commit(work, {node.pk: 0})
    assert control.pause(stale) and not control.pause(stale)
    paused = load_node(node.pk).base.attributes
    assert paused.get("paused") is True and paused.get("checkpoint_version") == 1
    assert paused.get("process_status") == "stepped"  # the step's commit was not rolled back
    played = []
    from provgraph.engine.launch import set_submitter

    previous = set_submitter(played.append)
    try:
        assert control.play(node.pk) and not control.play(node.pk)
    finally:
        set_submitter(previous)
    assert played == [node.pk] and load_node(node.pk).base.attributes.get("paused") is False


def test_reconcile_after_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(RECONCILE_AFTER_ENV, raising=False)
    assert reconcile_after() == 60.0
    monkeypatch.setenv(RECONCILE_AFTER_ENV, "2.5")
    assert reconcile_after() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(RECONCILE_AFTER_ENV, bad)
        with pytest.raises(ConfigurationError, match="PROVGRAPH_RECONCILE_AFTER"):
            reconcile_after()


def test_worker_start_reconcile_after_option():
    from provgraph.cli.cmd_worker import worker_env

    assert worker_env("p", 0, True, 7)[RECONCILE_AFTER_ENV] == "7.0"
    assert worker_env("p", 1, True, 7)["PROVGRAPH_RECONCILE"] == "0"
    result = CliRunner().invoke(cli, ["-p", "services", "worker", "start", "--reconcile-after", "-3"])
    assert result.exit_code != 0 and "-3" in result.output


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in state


def test_the_reconciler_process_stops_with_its_worker(monkeypatch):
    """It runs beside the worker (not as a thread the prefork pool would fork), and quits when the worker is gone."""
    import subprocess
    import sys

    from provgraph.engine.celery.outbox import Reconciler

    monkeypatch.setenv("PROVGRAPH_PROFILE", "services")
    reconciler = Reconciler(interval=3600, older_than=3600).start()
    pid = reconciler._process.pid
    time.sleep(0.5)
    assert not _gone(pid)
    reconciler.stop()
    assert _gone(pid)
    code = ("import os; from provgraph.engine.celery.outbox import Reconciler; "
            "print(Reconciler(3600, 3600).start()._process.pid, flush=True); os._exit(0)")
    orphan = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    deadline = time.monotonic() + 20
    while not _gone(orphan):
        assert time.monotonic() < deadline, "the reconciler outlived its worker"
        time.sleep(0.2)
