"""A CalcJob over core.ssh (the loopback sshd) submitted to the real single-node SLURM."""

from __future__ import annotations

from pathlib import Path

import pytest
from calcjob_support import bash_code, ssh_computer

from provgraph.common.links import LinkType
from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.calcjobs import CalcInfo, CalcJob, CodeInfo
from provgraph.orm import Int
from provgraph.orm.nodes.data.files import FolderData
from provgraph.orm.nodes.data.remote import RemoteData

pytestmark = [pytest.mark.requires_ssh, pytest.mark.requires_slurm, pytest.mark.requires_neo4j]


def test_add_job_over_ssh_on_slurm(ssh_settings, ssh_connection, slurm_env):
    computer = ssh_computer(ssh_settings, "core.slurm")
    code = bash_code(computer)
    options = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}, "queue_name": "debug",
               "max_wallclock_seconds": 120, "environment_variables": {"PG_GREETING": "hello from slurm"},
               "append_text": 'echo "$PG_GREETING $SLURM_JOB_ID"'}
    outputs, node = run.get_node(ArithmeticAddCalculation, code=code, x=Int(20), y=Int(22),
                                 metadata={"options": options, "label": "slurm add"})
    assert node.is_finished_ok, node.exit_message
    assert outputs["sum"].value == 42
    attributes = node.base.attributes.all
    job_id = attributes["job_id"]
    assert job_id.isdigit() and attributes["scheduler_state"] == "done"
    assert attributes["detailed_job_info"]["exit_status"] == 0
    assert attributes["remote_workdir"].startswith(f"/tmp/{ssh_settings['username']}/provgraph_cj/")
    script = node.base.repository.get_object_content("_provgraph_submit.sh")
    assert "#SBATCH --partition=debug" in script and "#SBATCH --job-name=" in script
    assert "/bin/bash < aiida.in > aiida.out" in script

    created = {t.link_label: t.node for t in node.base.links.get_outgoing(link_type=LinkType.CREATE)}
    assert set(created) == {"remote_folder", "retrieved", "sum"}
    remote, retrieved = created["remote_folder"], created["retrieved"]
    assert isinstance(remote, RemoteData) and remote.computer == computer.label
    assert isinstance(retrieved, FolderData)
    assert sorted(retrieved.list_object_names()) == ["_scheduler-stderr.txt", "_scheduler-stdout.txt", "aiida.out"]
    assert f"hello from slurm {job_id}" in retrieved.get_object_content("_scheduler-stdout.txt")
    # the job really ran on the other account, in the working directory the RemoteData names
    remote_output = ssh_connection.run(f"cat {remote.get_remote_path()}/aiida.out", hide=True, warn=True)
    assert remote_output.stdout.strip() == "42"
    incoming = {t.link_label for t in node.base.links.get_incoming(link_type=LinkType.INPUT_CALC)}
    assert incoming == {"code", "x", "y"}


class ExitThreeCalculation(CalcJob):
    """Runs ``bash -c 'exit 3'``; no parser, so the scheduler's exit status decides."""

    def prepare_for_submission(self, folder: Path) -> CalcInfo:
        """Nothing to write: the command line is the whole job."""
        return CalcInfo(codes_info=[CodeInfo(cmdline_params=["-c", "exit 3"])])


def test_without_a_parser_a_failed_job_ends_with_the_scheduler_exit_code(ssh_settings, slurm_env):
    computer = ssh_computer(ssh_settings, "core.slurm")
    _, node = run.get_node(ExitThreeCalculation, code=bash_code(computer),
                           metadata={"options": {"queue_name": "debug", "max_wallclock_seconds": 60}})
    assert node.exit_status == ExitThreeCalculation.exit_codes.ERROR_SCHEDULER_JOB_FAILED.status
    assert "exit status 3" in node.exit_message
    assert node.base.attributes.get("detailed_job_info")["exit_status"] == 3
    assert "retrieved" in node.outputs and "remote_folder" in node.outputs
