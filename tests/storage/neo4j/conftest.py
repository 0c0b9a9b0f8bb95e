"""Fixtures for the tests of the neo4j backend itself (tests/storage/neo4j)."""

from __future__ import annotations

import pytest

from provgraph.exceptions import ProvgraphError


@pytest.fixture(scope="session")
def neo4j_backend(services_profile):
    """A migrated :class:`~provgraph.storage.neo4j.backend.Neo4jBackend` on the Neo4j service."""
    from provgraph.storage.neo4j.backend import Neo4jBackend

    try:
        backend = Neo4jBackend(services_profile.section_config("storage"), check_schema=False)
        backend.migrate()
    except ProvgraphError as exc:
        pytest.fail(f"Neo4j service unavailable: {exc}", pytrace=False)
    yield backend
    backend.close()
