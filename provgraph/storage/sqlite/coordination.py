"""Guarded step commits and leases for the worker fleet on the sqlite backend.

Every operation is one ``BEGIN IMMEDIATE`` transaction: it holds sqlite's single write lock
from its first statement, so the checks it makes (checkpoint versions, who holds a lease)
and the writes that follow can never interleave with another process's. Lease times are
the database's clock (``julianday('now')``), the same for every process on the host.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from provgraph.common.links import LinkRecord
from provgraph.exceptions import NotExistent, StoringError, ValidationError
from provgraph.storage.base import LeaseRecord, NodeRecord, ProcessCoordination
from provgraph.storage.entities import LogRecord, require_text
from provgraph.storage.sqlite import db, schema
from provgraph.storage.sqlite.entities import insert_logs, log_row
from provgraph.storage.sqlite.nodes import store_in
from provgraph.storage.sqlite.records import from_json, json_list, node_row, to_json

#: the database's "now" as Unix seconds
_NOW = text("SELECT (julianday('now') - 2440587.5) * 86400.0")


def _now(connection: Connection) -> float:
    return float(connection.execute(_NOW).scalar())


def _ref(ref: int, pks: Sequence[int]) -> int:
    if ref < 0:
        if -ref > len(pks):
            raise StoringError(f"log record refers to new node #{-ref} but only {len(pks)} are stored")
        return pks[-ref - 1]
    return ref


class SqliteCoordination(ProcessCoordination):
    """:class:`~provgraph.storage.base.ProcessCoordination` on the sqlite database of one backend."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def commit_guarded(self, guards: Mapping[int, int], nodes: Sequence[NodeRecord], links: Sequence[LinkRecord],
                       updates: Mapping[int, dict[str, Any]], logs: Sequence[LogRecord]) -> dict[int, dict] | None:
        nodes, logs = list(nodes), list(logs)
        if any(node.pk is not None for node in nodes):
            raise StoringError("a node that already has a pk is stored already")
        for log in logs:
            if log.pk is not None:
                raise StoringError(f"this log record is stored already (pk {log.pk})")
            log.validate()
        rows = [node_row(node) for node in nodes]
        with db.write(self._engine) as connection:
            current = self._current(connection, sorted(set(guards) | set(updates)))
            for pk, expected in guards.items():
                if current[pk].get("checkpoint_version", 0) != expected or current[pk].get("sealed", False):
                    return None  # nothing was written: the empty transaction just ends
            pks = store_in(connection, nodes, rows, links)
            mtime = db.to_text(datetime.now(timezone.utc))
            for pk, values in updates.items():
                if pk not in current or current[pk] is _MISSING:
                    raise NotExistent(f"no node with pk {pk}")
                current[pk] = {**current[pk], **values}
                connection.execute(update(schema.nodes).where(schema.nodes.c.pk == pk).values(
                    attributes=to_json(current[pk], "attribute"), mtime=mtime))
            resolved = [replace(log, node_pk=_ref(log.node_pk, pks)) for log in logs]
            log_pks = insert_logs(connection, [log_row(log) for log in resolved])
        for node, pk in zip(nodes, pks, strict=True):
            node.pk = pk
        for log, pk in zip(logs, log_pks, strict=True):
            log.pk = pk
        return {pk: dict(current[pk]) for pk in guards}

    @staticmethod
    def _current(connection: Connection, pks: list[int]) -> dict[int, dict[str, Any]]:
        """Return the stored attributes of ``pks`` (an empty marker dict for a missing node)."""
        rows = connection.execute(
            text("SELECT pk, attributes FROM nodes WHERE pk IN (SELECT value FROM json_each(:pks))"),
            {"pks": json_list(pks)},
        )
        found = {row.pk: from_json(row.attributes) for row in rows}
        return {pk: found.get(pk, _MISSING) for pk in pks}

    def claim_lease(self, key: str, owner: str, seconds: float, force: bool = False) -> bool:
        require_text(key, "a lease key")
        require_text(owner, "a lease owner")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
                or seconds < 0:
            raise ValidationError(f"a lease lasts a finite, non-negative number of seconds, not {seconds!r}")
        table = schema.leases
        with db.write(self._engine) as connection:
            now = _now(connection)
            held = connection.execute(select(table.c.owner, table.c.expires).where(table.c.key == key)).first()
            if held is not None and held.owner != owner and held.expires > now and not force:
                return False
            statement = sqlite_insert(table).values(key=key, owner=owner, expires=now + float(seconds))
            connection.execute(statement.on_conflict_do_update(
                index_elements=[table.c.key],
                set_={"owner": statement.excluded.owner, "expires": statement.excluded.expires},
            ))
        return True

    def release_lease(self, key: str, owner: str) -> None:
        with db.write(self._engine) as connection:
            connection.execute(text("DELETE FROM leases WHERE key = :key AND owner = :owner"),
                               {"key": key, "owner": owner})

    def leases(self, prefix: str = "", expired_only: bool = False) -> list[LeaseRecord]:
        require_text(prefix, "a lease key prefix", empty=True)
        query = "SELECT key, owner, expires FROM leases WHERE substr(key, 1, :length) = :prefix"
        if expired_only:
            query += " AND expires <= (julianday('now') - 2440587.5) * 86400.0"
        with db.read(self._engine) as connection:
            rows = connection.execute(text(query + " ORDER BY key"), {"length": len(prefix), "prefix": prefix})
            return [LeaseRecord(row.key, row.owner, row.expires) for row in rows]

    def drop_leases(self, keys: Sequence[str]) -> None:
        with db.write(self._engine) as connection:
            connection.execute(text("DELETE FROM leases WHERE key IN (SELECT value FROM json_each(:keys))"),
                               {"keys": json_list(keys)})


class _Missing(dict):
    """The attributes of a node that does not exist: empty, and told apart by identity."""


_MISSING: dict[str, Any] = _Missing()
