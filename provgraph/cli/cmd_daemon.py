"""``provgraph daemon start|stop|status|restart``: verdi's names for the Celery workers of ``provgraph worker``.

The work is done by :mod:`provgraph.cli.cmd_worker`'s commands and helpers; this module only
maps verdi's arguments and options onto them (``daemon start 2`` is ``worker start -n 2``),
taking its defaults from the ``daemon.*`` and ``logging.provgraph_loglevel`` config options.
"""

from __future__ import annotations

import click

from provgraph.cli import cmd_worker
from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile

#: verdi's exit status of ``daemon status`` when no daemon runs
NOT_RUNNING = 3


@click.group()
def daemon() -> None:
    """Start, stop and inspect the daemon (the profile's Celery workers)."""


def _start(ctx: click.Context, number: int | None, foreground: bool) -> None:
    from provgraph.cli.config_options import option_value

    profile = load_cli_profile(ctx)
    count = number if number is not None else option_value("daemon.default_workers", profile.name)
    ctx.invoke(cmd_worker.start, count=1 if foreground else count, foreground=foreground,
               concurrency=option_value("daemon.worker_concurrency", profile.name),
               loglevel=option_value("logging.provgraph_loglevel", profile.name))


def _stop(ctx: click.Context, timeout: float | None) -> None:
    from provgraph.cli.config_options import option_value

    profile = load_cli_profile(ctx)
    ctx.invoke(cmd_worker.stop, timeout=timeout if timeout is not None else option_value("daemon.timeout",
                                                                                          profile.name))


@daemon.command()
@click.argument("number", required=False, type=click.IntRange(min=1))
@click.option("--foreground", is_flag=True, help="Run one worker in this process.")
@click.pass_context
def start(ctx: click.Context, number: int | None, foreground: bool) -> None:
    """Start NUMBER workers [config daemon.default_workers]."""
    _start(ctx, number, foreground)


@daemon.command()
@click.option("-t", "--timeout", type=click.FloatRange(min=0), help="Seconds to wait before killing [daemon.timeout].")
@click.pass_context
def stop(ctx: click.Context, timeout: float | None) -> None:
    """Stop the workers (running steps finish first, up to the timeout)."""
    _stop(ctx, timeout)


@daemon.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the running workers; exit status 3 when none runs (as verdi)."""
    profile = load_cli_profile(ctx)
    directory = cmd_worker.workers_dir(profile.name)
    running = cmd_worker.running_workers(directory)
    click.echo(f"Profile: {profile.name}")
    if not running:
        click.echo("Error: The daemon is not running.", err=True)
        ctx.exit(NOT_RUNNING)
    click.echo(f"Daemon is running with {len(running)} worker(s)")
    print_table(["worker", "pid", "log"], [(index, pid, directory / f"worker-{index}.log")
                                          for index, pid in sorted(running.items())])


@daemon.command()
@click.option("-t", "--timeout", type=click.FloatRange(min=0), help="Seconds to wait before killing [daemon.timeout].")
@click.pass_context
def restart(ctx: click.Context, timeout: float | None) -> None:
    """Stop the workers and start as many again (at least daemon.default_workers when none ran)."""
    profile = load_cli_profile(ctx)
    running = len(cmd_worker.running_workers(cmd_worker.workers_dir(profile.name)))
    _stop(ctx, timeout)
    _start(ctx, running or None, False)


@daemon.command()
@click.argument("number", required=False, default=1, type=click.IntRange(min=1))
@click.pass_context
def incr(ctx: click.Context, number: int) -> None:
    """Add NUMBER workers [1] to the running ones."""
    from provgraph.cli.config_options import option_value

    profile = load_cli_profile(ctx)
    running = cmd_worker.running_workers(cmd_worker.workers_dir(profile.name))
    if not running:
        raise click.ClickException("the daemon is not running: start it with `provgraph daemon start`")
    ctx.invoke(cmd_worker.start, count=max(running) + 1 + number,
               concurrency=option_value("daemon.worker_concurrency", profile.name),
               loglevel=option_value("logging.provgraph_loglevel", profile.name))


@daemon.command()
@click.option("-n", "--lines", default=50, show_default=True, help="Last lines of each worker's log.")
@click.pass_context
def logshow(ctx: click.Context, lines: int) -> None:
    """Print the end of every worker's log (provgraph prints and returns; it does not follow)."""
    ctx.invoke(cmd_worker.logs, lines=lines)
