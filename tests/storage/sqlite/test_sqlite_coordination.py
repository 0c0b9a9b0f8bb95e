"""provgraph.storage.sqlite.coordination: guarded step commits and leases."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from provgraph.common.links import LinkRecord, LinkType
from provgraph.exceptions import LinkRuleError, NotExistent, ValidationError
from provgraph.storage.entities import LogRecord


def _process(backend, make_node, **attributes) -> int:
    return backend.nodes.store([make_node("calc", attributes=attributes)])[0]


def _snapshot(backend) -> tuple:
    """Everything a step could write: node and link counts, logs, and the attributes of every node."""
    with backend.engine.connect() as connection:
        counts = tuple(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                       for table in ("nodes", "links", "logs"))
        attributes = connection.exec_driver_sql("SELECT pk, attributes, mtime FROM nodes ORDER BY pk").all()
    return counts, [tuple(row) for row in attributes]


def test_commit_guarded_writes_the_step_and_moves_the_version(sqlite_backend, make_node):
    coordination = sqlite_backend.coordination
    x = sqlite_backend.nodes.store([make_node("int", attributes={"value": 1})])[0]
    calc = _process(sqlite_backend, make_node, checkpoint_version=3, process_state="running")
    out = make_node("int", attributes={"value": 2})
    logs = [LogRecord(node_pk=calc, message="step", levelname="INFO", loggername="t"),
            LogRecord(node_pk=-1, message="made", levelname="DEBUG", loggername="t")]
    links = [LinkRecord(x, calc, LinkType.INPUT_CALC, "x"), LinkRecord(calc, -1, LinkType.CREATE, "result")]
    fresh = coordination.commit_guarded({calc: 3}, [out], links, {calc: {"checkpoint_version": 4, "step": "b"}},
                                        logs)
    assert fresh == {calc: {"checkpoint_version": 4, "process_state": "running", "step": "b"}}
    assert out.pk is not None and sqlite_backend.nodes.get(pk=out.pk).attributes == {"value": 2}
    assert sqlite_backend.nodes.get(pk=calc).attributes == fresh[calc]
    assert [t.node_pk for t in sqlite_backend.nodes.links(calc, "forward")] == [out.pk]
    assert all(log.pk is not None for log in logs)
    assert [log.message for log in sqlite_backend.logs.for_node(out.pk)] == ["made"]
    assert [log.message for log in sqlite_backend.logs.for_node(calc)] == ["step"]


@pytest.mark.parametrize("attributes, guard", [
    ({"checkpoint_version": 5}, 4),  # a redelivered task started from an older checkpoint
    ({}, 1),  # no checkpoint yet means version 0
    ({"checkpoint_version": 2, "sealed": True}, 2),  # a sealed process never changes
])
def test_stale_or_sealed_guard_writes_nothing(sqlite_backend, make_node, attributes, guard):
    calc = _process(sqlite_backend, make_node, **attributes)
    before = _snapshot(sqlite_backend)
    out = make_node("int")
    log = LogRecord(node_pk=calc, message="dup", levelname="INFO", loggername="t")
    result = sqlite_backend.coordination.commit_guarded(
        {calc: guard}, [out], [LinkRecord(calc, -1, LinkType.CREATE, "r")], {calc: {"checkpoint_version": 99}}, [log])
    assert result is None
    assert out.pk is None and log.pk is None
    assert _snapshot(sqlite_backend) == before


def test_link_rule_failure_in_a_step_writes_nothing(sqlite_backend, make_node):
    calc = _process(sqlite_backend, make_node, checkpoint_version=1)
    created = make_node("int")
    sqlite_backend.nodes.store([created], [LinkRecord(calc, -1, LinkType.CREATE, "first")])
    other = _process(sqlite_backend, make_node, checkpoint_version=0)
    before = _snapshot(sqlite_backend)
    new = make_node("int")
    log = LogRecord(node_pk=other, message="x", levelname="INFO", loggername="t")
    with pytest.raises(LinkRuleError, match="at most one creator"):
        sqlite_backend.coordination.commit_guarded(
            {other: 0}, [new], [LinkRecord(other, -1, LinkType.CREATE, "a"), LinkRecord(other, created.pk,
                                                                                        LinkType.CREATE, "b")],
            {other: {"checkpoint_version": 1}}, [log])
    assert new.pk is None and log.pk is None
    assert _snapshot(sqlite_backend) == before


def test_update_of_a_missing_node_writes_nothing(sqlite_backend, make_node):
    calc = _process(sqlite_backend, make_node)
    before = _snapshot(sqlite_backend)
    with pytest.raises(NotExistent):
        sqlite_backend.coordination.commit_guarded({calc: 0}, [make_node("int")], [],
                                                   {calc: {"a": 1}, 10**9: {"a": 1}}, [])
    assert _snapshot(sqlite_backend) == before


def test_leases_claim_extend_expire_force_release(sqlite_backend):
    leases = sqlite_backend.coordination
    assert leases.claim_lease("computer:1:poll", "worker-a", 30)
    assert not leases.claim_lease("computer:1:poll", "worker-b", 30)
    first = leases.leases("computer:")[0]
    assert (first.key, first.owner) == ("computer:1:poll", "worker-a")
    assert first.expires == pytest.approx(time.time() + 30, abs=5)
    time.sleep(0.01)
    assert leases.claim_lease("computer:1:poll", "worker-a", 60)  # extending
    assert leases.leases("computer:")[0].expires > first.expires
    assert leases.claim_lease("computer:1:poll", "worker-b", 30, force=True)
    assert leases.leases("computer:1")[0].owner == "worker-b"
    leases.release_lease("computer:1:poll", "worker-a")  # no longer worker-a's: kept
    assert [lease.owner for lease in leases.leases()] == ["worker-b"]
    leases.release_lease("computer:1:poll", "worker-b")
    assert leases.leases() == []


def test_expired_leases_are_free_and_listed(sqlite_backend):
    leases = sqlite_backend.coordination
    assert leases.claim_lease("process:1", "worker-a", 0.05)
    assert leases.claim_lease("process:2", "worker-a", 600)
    assert leases.leases(expired_only=True) == []
    time.sleep(0.2)
    assert [lease.key for lease in leases.leases("process:", expired_only=True)] == ["process:1"]
    assert leases.claim_lease("process:1", "worker-b", 30)  # an expired lease is free
    assert [lease.owner for lease in leases.leases("process:")] == ["worker-b", "worker-a"]
    leases.drop_leases(["process:1", "process:2", "process:unknown"])
    assert leases.leases() == []


@pytest.mark.parametrize("args", [("", "a", 1), ("k", "", 1), ("k", "a", -1), ("k", "a", float("inf")),
                                  ("k", "a", True)])
def test_bad_lease_arguments_are_refused(sqlite_backend, args):
    with pytest.raises(ValidationError):
        sqlite_backend.coordination.claim_lease(*args)
    assert sqlite_backend.coordination.leases() == []


def _claim(path: str, owner: str, start: float) -> bool:
    from provgraph.storage.sqlite.backend import SqliteBackend

    backend = SqliteBackend({"path": path})
    while time.time() < start:
        time.sleep(0.001)
    try:
        return backend.coordination.claim_lease("computer:7:poll", owner, 60)
    finally:
        backend.close()


def test_one_of_several_processes_wins_a_lease(sqlite_backend, sqlite_path):
    start = time.time() + 1.5
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        won = pool.starmap(_claim, [(str(sqlite_path), f"worker-{i}", start) for i in range(4)])
    assert sum(won) == 1
    owner = sqlite_backend.coordination.leases("computer:7")[0].owner
    assert owner == f"worker-{won.index(True)}"


def _step(path: str, calc: int, start: float) -> bool:
    from datetime import datetime, timezone
    from uuid import uuid4

    from provgraph.storage.base import NodeRecord
    from provgraph.storage.sqlite.backend import SqliteBackend

    backend = SqliteBackend({"path": path})
    now = datetime.now(timezone.utc)
    output = NodeRecord(uuid=str(uuid4()), node_type="test.int", labels=("Node", "Data", "Int"), ctime=now,
                        mtime=now, user="tests@provgraph.example")
    while time.time() < start:
        time.sleep(0.001)
    try:
        fresh = backend.coordination.commit_guarded({calc: 0}, [output], [LinkRecord(calc, -1, LinkType.CREATE, "r")],
                                                    {calc: {"checkpoint_version": 1}}, [])
        return fresh is not None
    finally:
        backend.close()


def test_duplicated_step_in_several_processes_commits_once(sqlite_backend, sqlite_path, make_node):
    calc = _process(sqlite_backend, make_node)
    start = time.time() + 1.5
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        committed = pool.starmap(_step, [(str(sqlite_path), calc, start)] * 4)
    assert sum(committed) == 1
    assert sqlite_backend.nodes.get(pk=calc).attributes == {"checkpoint_version": 1}
    assert len(sqlite_backend.nodes.links(calc, "forward")) == 1
    assert sqlite_backend.nodes.count_by("nodes") == {"test.calc": 1, "test.int": 1}
