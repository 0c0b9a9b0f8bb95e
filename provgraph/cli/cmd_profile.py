"""``provgraph profile``: set up, list, show, choose and remove profiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from provgraph.cli.echo import fail, print_table
from provgraph.cli.params import provgraph_errors
from provgraph.exceptions import ConfigurationError
from provgraph.profiles import Config
from provgraph.profiles.setup import FIELDS, KINDS, Field, default_value, profile_folder


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
@click.option("--delete-data", is_flag=True,
              help="Also remove the profile's folder in $PROVGRAPH_HOME (its sqlite storage and broker, local "
                   "repository and worker logs there); data on servers (Neo4j, S3, RabbitMQ) is never touched.")
def profile_delete(name: str, yes: bool, delete_data: bool) -> None:
    """Remove profile NAME from the configuration (its stored data is left alone unless --delete-data)."""
    import shutil

    from provgraph.profiles.setup import deletable_folder

    config = Config()
    folder = profile_folder(name, config.home)
    try:
        config.get(name)
        if delete_data:
            folder = deletable_folder(name, config.home)
    except ConfigurationError as exc:
        fail(str(exc))
    if delete_data:
        from provgraph.cli.cmd_worker import running_workers

        if folder.is_dir() and (folder / "workers").is_dir() and running_workers(folder / "workers"):
            fail(f"workers of profile {name!r} are running: stop them first (provgraph -p {name} worker stop)")
    if not yes:
        what = f"profile {name!r}" + (f" and the folder {folder}" if delete_data and folder.is_dir() else "")
        click.confirm(f"remove {what}?", abort=True)
    try:
        config.delete(name)
    except ConfigurationError as exc:
        fail(str(exc))
    if delete_data and folder.is_dir():
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            fail(f"removed profile {name!r} but not all of {folder}: {exc}")
        click.echo(f"removed {folder}")
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


def _field_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one ``--<section>-<key>`` option per setting of :data:`provgraph.profiles.setup.FIELDS`."""
    seen: dict[tuple[str, str], Field] = {}
    for (section, _kind), fields in FIELDS.items():
        for field in fields:
            seen.setdefault((section, field.key), field)
    for (section, key), field in reversed(list(seen.items())):
        kinds = [kind for (part, kind), fields in FIELDS.items() if part == section and field in fields]
        option = click.option(f"--{section}-{key.replace('_', '-')}", f"{section}__{key}", default=None,
                              help=f"{field.help} ({section} {'|'.join(kinds)}).")
        command = option(command)
    return command


@profile.command("setup")
@click.argument("name")
@click.option("--storage", type=click.Choice(KINDS["storage"]), help="Storage backend [default: neo4j].")
@click.option("--repository", type=click.Choice(KINDS["repository"]), help="File repository [default: local].")
@click.option("--broker", type=click.Choice(KINDS["broker"]),
              help="Broker of the workers: rabbitmq, or sqlite (a queue file, no server) [default: rabbitmq].")
@_field_options
@click.option("--non-interactive", is_flag=True, help="Never prompt: take the defaults, fail on missing values.")
@click.option("--set-default", is_flag=True, help="Make the new profile the default one.")
@click.option("--init/--no-init", default=True, show_default=True,
              help="Create and migrate the storage and create the repository now.")
def profile_setup(name: str, storage: str | None, repository: str | None, broker: str | None, non_interactive: bool,
                  set_default: bool, init: bool, **values: str | None) -> None:
    """Create profile NAME: choose its storage, repository and broker, then give their settings.

    Missing choices and settings are prompted for, unless --non-interactive. Passwords and keys
    go to a secrets file only you can read.
    """
    from provgraph.profiles.setup import build_profile, initialise_profile

    config = Config()
    if name in _names(config):
        fail(f"a profile named {name!r} exists in {config.home}; delete it first or choose another name")
    chosen = {"storage": storage, "repository": repository, "broker": broker}
    given: dict[str, dict[str, Any]] = {section: {} for section in KINDS}
    for option, value in values.items():
        section, key = option.split("__")
        if value is not None:
            given[section][key] = value
    for section, kind in chosen.items():
        if kind is None:
            chosen[section] = KINDS[section][0] if non_interactive else click.prompt(
                f"{section}", type=click.Choice(KINDS[section]), default=KINDS[section][0])
        if not non_interactive:
            _prompt_missing(section, chosen[section], given[section], profile_folder(name, config.home))
    with provgraph_errors():
        new = build_profile(name, chosen, given, config.home)
        if init:
            initialise_profile(new)
        config.store(new, make_default=set_default)
    click.echo(f"created profile {name!r} (storage {chosen['storage']}, repository {chosen['repository']}, "
               f"broker {chosen['broker']}) in {config.home}")


def _names(config: Config) -> list[str]:
    try:
        return config.profile_names()
    except ConfigurationError as exc:
        fail(str(exc))
        raise  # unreachable: fail() raises


def _prompt_missing(section: str, kind: str, given: dict[str, Any], folder: Path) -> None:
    for field in FIELDS[(section, kind)]:
        if field.key not in given:
            default = default_value(field, folder)
            given[field.key] = click.prompt(f"{section} {field.help}", default=default, hide_input=field.secret,
                                            type=field.type, show_default=not field.secret)
