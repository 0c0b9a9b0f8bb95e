"""Fixtures of the AiiDA-compatibility tests: most CalcJob-heavy tests run on the embedded default only."""

from __future__ import annotations

import pytest


@pytest.fixture
def embedded_profile(sqlite_profile, monkeypatch):
    """The embedded sqlite profile made current (the default backend of ``provgraph presto``).

    Tests that run many real CalcJobs take it instead of ``backend_profile``: one test per feature
    still runs on both backends, the rest of the matrix on the embedded one only, to keep the suite fast.
    """
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import load_profile

    sqlite, home = sqlite_profile
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    orm_backend.get_backend(sqlite).migrate()
    yield load_profile(sqlite.name)
    monkeypatch.undo()
    load_profile("services")
