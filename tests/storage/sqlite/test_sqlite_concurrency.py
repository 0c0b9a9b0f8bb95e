"""Several processes writing one sqlite database at once (WAL, BEGIN IMMEDIATE, busy timeout)."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import text

from provgraph.common.links import LinkRecord, LinkType
from provgraph.storage.base import NodeRecord
from provgraph.storage.sqlite import db

WORKERS, ROUNDS = 4, 40


def _triple() -> list[NodeRecord]:
    now = datetime.now(timezone.utc)
    trees = [("Node", "Data", "Int"), ("Node", "ProcessNode", "CalculationNode", "CalcFunctionNode"),
             ("Node", "Data", "Int")]
    return [NodeRecord(uuid=str(uuid.uuid4()), node_type="test", labels=tree, ctime=now, mtime=now,
                       user="tests@provgraph.example", attributes={"i": i}) for i, tree in enumerate(trees)]


def _writer(path: str, start: float) -> list[tuple[int, str]]:
    """Store ROUNDS triples (x -> calc -> y) in separate transactions; return (pk, uuid) of every node."""
    from provgraph.storage.sqlite.backend import SqliteBackend

    backend = SqliteBackend({"path": path})
    while time.time() < start:
        time.sleep(0.001)
    stored = []
    try:
        for _ in range(ROUNDS):
            nodes = _triple()
            links = [LinkRecord(-1, -2, LinkType.INPUT_CALC, "x"), LinkRecord(-2, -3, LinkType.CREATE, "y")]
            pks = backend.nodes.store(nodes, links)
            stored += [(pk, node.uuid) for pk, node in zip(pks, nodes, strict=True)]
            backend.nodes.update(pks[1], extras={"done": True})
    finally:
        backend.close()
    return stored


def test_processes_storing_at_once_lose_nothing(sqlite_backend, sqlite_path):
    start = time.time() + 1.5
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        results = pool.starmap(_writer, [(str(sqlite_path), start)] * WORKERS)
    stored = [item for chunk in results for item in chunk]
    assert len(stored) == WORKERS * ROUNDS * 3
    assert len({pk for pk, _ in stored}) == len(stored)  # no pk handed out twice
    for chunk in results:
        assert [pk for pk, _ in chunk] == sorted(pk for pk, _ in chunk)  # a process's pks only grow
    with db.read(sqlite_backend.engine) as connection:
        rows = dict(connection.execute(text("SELECT pk, uuid FROM nodes")).all())
        links = connection.execute(text("SELECT count(*) FROM links")).scalar()
        done = connection.execute(text("SELECT count(*) FROM nodes WHERE extras = :done"),
                                  {"done": '{"done":true}'}).scalar()
    assert rows == dict(stored)  # every write is there, with the pk its writer was told
    assert links == WORKERS * ROUNDS * 2 and done == WORKERS * ROUNDS
    calc = stored[1][0]
    assert [t.label for t in sqlite_backend.nodes.links(calc, "backward")] == ["x"]


def test_readers_see_a_snapshot_while_a_writer_holds_the_lock(sqlite_backend, make_node):
    sqlite_backend.nodes.store([make_node("int")])
    with db.write(sqlite_backend.engine) as writer:
        writer.execute(text("DELETE FROM nodes"))
        # WAL: a reader is neither blocked by the open write transaction nor sees its uncommitted work
        assert len(sqlite_backend.nodes.count_by("nodes")) == 1
    assert sqlite_backend.nodes.count_by("nodes") == {}


def test_a_waiting_writer_gets_the_lock_when_it_is_released(sqlite_path, make_node):
    from provgraph.exceptions import StorageError
    from provgraph.storage.sqlite.backend import SqliteBackend

    patient = SqliteBackend({"path": str(sqlite_path), "busy_timeout": 5})
    hasty = SqliteBackend({"path": str(sqlite_path), "busy_timeout": 0.2})
    try:
        with db.write(patient.engine):
            try:
                hasty.nodes.store([make_node("int")])
            except StorageError as exc:
                assert "locked" in str(exc)
            else:
                raise AssertionError("a second writer got in while the first held the write lock")
        assert len(hasty.nodes.store([make_node("int")])) == 1
    finally:
        patient.close()
        hasty.close()
