"""Fixtures for the tests of the sqlite backend itself (tests/storage/sqlite): a fresh database per test."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from provgraph.storage.base import NodeRecord

TREES = {
    "int": ("Node", "Data", "Int"),
    "calc": ("Node", "ProcessNode", "CalculationNode", "CalcFunctionNode"),
    "work": ("Node", "ProcessNode", "WorkflowNode", "WorkChainNode"),
}


@pytest.fixture
def sqlite_path(tmp_path):
    """Path of a database file that does not exist yet."""
    return tmp_path / "db" / "storage.sqlite"


@pytest.fixture
def sqlite_backend(sqlite_path):
    """A :class:`~provgraph.storage.sqlite.backend.SqliteBackend` on a fresh database file."""
    from provgraph.storage.sqlite.backend import SqliteBackend

    backend = SqliteBackend({"path": str(sqlite_path)})
    yield backend
    backend.close()


@pytest.fixture
def make_node():
    """A factory of unstored node records: ``make_node("int", attributes={...})``."""
    def make(kind: str = "int", **fields) -> NodeRecord:
        now = datetime.now(timezone.utc)
        values = {"uuid": str(uuid.uuid4()), "node_type": f"test.{kind}", "labels": TREES[kind], "ctime": now,
                  "mtime": now, "user": "tests@provgraph.example", **fields}
        return NodeRecord(**values)

    return make
