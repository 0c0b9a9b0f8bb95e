"""The sqlite storage backend: the embedded default (no server) and the format of archives.

One database file, opened through SQLAlchemy 2 (see :mod:`provgraph.storage.sqlite.db` for
WAL mode, the busy timeout and ``BEGIN IMMEDIATE`` writes that let several worker processes
write at once). The tables are those of :mod:`provgraph.storage.sqlite.schema`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provgraph.exceptions import UnreachableStorage
from provgraph.storage.base import StorageBackend, StorageInfo
from provgraph.storage.sqlite import db, migrations
from provgraph.storage.sqlite.coordination import SqliteCoordination
from provgraph.storage.sqlite.entities import (
    SqliteComments,
    SqliteComputers,
    SqliteEntities,
    SqliteGroups,
    SqliteLogs,
    SqliteUsers,
)
from provgraph.storage.sqlite.nodes import SqliteNodes

if TYPE_CHECKING:
    from sqlalchemy import Engine


class SqliteBackend(StorageBackend):
    """Storage in one sqlite database file.

    A new, empty file is given the current schema when first opened (the embedded default
    needs no setup); a file with an older schema is refused until ``provgraph storage migrate``
    runs, and one with a newer schema is refused always.

    :param config: the profile's storage config: ``{"path": "/abs/path/storage.sqlite"}``, and
        optionally ``busy_timeout`` (seconds a writer waits for the write lock, default 60) and
        ``synchronous`` (``normal``, the default, or ``full``: see :mod:`provgraph.storage.sqlite.db`)
    A profile made by ``profile setup`` or ``presto`` has ``"create_missing": false`` in its
    config: a database file that does not exist is then refused (a mistyped or moved path must
    not silently start an empty database) unless ``check_schema`` is False, which only the
    profile's initialisation and ``provgraph storage migrate`` pass. Configs without the key
    (older profiles, tests, tools) keep creating a missing file.

    :param check_schema: refuse a database whose schema is not the code's
        (pass False only to migrate it)
    :raises UnreachableStorage: when the file cannot be opened as a sqlite database, or does not
        exist and the config says not to create it
    :raises StorageMigrationError: when the schema is older or newer than the code's
    """

    name = "core.sqlite"

    def __init__(self, config: dict[str, Any], check_schema: bool = True) -> None:
        self._config = dict(config)
        self._path = db.database_path(config)
        if check_schema and config.get("create_missing", True) is False and not self._path.exists():
            raise UnreachableStorage(
                f"no sqlite database at {self._path}: check the profile's storage path "
                "(`provgraph profile show`); `provgraph storage migrate` creates an empty one there")
        timeout = float(config.get("busy_timeout", db.DEFAULT_BUSY_TIMEOUT))
        self._engine = db.open_engine(self._path, timeout, config.get("synchronous", "normal"))
        self._nodes = SqliteNodes(self._engine)
        self._entities = SqliteEntities(self._engine)
        self._coordination = SqliteCoordination(self._engine)
        self._queries: Any = None
        if check_schema:
            try:
                migrations.require_current(self._engine)
            except BaseException:
                self._engine.dispose()
                raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for the SQL compiler, archives and maintenance)."""
        return self._engine

    @property
    def path(self) -> str:
        """Absolute path of the database file."""
        return str(self._path)

    @property
    def nodes(self) -> SqliteNodes:
        return self._nodes

    @property
    def queries(self) -> Any:
        if self._queries is None:
            from provgraph.storage.sqlite.querying import SqliteQueries

            self._queries = SqliteQueries(self._engine)
        return self._queries

    @property
    def users(self) -> SqliteUsers:
        return self._entities.users

    @property
    def computers(self) -> SqliteComputers:
        return self._entities.computers

    @property
    def groups(self) -> SqliteGroups:
        return self._entities.groups

    @property
    def comments(self) -> SqliteComments:
        return self._entities.comments

    @property
    def logs(self) -> SqliteLogs:
        return self._entities.logs

    @property
    def coordination(self) -> SqliteCoordination:
        return self._coordination

    def transaction(self) -> Any:
        """One write transaction for a block (see :class:`provgraph.storage.sqlite.db.SqliteTransactions`)."""
        return db.transactions(self._engine).transaction()

    def migrate(self) -> list[str]:
        return migrations.migrate(self._engine)

    def schema_version(self) -> int:
        """Return the schema version recorded in the database (0 for a fresh file)."""
        with db.read(self._engine) as connection:
            return migrations.database_version(connection)

    def info(self) -> StorageInfo:
        keys = set(self._nodes.iter_repository_keys())
        return StorageInfo(
            backend=self.name, location=str(self._path), schema_version=self.schema_version(),
            code_schema_version=migrations.code_version(),
            nodes_by_type=self._nodes.count_by("nodes"), links_by_type=self._nodes.count_by("links"),
            repository_keys=len(keys),
        )

    def close(self) -> None:
        self._engine.dispose()
