"""Fixtures and helpers of the ORM compatibility tests (data, node, QueryBuilder).

``sqlite_default`` makes the embedded sqlite profile current (the default a new AiiDA user
gets from ``presto``); the node and QueryBuilder tests use ``backend_profile`` from
tests/conftest.py instead, so they run on Neo4j too. Test modules import what they use.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def sqlite_default(request, monkeypatch):
    """The session's sqlite + local-repository profile, current for one test (then the previous one again)."""
    from provgraph import profiles
    from provgraph.orm import backend as orm_backend

    sqlite, home = request.getfixturevalue("sqlite_profile")
    previous = profiles._CURRENT.get()
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    orm_backend.get_backend(sqlite).migrate()
    profile = profiles.load_profile(sqlite.name)
    yield profile
    profiles._CURRENT.set(previous)


def mark(node, run: str):
    """Put ``run`` in the node's extras; return the node."""
    node.base.extras.set("run", run)
    return node
