"""Shared fixture of the engine compatibility tests: the embedded sqlite profile, no workers.

Imported by the ``test_compat_engine*``, ``test_compat_launch``, ``test_compat_process_functions``
and ``test_compat_workchain_spec`` modules (``from process_support import sqlite_engine``); the
fixture is autouse there. ``submit()`` hands processes to a submitter that drives them right away
in this interpreter with the same :func:`~provgraph.engine.advance` the workers use.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def sqlite_engine(sqlite_profile, monkeypatch):
    """Make the sqlite test profile current; ``submit()`` runs processes in this interpreter."""
    from provgraph.engine.launch import Runner, set_submitter
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import load_profile

    sqlite, home = sqlite_profile
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    orm_backend.get_backend(sqlite).migrate()
    profile = load_profile(sqlite.name)
    driven: list[int] = []

    def drive(pk: int) -> None:
        driven.append(pk)
        Runner(poll_interval=0.01).drive(pk)

    previous = set_submitter(drive)
    yield driven
    set_submitter(previous)
    monkeypatch.undo()
    del profile


def reports(node) -> list[str]:
    """The report messages of a process node, oldest first."""
    from provgraph.orm.backend import get_backend

    return [log.message for log in get_backend().logs.for_node(node.pk)]


@pytest.fixture
def driven(sqlite_engine):
    """The pks the test's submitter was handed, in order."""
    return sqlite_engine
