"""Worker-fleet coordination on Neo4j: guarded step commits and leases (``ProcessCoordination``).

- :meth:`Neo4jCoordination.commit_guarded` writes a whole process step in one write transaction
  that first write-locks the guarded nodes and checks their ``checkpoint_version``.
- Leases are ``(:_ProcessLease {key, owner, expires})`` nodes, ``key`` unique (migration 0004),
  ``expires`` a Neo4j ``datetime`` computed by the server (``datetime()``), so workers whose clocks
  disagree still agree on who holds what. A claim runs in one write transaction: ``MERGE`` on the
  unique key (concurrent claims of a new key serialise on the constraint), write-lock the lease,
  then read and conditionally take it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provgraph.common.links import LinkRecord
from provgraph.storage.base import LeaseRecord, NodeRecord, ProcessCoordination
from provgraph.storage.neo4j.driver import translate_errors

if TYPE_CHECKING:
    import neo4j

    from provgraph.storage.entities import LogRecord
    from provgraph.storage.neo4j.entities import Neo4jEntities
    from provgraph.storage.neo4j.nodes import Neo4jNodes

_LOCK_LEASE = (
    "MERGE (l:_ProcessLease {key: $key}) ON CREATE SET l.owner = $owner, l.expires = datetime() "
    "SET l._lock = true REMOVE l._lock"
)
_TAKE_LEASE = (
    "MATCH (l:_ProcessLease {key: $key}) "
    "WITH l, l.owner = $owner OR l.expires <= datetime() OR $force AS free "
    "FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END | "
    "  SET l.owner = $owner, l.expires = datetime() + duration({milliseconds: $ms})) "
    "RETURN l.owner = $owner AS held"
)
_LEASES = (
    "MATCH (l:_ProcessLease) WHERE l.key STARTS WITH $prefix AND ($expired = false OR l.expires < datetime()) "
    "RETURN l.key AS key, l.owner AS owner, l.expires.epochMillis AS expires ORDER BY l.key"
)


class Neo4jCoordination(ProcessCoordination):
    """Guarded commits and leases of one :class:`~provgraph.storage.neo4j.backend.Neo4jBackend`.

    :param driver: the backend's driver
    :param database: the Neo4j database name
    :param uri: the server's URI (for error messages)
    :param nodes: the backend's node collection (its pk allocator)
    :param entities: the backend's entity collections (the log pk allocator)
    """

    def __init__(self, driver: neo4j.Driver, database: str, uri: str, nodes: Neo4jNodes,
                 entities: Neo4jEntities) -> None:
        self._driver, self._database, self._uri = driver, database, uri
        self._nodes, self._entities = nodes, entities

    def _write(self, work: Any, *args: Any) -> Any:
        transactions = getattr(self._nodes, "transactions", None)
        if transactions is not None and transactions.current is not None:
            return transactions.write(work, *args)
        with translate_errors(self._uri), self._driver.session(database=self._database) as session:
            return session.execute_write(work, *args)

    def commit_guarded(self, guards: Mapping[int, int], nodes: Sequence[NodeRecord], links: Sequence[LinkRecord],
                       updates: Mapping[int, dict[str, Any]], logs: Sequence[LogRecord]) -> dict[int, dict] | None:
        """Write one process step in ONE write transaction, guarded by checkpoint versions.

        Guarded and updated nodes are write-locked in pk order (no deadlock between two steps)
        before their attributes are read, so the check sees the latest committed state.
        See :meth:`provgraph.storage.base.ProcessCoordination.commit_guarded`.
        """
        pks = self._nodes._pks.take(len(nodes)) if nodes else []
        logs_api = self._entities.logs
        log_pks = logs_api._ctx.new_pks(logs_api._pks, len(logs)) if logs else []
        resolved_logs = [replace(log, node_pk=_ref(log.node_pk, pks), pk=pk)
                         for log, pk in zip(logs, log_pks, strict=True)]
        resolved_links = [_resolve_link(link, pks) for link in links]
        fresh = self._write(_guarded_step, dict(guards), _rows(nodes, pks), resolved_links, dict(updates),
                            resolved_logs)
        if fresh is not None:
            for node, pk in zip(nodes, pks, strict=True):
                node.pk = pk
            for log, resolved in zip(logs, resolved_logs, strict=True):
                log.pk = resolved.pk
        return fresh

    def claim_lease(self, key: str, owner: str, seconds: float, force: bool = False) -> bool:
        """Take or extend lease ``key`` for ``owner`` until the server's now + ``seconds``."""
        return bool(self._write(_claim, str(key), str(owner), max(0, int(float(seconds) * 1000)), bool(force)))

    def release_lease(self, key: str, owner: str) -> None:
        """Drop lease ``key`` if ``owner`` still holds it."""
        self._run("MATCH (l:_ProcessLease {key: $key, owner: $owner}) DELETE l", key=str(key), owner=str(owner))

    def leases(self, prefix: str = "", expired_only: bool = False) -> list[LeaseRecord]:
        """The leases whose key starts with ``prefix`` (only the expired ones if asked), by key."""
        rows = self._run(_LEASES, prefix=str(prefix), expired=bool(expired_only), routing="r")
        return [LeaseRecord(row["key"], row["owner"], row["expires"] / 1000.0) for row in rows]

    def drop_leases(self, keys: Sequence[str]) -> None:
        """Delete the leases ``keys`` whoever holds them."""
        if keys:
            self._run("MATCH (l:_ProcessLease) WHERE l.key IN $keys DELETE l", keys=[str(key) for key in keys])

    def _run(self, query: str, routing: str = "w", **params: Any) -> list[Any]:
        with translate_errors(self._uri):
            records, _, _ = self._driver.execute_query(query, params, database_=self._database, routing_=routing)
        return records


def _claim(tx: neo4j.ManagedTransaction, key: str, owner: str, ms: int, force: bool) -> bool:
    tx.run(_LOCK_LEASE, key=key, owner=owner).consume()
    record = tx.run(_TAKE_LEASE, key=key, owner=owner, ms=ms, force=force).single()
    return bool(record and record["held"])


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
    """The transaction function of :meth:`Neo4jCoordination.commit_guarded`; None (rolled back) when stale."""
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
