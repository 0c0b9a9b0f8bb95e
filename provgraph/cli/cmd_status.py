"""``provgraph status``: check every part of the current profile, one line each."""

from __future__ import annotations

from collections.abc import Callable

import click

from provgraph.exceptions import ProvgraphError
from provgraph.profiles import Profile, load_profile


def _check_storage(profile: Profile) -> str:
    config = profile.section_config("storage")
    backend = profile.storage.get("backend")
    if backend != "neo4j":
        raise ProvgraphError(f"storage backend {backend!r} has no status check yet")
    from provgraph.storage.neo4j.driver import open_driver, server_version

    driver = open_driver(config)
    try:
        return f"neo4j {server_version(driver)} at {config['uri']}"
    finally:
        driver.close()


def _check_repository(profile: Profile) -> str:
    backend = profile.repository.get("backend")
    if backend != "s3":
        raise ProvgraphError(f"repository backend {backend!r} has no status check yet")
    from provgraph.storage.repository.s3client import check_bucket

    return check_bucket(profile.section_config("repository"))


def _check_broker(profile: Profile) -> str:
    backend = profile.broker.get("backend")
    if backend != "rabbitmq":
        raise ProvgraphError(f"broker backend {backend!r} has no status check yet")
    from provgraph.engine.celery.broker import check_broker

    return check_broker(profile.section_config("broker"))


CHECKS: dict[str, Callable[[Profile], str]] = {
    "storage": _check_storage,
    "repository": _check_repository,
    "broker": _check_broker,
}


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Check that each part of the current profile is reachable."""
    try:
        profile = load_profile(ctx.obj.get("profile_name"))
    except ProvgraphError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"profile: {profile.name}")
    failed = False
    for part, check in CHECKS.items():
        try:
            click.echo(f"  ✔ {part:<11} {check(profile)}")
        except ProvgraphError as exc:
            failed = True
            click.echo(f"  ✘ {part:<11} {exc}")
    if failed:
        ctx.exit(1)
