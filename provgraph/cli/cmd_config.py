"""``provgraph config``: list, show, get, set and unset configuration options (as ``verdi config``)."""

from __future__ import annotations

import json

import click

from provgraph.cli.echo import BadInput, print_table, success
from provgraph.cli.params import load_cli_profile


@click.group()
def config() -> None:
    """Read and change configuration options, per profile or global."""


def _spec(name: str):  # noqa: ANN202 - an Option
    from provgraph.cli.config_options import get_option_spec
    from provgraph.exceptions import ValidationError

    try:
        return get_option_spec(name)
    except ValidationError as exc:
        raise BadInput(str(exc)) from None


def _shown(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


@config.command("list")
@click.argument("prefix", required=False, default="")
@click.pass_context
def list_options(ctx: click.Context, prefix: str) -> None:
    """List the options (starting with PREFIX) with their value and its source: profile, global or default."""
    from provgraph.cli.config_options import OPTIONS, get_option

    profile = load_cli_profile(ctx)
    rows = [(name, *reversed(get_option(name, profile.name))) for name in sorted(OPTIONS) if name.startswith(prefix)]
    if not rows:
        raise BadInput(f"no option starts with {prefix!r}")
    print_table(["name", "source", "value"], [(name, source, _shown(value)) for name, source, value in rows])


@config.command()
@click.argument("option_name")
@click.pass_context
def show(ctx: click.Context, option_name: str) -> None:
    """Show an option: what it does, its default, its global and current values."""
    from provgraph.cli.config_options import get_option

    spec = _spec(option_name)
    profile = load_cli_profile(ctx)
    value, source = get_option(option_name, profile.name)
    global_value, global_source = get_option(option_name, None)
    click.echo(f"{spec.name}: {spec.description}")
    click.echo(f"default: {_shown(spec.default)}")
    click.echo(f"global: {_shown(global_value) if global_source == 'global' else '<not set>'}")
    click.echo(f"current ({profile.name}, from {source}): {_shown(value)}")


@config.command()
@click.argument("option_name")
@click.pass_context
def get(ctx: click.Context, option_name: str) -> None:
    """Print the value of an option for the current profile."""
    from provgraph.cli.config_options import get_option

    _spec(option_name)
    profile = load_cli_profile(ctx)
    click.echo(_shown(get_option(option_name, profile.name)[0]))


@config.command("set")
@click.argument("option_name")
@click.argument("option_value")
@click.option("-g", "--global", "global_", is_flag=True, help="Set it for every profile.")
@click.pass_context
def set_(ctx: click.Context, option_name: str, option_value: str, global_: bool) -> None:
    """Set an option for the current profile (or globally)."""
    from provgraph.cli.config_options import parse_value, set_option
    from provgraph.exceptions import ValidationError

    _spec(option_name)
    profile = None if global_ else load_cli_profile(ctx)
    try:
        value = parse_value(option_name, option_value)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    set_option(option_name, value, None if profile is None else profile.name)
    where = "globally" if profile is None else f"for {profile.name!r} profile"
    success(f"{option_name!r} set to {_shown(value)} {where}")


@config.command()
@click.argument("option_name")
@click.option("-g", "--global", "global_", is_flag=True, help="Unset the global value.")
@click.pass_context
def unset(ctx: click.Context, option_name: str, global_: bool) -> None:
    """Remove the value of an option for the current profile (or the global one)."""
    from provgraph.cli.config_options import unset_option

    _spec(option_name)
    profile = None if global_ else load_cli_profile(ctx)
    removed = unset_option(option_name, None if profile is None else profile.name)
    where = "globally" if profile is None else f"for {profile.name!r} profile"
    success(f"{option_name!r} unset {where}" if removed else f"{option_name!r} was not set {where}")
