"""``provgraph status``: check every part of the current profile, one line each.

storage (reachable, schema current), repository, broker and workers. A part that fails is
marked ✘ and makes the exit status 1; workers that are not running are only a warning (⚠),
as submitting still works and the processes wait in the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from provgraph.exceptions import ProvgraphError, StorageError, StorageMigrationError
from provgraph.profiles import Profile, load_profile


class Warning_(ProvgraphError):  # noqa: N801 - a local marker, not a public exception
    """A part that works but needs attention (shown with ⚠, exit status unchanged)."""


def _check_storage(profile: Profile) -> str:
    backend = profile.storage.get("backend")
    config = profile.section_config("storage")
    if backend == "neo4j":
        return _check_neo4j(config)
    if backend == "sqlite":
        return _check_sqlite(config)
    raise ProvgraphError(f"storage backend {backend!r} has no status check")


def _check_neo4j(config: dict) -> str:
    from provgraph.storage.neo4j import migrator
    from provgraph.storage.neo4j.driver import open_driver, server_version, translate_errors

    driver = open_driver(config)
    try:
        database = config.get("database", "neo4j")
        with translate_errors(config["uri"]):
            where = f"neo4j {server_version(driver)} at {config['uri']}"
            current = migrator.check_version(driver, database)
        return where + _schema(current, migrator.code_version())
    finally:
        driver.close()


def _check_sqlite(config: dict) -> str:
    from provgraph.storage.sqlite import db
    from provgraph.storage.sqlite.backend import SqliteBackend
    from provgraph.storage.sqlite.migrations import code_version

    path = db.database_path(config)
    if not path.is_file():
        raise StorageError(f"no sqlite database at {path} (`provgraph presto` or `provgraph storage migrate`)")
    backend = SqliteBackend(config, check_schema=False)
    try:
        return f"sqlite {path}" + _schema(backend.schema_version(), code_version())
    finally:
        backend.close()


def _schema(current: int, expected: int) -> str:
    if current < expected:
        raise StorageMigrationError(f"schema version {current}, the code needs {expected}: "
                                    "run `provgraph storage migrate`")
    return f", schema version {current} (current)"


def _check_repository(profile: Profile) -> str:
    backend = profile.repository.get("backend")
    config = profile.section_config("repository")
    if backend == "s3":
        from provgraph.storage.repository.s3client import check_bucket

        return check_bucket(config)
    if backend == "local":
        from provgraph.exceptions import RepositoryError

        path = Path(str(config.get("path", ""))).expanduser()
        if not (path / "objects").is_dir():
            raise RepositoryError(f"no local repository at {path}")
        from provgraph.storage.repository.local import LocalRepository

        repository = LocalRepository.from_config(config)
        return f"local folder {path} (repository {repository.uuid})"
    raise ProvgraphError(f"repository backend {backend!r} has no status check")


def _check_broker(profile: Profile) -> str:
    from provgraph.engine.celery.broker import broker_kind, check_broker

    return check_broker(profile.section_config("broker"), broker_kind(profile.broker))


def _check_workers(profile: Profile) -> str:
    from provgraph.cli.cmd_worker import running_workers, workers_dir

    running = running_workers(workers_dir(profile.name))
    if not running:
        raise Warning_(f"no worker is running (start them: provgraph -p {profile.name} worker start)")
    pids = ", ".join(str(pid) for _, pid in sorted(running.items()))
    return f"{len(running)} worker(s) running (pid {pids})"


CHECKS: dict[str, Callable[[Profile], str]] = {
    "storage": _check_storage,
    "repository": _check_repository,
    "broker": _check_broker,
    "workers": _check_workers,
}


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Check that each part of the current profile is reachable and ready."""
    try:
        profile = load_profile(ctx.obj.get("profile_name"))
    except ProvgraphError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"profile: {profile.name}")
    failed = False
    for part, check in CHECKS.items():
        try:
            click.echo(f"  ✔ {part:<11} {check(profile)}")
        except Warning_ as exc:
            click.echo(f"  ⚠ {part:<11} {exc}")
        except ProvgraphError as exc:
            failed = True
            click.echo(f"  ✘ {part:<11} {exc}")
    if failed:
        ctx.exit(1)
