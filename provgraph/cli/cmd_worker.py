"""``provgraph worker``: start, stop, inspect the daemonised Celery workers of a profile.

Each worker is ``python -m provgraph.engine.celery.worker`` in a session of its own, with its
pid file ``worker-<i>.pid`` (and identity ``worker-<i>.id``, see
:mod:`provgraph.cli.worker_pidfiles`) and log file ``worker-<i>.log`` under
``$PROVGRAPH_HOME/<profile>/workers/`` (or ``$PROVGRAPH_WORKERS_DIR``, e.g. for tests). Only
worker 0 runs the periodic reconciler. No signal is sent to a pid before it is checked to be
still that worker: a stale pid file whose pid the system gave to another process is removed,
and that process is left alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from provgraph.cli import worker_pidfiles as pidfiles
from provgraph.cli.echo import print_table
from provgraph.cli.params import load_cli_profile, provgraph_errors


def workers_dir(profile_name: str) -> Path:
    """The directory of a profile's worker pid and log files (created)."""
    from provgraph.profiles import config_home

    override = os.environ.get("PROVGRAPH_WORKERS_DIR")
    path = Path(override) if override else config_home() / profile_name / "workers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is not a zombie of ours)."""
    if not isinstance(pid, int) or not 0 < pid < 2**31:
        return False
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_workers(directory: Path, report: Callable[[str], None] | None = None) -> dict[int, int]:
    """Worker index -> pid of the workers alive (stale pid files are removed, ``report`` told why)."""
    found = {}
    for index in pidfiles.worker_indexes(directory):
        pid, why = pidfiles.verified_pid(directory, index, alive)
        if pid is not None:
            found[index] = pid
            continue
        pidfiles.forget(directory, index)
        if why and report is not None:
            report(f"worker {index}: {why}; removed the stale pid file, signalled nothing")
    return found


def worker_command(index: int, concurrency: int, loglevel: str) -> list[str]:
    """The command line of worker ``index``."""
    return [sys.executable, "-m", "provgraph.engine.celery.worker", "--concurrency", str(concurrency),
            "--loglevel", loglevel, "--hostname", f"provgraph-{index}-{os.getpid()}@%h"]


def worker_env(profile_name: str, index: int, reconcile: bool, reconcile_after: float | None = None) -> dict[str, str]:
    """The environment of worker ``index`` (profile; reconciler on worker 0 only, with its idle time)."""
    env = dict(os.environ, PROVGRAPH_PROFILE=profile_name)
    env["PROVGRAPH_RECONCILE"] = "1" if reconcile and index == 0 else "0"
    if reconcile_after is not None:
        env["PROVGRAPH_RECONCILE_AFTER"] = repr(float(reconcile_after))
    return env


@click.group()
def worker() -> None:
    """Start, stop and inspect the Celery workers of the current profile."""


