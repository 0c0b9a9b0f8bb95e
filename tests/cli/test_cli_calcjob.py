"""``provgraph calcjob inputcat|outputcat|gotocomputer|cleanworkdir`` on CalcJobNodes built with the ORM."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.orm import CalcJobNode, Computer, FolderData, Int, LinkType, RemoteData, load_node
from provgraph.tools.calcjobs import SUBMIT_SCRIPT, workdir_is_safe

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough that no cell wraps, whatever the terminal."""
    from provgraph.cli import echo

    monkeypatch.setattr(echo.console, "width", 300)


def run(*args: str, input: str | None = None):
    """Invoke ``provgraph -p services ARGS``."""
    return CliRunner().invoke(cli, ["-p", "services", *args], input=input)


def make_calcjob(computer: Computer, workdir: str, state: str = "finished", retrieved: dict | None = None,
                 options: dict | None = None) -> CalcJobNode:
    """A CalcJobNode as the engine leaves it: options as attributes, input folder, remote_folder, retrieved."""
    node = CalcJobNode(process_label="ArithmeticAddCalculation")
    node.base.attributes.set_many({"input_filename": "aiida.in", "output_filename": "aiida.out",
                                   "scheduler_stdout": "_scheduler-stdout.txt", "remote_workdir": workdir,
                                   "job_id": "1234", "scheduler_state": "done", "process_state": state,
                                   **(options or {})})
    node.base.repository.put_object_from_bytes(b"echo $((1 + 2))\n", "aiida.in")
    node.base.repository.put_object_from_bytes(b"#!/bin/bash\nbash < aiida.in > aiida.out\n", SUBMIT_SCRIPT)
    node._record.computer = computer.label  # what the CalcJob engine records (no public setter)
    node.store()
    remote = RemoteData(remote_path=workdir, computer=computer)
    remote.base.links.add_incoming(node, LinkType.CREATE, "remote_folder")
    remote.store()
    if retrieved is not None:
        folder = FolderData()
        for name, content in retrieved.items():
            folder.base.repository.put_object_from_bytes(content, name)
        folder.base.links.add_incoming(node, LinkType.CREATE, "retrieved")
        folder.store()
    return node


@pytest.fixture
def local_computer(neo4j_profile, tmp_path):
    return Computer(f"cj-local-{uuid.uuid4().hex[:8]}", "localhost", "core.local", "core.direct",
                    workdir=str(tmp_path / "{username}")).store()


@pytest.fixture
def ssh_computer(neo4j_profile, ssh_settings):
    computer = Computer(f"cj-ssh-{uuid.uuid4().hex[:8]}", ssh_settings["host"], "core.ssh", "core.direct").store()
    computer.configure(username=ssh_settings["username"], port=int(ssh_settings["port"]),
                       key_filename=ssh_settings["key_filename"], known_hosts=ssh_settings["known_hosts"],
                       safe_open_interval=0.0)
    return computer


def test_inputcat_default_and_path(local_computer, tmp_path):
    node = make_calcjob(local_computer, str(tmp_path / "w" / "job"))
    result = run("calcjob", "inputcat", str(node.pk))
    assert result.exit_code == 0, result.output
    assert result.output == "echo $((1 + 2))\n"
    script = run("calcjob", "inputcat", node.uuid, SUBMIT_SCRIPT)
    assert script.exit_code == 0 and script.output.startswith("#!/bin/bash\n")
    listed = run("calcjob", "inputls", str(node.pk))
    assert listed.output.split() == sorted([SUBMIT_SCRIPT, "aiida.in"])
    missing = run("calcjob", "inputcat", str(node.pk), "nope.txt")
    assert missing.exit_code == 2 and "no file 'nope.txt'" in missing.output and "aiida.in" in missing.output


def test_outputcat_reads_retrieved(local_computer, tmp_path):
    node = make_calcjob(local_computer, str(tmp_path / "w" / "job"),
                        retrieved={"aiida.out": b"3\n", "_scheduler-stdout.txt": b"\x00\xffbinary"})
    result = run("calcjob", "outputcat", str(node.pk))
    assert result.exit_code == 0 and result.output == "3\n"
    binary = CliRunner().invoke(cli, ["-p", "services", "calcjob", "outputcat", str(node.pk),
                                      "_scheduler-stdout.txt"])
    assert binary.exit_code == 0 and binary.stdout_bytes == b"\x00\xffbinary"
    assert run("calcjob", "outputls", str(node.pk)).output.split() == ["_scheduler-stdout.txt", "aiida.out"]


