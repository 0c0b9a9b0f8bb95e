"""Run compiled QueryBuilder queries on the sqlite backend, streaming rows and decoding each column.

``*`` projections come back as the backend's records (:class:`~provgraph.storage.base.NodeRecord`,
``GroupRecord``, ``UserRecord``, ``ComputerRecord``, ``CommentRecord``, ``LogRecord``), times as
aware datetimes, attribute and extra paths as the JSON values they hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import QueryError
from provgraph.query.ir import EntityKind, Query
from provgraph.query.validate import NESTED_SECTIONS
from provgraph.storage.base import NodeRecord, QueryRunner
from provgraph.storage.sqlite import db
from provgraph.storage.sqlite.compiler import KIND_TABLE, TIME_FIELDS, ColumnSpec, compile_query
from provgraph.storage.sqlite.records import labels_of
from provgraph.storage.sqlite.sql_json import JSON_AT, json_at

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

#: columns holding JSON text, decoded in records
JSON_COLUMNS = frozenset({"attributes", "extras", "repository", "metadata", "mpirun_command"})


def _record_classes() -> dict[EntityKind, type]:
    from provgraph.storage import entities

    return {EntityKind.NODE: NodeRecord, EntityKind.GROUP: entities.GroupRecord,
            EntityKind.USER: entities.UserRecord, EntityKind.COMPUTER: entities.ComputerRecord,
            EntityKind.COMMENT: entities.CommentRecord, EntityKind.LOG: entities.LogRecord}


def record_of(kind: EntityKind, values: tuple[Any, ...] | list[Any]) -> Any:
    """The record of one ``kind`` row whose values come in the table's column order (None for an absent row)."""
    return record_reader(kind)(values)


def record_reader(kind: EntityKind) -> Callable[[Any], Any]:
    """A function turning the column values of one ``kind`` row into its record (None for an absent row).

    The column names, the key column and each column's conversion are looked up once here,
    not for every row.
    """
    names = [column.name for column in KIND_TABLE[kind].columns]
    key = names.index("pk" if "pk" in names else "email")
    record_class = _record_classes()[kind]
    converters = [_converter(name) for name in names]

    def read(values: Any) -> Any:
        if values[key] is None:
            return None
        return record_class(**{name: value if value is None or convert is None else convert(value)
                               for name, convert, value in zip(names, converters, values, strict=True)})

    return read


def _converter(name: str) -> Callable[[Any], Any] | None:
    if name in TIME_FIELDS:
        return db.from_text
    if name in JSON_COLUMNS:
        return json.loads
    if name == "labels":
        return labels_of
    return None


def _decoder(spec: ColumnSpec) -> Callable[[list[Any]], Any] | None:
    """How to read the SQL values of one projection; None for a single value read as it is."""
    if spec.path == ("*",):
        return record_reader(spec.kind)
    name = spec.path[0]
    if spec.kind is EntityKind.NODE and name in NESTED_SECTIONS:
        return lambda values: None if values[0] is None else json.loads(values[0])
    if spec.kind is not None and name in TIME_FIELDS:
        return lambda values: None if values[0] is None else db.from_text(values[0])
    return None


def row_reader(columns: list[ColumnSpec]) -> Callable[[Any], list[Any]]:
    """A function turning one SQL result row into the projected values."""
    slices, start = [], 0
    for spec in columns:
        slices.append((start, start + spec.width, _decoder(spec)))
        start += spec.width
    if all(decode is None for _, _, decode in slices):
        return lambda row: list(row[:start])
    return lambda row: [row[begin] if decode is None else decode(row[begin:end]) for begin, end, decode in slices]


#: page cache of a querying connection, in KiB (sqlite's default, 2 MiB, makes graph walks re-read pages)
CACHE_KIB = 65536


def prepare(connection: Connection) -> None:
    """Register the SQL functions the compiled queries may call, and give the connection a larger page cache."""
    raw = connection.connection.dbapi_connection
    raw.create_function(JSON_AT, 2, json_at, deterministic=True)
    raw.execute(f"PRAGMA cache_size = -{int(CACHE_KIB)}")


class SqliteQueries(QueryRunner):
    """Execute QueryBuilder IR on one sqlite database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def compile(self, query: Query) -> tuple[str, dict[str, Any]]:
        """The SQL text and parameters of ``query``."""
        compiled = compile_query(query)
        return compiled.text, compiled.params

    def iterate(self, query: Query, batch_size: int = 1000) -> Iterator[list[Any]]:
        """Yield result rows, reading ``batch_size`` rows at a time from sqlite."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise QueryError(f"batch_size must be a positive integer, not {batch_size!r}")
        compiled = compile_query(query)
        read_row = row_reader(compiled.columns)
        with db.read(self._engine) as connection:
            prepare(connection)
            result = connection.exec_driver_sql(compiled.text, compiled.params)
            while rows := result.fetchmany(batch_size):
                for row in rows:
                    yield read_row(row)

    def count(self, query: Query) -> int:
        """The number of rows ``query`` returns (ignoring limit and offset)."""
        compiled = compile_query(query, count=True)
        with db.read(self._engine) as connection:
            prepare(connection)
            return int(connection.exec_driver_sql(compiled.text, compiled.params).scalar_one())
