"""``provgraph presto``: a ready embedded profile that needs no server (sqlite storage and broker, local files)."""

from __future__ import annotations

import click

from provgraph.cli.params import provgraph_errors


@click.command()
@click.option("--profile-name", default=None, metavar="NAME",
              help="Name of the new profile [default: presto, or presto-<n> when taken].")
def presto(profile_name: str | None) -> None:
    """Create a ready-to-use profile that needs no server.

    Storage is a sqlite database, the repository a local folder, and the broker a sqlite queue
    file, all in $PROVGRAPH_HOME/<name>/. The storage schema is migrated; the profile becomes the
    default one if there is none yet. Then: `provgraph worker start` and submit.
    """
    from provgraph.profiles import Config
    from provgraph.profiles.setup import initialise_profile, presto_profile

    with provgraph_errors():
        config = Config()
        profile = presto_profile(profile_name, config.home)
        initialise_profile(profile)
        config.store(profile)
        default = config.default_profile_name()
    click.echo(f"created profile {profile.name!r} in {config.home / profile.name}")
    for section in ("storage", "repository", "broker"):
        click.echo(f"  {section:<11} {profile.public_dict()[section]['backend']} at "
                   f"{profile.section_config(section)['path']}")
    if default == profile.name:
        click.echo(f"{profile.name!r} is the default profile")
    else:
        click.echo(f"the default profile is still {default!r}: use `provgraph -p {profile.name} ...`")
