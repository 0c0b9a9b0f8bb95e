"""sshd stops while 20 CalcJobs are in flight on the worker fleet: they back off and pause; after
sshd is back, ``play`` finishes them all and no job was submitted twice.

The outage is kept short (the service is shared): the backoff base is 0.2 s, so the fifth
failure, which pauses a process, comes about 3 s after the first. The workers' own ssh
sessions are ended too, as a real outage would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from calcjob_support import bash_code, calcjob_fleet, ssh_computer
from faults_support import wait_ended

from provgraph.engine import play, submit
from provgraph.engine.celery.tasks import install_submitter
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_ssh, pytest.mark.requires_rabbitmq, pytest.mark.requires_neo4j]

SERVICES = Path(__file__).resolve().parents[2] / "services"
JOBS = 20


def _sshd(action: str) -> None:
    result = subprocess.run([sys.executable, str(SERVICES / "svc_ssh.py"), action], capture_output=True, text=True,
                            timeout=90)
    assert result.returncode == 0, f"svc_ssh.py {action}: {result.stdout} {result.stderr}"


def _tree(roots: set[int]) -> set[int]:
    """``roots`` and all their descendants (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, grew = set(roots), True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _sockets(port: int, side: str) -> list[tuple[int, int]]:
    """(other end's port, pid) of the established TCP sockets with ``side`` (``sport``/``dport``) = ``port``."""
    lines = subprocess.run(["ss", "-tnpH", "state", "established", f"( {side} = :{port} )"], capture_output=True,
                           text=True).stdout.splitlines()
    found = []
    for line in lines:
        match = re.search(r"\S+:(\d+)\s+\S+:(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)", line)
        if match:
            local, peer, pid = (int(group) for group in match.groups())
            found.append((peer if side == "sport" else local, pid))
    return found


def _drop_fleet_sessions(workers: Path, port: int) -> int:
    """Kill the sshd session processes serving this test's workers (and no one else's); return how many.

    Stopping sshd stops only its listener: established sessions live on. A real outage (a
    rebooting login node) ends them too; this does it for the connections of our own workers.
    """
    roots = {int(path.read_text().strip()) for path in workers.glob("worker-*.pid") if path.read_text().strip()}
    ours = _tree(roots)
    client_ports = {local for local, pid in _sockets(port, "dport") if pid in ours}
    sessions = {pid for peer, pid in _sockets(port, "sport") if peer in client_ports}
    for pid in sessions:
        os.kill(pid, signal.SIGTERM)
    return len(sessions)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def test_sshd_outage_pauses_calcjobs_and_play_finishes_them_without_resubmitting(
        tmp_path_factory, ssh_settings, ssh_connection, amqp_url):
    root = f"pg-cj-fault-{uuid.uuid4().hex[:8]}"
    computer = ssh_computer(ssh_settings, "core.direct", workdir=f"/tmp/{{username}}/{root}/", safe_interval=0.2)
    code = bash_code(computer)
    runs_log = f"/tmp/{ssh_settings['username']}/{root}/runs.log"
    options = {"prepend_text": "sleep 1", "append_text": f'echo "$PWD" >> {runs_log}'}
    with calcjob_fleet(tmp_path_factory.mktemp("cj-faults"), PROVGRAPH_CALCJOB_BACKOFF="0.2") as workers:
        install_submitter()
        nodes = [submit(ArithmeticAddCalculation, code=code, x=Int(i), y=Int(100), metadata={"options": options})
                 for i in range(JOBS)]
        pks = [node.pk for node in nodes]
        _wait(lambda: sum(bool(load_node(pk).base.attributes.get("job_id", None)) for pk in pks) >= 4, 60,
              "the first submissions")
        _sshd("stop")
        try:
            assert _drop_fleet_sessions(workers, int(ssh_settings["port"])) >= 1
            def settled() -> bool:
                found = [load_node(pk) for pk in pks]
                return all(node.process_state.is_terminal or node.base.attributes.get("paused", False)
                           for node in found)

            _wait(settled, 60, "every CalcJob to pause or end")
        finally:
            _sshd("start")
        paused = [pk for pk in pks if load_node(pk).base.attributes.get("paused", False)]
        assert len(paused) >= JOBS // 2, f"only {len(paused)} CalcJobs paused"
        for pk in paused:
            reports = [log.message for log in get_backend().logs.for_node(pk)]
            assert any("paused" in message and "failed" in message for message in reports), reports
        for pk in paused:
            assert play(pk)
        done = wait_ended(pks, timeout=120)
    assert all(node.is_finished_ok for node in done), [(n.pk, n.exit_status, n.exit_message) for n in done]
    assert [node.outputs["sum"].value for node in done] == [100 + i for i in range(JOBS)]
    runs = ssh_connection.run(f"cat {runs_log}", hide=True).stdout.split()
    workdirs = [node.base.attributes.get("remote_workdir") for node in done]
    assert sorted(runs) == sorted(workdirs)  # every job ran exactly once
    ssh_connection.run(f"rm -rf /tmp/{ssh_settings['username']}/{root}", hide=True, warn=True)
