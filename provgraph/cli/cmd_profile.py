"""``provgraph profile``: list, show, choose and remove profiles."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provgraph.cli.echo import fail, print_table
from provgraph.exceptions import ConfigurationError
from provgraph.profiles import Config


@click.group()
def profile() -> None:
    """Manage profiles (storage + repository + broker combinations)."""


@profile.command("list")
def profile_list() -> None:
    """List the profiles; the default one is marked with '*'."""
    config = Config()
    try:
        default = config.default_profile_name()
        rows = []
        for name in config.profile_names():
            entry = config.get(name)
            rows.append(
                ("*" if name == default else "", name, entry.storage.get("backend"),
                 entry.repository.get("backend"), entry.broker.get("backend"))
            )
    except ConfigurationError as exc:
        fail(str(exc))
    if not rows:
        click.echo(f"no profiles in {config.home}")
        return
    print_table(["", "name", "storage", "repository", "broker"], rows, title=str(config.home))


@profile.command("show")
@click.argument("name", required=False)
def profile_show(name: str | None) -> None:
    """Show a profile's settings (secrets are never printed)."""
    config = Config()
    try:
        chosen = name or config.default_profile_name()
        if not chosen:
            fail(f"no default profile in {config.home}")
        entry = config.get(chosen)
    except ConfigurationError as exc:
        fail(str(exc))
    click.echo(json.dumps({"name": entry.name, **entry.public_dict()}, indent=2))


@profile.command("set-default")
@click.argument("name")
def profile_set_default(name: str) -> None:
    """Make NAME the default profile."""
    try:
        Config().set_default(name)
    except ConfigurationError as exc:
        fail(str(exc))
    click.echo(f"default profile is now {name!r}")


@profile.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def profile_delete(name: str, yes: bool) -> None:
    """Remove profile NAME from the configuration (its stored data is left alone)."""
    if not yes:
        click.confirm(f"remove profile {name!r}?", abort=True)
    try:
        Config().delete(name)
    except ConfigurationError as exc:
        fail(str(exc))
    click.echo(f"removed profile {name!r}")


@profile.command("from-services")
@click.argument("secrets_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def profile_from_services(secrets_dir: Path) -> None:
    """Write the 'services' profile from the local service kit's SECRETS_DIR."""
    from provgraph.profiles.services import write_services_profile

    try:
        written = write_services_profile(secrets_dir)
    except ConfigurationError as exc:
        fail(str(exc))
    click.echo(f"wrote profile {written.name!r} in {Config().home}")
