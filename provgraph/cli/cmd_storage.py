"""``provgraph storage``: migrate the schema, show what is stored, clean the repository."""

from __future__ import annotations

import click

from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors


@click.group()
def storage() -> None:
    """Inspect and maintain the storage of the current profile."""


@storage.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply pending schema migrations, in order."""
    profile = load_cli_profile(ctx)
    from provgraph.plugins import load_plugin

    with provgraph_errors():
        backend_cls = load_plugin("storage", _entry(profile.storage.get("backend", "")))
        backend = backend_cls(profile.section_config("storage"), check_schema=False)
        try:
            applied = backend.migrate()
        finally:
            backend.close()
    if applied:
        for name in applied:
            click.echo(f"applied {name}")
    else:
        click.echo("schema is up to date")


def _entry(name: str) -> str:
    return name if "." in name else f"core.{name}"


@storage.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Schema version, node and link counts per type, repository size."""
    load_cli_profile(ctx)
    from provgraph.orm.backend import get_backend, get_repository

    with provgraph_errors():
        details = get_backend().info()
        repository = get_repository()
        size = repository.total_size()
    click.echo(f"backend:        {details.backend} at {details.location}")
    click.echo(f"schema version: {details.schema_version} (code: {details.code_schema_version})")
    click.echo(f"repository:     {repository.description}: {details.repository_keys} referenced objects, "
               f"{size / 1e6:.1f} MB in total")
    print_table(["node type", "count"], sorted(details.nodes_by_type.items()), title="nodes")
    print_table(["link type", "count"], sorted(details.links_by_type.items()), title="links")


@storage.command()
@click.option("--dry-run/--no-dry-run", default=True, show_default=True,
              help="Only report what would be removed (the default); --no-dry-run removes it.")
@click.option("--grace-period", type=click.FloatRange(min=0), default=3600.0, show_default=True,
              help="Keep unreferenced objects written less than this many seconds ago (a node being "
                   "stored may not reference its files yet).")
@click.option("--force", is_flag=True, help="Remove objects although workers of the profile are running.")
@click.pass_context
def maintain(ctx: click.Context, dry_run: bool, grace_period: float, force: bool) -> None:
    """Remove repository objects no node references (a dry run unless --no-dry-run).

    Objects are listed before the references are read, and only those unreferenced and older
    than the grace period are removed, so files of nodes being stored are kept. With
    --no-dry-run it refuses while workers of the profile started here are running, unless --force.
    """
    profile = load_cli_profile(ctx)
    from provgraph.orm.backend import get_backend, get_repository
    from provgraph.storage.repository.base import maintain as maintain_repository

    if not dry_run and not force:
        _refuse_while_workers_run(profile.name)
    with provgraph_errors():
        nodes = get_backend().nodes
        report = maintain_repository(get_repository(), nodes.iter_repository_keys, dry_run=dry_run,
                                     grace_period=grace_period)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(report.unreferenced)} unreferenced objects and {len(report.temporary)} "
               f"temporary leftovers, {report.bytes_freed / 1e6:.1f} MB")
    if report.young:
        click.echo(f"kept {len(report.young)} unreferenced objects written within the last {grace_period:g} s")
    if dry_run and report.unreferenced:
        click.echo("run again with --no-dry-run to remove them")


def _refuse_while_workers_run(profile_name: str) -> None:
    """Stop with an error when workers of the profile run (they may be storing files right now)."""
    from provgraph.cli.cmd_worker import running_workers, workers_dir

    running = running_workers(workers_dir(profile_name))
    if running:
        pids = ", ".join(str(pid) for _, pid in sorted(running.items()))
        raise click.ClickException(
            f"{len(running)} worker(s) of profile {profile_name!r} are running (pid {pids}) and may be storing "
            "files: stop them first (provgraph worker stop) or pass --force")
