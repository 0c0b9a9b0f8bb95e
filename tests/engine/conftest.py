"""Every engine test runs on the services profile (real Neo4j + MinIO), with no submitter installed."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _engine_profile(neo4j_profile):
    """Make the services profile current and leave no submitter behind."""
    from provgraph.engine.launch import set_submitter
    from provgraph.profiles import load_profile

    load_profile("services")
    previous = set_submitter(None)
    yield neo4j_profile
    set_submitter(previous)


@pytest.fixture
def submitted():
    """Install a submitter that records the pks handed to it (standing in for the workers)."""
    from provgraph.engine.launch import set_submitter

    pks: list[int] = []
    set_submitter(pks.append)
    yield pks
    set_submitter(None)
