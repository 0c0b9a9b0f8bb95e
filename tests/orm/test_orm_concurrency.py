"""pks are allocated without collisions when several processes store at once."""

from __future__ import annotations

import multiprocessing

import pytest

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def _store_many(profile: str, count: int) -> list[int]:
    from provgraph.orm import Int
    from provgraph.profiles import load_profile

    load_profile(profile)  # PROVGRAPH_HOME is inherited from the test's environment
    return [Int(i).store().pk for i in range(count)]


def test_concurrent_processes_get_distinct_pks(backend_profile):
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(_store_many, [(backend_profile.name, 150)] * 4)
    pks = [pk for chunk in results for pk in chunk]
    assert len(pks) == 600
    assert len(set(pks)) == 600
    for chunk in results:
        assert chunk == sorted(chunk)  # within one process pks only grow
