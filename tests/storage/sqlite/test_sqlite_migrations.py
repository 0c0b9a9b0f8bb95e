"""provgraph.storage.sqlite.migrations: fresh files, idempotent migration, old and newer schemas."""

from __future__ import annotations

import sqlite3

import pytest

from provgraph.exceptions import StorageMigrationError, UnreachableStorage, ValidationError
from provgraph.plugins import load_plugin
from provgraph.storage.sqlite import migrations, schema
from provgraph.storage.sqlite.backend import SqliteBackend


def _set_version(path, version) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE settings SET value = ? WHERE key = 'schema_version'", (str(version),))


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def test_fresh_file_gets_the_current_schema_on_open(sqlite_path):
    backend = SqliteBackend({"path": str(sqlite_path)})
    try:
        assert _tables(sqlite_path) == set(schema.metadata.tables)
        assert backend.schema_version() == migrations.code_version() == schema.SCHEMA_VERSION
        assert backend.migrate() == []  # idempotent: nothing left to apply
        assert backend.migrate() == []
        info = backend.info()
        assert (info.backend, info.location, info.schema_version) == ("core.sqlite", str(sqlite_path), 2)
        assert (info.nodes_by_type, info.links_by_type, info.repository_keys) == ({}, {}, 0)
    finally:
        backend.close()


def test_migrate_applies_each_step_once(sqlite_path):
    backend = SqliteBackend({"path": str(sqlite_path)}, check_schema=False)
    try:
        assert backend.schema_version() == 0 and _tables(sqlite_path) == set()
        assert backend.migrate() == ["0001_initial", "0002_attribute_indexes"]
        assert backend.migrate() == []
        assert backend.schema_version() == 2
    finally:
        backend.close()


def test_older_schema_is_refused_until_migrated(sqlite_path):
    SqliteBackend({"path": str(sqlite_path)}).close()
    _set_version(sqlite_path, 0)
    with pytest.raises(StorageMigrationError, match="provgraph storage migrate"):
        SqliteBackend({"path": str(sqlite_path)})
    backend = SqliteBackend({"path": str(sqlite_path)}, check_schema=False)
    assert backend.migrate() == ["0001_initial", "0002_attribute_indexes"]  # create_all keeps the tables
    backend.close()
    SqliteBackend({"path": str(sqlite_path)}).close()


def test_newer_schema_is_refused_and_left_alone(sqlite_path):
    SqliteBackend({"path": str(sqlite_path)}).close()
    _set_version(sqlite_path, 99)
    with pytest.raises(StorageMigrationError, match="version 99"):
        SqliteBackend({"path": str(sqlite_path)})
    backend = SqliteBackend({"path": str(sqlite_path)}, check_schema=False)
    try:
        with pytest.raises(StorageMigrationError, match="upgrade provgraph"):
            backend.migrate()
        assert backend.schema_version() == 99
    finally:
        backend.close()


def test_bad_config_and_bad_file_are_clear_errors(tmp_path):
    with pytest.raises(UnreachableStorage, match="path"):
        SqliteBackend({})
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(UnreachableStorage, match="garbage.sqlite"):
        SqliteBackend({"path": str(garbage)})


def test_entry_point_and_pragmas(sqlite_backend):
    assert load_plugin("storage", "core.sqlite") is SqliteBackend
    with sqlite_backend.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_synchronous_full_can_be_asked_for(sqlite_path):
    backend = SqliteBackend({"path": str(sqlite_path), "synchronous": "full", "busy_timeout": 5})
    try:
        with backend.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        backend.close()
    with pytest.raises(ValidationError, match="synchronous"):
        SqliteBackend({"path": str(sqlite_path), "synchronous": "off; DROP TABLE nodes"})


def _open_at(path: str, start: float) -> int:
    import time

    while time.time() < start:
        time.sleep(0.001)
    backend = SqliteBackend({"path": path})
    try:
        backend.users.get_or_create("same@example.org")
        return backend.schema_version()
    finally:
        backend.close()


def test_processes_opening_a_fresh_file_at_once_initialise_it_once(sqlite_path):
    import multiprocessing
    import time

    start = time.time() + 1.5
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        versions = pool.starmap(_open_at, [(str(sqlite_path), start)] * 4)
    assert versions == [2] * 4
    with sqlite3.connect(sqlite_path) as connection:
        assert connection.execute("SELECT key, value FROM settings").fetchall() == [("schema_version", "2")]
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (1,)


def test_version_1_databases_get_the_attribute_indexes(sqlite_path):
    SqliteBackend({"path": str(sqlite_path)}).close()
    with sqlite3.connect(sqlite_path) as connection:
        for path in migrations.HOT_ATTRIBUTE_PATHS:
            connection.execute(f"DROP INDEX {migrations.hot_attribute_index(path)}")
    _set_version(sqlite_path, 1)
    backend = SqliteBackend({"path": str(sqlite_path)}, check_schema=False)
    try:
        assert backend.migrate() == ["0002_attribute_indexes"]
    finally:
        backend.close()
    with sqlite3.connect(sqlite_path) as connection:
        names = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {migrations.hot_attribute_index(path) for path in migrations.HOT_ATTRIBUTE_PATHS} <= names
