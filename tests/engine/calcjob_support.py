"""Helpers of the CalcJob tests: computers on the real services and the example add code."""

from __future__ import annotations

import uuid
from typing import Any

from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.orm.nodes.node import default_user

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
