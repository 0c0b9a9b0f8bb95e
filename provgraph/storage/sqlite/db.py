"""The SQLAlchemy engine of the sqlite backend: one database file, safe for several processes.

Every connection runs with ``journal_mode=WAL`` (readers never block the writer, nor the
writer the readers), ``foreign_keys=ON`` and a ``busy_timeout``. Durability: by default
``synchronous=NORMAL``, the setting sqlite recommends with WAL: the database is never
corrupted and a committed transaction survives any crash of the writing process (the
failure the worker fleet must ride out), but the last commits may be lost if the whole
machine loses power, because the WAL is synced at checkpoints rather than at every commit
(that fsync costs about 100 times the commit itself). A profile can ask for
``"synchronous": "full"`` in its storage config to sync every commit.

Python's ``sqlite3`` module is put in autocommit mode and SQLAlchemy's "begin" event emits
the ``BEGIN`` itself, as the SQLAlchemy documentation recommends for pysqlite: a read transaction is a
plain ``BEGIN`` (a consistent snapshot), a write transaction is ``BEGIN IMMEDIATE``, which
takes the database's single write lock at once. A write therefore never fails half way
through because another process wrote first (the classic ``SQLITE_BUSY`` on lock upgrade);
it waits up to the busy timeout for the lock instead. Transactions are short, so the
writers of several worker processes simply queue.

Errors of the driver are translated here into provgraph's (:func:`translated`).
"""

from __future__ import annotations

import os
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc

from provgraph.exceptions import StorageError, StoringError, UnreachableStorage, ValidationError
from provgraph.storage.base import TransactionScope

#: seconds a writer waits for the write lock before giving up
DEFAULT_BUSY_TIMEOUT = 60.0
#: the tables whose pks :func:`allocate_pks` hands out
_AUTOINCREMENT_TABLES = frozenset({"nodes", "links", "computers", "groups", "comments", "logs"})
#: execution option that makes SQLAlchemy's begin event emit BEGIN IMMEDIATE
_WRITE_OPTION = "provgraph_write"


def database_path(config: dict[str, Any]) -> Path:
    """Return the absolute database path of a profile's sqlite storage config.

    :raises UnreachableStorage: when the config names no path
    """
    path = config.get("path") if isinstance(config, dict) else None
    if not path or not isinstance(path, (str, os.PathLike)):
        raise UnreachableStorage(f"the sqlite storage config needs a 'path' to the database file, got {config!r}")
    return Path(path).expanduser().resolve()


def open_engine(path: Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, synchronous: str = "normal") -> Engine:
    """Return an engine on the database file ``path`` (created if missing, with its folder).

    :param synchronous: ``normal`` or ``full`` (see the module docstring)
    :raises UnreachableStorage: when the file cannot be opened as a sqlite database
    :raises ValidationError: when ``synchronous`` is neither
    """
    synchronous = str(synchronous).upper()
    if synchronous not in ("NORMAL", "FULL"):
        raise ValidationError(f"the sqlite 'synchronous' setting must be 'normal' or 'full', not {synchronous!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnreachableStorage(f"cannot create the folder of the sqlite database {path}: {exc}") from exc
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": busy_timeout})
    timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _set_wal(cursor, busy_timeout)
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    _dispose_after_fork(engine)
    with translated(str(path)), engine.connect() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    return engine


def _set_wal(cursor: sqlite3.Cursor, busy_timeout: float) -> None:
    """Put the database in WAL mode (a no-op once it is).

    Switching a new file to WAL needs a moment of exclusive access; when several processes
    open a fresh file at once, sqlite may answer "locked" without waiting, so retry until
    the busy timeout.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _dispose_after_fork(engine: Engine) -> None:
    """Drop pooled connections inherited by a forked child (a sqlite connection must not cross a fork)."""
    reference = weakref.ref(engine)

    def _after_fork() -> None:
        forked = reference()
        if forked is not None:
            forked.dispose(close=False)

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)


class SqliteTransactions(TransactionScope):
    """The transaction ``provgraph.transaction()`` opened on one engine, per thread.

    While it is open, :func:`read` and :func:`write` on that engine in the same thread run on
    its connection (one ``BEGIN IMMEDIATE``), so everything commits together at its end.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine

    @contextmanager
    def _open(self) -> Iterator[Connection]:
        with translated(self._engine.url.database or ""), self._engine.connect() as connection:
            connection = connection.execution_options(**{_WRITE_OPTION: True})
            with connection.begin():
                yield connection


_SCOPES: weakref.WeakKeyDictionary[Engine, SqliteTransactions] = weakref.WeakKeyDictionary()


def transactions(engine: Engine) -> SqliteTransactions:
    """Return the transaction scope of ``engine`` (one per engine)."""
    scope = _SCOPES.get(engine)
    if scope is None:
        scope = _SCOPES.setdefault(engine, SqliteTransactions(engine))
    return scope


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot of the database (the open transaction's, if any)."""
    scope = _SCOPES.get(engine)
    if scope is not None and scope.current is not None:
        with translated(engine.url.database or ""), scope.joined(write=False) as connection:
            yield connection
        return
    with translated(engine.url.database or ""), engine.connect() as connection, connection.begin():
        yield connection


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction (``BEGIN IMMEDIATE``), committed when the block ends, rolled back on error.

    Inside ``provgraph.transaction()`` the block joins the open transaction instead (committed with it).
    """
    scope = _SCOPES.get(engine)
    if scope is not None and scope.current is not None:
        with translated(engine.url.database or ""), scope.joined() as connection:
            yield connection
        return
    with translated(engine.url.database or ""), engine.connect() as connection:
        connection = connection.execution_options(**{_WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def translated(location: str) -> Iterator[None]:
    """Turn sqlite and SQLAlchemy exceptions into provgraph's storage errors."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise StoringError(f"the sqlite database refused the write: {exc.orig}") from exc
    except sa_exc.DBAPIError as exc:
        message = str(exc.orig)
        if "locked" in message or "busy" in message:
            raise StorageError(f"the sqlite database {location} stayed locked by another writer: {message}") from exc
        if "unable to open" in message or "not a database" in message:
            raise UnreachableStorage(f"cannot open the sqlite database {location}: {message}") from exc
        raise StorageError(f"sqlite error on {location}: {message}") from exc


def allocate_pks(connection: Connection, table: str, count: int) -> list[int]:
    """Return ``count`` fresh pks of AUTOINCREMENT ``table``, inside a write transaction.

    The write transaction holds the database's only write lock, so no other writer can take
    the same numbers; the next pk is above both the highest pk ever handed out (sqlite's own
    ``sqlite_sequence`` record, which inserting them advances) and the highest present, exactly
    as AUTOINCREMENT would pick it. Explicit pks let a batch be inserted with one
    ``executemany`` instead of one ``INSERT ... RETURNING`` per row.
    """
    if table not in _AUTOINCREMENT_TABLES:  # the name is part of the SQL text: only known tables
        raise ValueError(f"{table!r} is not an AUTOINCREMENT table")
    start = connection.exec_driver_sql(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),"
        f" coalesce((SELECT max(pk) FROM {table}), 0)) + 1", (table,)
    ).scalar()
    return list(range(start, start + count))


def to_text(value: datetime, what: str = "a time") -> str:
    """Return the stored text of an aware datetime (ISO-8601, UTC, microseconds).

    :raises ValidationError: when ``value`` is not a timezone-aware datetime
    """
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{what} must be a timezone-aware datetime, not {value!r}")
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_text(value: str) -> datetime:
    """Return the aware datetime of a stored time text."""
    return datetime.fromisoformat(value)
