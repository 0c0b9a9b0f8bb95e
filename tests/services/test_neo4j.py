"""The Neo4j service: a real Cypher write and read through the official driver."""

from __future__ import annotations

import uuid

import pytest

from provgraph.exceptions import UnreachableStorage
from provgraph.storage.neo4j.driver import open_driver, server_version

pytestmark = pytest.mark.requires_neo4j


def test_cypher_write_then_read(neo4j_driver):
    marker = str(uuid.uuid4())
    with neo4j_driver.session() as session:
        session.execute_write(lambda tx: tx.run("CREATE (:ServiceProbe {marker: $m, n: 41})", m=marker).consume())
        value = session.execute_read(
            lambda tx: tx.run("MATCH (p:ServiceProbe {marker: $m}) RETURN p.n + 1 AS v", m=marker).single()["v"]
        )
        session.execute_write(lambda tx: tx.run("MATCH (p:ServiceProbe {marker: $m}) DELETE p", m=marker).consume())
    assert value == 42


def test_server_is_neo4j_5_26(neo4j_driver):
    assert server_version(neo4j_driver).startswith("5.26")


def test_wrong_password_is_refused(services_profile):
    config = dict(services_profile.section_config("storage"), password="not-the-password")
    with pytest.raises(UnreachableStorage, match="refused the credentials"):
        open_driver(config)


def test_bolt_listens_on_loopback_only(services_profile):
    assert services_profile.storage["config"]["uri"].startswith("bolt://127.0.0.1:")
