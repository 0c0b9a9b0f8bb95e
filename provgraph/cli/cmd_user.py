"""``provgraph user``: list the users and set one up (as ``verdi user``).

A user is an email with names and an institution.  The *default* user of a profile (the one new
nodes and groups are recorded with) is the profile's ``storage.config.default_user``;
``user configure --set-default`` changes it.
"""

from __future__ import annotations

import dataclasses

import click

from provgraph.cli.echo import BadInput, print_table, report, success
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def user() -> None:
    """List and configure users."""


@user.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """List the users; the default one is marked with *."""
    load_cli_profile(ctx)
    from provgraph.orm.backend import get_backend
    from provgraph.orm.nodes.node import default_user

    with provgraph_errors():
        records = get_backend().users.list()
        default = default_user()
    if default not in {r.email for r in records}:  # recorded on nodes before any user record was written
        from provgraph.storage.entities import UserRecord

        records.insert(0, UserRecord(default))
    print_table(["", "Email", "First name", "Last name", "Institution"],
                [("*" if r.email == default else "", r.email, r.first_name, r.last_name, r.institution)
                 for r in records])
    report("The user marked with a * is the default user.")


def _ask(value: str | None, name: str, default: str | None, non_interactive: bool) -> str:
    if value is not None:
        return value
    if non_interactive:
        return default or ""
    return click.prompt(name.replace("_", " ").capitalize(), default=default or "", show_default=bool(default))


def _check_email(email: str) -> str:
    local, at, domain = email.strip().partition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in email.strip()):
        raise BadInput(f"{email!r} is not an email address (name@host)")
    return email.strip()


@user.command()
@click.option("--email", help="Email address: the user's identity.")
@click.option("--first-name", help="First name of the user.")
@click.option("--last-name", help="Last name of the user.")
@click.option("--institution", help="Institution of the user.")
@click.option("--set-default", is_flag=True, help="Make this user the profile's default user.")
@click.option("-n", "--non-interactive", is_flag=True, help="Never prompt; missing names stay as they are.")
@click.pass_context
def configure(ctx: click.Context, email: str | None, first_name: str | None, last_name: str | None,
              institution: str | None, set_default: bool, non_interactive: bool) -> None:
    """Create or update a user (prompting for what the options do not give)."""
    profile = load_cli_profile(ctx)
    from provgraph.cli.config_options import option_value
    from provgraph.orm.backend import get_backend

    fill = {name: option_value(f"autofill.user.{name}", profile.name)
            for name in ("email", "first_name", "last_name", "institution")}
    if email is None and (non_interactive and not fill["email"]):
        raise click.UsageError("--email is required with --non-interactive")
    email = _check_email(_ask(email, "email", fill["email"], non_interactive))
    users = get_backend().users
    with provgraph_errors():
        existing = users.get_or_create(email)
        fields = {"first_name": first_name, "last_name": last_name, "institution": institution}
        for name, value in fields.items():
            default = getattr(existing, name) or fill[name]
            fields[name] = value if value is not None else (
                getattr(existing, name) if non_interactive else _ask(None, name, default, False))
        users.update(email, **fields)
    success(f"{email} configured")
    if set_default:
        _make_default(profile, email)
        success(f"{email} set as the default user of profile {profile.name!r}")


def _make_default(profile, email: str) -> None:  # noqa: ANN001 - a Profile
    from provgraph.profiles import Config

    config = Config()
    stored = config.get(profile.name)
    storage = dict(stored.storage)
    storage["config"] = {**storage.get("config", {}), "default_user": email}
    with provgraph_errors():
        config.store(dataclasses.replace(stored, storage=storage))
