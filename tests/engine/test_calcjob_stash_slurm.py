"""Stash and unstash over core.ssh (the loopback sshd) for a job on the real single-node SLURM."""

from __future__ import annotations

import pytest
from calcjob_support import bash_code, ssh_computer

from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.calcjobs.stash import unstash
from provgraph.orm import Int
from provgraph.orm.nodes.data.remote_stash import RemoteStashCompressedData

pytestmark = [pytest.mark.requires_ssh, pytest.mark.requires_slurm, pytest.mark.requires_neo4j]


def test_tar_gz_stash_over_ssh_on_slurm_and_unstash(ssh_settings, ssh_connection, slurm_env):
    computer = ssh_computer(ssh_settings, "core.slurm")
    target = f"/tmp/{ssh_settings['username']}/provgraph_stash"
    options = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}, "queue_name": "debug",
               "max_wallclock_seconds": 120,
               "stash": {"source_list": ["aiida.out", "aiida.in"], "target_base": target, "stash_mode": "tar.gz"}}
    outputs, node = run.get_node(ArithmeticAddCalculation, code=bash_code(computer), x=Int(20), y=Int(22),
                                 metadata={"options": options})
    assert node.is_finished_ok, node.exit_message
    stash = outputs["remote_stash"]
    assert isinstance(stash, RemoteStashCompressedData) and stash.computer == computer.label
    assert stash.target_basepath.startswith(target) and stash.target_basepath.endswith(".tar.gz")
    listing = ssh_connection.run(f"tar -tzf {stash.target_basepath}", hide=True, warn=True)
    assert sorted(listing.stdout.split()) == ["aiida.in", "aiida.out"]
    restored = unstash(stash)
    assert restored.computer == computer.label
    content = ssh_connection.run(f"cat {restored.get_remote_path()}/aiida.out", hide=True, warn=True)
    assert content.stdout.strip() == "42"
