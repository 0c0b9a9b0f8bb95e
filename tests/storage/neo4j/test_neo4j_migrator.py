"""Cypher migrations: applied in order, once, recorded; a newer database is refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.exceptions import StorageMigrationError
from provgraph.storage.neo4j import migrator
from provgraph.storage.neo4j.backend import Neo4jBackend


def test_files_are_numbered_and_parsed():
    migrations = migrator.load_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(versions) and versions[0] == 1
    assert all(m.statements for m in migrations)
    assert not any(s.lstrip().startswith("//") for m in migrations for s in m.statements)


@pytest.mark.parametrize("name", ["1_short.cypher", "0001-dash.cypher", "0001_Upper.cypher"])
def test_badly_named_file_is_refused(tmp_path, name):
    (tmp_path / name).write_text("RETURN 1;")
    with pytest.raises(StorageMigrationError, match="NNNN_name"):
        migrator.load_migrations(tmp_path)


def test_duplicate_version_is_refused(tmp_path):
    (tmp_path / "0001_a.cypher").write_text("RETURN 1;")
    (tmp_path / "0001_b.cypher").write_text("RETURN 2;")
    with pytest.raises(StorageMigrationError, match="share version 1"):
        migrator.load_migrations(tmp_path)


@pytest.mark.requires_neo4j
def test_migrate_is_recorded_and_idempotent(neo4j_profile, neo4j_driver):
    config = neo4j_profile.section_config("storage")
    backend = Neo4jBackend(config, check_schema=False)
    try:
        assert backend.migrate() == []  # the session fixture migrated already
        assert migrator.database_version(neo4j_driver, "neo4j") == migrator.code_version()
        constraints = {r["name"] for r in neo4j_driver.execute_query("SHOW CONSTRAINTS YIELD name")[0]}
        assert {"node_uuid_unique", "node_pk_unique"} <= constraints
        indexes = {r["name"] for r in neo4j_driver.execute_query("SHOW INDEXES YIELD name")[0]}
        assert {"node_node_type", "node_ctime", "node_label", "process_state"} <= indexes
    finally:
        backend.close()


@pytest.mark.requires_neo4j
def test_newer_database_is_refused(neo4j_profile, neo4j_driver):
    config = neo4j_profile.section_config("storage")
    future = migrator.code_version() + 100
    neo4j_driver.execute_query("CREATE (:_SchemaMigration {version: $v, name: 'future'})", v=future)
    try:
        with pytest.raises(StorageMigrationError, match="upgrade provgraph"):
            Neo4jBackend(config)
        with pytest.raises(StorageMigrationError, match="newer than this code"):
            Neo4jBackend(config, check_schema=False).migrate()
        result = CliRunner().invoke(cli, ["-p", "services", "storage", "migrate"])
        assert result.exit_code == 1 and "newer than this code" in result.output
    finally:
        neo4j_driver.execute_query("MATCH (m:_SchemaMigration {version: $v}) DELETE m", v=future)


@pytest.mark.requires_neo4j
@pytest.mark.requires_s3
def test_storage_info_cli(neo4j_profile):
    from provgraph.orm import Int

    Int(1).store()
    result = CliRunner().invoke(cli, ["-p", "services", "storage", "info"])
    assert result.exit_code == 0, result.output
    assert f"schema version: {migrator.code_version()} (code: {migrator.code_version()})" in result.output
    assert "data.core.int" in result.output
