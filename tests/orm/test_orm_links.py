"""Links: every rule of DESIGN §2 is enforced when the link is made, and nothing is written on refusal."""

from __future__ import annotations

import pytest

from provgraph.common.links import LinkType
from provgraph.exceptions import LinkRuleError, ValidationError
from provgraph.orm import CalcFunctionNode, Int, WorkChainNode, WorkFunctionNode, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def _calc_triple():
    x = Int(1).store()
    calc = CalcFunctionNode()
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.store()
    y = Int(2)
    y.base.links.add_incoming(calc, LinkType.CREATE, "result")
    y.store()
    return x, calc, y


def test_calc_triple_links_are_stored_and_listed():
    x, calc, y = _calc_triple()
    assert calc.base.links.get_incoming().all_link_labels() == ["x"]
    out = calc.base.links.get_outgoing(link_type=LinkType.CREATE).one()
    assert (out.node.pk, out.link_type, out.link_label) == (y.pk, LinkType.CREATE, "result")
    assert load_node(y.pk).creator.pk == calc.pk
    assert calc.inputs == {"x": x} and calc.outputs == {"result": y}
    assert x.base.links.get_outgoing(node_class=WorkChainNode).all() == []


def test_link_label_filter_like():
    calc = CalcFunctionNode().store()
    for label in ("alpha_1", "alpha_2", "beta"):
        calc.base.links.add_incoming(Int(0).store(), LinkType.INPUT_CALC, label)
    assert sorted(calc.base.links.get_incoming(link_label_filter="alpha%").all_link_labels()) == ["alpha_1", "alpha_2"]


def test_wrong_endpoint_types_are_refused():
    data, calc, work = Int(1).store(), CalcFunctionNode().store(), WorkChainNode().store()
    with pytest.raises(LinkRuleError, match="INPUT_CALC links Data to a CalculationNode"):
        work.base.links.add_incoming(data, LinkType.INPUT_CALC, "x")
    with pytest.raises(LinkRuleError, match="CREATE links a CalculationNode"):
        data.base.links.add_incoming(work, LinkType.CREATE, "x")
    with pytest.raises(LinkRuleError, match="CALL_CALC"):
        calc.base.links.add_incoming(data, LinkType.CALL_CALC, "x")
    assert calc.base.links.get_incoming().all() == []


def test_second_create_into_same_data_is_refused():
    _, _, y = _calc_triple()
    other = CalcFunctionNode().store()
    with pytest.raises(LinkRuleError, match="at most one creator"):
        y.base.links.add_incoming(other, LinkType.CREATE, "result")
    assert other.base.links.get_outgoing().all() == []


def test_input_labels_unique_per_target():
    calc = CalcFunctionNode().store()
    calc.base.links.add_incoming(Int(1).store(), LinkType.INPUT_CALC, "x")
    with pytest.raises(LinkRuleError, match="labelled 'x'"):
        calc.base.links.add_incoming(Int(2).store(), LinkType.INPUT_CALC, "x")
    assert len(calc.base.links.get_incoming().all()) == 1


def test_one_caller_per_process():
    child = CalcFunctionNode().store()
    WorkChainNode().store().base.links.add_outgoing(child, LinkType.CALL_CALC, "CALL")
    with pytest.raises(LinkRuleError, match="one caller"):
        WorkFunctionNode().store().base.links.add_outgoing(child, LinkType.CALL_CALC, "CALL")


def test_return_needs_stored_data():
    work = WorkChainNode().store()
    with pytest.raises(LinkRuleError, match="not stored|unstored"):
        Int(3).base.links.add_incoming(work, LinkType.RETURN, "result")


def test_link_between_unstored_nodes_is_refused():
    with pytest.raises(LinkRuleError, match="both unstored"):
        CalcFunctionNode().base.links.add_incoming(Int(1), LinkType.INPUT_CALC, "x")


def test_cycle_is_refused_and_nothing_written():
    x, calc, y = _calc_triple()
    calc2 = CalcFunctionNode()
    calc2.base.links.add_incoming(y, LinkType.INPUT_CALC, "y")
    calc2.store()
    z = Int(3)
    z.base.links.add_incoming(calc2, LinkType.CREATE, "z")
    z.store()
    # feeding z back into the first calculation closes z -> calc -> y -> calc2 -> z
    with pytest.raises(LinkRuleError, match="cycle"):
        calc.base.links.add_incoming(z, LinkType.INPUT_CALC, "z")
    assert sorted(calc.base.links.get_incoming().all_link_labels()) == ["x"]
    assert z.base.links.get_outgoing().all() == []


def test_invalid_link_label():
    with pytest.raises(ValidationError):
        CalcFunctionNode().base.links.add_incoming(Int(1).store(), LinkType.INPUT_CALC, "bad label!")
