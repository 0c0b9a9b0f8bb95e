"""Helpers of the tests that run real jobs: transports to the services, workdirs, polling, a call counter."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from provgraph.exceptions import TransportError
from provgraph.schedulers.base import Scheduler
from provgraph.schedulers.datastructures import JobState, JobTemplate
from provgraph.transports.base import Transport
from provgraph.transports.local import LocalTransport
from provgraph.transports.ssh import SshTransport


def open_transport(name: str, request: pytest.FixtureRequest, environment: dict | None = None) -> Transport:
    """An open ``core.local`` (with ``environment``) or ``core.ssh`` (to the service sshd) transport."""
    if name == "core.ssh":
        s = request.getfixturevalue("ssh_settings")
        transport: Transport = SshTransport(s["host"], port=int(s["port"]), username=s["username"],
                                            key_filename=s["key_filename"], known_hosts=s["known_hosts"],
                                            safe_open_interval=0)
    else:
        transport = LocalTransport(environment=environment)
    try:
        transport.open()
    except TransportError as exc:
        pytest.fail(f"cannot open {name}: {exc}", pytrace=False)
    return transport


class CountingTransport:
    """Wraps a transport and counts the commands run through it."""

    def __init__(self, inner: Transport) -> None:
        """Count the commands of ``inner``."""
        self.inner = inner
        self.commands: list[str] = []

    def exec_command_wait(self, command: str, workdir: str | None = None,
                          stdin: str | None = None) -> tuple[int, str, str]:
        """Run ``command`` on the inner transport and remember it."""
        self.commands.append(command)
        return self.inner.exec_command_wait(command, workdir=workdir, stdin=stdin)


def make_workdir(transport: Transport) -> str:
    """A fresh folder on the transport's side, readable by the scheduler's daemons."""
    code, stdout, stderr = transport.exec_command_wait("mktemp -d /tmp/pg-jobs-XXXXXXXX")
    path = stdout.strip()
    assert code == 0 and path.startswith("/tmp/pg-jobs-"), f"mktemp failed: {code} {stderr}"
    transport.chmod(path, 0o755)
    return path


def upload_script(transport: Transport, scheduler: Scheduler, template: JobTemplate, workdir: str,
                  local_tmp: Path, name: str, files: dict[str, str] | None = None) -> str:
    """Write the submit script for ``template`` (and ``files``) into ``workdir``; return the script name."""
    for filename, text in {name: scheduler.get_submit_script(template), **(files or {})}.items():
        local = local_tmp / filename
        local.write_text(text)
        transport.put(str(local), f"{workdir}/{filename}")
    return name


def poll(scheduler: Scheduler, transport: CountingTransport, job_ids: Iterable[str], until_done: bool = True,
         timeout: float = 90.0, wanted: JobState | None = None) -> dict[str, list[JobState]]:
    """Poll all ``job_ids`` with ONE status query per round; return the states each job went through.

    A job missing from an answer counts as DONE.  Stops when all are DONE
    (``until_done``) or all have been seen in ``wanted``.
    """
    ids = list(job_ids)
    seen: dict[str, list[JobState]] = {job_id: [] for job_id in ids}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = len(transport.commands)
        jobs = scheduler.get_jobs(transport, ids)  # type: ignore[arg-type]
        assert len(transport.commands) == before + 1, "one batched status query per round"
        for job_id in ids:
            state = jobs[job_id].job_state if job_id in jobs else JobState.DONE
            if not seen[job_id] or seen[job_id][-1] is not state:
                seen[job_id].append(state)
        if wanted is not None and all(wanted in states for states in seen.values()):
            return seen
        if until_done and wanted is None and all(states[-1] is JobState.DONE for states in seen.values()):
            return seen
        time.sleep(0.3)
    pytest.fail(f"jobs did not reach {'DONE' if wanted is None else wanted} within {timeout}s: {seen}")
