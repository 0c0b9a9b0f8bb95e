"""Fixtures of the web tests: a world per backend and a client on the app serving it."""

from __future__ import annotations

import pytest
from web_support import world as build_world


@pytest.fixture
def world(backend_profile, tmp_path_factory):
    """One MainJobWorkChain run and marked nodes, on the backend of this test run."""
    from provgraph.engine.launch import set_submitter

    previous = set_submitter(None)
    try:
        yield build_world(backend_profile, tmp_path_factory.mktemp("web-work"))
    finally:
        set_submitter(previous)


@pytest.fixture
def client(world):
    """A read-only API client on the world's profile."""
    from fastapi.testclient import TestClient

    from provgraph.web.app import create_app

    with TestClient(create_app(world.profile)) as test_client:
        yield test_client