def test_outputcat_errors(local_computer, tmp_path):
    pending = make_calcjob(local_computer, str(tmp_path / "w" / "job"), state="waiting")
    result = run("calcjob", "outputcat", str(pending.pk))
    assert result.exit_code == 1 and "has no 'retrieved' output" in result.output
    no_default = make_calcjob(local_computer, str(tmp_path / "w" / "job2"), retrieved={"x": b"1"},
                              options={"output_filename": None})
    result = run("calcjob", "outputcat", str(no_default.pk))
    assert result.exit_code == 2 and "no 'output_filename' option: give a PATH" in result.output
    data = Int(3).store()
    result = run("calcjob", "inputcat", str(data.pk))
    assert result.exit_code == 2 and "is a Int, not a CalcJobNode" in result.output


def test_gotocomputer_local_command_opens_a_shell_there(local_computer, tmp_path):
    workdir = tmp_path / "w" / "job with space"
    workdir.mkdir(parents=True)
    node = make_calcjob(local_computer, str(workdir))
    result = run("calcjob", "gotocomputer", str(node.pk), "--print-command")
    assert result.exit_code == 0, result.output
    words = shlex.split(result.output)
    assert words[:2] == ["/bin/sh", "-c"]
    shell = subprocess.run(words, input="pwd\nexit\n", capture_output=True, text=True, timeout=30,
                           env={"SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"})
    assert shell.stdout.strip().splitlines()[-1] == str(workdir)


@pytest.mark.requires_ssh
def test_gotocomputer_ssh_command_reaches_the_workdir(ssh_computer, ssh_settings, ssh_connection):
    workdir = f"/tmp/{ssh_settings['username']}/goto-{uuid.uuid4().hex[:8]}"
    ssh_connection.run(f"mkdir -p {workdir}", hide=True)
    node = make_calcjob(ssh_computer, workdir)
    result = run("calcjob", "gotocomputer", str(node.pk), "--print-command")
    assert result.exit_code == 0, result.output
    words = shlex.split(result.output)
    assert words[0] == "ssh" and f"{ssh_settings['username']}@{ssh_settings['host']}" in words
    assert ["-p", str(ssh_settings["port"])] == words[words.index("-p"):words.index("-p") + 2]
    shell = subprocess.run([*words[:1], "-o", "BatchMode=yes", *words[1:]], input="pwd\nexit\n",
                           capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert workdir in shell.stdout.split()


@pytest.mark.requires_ssh
def test_gotocomputer_needs_configuration(neo4j_profile, ssh_settings):
    computer = Computer(f"cj-uncfg-{uuid.uuid4().hex[:8]}", ssh_settings["host"], "core.ssh").store()
    node = make_calcjob(computer, "/tmp/some/where")
    result = run("calcjob", "gotocomputer", str(node.pk), "--print-command")
    assert result.exit_code == 1 and "provgraph computer configure ssh" in result.output


def test_cleanworkdir_local(local_computer, tmp_path):
    done, running = tmp_path / "w" / "done", tmp_path / "w" / "running"
    for folder in (done, running):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "f.txt").write_text("x")
    finished = make_calcjob(local_computer, str(done))
    waiting = make_calcjob(local_computer, str(running), state="waiting")
    refused = run("calcjob", "cleanworkdir", str(finished.pk), input="n\n")
    assert refused.exit_code == 1 and done.exists()
    result = run("calcjob", "cleanworkdir", str(finished.pk), str(waiting.pk), "--force")
    assert result.exit_code == 0, result.output
    assert not done.exists() and running.exists()
    assert "cleaned" in result.output and "still waiting" in result.output
    remote = finished.base.links.get_outgoing(link_label_filter="remote_folder").one().node
    assert load_node(remote.pk).base.extras.get("cleaned") is True
    again = run("calcjob", "cleanworkdir", str(finished.pk), "-f")
    assert again.exit_code == 0 and "already gone" in again.output


@pytest.mark.requires_ssh
def test_cleanworkdir_over_ssh(ssh_computer, ssh_settings, ssh_connection):
    workdir = f"/tmp/{ssh_settings['username']}/clean-{uuid.uuid4().hex[:8]}"
    ssh_connection.run(f"mkdir -p {workdir}/a && echo hi > {workdir}/a/f", hide=True)
    node = make_calcjob(ssh_computer, workdir)
    result = run("calcjob", "cleanworkdir", str(node.pk), "-f")
    assert result.exit_code == 0, result.output
    assert not ssh_connection.run(f"test -e {workdir}", warn=True, hide=True).ok


@pytest.mark.requires_ssh
def test_cleanworkdir_reports_unreachable_computer(neo4j_profile, ssh_settings):
    computer = Computer(f"cj-down-{uuid.uuid4().hex[:8]}", ssh_settings["host"], "core.ssh").store()
    computer.configure(username="nobody", port=1, known_hosts=ssh_settings["known_hosts"], connect_timeout=2)
    node = make_calcjob(computer, "/tmp/nobody/job")
    result = run("calcjob", "cleanworkdir", str(node.pk), "-f")
    assert result.exit_code == 1 and "TransportConnectionError" in result.output
    assert "could not be cleaned" in result.output


