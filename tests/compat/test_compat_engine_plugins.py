"""Built-in processes under AiiDA's entry-point names (``core.arithmetic.add``, ``core.arithmetic.multiply_add``)."""

from __future__ import annotations

import uuid

import pytest
from process_support import reports, sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.engine import CalcJob, WorkChain, run_get_node
from provgraph.engine.examples import AddMultiplyWorkChain, add
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation, ArithmeticAddParser, MultiplyAddWorkChain
from provgraph.orm import Int
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.plugins import load_plugin


@pytest.fixture
def bash(tmp_path):
    """``/bin/bash`` on a stored core.local + core.direct computer working below ``tmp_path``."""
    computer = Computer(f"pg-compat-local-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.direct",
                        workdir=str(tmp_path / "work"), metadata={"minimum_job_poll_interval": 0.1}).store()
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label="bash").store()


def test_core_arithmetic_add_is_the_calcjob():
    found = load_plugin("calculations", "core.arithmetic.add")
    assert found is ArithmeticAddCalculation and issubclass(found, CalcJob)


def test_core_arithmetic_add_parser():
    assert load_plugin("parsers", "core.arithmetic.add") is ArithmeticAddParser


def test_core_arithmetic_multiply_add_is_a_workchain():
    found = load_plugin("workflows", "core.arithmetic.multiply_add")
    assert found is MultiplyAddWorkChain and issubclass(found, WorkChain)


def test_provgraph_names_kept():
    assert load_plugin("calculations", "core.arithmetic.add_job") is ArithmeticAddCalculation
    assert load_plugin("calculations", "core.arithmetic.add_function") is add
    assert load_plugin("workflows", "core.arithmetic.add_multiply") is AddMultiplyWorkChain


def test_factories_under_aiida_names():
    from provgraph.plugins import CalculationFactory, WorkflowFactory

    assert CalculationFactory("core.arithmetic.add") is ArithmeticAddCalculation
    assert WorkflowFactory("core.arithmetic.multiply_add") is MultiplyAddWorkChain


def test_multiply_add_spec():
    spec = MultiplyAddWorkChain.spec()
    assert {"x", "y", "z", "code"} <= set(spec.inputs.ports)
    assert "result" in spec.outputs.ports
    assert MultiplyAddWorkChain.exit_codes.ERROR_NEGATIVE_NUMBER.status == 400


def test_arithmetic_add_spec():
    spec = ArithmeticAddCalculation.spec()
    assert {"x", "y", "code"} <= set(spec.inputs.ports) and "sum" in spec.outputs.ports


def test_multiply_add_runs(bash):
    outputs, node = run_get_node(MultiplyAddWorkChain, x=Int(2), y=Int(3), z=Int(4), code=bash)
    assert node.is_finished_ok, node.exit_message
    assert outputs["result"].value == 10
    labels = sorted(child.process_label for child in node.called)
    assert labels == ["ArithmeticAddCalculation", "multiply"]
    assert any(message.startswith("Submitted the `ArithmeticAddCalculation`") for message in reports(node))


def test_multiply_add_negative(bash):
    _, node = run_get_node(MultiplyAddWorkChain, x=Int(2), y=Int(3), z=Int(-10), code=bash)
    assert node.exit_status in (400, 410)


def test_calcjob_restart_builder_keeps_inputs_and_options(bash):
    options = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}, "output_filename": "sum.out"}
    _, node = run_get_node(ArithmeticAddCalculation, x=Int(1), y=Int(2), code=bash,
                           metadata={"options": options, "label": "first"})
    assert node.is_finished_ok, node.exit_message
    builder = node.get_builder_restart()
    assert builder.x.value == 1 and builder.code.uuid == bash.uuid
    assert builder.metadata.label == "first" and builder.metadata.options.output_filename == "sum.out"
    builder.y = Int(40)
    outputs, again = run_get_node(builder)
    assert again.is_finished_ok and outputs["sum"].value == 41
    assert again.base.attributes.get("output_filename") == "sum.out"
