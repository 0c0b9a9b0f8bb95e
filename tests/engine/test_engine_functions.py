"""calcfunction and workfunction: provenance, defaults, kwargs, dict returns, errors."""

from __future__ import annotations

import pytest
import workflows_for_tests as wf

from provgraph.common.links import LinkType
from provgraph.engine import run
from provgraph.exceptions import LinkRuleError, ValidationError
from provgraph.orm import CalcFunctionNode, Float, Int, WorkFunctionNode, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def test_calcfunction_provenance():
    x = Int(2).store()
    result, node = wf.add.run_get_node(x, 3)
    assert result == 5 and result.is_stored
    node = load_node(node.pk)
    assert isinstance(node, CalcFunctionNode) and node.is_finished_ok and node.is_sealed
    assert node.process_label == "add" and node.process_type == "workflows_for_tests:add"
    inputs = node.inputs
    assert inputs["x"].pk == x.pk and inputs["y"].value == 3  # the plain 3 was wrapped and stored
    assert node.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all_link_labels() == ["x", "y"]
    out = node.base.links.get_outgoing().one()
    assert (out.link_type, out.link_label, out.node.pk) == (LinkType.CREATE, "result", result.pk)
    assert load_node(result.pk).creator.pk == node.pk
    assert node.base.attributes.get("checkpoint") is None


def test_defaults_optional_and_keyword_arguments():
    assert wf.scale(Int(2)) == 6
    assert wf.scale(Int(2), factor=Float(0.5)) == 1.0
    assert wf.scale(x=4, factor=2, offset=1) == 9
    _, node = wf.scale.run_get_node(Int(2))
    assert set(node.inputs) == {"x", "factor"}  # a default of None makes the input optional
    assert node.inputs["factor"].value == 3


def test_kwargs_are_dynamic_inputs():
    result, node = wf.total.run_get_node(a=1, b=Int(2), c=3)
    assert result == 6 and set(node.inputs) == {"a", "b", "c"}


def test_dict_return_with_namespace_and_run():
    outputs = run(wf.split, 7)
    assert outputs["half"] == 3 and outputs["parts"]["low"] == 1 and outputs.parts.high == 6
    node = outputs["half"].creator
    assert sorted(node.outputs.keys()) == ["half", "parts__high", "parts__low"]


def test_metadata_label_description():
    _, node = wf.add.run_get_node(1, 2, metadata={"label": "my sum", "description": "one plus two"})
    assert (load_node(node.pk).label, load_node(node.pk).description) == ("my sum", "one plus two")


def test_workfunction_returns_existing_data():
    x = Int(1).store()
    result, node = wf.fetch.run_get_node(x.pk)
    assert result["fetched"].pk == x.pk
    node = load_node(node.pk)
    assert isinstance(node, WorkFunctionNode) and node.is_finished_ok
    out = node.base.links.get_outgoing(link_type=LinkType.RETURN).one()
    assert (out.link_label, out.node.pk) == ("fetched", x.pk)
    assert node.base.links.get_incoming(link_type=LinkType.INPUT_WORK).all_link_labels() == ["pk"]


def test_workfunction_may_return_its_input():
    # data provenance and the call tree stay acyclic; logical provenance may loop back, as in AiiDA
    x = Int(1).store()
    result, node = wf.pick.run_get_node(x, 2)
    assert load_node(node.pk).outputs["picked"].pk == x.pk


def test_workfunction_calling_calcfunctions_links_call_calc():
    result, node = wf.add_then_scale.run_get_node(1, 2)
    assert result == 6
    called = sorted(load_node(node.pk).called, key=lambda n: n.process_label)
    assert [c.process_label for c in called] == ["add", "scale"]
    link = called[0].base.links.get_incoming(link_type=LinkType.CALL_CALC).one()
    assert (link.node.pk, link.link_label) == (node.pk, "CALL")
    assert result.creator.process_label == "scale"
    assert load_node(node.pk).outputs["result"].pk == result.pk


def test_wrong_input_types_are_refused_naming_the_port():
    with pytest.raises(ValidationError, match=r"port 'inputs.x' takes a data node, not set"):
        wf.add({1}, 2)
    with pytest.raises(ValidationError, match=r"add\(\): missing a required argument: 'y'"):
        wf.add(1)
    with pytest.raises(ValidationError, match="unexpected keyword argument 'z'"):
        wf.add(1, 2, z=3)


def test_function_errors_are_clear():
    with pytest.raises(ValidationError, match="a calculation creates new data"):
        wf.return_input(Int(1).store())
    with pytest.raises(ValidationError, match="returned int 4: return a data node"):
        wf.return_plain(4)
    with pytest.raises(ValidationError, match="calculations create data, only workflows call"):
        wf.call_other(1)
    with pytest.raises(LinkRuleError, match="workflows only return data that exists"):
        wf.make_new(1)


def test_calcfunction_exception_propagates_and_is_recorded():
    with pytest.raises(ValueError, match="boom 3"):
        wf.fail(3)
    outputs, node = run.get_node(wf.add, x=1, y=2)
    assert node.is_finished_ok and outputs == 3  # a single 'result' output is returned as the node (AiiDA)
