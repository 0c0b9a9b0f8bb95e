"""CalcJobs on a core.local + core.simulated computer, run in this interpreter on the services profile."""

from __future__ import annotations

import uuid

import pytest

from provgraph.engine import run
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.orm import Int
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.schedulers.simulated import read_log, write_config
from provgraph.transports.local import LocalTransport


@pytest.fixture
def simulated(neo4j_profile, tmp_path, monkeypatch):
    """A stored core.local + core.simulated computer with a cluster of its own; a function to configure it."""
    from provgraph.engine.launch import set_submitter
    from provgraph.profiles import load_profile

    load_profile("services")
    previous = set_submitter(None)
    state = str(tmp_path / "cluster")
    monkeypatch.setenv("PROVGRAPH_SIMULATED_DIR", state)
    computer = Computer(f"pg-sim-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.simulated",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.2}).store()
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()
    transport = LocalTransport()
    transport.open()

    def configure(**settings):
        write_config(transport, state, min_runtime=0.2, max_runtime=0.5, max_queue_time=0.2, **settings)

    yield code, configure, lambda: read_log(transport, state)
    set_submitter(previous)
    transport.close()


def test_a_calcjob_runs_on_the_simulated_cluster(simulated):
    code, configure, log = simulated
    configure(failure_fraction=0)
    outputs, node = run.get_node(ArithmeticAddCalculation, code=code, x=Int(2), y=Int(3))
    assert node.is_finished_ok, node.exit_message
    assert outputs["sum"].value == 5
    assert node.base.attributes.get("detailed_job_info")["raw_state"] == "COMPLETED"
    assert [event.kind for event in log()].count("submit") == 1


def test_a_node_failure_reaches_the_parser_as_a_missing_output(simulated):
    code, configure, _ = simulated
    configure(failure_fraction=1, failure_kinds="node_fail")
    _, node = run.get_node(ArithmeticAddCalculation, code=code, x=Int(2), y=Int(3))
    assert node.exit_status == 310, node.exit_message  # ERROR_READING_OUTPUT_FILE: a restart fixes it
    assert node.base.attributes.get("detailed_job_info")["raw_state"] == "NODE_FAIL"