@pytest.mark.parametrize(("path", "safe"), [
    ("/tmp/user/job", True), ("/scratch/a/b/c/", True), ("/", False), ("/tmp", False), ("tmp/a/b", False),
    ("/tmp/../etc", False), ("/tmp//a", False), ("/tmp/./a", False),
])
def test_workdir_is_safe(path, safe):
    assert workdir_is_safe(path) is safe


def test_commands_on_a_calcjob_the_engine_ran(neo4j_profile, tmp_path):
    """End to end: ArithmeticAddCalculation over core.local + core.direct, then every calcjob command on it."""
    from provgraph.engine import run as run_process
    from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
    from provgraph.orm import InstalledCode

    computer = Computer(f"cj-e2e-{uuid.uuid4().hex[:8]}", "localhost", "core.local", "core.direct",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.2}).store()
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()
    outputs, node = run_process.get_node(ArithmeticAddCalculation, code=code, x=Int(4), y=Int(5),
                                         metadata={"options": {"resources": {"num_machines": 1,
                                                                             "num_mpiprocs_per_machine": 1}}})
    assert node.is_finished_ok, node.exit_message
    assert run("calcjob", "inputcat", str(node.pk)).output == "echo $((4 + 5))\n"
    assert "/bin/bash < aiida.in > aiida.out" in run("calcjob", "inputcat", str(node.pk), SUBMIT_SCRIPT).output
    assert run("calcjob", "outputcat", str(node.pk)).output.strip() == "9"
    goto = run("calcjob", "gotocomputer", str(node.pk), "--print-command")
    assert node.base.attributes.get("remote_workdir") in shlex.split(goto.output)[2]
    graph = run("node", "graph", str(node.pk), "-f", "dot", "-o", str(tmp_path / "job.dot"))
    assert graph.exit_code == 0, graph.output
    source = (tmp_path / "job.dot").read_text()
    for label in ("remote_folder", "retrieved", "sum", "code", "RemoteData", "FolderData", "InstalledCode"):
        assert label in source
    workdir = node.base.attributes.get("remote_workdir")
    assert subprocess.run(["test", "-d", workdir]).returncode == 0
    cleaned = run("calcjob", "cleanworkdir", str(node.pk), "-f")
    assert cleaned.exit_code == 0 and "cleaned" in cleaned.output
    assert subprocess.run(["test", "-e", workdir]).returncode != 0
    assert outputs["sum"].value == 9


def test_cleanworkdir_by_computer(local_computer, tmp_path):
    folders = [tmp_path / "w" / name for name in ("one", "two", "busy")]
    for folder in folders:
        folder.mkdir(parents=True)
    ended = [make_calcjob(local_computer, str(folders[0])),
             make_calcjob(local_computer, str(folders[1]), state="excepted")]
    busy = make_calcjob(local_computer, str(folders[2]), state="waiting")
    old = run("calcjob", "cleanworkdir", "-c", local_computer.label, "-p", "1", "-f")
    assert old.exit_code == 0 and "no CalcJobs to clean" in old.output
    assert all(folder.exists() for folder in folders)
    result = run("calcjob", "cleanworkdir", "-c", local_computer.label, "-f")
    assert result.exit_code == 0, result.output
    assert not folders[0].exists() and not folders[1].exists() and folders[2].exists()
    assert str(busy.pk) not in result.output and all(str(node.pk) in result.output for node in ended)
    both = run("calcjob", "cleanworkdir", str(busy.pk), "-c", local_computer.label)
    assert both.exit_code == 2 and "either CalcJob IDENTIFIERS or --computer" in both.output
    assert run("calcjob", "cleanworkdir", "-p", "3", str(busy.pk)).exit_code == 2


def test_gotocomputer_runs_the_shell(local_computer, tmp_path):
    workdir = tmp_path / "w" / "interactive"
    workdir.mkdir(parents=True)
    node = make_calcjob(local_computer, str(workdir))
    provgraph = os.path.join(os.path.dirname(sys.executable), "provgraph")
    shell = subprocess.run([provgraph, "-p", "services", "calcjob", "gotocomputer", str(node.pk)],
                           input="pwd -P\nexit 7\n", capture_output=True, text=True, timeout=120,
                           env={**os.environ, "SHELL": "/bin/sh"})
    assert shell.returncode == 7, shell.stderr
    assert shell.stdout.strip().splitlines()[-1] == str(workdir.resolve())
    assert f"going to the work directory of CalcJob {node.pk}" in shell.stderr
