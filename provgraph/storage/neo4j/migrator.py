"""Apply the numbered Cypher migrations of ``migrations_cypher/`` in order, once each.

Each applied migration is recorded as a ``(:_SchemaMigration {version, name,
applied_at})`` node; the schema version is the highest recorded version. A
database whose version is above the code's newest migration is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from provgraph.exceptions import StorageMigrationError

if TYPE_CHECKING:
    import neo4j

_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.cypher$")


@dataclass(frozen=True)
class Migration:
    """One migration file: its version number, name and Cypher statements."""

    version: int
    name: str
    statements: tuple[str, ...]


def migrations_dir() -> Path:
    """Return the folder of migration files (inside the wheel, or the source tree's)."""
    packaged = resources.files("provgraph.storage.neo4j").joinpath("migrations_cypher")
    if packaged.is_dir():
        return Path(str(packaged))
    source_tree = Path(__file__).resolve().parents[3] / "migrations_cypher"
    if source_tree.is_dir():
        return source_tree
    raise StorageMigrationError("the Cypher migrations are missing from this installation of provgraph")


def load_migrations(folder: Path | None = None) -> list[Migration]:
    """Read every migration file, sorted by version; refuse badly named or duplicate files."""
    found: dict[int, Migration] = {}
    for path in sorted((folder or migrations_dir()).glob("*.cypher")):
        match = _FILENAME.match(path.name)
        if not match:
            raise StorageMigrationError(f"migration file {path.name!r} is not named NNNN_name.cypher")
        version = int(match.group(1))
        if version in found:
            raise StorageMigrationError(f"two migrations share version {version}")
        found[version] = Migration(version, match.group(2), _statements(path.read_text()))
    return [found[v] for v in sorted(found)]


def _statements(text: str) -> tuple[str, ...]:
    lines = [line for line in text.splitlines() if not line.strip().startswith("//")]
    return tuple(part.strip() for part in "\n".join(lines).split(";") if part.strip())


def code_version(migrations: list[Migration] | None = None) -> int:
    """Return the schema version this code expects (its newest migration)."""
    migrations = load_migrations() if migrations is None else migrations
    return migrations[-1].version if migrations else 0


def database_version(driver: neo4j.Driver, database: str) -> int:
    """Return the highest migration recorded in the database (0 for a fresh one)."""
    records, _, _ = driver.execute_query(
        "MATCH (m:_SchemaMigration) RETURN max(m.version) AS v", database_=database, routing_="r"
    )
    return records[0]["v"] or 0


def check_version(driver: neo4j.Driver, database: str) -> int:
    """Return the database's schema version, refusing one newer than the code.

    :raises StorageMigrationError: when the database was migrated by a newer provgraph
    """
    current, expected = database_version(driver, database), code_version()
    if current > expected:
        raise StorageMigrationError(
            f"the database schema is at version {current} but this provgraph knows versions up to "
            f"{expected}: upgrade provgraph instead of using an older one on this database"
        )
    return current


def migrate(driver: neo4j.Driver, database: str, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the pending migrations in order; return their names.

    Schema statements cannot share a transaction with data writes in Neo4j, so
    each statement runs on its own; the statements are idempotent (IF NOT EXISTS),
    and the record is written only after all of a file's statements succeeded.
    """
    migrations = load_migrations() if migrations is None else migrations
    current = database_version(driver, database)
    newest = code_version(migrations)
    if current > newest:
        raise StorageMigrationError(
            f"the database schema is at version {current}, newer than this code's {newest}; refusing to migrate"
        )
    applied = []
    for migration in migrations:
        if migration.version <= current:
            continue
        for statement in migration.statements:
            driver.execute_query(statement, database_=database)
        driver.execute_query(
            "MERGE (m:_SchemaMigration {version: $v}) ON CREATE SET m.name = $name, m.applied_at = datetime()",
            v=migration.version, name=migration.name, database_=database,
        )
        applied.append(f"{migration.version:04d}_{migration.name}")
    return applied
