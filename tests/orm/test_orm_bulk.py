"""The bulk store API: many nodes and links in one transaction."""

from __future__ import annotations

import pytest

from provgraph.common.links import LinkRecord, LinkType
from provgraph.exceptions import LinkRuleError, NotExistent
from provgraph.orm import CalcFunctionNode, Int, load_node
from provgraph.orm.backend import get_backend
from provgraph.orm.bulk import store_graph

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def test_bulk_triples():
    nodes, links = [], []
    for i in range(300):
        x, calc, y = Int(i), CalcFunctionNode(), Int(i + 1)
        base = len(nodes)
        nodes += [x, calc, y]
        links += [(base, base + 1, LinkType.INPUT_CALC, "x"), (base + 1, base + 2, LinkType.CREATE, "result")]
    pks = store_graph(nodes, links)
    assert len(pks) == 900 and all(node.is_stored for node in nodes)
    middle = load_node(pks[4])
    assert isinstance(middle, CalcFunctionNode)
    assert middle.inputs["x"].value == 1 and middle.outputs["result"].value == 2


def test_bulk_rule_violation_writes_nothing():
    calc = CalcFunctionNode()
    a, b = Int(1), Int(2)
    links = [(0, 1, LinkType.CREATE, "out"), (0, 2, LinkType.CREATE, "out")]  # duplicate output label
    with pytest.raises(LinkRuleError):
        store_graph([calc, a, b], links)
    assert not any(node.is_stored for node in (calc, a, b))
    with pytest.raises(NotExistent):
        get_backend().nodes.get(uuid=calc.uuid)


def test_backend_store_refers_to_new_nodes_by_negative_index():
    x, calc = Int(5), CalcFunctionNode()
    pks = get_backend().nodes.store([x._record, calc._record], [LinkRecord(-1, -2, LinkType.INPUT_CALC, "x")])
    assert load_node(pks[1]).inputs["x"].pk == pks[0]
