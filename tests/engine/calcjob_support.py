"""Helpers of the CalcJob tests: computers on the real services and the example add code."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.orm.nodes.node import default_user

HERE = Path(__file__).resolve().parent
#: poll interval of the test computers, in seconds (kept short: the tests wait for the polls)
POLL = 0.3


def local_computer(workdir: str, scheduler: str = "core.direct", **metadata: Any) -> Computer:
    """A stored core.local computer with ``scheduler``, its runs below ``workdir``."""
    computer = Computer(f"pg-cj-local-{uuid.uuid4().hex[:10]}", "localhost", "core.local", scheduler,
                        workdir=workdir, metadata={"minimum_job_poll_interval": POLL, **metadata})
    return computer.store()


def ssh_computer(settings: dict, scheduler: str, workdir: str = "/tmp/{username}/provgraph_cj/",
                 safe_interval: float = 0.0) -> Computer:
    """A stored core.ssh computer on the service sshd, configured for the default user."""
    computer = Computer(f"pg-cj-ssh-{uuid.uuid4().hex[:10]}", settings["host"], "core.ssh", scheduler,
                        workdir=workdir, metadata={"minimum_job_poll_interval": POLL}).store()
    computer.configure(default_user(), port=int(settings["port"]), username=settings["username"],
                       key_filename=settings["key_filename"], known_hosts=settings["known_hosts"],
                       safe_open_interval=safe_interval)
    return computer


def bash_code(computer: Computer) -> InstalledCode:
    """The stored code ``/bin/bash`` on ``computer``."""
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


@contextlib.contextmanager
def calcjob_fleet(directory: Path, workers: int = 2, concurrency: int = 2, **env: str) -> Iterator[Path]:
    """Workers started with ``provgraph worker start`` on a fresh queue, with ``env`` set; stopped after.

    The CalcJob statistics of the workers go to ``directory/stats.txt`` (see ``connections.record``).
    """
    from click.testing import CliRunner

    from provgraph.cli.main import cli
    from provgraph.engine.celery.app import QUEUE_ENV, current_app
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.engine.launch import set_submitter

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, ["-p", "services", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    settings = {QUEUE_ENV: f"provgraph-test-cj-{uuid.uuid4().hex[:12]}", "PROVGRAPH_WORKERS_DIR": str(directory),
                "PROVGRAPH_CALCJOB_STATS": str(directory / "stats.txt"), "PYTHONPATH": str(HERE), **env}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        assert "started worker" in invoke("worker", "start", "--workers", str(workers), "--concurrency",
                                          str(concurrency), "--no-reconcile")
        install_submitter()
        yield directory
    finally:
        set_submitter(None)
        try:
            invoke("worker", "stop", "--timeout", "20")
        finally:
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(os.environ[QUEUE_ENV])
            for name, value in saved.items():
                os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def stats(directory: Path) -> dict[str, int]:
    """The CalcJob statistics the workers recorded: event -> total count."""
    totals: dict[str, int] = {}
    path = directory / "stats.txt"
    for line in path.read_text().splitlines() if path.exists() else []:
        event, _, count = line.split()[:3]
        totals[event] = totals.get(event, 0) + int(count)
    return totals