@worker.command()
@click.option("--workers", "-n", "count", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Worker processes to start.")
@click.option("--concurrency", "-c", type=click.IntRange(1, 1024), default=1, show_default=True,
              help="Pool processes per worker.")
@click.option("--loglevel", type=click.Choice(["debug", "info", "warning", "error", "critical"], case_sensitive=False),
              default="info", show_default=True)
@click.option("--foreground", is_flag=True, help="Run one worker in this process (containers, systemd).")
@click.option("--no-reconcile", is_flag=True, help="Do not run the periodic reconciler.")
@click.option("--reconcile-after", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Idle seconds before the reconciler re-publishes a process "
                   "[default: $PROVGRAPH_RECONCILE_AFTER or 60].")
@click.pass_context
def start(ctx: click.Context, count: int, concurrency: int, loglevel: str, foreground: bool,
          no_reconcile: bool, reconcile_after: float | None) -> None:
    """Start daemonised worker processes (or one in the foreground)."""
    profile = load_cli_profile(ctx)
    with provgraph_errors():
        from provgraph.engine.celery.broker import broker_kind

        broker_kind(profile.broker)  # a profile without a usable broker fails here, not in the workers' logs
    if foreground:
        os.environ.update(worker_env(profile.name, 0, not no_reconcile, reconcile_after))
        command = worker_command(0, concurrency, loglevel)
        os.execv(command[0], command)
    directory = workers_dir(profile.name)
    running = running_workers(directory, report=lambda text: click.echo(text, err=True))
    started = []
    for index in range(count):
        if index in running:
            continue
        log = open(directory / f"worker-{index}.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(worker_command(index, concurrency, loglevel), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=worker_env(profile.name, index, not no_reconcile, reconcile_after))
        log.close()
        pidfiles.record(directory, index, process.pid)
        started.append((index, process))
    died = _early_deaths(started)
    for index, process in started:
        if (index, process) not in died:
            click.echo(f"started worker {index} (pid {process.pid})")
    for index, process in died:
        pidfiles.forget(directory, index)
        tail = (directory / f"worker-{index}.log").read_text(errors="replace").splitlines()[-5:]
        click.echo(f"worker {index} exited at once (status {process.returncode}); the end of its log:\n"
                   + "\n".join(tail), err=True)
    if died:
        ctx.exit(1)
    if not started:
        click.echo(f"{len(running)} worker(s) already running")


@worker.command()
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait before SIGKILL.")
@click.pass_context
def stop(ctx: click.Context, timeout: float) -> None:
    """Stop the workers: SIGTERM to each main process (Celery's warm shutdown: running steps finish),
    then SIGKILL to the whole worker session after the timeout.
    """
    profile = load_cli_profile(ctx)
    directory = workers_dir(profile.name)
    running = running_workers(directory, report=lambda text: click.echo(text, err=True))
    for pid in running.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in running.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for index, pid in running.items():
        # checked again: the worker may have ended meanwhile and its pid gone to someone else
        if pidfiles.verified_pid(directory, index, alive)[0] == pid:
            _signal_group(pid, signal.SIGKILL)
        pidfiles.forget(directory, index)
        click.echo(f"stopped worker {index} (pid {pid})")
    if not running:
        click.echo("no worker is running")


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the worker's session (its pool); only if ``pid`` leads its own group, as workers do."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


Started = list[tuple[int, subprocess.Popen]]


def _early_deaths(started: Started, grace: float = 1.0) -> Started:
    """The workers among ``started`` that exited within ``grace`` seconds (bad options, broken setup)."""
    deadline = time.monotonic() + grace if started else 0.0
    while time.monotonic() < deadline and all(process.poll() is None for _, process in started):
        time.sleep(0.1)
    return [(index, process) for index, process in started if process.poll() is not None]


@worker.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the workers of the profile (pid, log file)."""
    profile = load_cli_profile(ctx)
    directory = workers_dir(profile.name)
    running = running_workers(directory, report=lambda text: click.echo(text, err=True))
    if not running:
        click.echo(f"no worker is running (profile {profile.name})")
        return
    print_table(["worker", "pid", "log"], [(index, pid, directory / f"worker-{index}.log")
                                          for index, pid in sorted(running.items())])


@worker.command()
@click.option("--lines", "-n", default=50, show_default=True, help="Last lines of each log.")
@click.pass_context
def logs(ctx: click.Context, lines: int) -> None:
    """Print the end of every worker's log file."""
    profile = load_cli_profile(ctx)
    for log in sorted(workers_dir(profile.name).glob("worker-*.log")):
        click.echo(f"==> {log} <==")
        click.echo("\n".join(log.read_text(errors="replace").splitlines()[-lines:]))


@worker.command()
@click.option("--older-than", default=60.0, show_default=True, help="Seconds a process must have been idle.")
@click.option("--pk", "pks", multiple=True, type=int, help="Only these processes.")
@click.pass_context
def reconcile(ctx: click.Context, older_than: float, pks: tuple[int, ...]) -> None:
    """Re-publish processes that nobody will advance (lost messages, dead workers)."""
    load_cli_profile(ctx)
    with provgraph_errors():
        from provgraph.engine.celery.outbox import reconcile as reconcile_once

        pks = tuple(reconcile_once(older_than, only=pks))
    click.echo(f"re-published {len(pks)} process(es)" + (f": {', '.join(map(str, pks))}" if pks else ""))
