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

from sqlalchemy import create_engine, event, func, select, text
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

    :raises ArchiveError: when the file is not an sqlite database of a known schema version, fails
        sqlite's integrity check, or has links, memberships, comments or logs pointing at missing nodes,
        duplicate uuids, unknown link types, or links that break a provenance rule
    """
    with translated("checking its integrity"):
        verdict = connection.execute(text("PRAGMA quick_check")).scalar()
        if verdict != "ok":
            raise ArchiveError(f"the archive's database fails sqlite's integrity check: {verdict}")
        for name in ARCHIVE_TABLES:
            table = schema.metadata.tables[name]
            connection.execute(select(*table.columns).limit(0)).all()
    _check_version(connection)
    with translated("checking its references"):
        _check_references(connection)
        _check_links(connection)


def _check_version(connection: Connection) -> None:
    with translated("reading its schema version"):
        value = connection.execute(
            select(schema.settings.c.value).where(schema.settings.c.key == "schema_version")).scalar()
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


def _check_references(connection: Connection) -> None:
    nodes = schema.nodes
    for table_name, column_name in _DANGLING:
        table = schema.metadata.tables[table_name]
        column = table.c[column_name]
        missing = connection.execute(
            select(column).where(~select(nodes.c.pk).where(nodes.c.pk == column).exists()).limit(1)).scalar()
        if missing is not None or connection.execute(select(func.count()).where(column.is_(None))).scalar():
            raise ArchiveError(f"the archive's database is inconsistent: {table_name}.{column_name} refers to "
                               f"node {missing}, which is not in the archive (a dangling reference)")
    groups = schema.groups
    orphan = connection.execute(select(schema.group_nodes.c.group_pk).where(
        ~select(groups.c.pk).where(groups.c.pk == schema.group_nodes.c.group_pk).exists()).limit(1)).scalar()
    if orphan is not None:
        raise ArchiveError(f"the archive's database refers to group {orphan}, which is not in the archive")
    for table_name in ("nodes", "groups", "comments", "logs", "computers"):
        table = schema.metadata.tables[table_name]
        duplicate = connection.execute(select(table.c.uuid).group_by(table.c.uuid)
                                       .having(func.count() > 1).limit(1)).scalar()
        if duplicate is not None:
            raise ArchiveError(f"the archive's database has two {table_name} with uuid {duplicate}")


def _check_links(connection: Connection) -> None:
    links, source, target = schema.links, schema.nodes.alias("s"), schema.nodes.alias("t")
    known = [rule.value for rule in LINK_RULES]
    unknown = connection.execute(select(links.c.type).where(links.c.type.not_in(known)).limit(1)).scalar()
    if unknown is not None:
        raise ArchiveError(f"the archive's database has a link of unknown type {unknown!r}")
    if connection.execute(select(func.count()).where(links.c.source == links.c.target)).scalar():
        raise ArchiveError("the archive's database has a link from a node to itself")
    for link_type, rule in LINK_RULES.items():
        bad = connection.execute(
            select(links.c.pk).join(source, source.c.pk == links.c.source).join(target, target.c.pk == links.c.target)
            .where(links.c.type == link_type.value)
            .where(~source.c.labels.like(f"%|{rule.source}|%") | ~target.c.labels.like(f"%|{rule.target}|%"))
            .limit(1)).scalar()
        if bad is not None:
            raise ArchiveError(f"the archive's database has link {bad} breaking a rule: {rule.description}")
        if rule.single_incoming:
            types = [t.value for t in rule.single_incoming]
            many = connection.execute(select(links.c.target).where(links.c.type.in_(types))
                                      .group_by(links.c.target).having(func.count() > 1).limit(1)).scalar()
            if many is not None:
                raise ArchiveError(f"the archive's database breaks a rule at node {many}: {rule.description}")
        for flag, end in (("unique_label_per_target", links.c.target), ("unique_label_per_source", links.c.source)):
            if getattr(rule, flag) and connection.execute(
                    select(end).where(links.c.type == link_type.value).group_by(end, links.c.label)
                    .having(func.count() > 1).limit(1)).scalar() is not None:
                raise ArchiveError(f"the archive's database has duplicate link labels: {rule.description}")


def referenced_keys(connection: Connection) -> Iterator[str]:
    """Yield each repository object key the archive's nodes refer to, once."""
    with translated("reading the nodes' file trees"):
        result = connection.execute(text(
            "SELECT DISTINCT j.value FROM nodes, json_each(nodes.repository) AS j WHERE nodes.repository != '{}'"))
        for (key,) in result:
            yield key
