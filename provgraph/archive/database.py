"""The archive's sqlite database: creating it for an export, and checking one found in an archive.

SQLAlchemy Core on the tables of :mod:`provgraph.storage.sqlite.schema`: the archive's
database is an sqlite-backend database, so the sqlite backend can open it as is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from provgraph.common.links import LINK_RULES
from provgraph.exceptions import ArchiveError
from provgraph.storage.sqlite import schema

#: the tables an archive holds and that are checked when one is read
ARCHIVE_TABLES = ("nodes", "links", "users", "computers", "groups", "group_nodes", "comments", "logs", "settings")


def engine_for(path: Path, *, fast_writes: bool = False) -> Engine:
    """Return an engine on the sqlite file ``path``; ``fast_writes`` drops journaling (scratch files only)."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    if fast_writes:
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()
    return engine


def create_database(path: Path) -> Engine:
    """Create an empty archive database at ``path`` in the sqlite backend's current schema."""
    engine = engine_for(path, fast_writes=True)
    schema.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(schema.settings.insert(), [{"key": "schema_version", "value": str(schema.SCHEMA_VERSION)}])
    return engine


@contextmanager
def translated(doing: str) -> Iterator[None]:
    """Turn database errors raised while ``doing`` into :class:`ArchiveError`."""
    try:
        yield
    except ArchiveError:
        raise
    except (SQLAlchemyError, sqlite3.Error, OverflowError, MemoryError) as exc:
        raise ArchiveError(f"the archive's database is broken: {doing} failed ({exc})") from exc


def check_database(connection: Connection) -> None:
    """Check the structure and the references of an archive database.

    The statements are fixed SQL text (table and column names are constants of the schema; values
    travel as parameters): checking many small archives then costs no statement compilation.

    :raises ArchiveError: when the file is not an sqlite database of a known schema version, fails
        sqlite's integrity check, or has links, memberships, comments or logs pointing at missing nodes,
        duplicate uuids, unknown link types, or links that break a provenance rule
    """
    with translated("checking its integrity"):
        verdict = _first(connection, "PRAGMA quick_check")
        if verdict != "ok":
            raise ArchiveError(f"the archive's database fails sqlite's integrity check: {verdict}")
        for name in ARCHIVE_TABLES:
            columns = ", ".join(f'"{column.name}"' for column in schema.metadata.tables[name].columns)
            connection.exec_driver_sql(f"SELECT {columns} FROM {name} LIMIT 0").all()
    _check_version(connection)
    with translated("checking its references"):
        _check_json(connection)
        _check_references(connection)
        _check_links(connection)


_JSON_COLUMNS = (("nodes", ("attributes", "extras", "repository")), ("groups", ("extras",)),
                 ("logs", ("metadata",)), ("computers", ("metadata",)))


def _check_json(connection: Connection) -> None:
    """The JSON columns hold JSON objects (a fast first check; rows are parsed fully on import)."""
    for table, columns in _JSON_COLUMNS:
        for column in columns:
            bad = _first(connection, f"SELECT pk FROM {table} WHERE CASE WHEN json_valid({column}) "
                                     f"THEN json_type({column}) END IS NOT 'object' LIMIT 1")
            if bad is not None:
                raise ArchiveError(f"the archive's {table} row {bad} has a {column} that is not a JSON object")


def _check_version(connection: Connection) -> None:
    with translated("reading its schema version"):
        value = _first(connection, "SELECT value FROM settings WHERE key = 'schema_version'")
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise ArchiveError(f"the archive's database has no valid schema version ({value!r})") from None
    if not 1 <= version <= schema.SCHEMA_VERSION:
        raise ArchiveError(f"the archive's database has schema version {version}; this provgraph reads "
                           f"versions 1 to {schema.SCHEMA_VERSION}")


_DANGLING = (
    ("links", "source"), ("links", "target"), ("group_nodes", "node_pk"), ("comments", "node_pk"),
    ("logs", "node_pk"),
)


def _first(connection: Connection, statement: str, *params: Any) -> Any:
    return connection.exec_driver_sql(statement, params).scalar()


def _check_references(connection: Connection) -> None:
    for table, column in _DANGLING:
        missing = connection.exec_driver_sql(
            f"SELECT {column} FROM {table} WHERE {column} IS NULL OR {column} NOT IN (SELECT pk FROM nodes) "
            "LIMIT 1").first()
        if missing is not None:
            raise ArchiveError(f"the archive's database is inconsistent: {table}.{column} refers to node "
                               f"{missing[0]}, which is not in the archive (a dangling reference)")
    orphan = _first(connection, "SELECT group_pk FROM group_nodes WHERE group_pk NOT IN (SELECT pk FROM groups) "
                                "LIMIT 1")
    if orphan is not None:
        raise ArchiveError(f"the archive's database refers to group {orphan}, which is not in the archive")
    for table in ("nodes", "groups", "comments", "logs", "computers"):
        duplicate = _first(connection, f"SELECT uuid FROM {table} GROUP BY uuid HAVING count(*) > 1 LIMIT 1")
        if duplicate is not None:
            raise ArchiveError(f"the archive's database has two {table} with uuid {duplicate}")


_LINK_ENDS = ("SELECT l.pk FROM links l JOIN nodes s ON s.pk = l.source JOIN nodes t ON t.pk = l.target "
              "WHERE l.type = ? AND (s.labels NOT LIKE ? OR t.labels NOT LIKE ?) LIMIT 1")


def _check_links(connection: Connection) -> None:
    known = ", ".join(f"'{link_type.value}'" for link_type in LINK_RULES)
    unknown = _first(connection, f"SELECT type FROM links WHERE type NOT IN ({known}) LIMIT 1")
    if unknown is not None:
        raise ArchiveError(f"the archive's database has a link of unknown type {unknown!r}")
    if _first(connection, "SELECT count(*) FROM links WHERE source = target"):
        raise ArchiveError("the archive's database has a link from a node to itself")
    for link_type, rule in LINK_RULES.items():
        bad = _first(connection, _LINK_ENDS, link_type.value, f"%|{rule.source}|%", f"%|{rule.target}|%")
        if bad is not None:
            raise ArchiveError(f"the archive's database has link {bad} breaking a rule: {rule.description}")
        if rule.single_incoming:
            types = ", ".join(f"'{t.value}'" for t in sorted(rule.single_incoming))
            many = _first(connection, f"SELECT target FROM links WHERE type IN ({types}) GROUP BY target "
                                      "HAVING count(*) > 1 LIMIT 1")
            if many is not None:
                raise ArchiveError(f"the archive's database breaks a rule at node {many}: {rule.description}")
        for flag, end in (("unique_label_per_target", "target"), ("unique_label_per_source", "source")):
            if getattr(rule, flag) and _first(
                    connection, f"SELECT {end} FROM links WHERE type = ? GROUP BY {end}, label "
                                "HAVING count(*) > 1 LIMIT 1", link_type.value) is not None:
                raise ArchiveError(f"the archive's database has duplicate link labels: {rule.description}")


def referenced_keys(connection: Connection) -> Iterator[str]:
    """Yield each repository object key the archive's nodes refer to, once."""
    with translated("reading the nodes' file trees"):
        result = connection.execute(text(
            "SELECT DISTINCT j.value FROM nodes, json_each(nodes.repository) AS j WHERE nodes.repository != '{}'"))
        for (key,) in result:
            yield key
