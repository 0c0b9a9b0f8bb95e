"""WorkChains run in this interpreter: outline constructs, exit codes, exceptions, reports, inline runs."""

from __future__ import annotations

import pytest
import workflows_for_tests as wf

from provgraph.common.links import LinkType
from provgraph.engine import run
from provgraph.orm import Int, QueryBuilder, WorkChainNode, load_node
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def _reports(node):
    return [log.message for log in get_backend().logs.for_node(node.pk)]


@pytest.mark.parametrize(("mode", "offset", "branch"), [("a", 100, "a"), ("b", 200, "b"), ("z", 300, "c")])
def test_every_outline_construct(mode, offset, branch):
    outputs, node = run.get_node(wf.OutlineWorkChain, n=Int(5), mode=mode, children=3)
    node = load_node(node.pk)
    assert isinstance(node, WorkChainNode) and node.is_finished_ok and node.is_sealed
    assert outputs["value"] == 5 + offset
    assert {key: out.value for key, out in outputs["doubled"].items()} == {"c0": 2, "c1": 4, "c2": 6}
    assert outputs["total"] == 2 + 4 + 6 + 50
    assert _reports(node) == [f"trace setup,{branch},child1,child2,child3,results"]
    called = node.called
    labels = sorted(child.process_label for child in called)
    assert labels == ["ChildWorkChain"] * 4 + ["add", "total"]
    assert all(child.is_finished_ok for child in called)
    call_types = {t.node.process_label: t.link_type for t in node.base.links.get_outgoing(
        link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK))}
    assert call_types == {"ChildWorkChain": LinkType.CALL_WORK, "add": LinkType.CALL_CALC,
                          "total": LinkType.CALL_CALC}
    assert sorted(node.outputs.keys()) == ["doubled__c0", "doubled__c1", "doubled__c2", "total", "value"]
    assert node.base.attributes.get("checkpoint") is None
    assert node.base.attributes.get("checkpoint_version") >= 8  # one committed checkpoint per step


def test_return_with_exit_code_from_outline():
    outputs, node = run.get_node(wf.OutlineWorkChain, n=Int(1), children=1, fail=True)
    assert node.is_failed and node.exit_status == 400
    assert node.exit_message == "failure requested with n={n}"
    assert "total" in outputs  # outputs attached before return_ stay


def test_step_returning_exit_code():
    _, node = run.get_node(wf.FailingWorkChain)
    node = load_node(node.pk)
    assert node.is_finished and node.exit_status == 410 and node.exit_message == "bad thing: always"
    assert node.is_sealed and _reports(node) == ["about to fail"]


def test_missing_required_output_is_exit_status_11():
    _, node = run.get_node(wf.MissingOutputWorkChain)
    assert node.exit_status == 11 and "result" in node.exit_message


def test_exception_excepts_with_traceback():
    with pytest.raises(ValueError, match="boom 7"):  # the user's own exception, as in AiiDA
        run(wf.ExceptingWorkChain, x=7)
    qb = QueryBuilder().append(WorkChainNode, filters={"attributes.process_label": "ExceptingWorkChain"}, tag="w")
    node = qb.order_by({"w": {"ctime": "desc"}}).first()[0]
    assert node.is_excepted and node.is_sealed and node.exit_status is None
    trace = node.base.attributes.get("exception")
    assert trace.startswith("Traceback") and "in explode" in trace and "ValueError: boom 7" in trace
    assert node.exit_message == "ValueError: boom 7"
    (calc,) = node.called
    assert calc.process_label == "fail" and calc.is_excepted and "boom 7" in calc.base.attributes.get("exception")
    messages = _reports(node)
    assert messages[0] == "calling fail" and len(messages) == 2 and "ValueError: boom 7" in messages[1]


def test_nested_children_and_grandchildren():
    outputs, node = run.get_node(wf.ParentWorkChain, depth=2)
    assert outputs["result"] == 6
    nested = [c for c in load_node(node.pk).called if c.process_label == "ParentWorkChain"]
    assert len(nested) == 1 and nested[0].is_finished_ok
    assert nested[0].base.attributes.get("caller_pk") == node.pk
    assert nested[0].caller.pk == node.pk


def test_inline_workfunction_and_workchain_inside_a_step():
    outputs, node = run.get_node(wf.InlineRunWorkChain, x=4)
    assert outputs["from_workfunction"] == 10 and outputs["from_workchain"] == 8
    called = {c.process_label: c for c in load_node(node.pk).called}
    assert set(called) == {"add_then_scale", "ChildWorkChain"}
    assert all(c.is_finished_ok and c.is_sealed for c in called.values())
    assert called["ChildWorkChain"].outputs["result"].pk == outputs["from_workchain"].pk
