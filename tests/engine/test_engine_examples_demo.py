"""The workflow of ``make demo`` runs in-process on both backends and records its whole provenance."""

from __future__ import annotations

from calcjob_support import bash_code, local_computer

from provgraph.engine import run
from provgraph.engine.examples_demo import MainJobWorkChain
from provgraph.orm import CalcFunctionNode, CalcJobNode, Int, QueryBuilder, WorkChainNode


def test_main_job_calls_a_calcfunction_a_child_workchain_and_a_calcjob(backend_profile, tmp_path):
    code = bash_code(local_computer(str(tmp_path / "work")))
    outputs, node = run.get_node(MainJobWorkChain, x=Int(2), y=Int(3), z=Int(4), code=code)
    assert node.is_finished_ok, node.exit_message
    assert {name: outputs[name].value for name in ("sum", "child_result", "job_sum", "result")} == {
        "sum": 5, "child_result": 20, "job_sum": 24, "result": 96}
    qb = QueryBuilder().append(WorkChainNode, filters={"pk": node.pk}, tag="root")
    qb.append((CalcFunctionNode, WorkChainNode, CalcJobNode), with_incoming="root",
              project=["attributes.process_label"])
    assert sorted(label for label, in qb.all()) == ["AddMultiplyWorkChain", "ArithmeticAddCalculation", "add",
                                                    "multiply"]
    job = QueryBuilder().append(CalcJobNode, filters={"attributes.process_label": "ArithmeticAddCalculation"},
                                tag="job").append(WorkChainNode, with_outgoing="job", filters={"pk": node.pk})
    assert job.count() == 1
