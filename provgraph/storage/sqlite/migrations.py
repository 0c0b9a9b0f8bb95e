"""Schema versions of the sqlite backend: each migration applied once, in order, and recorded.

The version lives in the ``settings`` table under ``schema_version``. A database without
any table is *fresh* (version 0); a database whose version is above the code's newest
migration was written by a newer provgraph and is refused, never touched. A migration
runs inside one ``BEGIN IMMEDIATE`` transaction together with the update of the recorded
version (sqlite's DDL is transactional), so a failed or concurrent migration leaves the
database as it was: two processes migrating at once apply each step exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.sqlite import insert

from provgraph.exceptions import StorageMigrationError
from provgraph.storage.sqlite import db, schema

VERSION_KEY = "schema_version"


@dataclass(frozen=True)
class Migration:
    """One schema step: its version, name and the function applying it inside a write transaction."""

    version: int
    name: str
    apply: Callable[[Connection], None]


def _initial(connection: Connection) -> None:
    schema.metadata.create_all(connection)


#: the attribute paths QueryBuilder filters and joins hit most (base types' ``value``, process
#: results), indexed on the exact ``json_extract`` expression the SQL compiler writes, so sqlite's
#: planner uses the index for ``=``, ``<``, ``>``, ``IN`` instead of scanning every node
HOT_ATTRIBUTE_PATHS = ("value", "exit_status", "process_label")


def hot_attribute_index(path: str) -> str:
    """The name of the expression index on ``json_extract(attributes, '$.<path>')``."""
    return f"ix_nodes_attributes_{path}"


def _attribute_indexes(connection: Connection) -> None:
    for path in HOT_ATTRIBUTE_PATHS:  # fixed names above, never user input
        connection.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {hot_attribute_index(path)} ON nodes (json_extract(attributes, '$.{path}'))")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", _initial),
    Migration(2, "attribute_indexes", _attribute_indexes),
)


def code_version() -> int:
    """Return the schema version this code writes (its newest migration)."""
    return MIGRATIONS[-1].version


def database_version(connection: Connection) -> int:
    """Return the schema version recorded in the database (0 for a fresh one).

    :raises StorageMigrationError: when the recorded version is not an integer
    """
    has_settings = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'settings'"
    ).scalar()
    if not has_settings:
        return 0
    value = connection.execute(
        select(schema.settings.c.value).where(schema.settings.c.key == VERSION_KEY)
    ).scalar()
    try:
        return int(value) if value is not None else 0
    except ValueError as exc:
        raise StorageMigrationError(f"the sqlite database records schema version {value!r}, not an integer") from exc


def is_fresh(connection: Connection) -> bool:
    """Return whether the database holds no table at all (a new, empty file)."""
    return not connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).scalar()


def refuse_newer(current: int, location: str) -> None:
    """Refuse a database migrated by a newer provgraph.

    :raises StorageMigrationError: when ``current`` is above the code's version
    """
    if current > code_version():
        raise StorageMigrationError(
            f"the sqlite database {location} has schema version {current} but this provgraph knows versions up "
            f"to {code_version()}: upgrade provgraph instead of using an older one on this database"
        )


def migrate(engine: Engine) -> list[str]:
    """Apply the pending migrations in one write transaction; return their names (``0001_initial``...).

    :raises StorageMigrationError: when the database is newer than the code
    """
    location = engine.url.database or ""
    with db.write(engine) as connection:
        current = database_version(connection)
        refuse_newer(current, location)
        applied = []
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            migration.apply(connection)
            applied.append(f"{migration.version:04d}_{migration.name}")
        if applied:
            statement = insert(schema.settings).values(key=VERSION_KEY, value=str(code_version()))
            connection.execute(statement.on_conflict_do_update(
                index_elements=[schema.settings.c.key], set_={"value": statement.excluded.value},
            ))
    return applied


def require_current(engine: Engine) -> int:
    """Check the database is at the code's schema version; initialise a fresh (empty) one.

    A fresh file is the embedded default's first use: it gets the current schema at once,
    like ``provgraph presto`` would. An older schema is never migrated implicitly.

    :raises StorageMigrationError: when the database is older (run ``provgraph storage migrate``)
        or newer than the code
    """
    location = engine.url.database or ""
    with db.read(engine) as connection:
        fresh, current = is_fresh(connection), database_version(connection)
    if fresh:
        migrate(engine)
        return code_version()
    refuse_newer(current, location)
    if current < code_version():
        raise StorageMigrationError(
            f"the sqlite database {location} has schema version {current}, this code needs {code_version()}: "
            "run `provgraph storage migrate`"
        )
    return current


if MIGRATIONS[-1].version != schema.SCHEMA_VERSION:  # pragma: no cover - guards a forgotten migration
    raise RuntimeError("schema.SCHEMA_VERSION must equal the newest migration's version")
