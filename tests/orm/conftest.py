"""Every ORM test runs on the services profile (real Neo4j + MinIO)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _orm_profile(neo4j_profile):
    """Make the services profile current for each ORM test."""
    from provgraph.profiles import load_profile

    load_profile("services")
    return neo4j_profile
