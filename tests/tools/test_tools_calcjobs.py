"""``provgraph.tools.calcjobs``: the shell command of gotocomputer survives any work directory name."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm import CalcJobNode, Computer
from provgraph.tools.calcjobs import calcjob_computer, remote_workdir, shell_command

NAMES = st.text(alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
                min_size=1, max_size=30).filter(lambda name: name not in (".", ".."))

pytestmark = [pytest.mark.requires_neo4j]


@pytest.fixture(scope="module")
def local_computer(neo4j_profile):
    return Computer(f"tcj-{uuid.uuid4().hex[:8]}", "localhost", "core.local").store()


def unstored_calcjob(computer: Computer, workdir: str | None) -> CalcJobNode:
    node = CalcJobNode()
    node._record.computer = computer.label  # what the engine records; no public setter yet
    if workdir is not None:
        node.base.attributes.set("remote_workdir", workdir)
    return node


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_local_shell_opens_in_any_directory(local_computer, tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("goto") / name
    folder.mkdir()
    words = shell_command(unstored_calcjob(local_computer, str(folder)))
    shell = subprocess.run(words, input=b"pwd -P\nexit\n", capture_output=True, timeout=30,
                           env={"SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"})
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.rstrip(b"\n") == os.fsencode(folder.resolve())


def test_errors(local_computer, neo4j_profile):
    with pytest.raises(NotExistent, match="no remote work directory"):
        remote_workdir(unstored_calcjob(local_computer, None))
    with pytest.raises(NotExistent, match="names no computer"):
        calcjob_computer(CalcJobNode())
    other = Computer(f"tcj-{uuid.uuid4().hex[:8]}", "h", "core.carrier-pigeon").store()  # plugin not installed
    with pytest.raises(ValidationError, match="cannot open a shell over transport 'core.carrier-pigeon'"):
        shell_command(unstored_calcjob(other, "/tmp/x/y"))


def test_computer_and_workdir_from_the_remote_folder(local_computer):
    from provgraph.orm import LinkType, RemoteData

    node = CalcJobNode().store()  # no computer recorded on the node itself
    remote = RemoteData(remote_path="/scratch/u/job-1", computer=local_computer)
    remote.base.links.add_incoming(node, LinkType.CREATE, "remote_folder")
    remote.store()
    assert calcjob_computer(node).label == local_computer.label
    assert remote_workdir(node) == "/scratch/u/job-1"
