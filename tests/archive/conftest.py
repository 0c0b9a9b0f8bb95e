"""Fixtures of the archive tests: fresh sqlite profiles to import into, and switching profiles."""

from __future__ import annotations

import itertools
import os

import pytest
from archive_support import activate

_COUNTER = itertools.count()


@pytest.fixture
def sqlite_target(tmp_path):
    """A new, empty sqlite + local-repository profile, made current for one test.

    Afterwards its storage is closed and the profile current before is current again.
    """
    from provgraph import profiles
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import Profile

    previous = profiles._CURRENT.get()
    name = f"archive-target-{os.getpid()}-{next(_COUNTER)}"
    root = tmp_path / name
    profile = Profile(
        name=name,
        storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
        repository={"backend": "local", "config": {"path": str(root / "repository")}},
        broker={},
    )
    orm_backend.get_backend(profile).migrate()
    yield activate(profile)
    orm_backend.get_backend(profile).close()
    orm_backend._OPEN.pop(name, None)
    profiles._CURRENT.set(previous)


@pytest.fixture
def services_current(neo4j_profile):
    """Make the services (neo4j) profile current."""
    return activate(neo4j_profile)
