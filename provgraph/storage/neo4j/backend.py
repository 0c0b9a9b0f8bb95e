"""The neo4j storage backend: production storage on a Neo4j 5 server."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import StorageMigrationError
from provgraph.storage.base import StorageBackend, StorageInfo
from provgraph.storage.neo4j import migrator
from provgraph.storage.neo4j.coordination import Neo4jCoordination
from provgraph.storage.neo4j.driver import open_driver, translate_errors
from provgraph.storage.neo4j.entities import Neo4jEntities
from provgraph.storage.neo4j.nodes import Neo4jNodes
from provgraph.storage.neo4j.querying import Neo4jQueries
from provgraph.storage.neo4j.txn import Neo4jTransactions


class Neo4jBackend(StorageBackend):
    """Storage on a Neo4j server reached with the official driver.

    :param config: the profile's storage config with secrets: ``uri``, ``user``,
        ``password`` and optionally ``database`` (default ``neo4j``)
    :param check_schema: refuse a database whose schema is not the code's
        (pass False only to migrate it)
    """

    name = "core.neo4j"

    def __init__(self, config: dict[str, Any], check_schema: bool = True) -> None:
        self._config = config
        self._database = config.get("database", "neo4j")
        self._driver = open_driver(config)
        self._transactions = Neo4jTransactions(self._driver, self._database, config["uri"])
        self._nodes = Neo4jNodes(self._driver, self._database, config["uri"], self._transactions)
        self._entities = Neo4jEntities(self._driver, self._database, config["uri"], self._transactions)
        self._queries = Neo4jQueries(self._driver, self._database, config["uri"], self._transactions)
        self._coordination = Neo4jCoordination(self._driver, self._database, config["uri"], self._nodes,
                                               self._entities)
        if check_schema:
            self._require_current_schema()

    def _require_current_schema(self) -> None:
        with translate_errors(self._config["uri"]):
            current = migrator.check_version(self._driver, self._database)
        expected = migrator.code_version()
        if current < expected:
            raise StorageMigrationError(
                f"the database schema is at version {current}, this code needs {expected}: "
                "run `provgraph storage migrate`"
            )

    @property
    def nodes(self) -> Neo4jNodes:
        return self._nodes

    @property
    def queries(self) -> Neo4jQueries:
        return self._queries

    @property
    def users(self) -> Any:
        return self._entities.users

    @property
    def computers(self) -> Any:
        return self._entities.computers

    @property
    def groups(self) -> Any:
        return self._entities.groups

    @property
    def comments(self) -> Any:
        return self._entities.comments

    @property
    def logs(self) -> Any:
        return self._entities.logs

    @property
    def driver(self) -> Any:
        """The official driver (for the bulk and raw-Cypher paths of this backend)."""
        return self._driver

    @property
    def database(self) -> str:
        """Name of the Neo4j database used."""
        return self._database

    def cypher(self, query: str, params: dict[str, Any], write: bool = False) -> tuple[list[str], list[list[Any]]]:
        """Run raw Cypher (read-only unless ``write``); return column names and rows."""
        from provgraph.storage.neo4j.querying import run_cypher

        return run_cypher(self._driver, self._database, self._config["uri"], query, params, write)

    def transaction(self) -> Any:
        """One explicit Neo4j transaction for a block (see :mod:`provgraph.storage.neo4j.txn`)."""
        return self._transactions.transaction()

    def migrate(self) -> list[str]:
        with translate_errors(self._config["uri"]):
            return migrator.migrate(self._driver, self._database)

    def info(self) -> StorageInfo:
        with translate_errors(self._config["uri"]):
            version = migrator.database_version(self._driver, self._database)
        keys = set(self._nodes.iter_repository_keys())
        return StorageInfo(
            backend=self.name, location=f"{self._config['uri']} database {self._database}",
            schema_version=version, code_schema_version=migrator.code_version(),
            nodes_by_type=self._nodes.count_by("nodes"), links_by_type=self._nodes.count_by("links"),
            repository_keys=len(keys),
        )

    def close(self) -> None:
        self._driver.close()

    @property
    def coordination(self) -> Neo4jCoordination:
        """Guarded step commits and leases for the worker fleet (:mod:`provgraph.storage.neo4j.coordination`)."""
        return self._coordination
