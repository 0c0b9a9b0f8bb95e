"""The neo4j storage backend: production storage on a Neo4j 5 server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provgraph.common.links import LinkRecord
from provgraph.exceptions import StorageMigrationError
from provgraph.storage.base import NodeRecord, StorageBackend, StorageInfo
from provgraph.storage.neo4j import migrator
from provgraph.storage.neo4j.driver import open_driver, translate_errors
from provgraph.storage.neo4j.entities import Neo4jEntities
from provgraph.storage.neo4j.nodes import Neo4jNodes
from provgraph.storage.neo4j.querying import Neo4jQueries

if TYPE_CHECKING:
    import neo4j

    from provgraph.storage.entities import LogRecord


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
        self._nodes = Neo4jNodes(self._driver, self._database, config["uri"])
        self._entities = Neo4jEntities(self._driver, self._database, config["uri"])
        self._queries = Neo4jQueries(self._driver, self._database, config["uri"])
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

    def commit_guarded(self, guards: Mapping[int, int], nodes: Sequence[NodeRecord], links: Sequence[LinkRecord],
                       updates: Mapping[int, dict[str, Any]], logs: Sequence[LogRecord]) -> dict[int, dict] | None:
        """Write one process step in ONE write transaction, guarded by checkpoint versions (engine use).

        The transaction first write-locks every guarded or updated node (in pk order) and checks that
        each guarded node's ``checkpoint_version`` attribute (0 when absent) equals ``guards[pk]`` and
        that it is not sealed. Then it creates ``nodes`` and ``links`` (an end ``-(i + 1)`` is
        ``nodes[i]``, as in ``nodes.store``; link rules are checked), merges ``updates`` (pk ->
        attribute values, already JSON-clean) into the stored attributes (setting ``mtime``) and creates
        ``logs`` (their ``node_pk`` may be a ``-(i + 1)`` reference too). Records get their pks only on
        success.

        :return: the attributes of the guarded nodes after the commit, or None when a guard failed
            (then nothing was written)
        :raises LinkRuleError: when a link breaks a provenance rule (nothing is written)
        """
        from provgraph.storage.neo4j.driver import translate_errors

        pks = self._nodes._pks.take(len(nodes)) if nodes else []
        log_pks = self._entities.logs._ctx.new_pks(self._entities.logs._pks, len(logs)) if logs else []
        resolved_logs = [replace(log, node_pk=_ref(log.node_pk, pks), pk=pk) for log, pk in zip(logs, log_pks,
                                                                                                  strict=True)]
        args = (dict(guards), _rows(nodes, pks), [_resolve_link(link, pks) for link in links], dict(updates),
                resolved_logs)
        with translate_errors(self._config["uri"]), self._driver.session(database=self._database) as session:
            fresh = session.execute_write(_guarded_step, *args)
        if fresh is not None:
            for node, pk in zip(nodes, pks, strict=True):
                node.pk = pk
            for log, resolved in zip(logs, resolved_logs, strict=True):
                log.pk = resolved.pk
        return fresh


def _ref(ref: int, pks: list[int]) -> int:
    return pks[-ref - 1] if ref < 0 else ref


def _resolve_link(link: LinkRecord, pks: list[int]) -> LinkRecord:
    return LinkRecord(_ref(link.source, pks), _ref(link.target, pks), link.link_type, link.label)


def _rows(nodes: Sequence[NodeRecord], pks: list[int]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    from provgraph.storage.neo4j.nodes import to_properties

    rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for node, pk in zip(nodes, pks, strict=True):
        rows.setdefault(node.labels, []).append({**to_properties(replace(node, pk=pk))})
    return rows


def _guarded_step(tx: neo4j.ManagedTransaction, guards: dict[int, int], rows: dict, links: list[LinkRecord],
                  updates: dict[int, dict[str, Any]], logs: list[LogRecord]) -> dict[int, dict] | None:
    """The transaction function of :meth:`Neo4jBackend.commit_guarded`; None (rolled back) when stale."""
    from provgraph.storage.neo4j import models
    from provgraph.storage.neo4j.entities import _create_logs
    from provgraph.storage.neo4j.nodes import _update_node, _write_nodes_and_links
    from provgraph.storage.neo4j.properties import unflatten

    current: dict[int, dict[str, Any]] = {}
    for pk in sorted(set(guards) | set(updates)):
        # write-lock first (SET), then read: the read sees the latest committed state (no lost update)
        tx.run("MATCH (n:Node {pk: $pk}) SET n._lock = true REMOVE n._lock", pk=pk).consume()
        record = tx.run("MATCH (n:Node {pk: $pk}) RETURN n", pk=pk).single()
        current[pk] = unflatten("attributes", dict(record["n"].items())) if record else {}
    for pk, expected in guards.items():
        if current[pk].get("checkpoint_version", 0) != expected or current[pk].get("sealed", False):
            return None
    _write_nodes_and_links(tx, rows, links)
    for pk, values in updates.items():
        current[pk] = {**current[pk], **values}
        _update_node(tx, pk, {"attributes": current[pk], "mtime": datetime.now(timezone.utc)})
    if logs:
        rows_of_logs = [{"node": log.node_pk, "props": models.properties_of(log)} for log in logs]
        _create_logs(tx, list(dict.fromkeys(log.node_pk for log in logs)), rows_of_logs)
    return {pk: current[pk] for pk in guards}
