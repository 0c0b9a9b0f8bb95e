"""The link checks of one storing transaction, including the in-memory cycle check of new-only batches."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from provgraph.common.links import LinkRecord, LinkType
from provgraph.exceptions import LinkRuleError, NotExistent
from provgraph.storage.base import NodeRecord
from provgraph.storage.neo4j.linkcheck import _cycle_in


def _record(*tree: str) -> NodeRecord:
    now = datetime.now(timezone.utc)
    return NodeRecord(uuid=str(uuid.uuid4()), node_type=".".join(tree).lower(), labels=("Node", *tree),
                      ctime=now, mtime=now, user="linkcheck@provgraph.test")


def test_cycle_made_only_of_new_nodes_is_refused_and_nothing_written(neo4j_backend):
    data, calc = _record("Data", "Int"), _record("ProcessNode", "CalculationNode", "CalcFunctionNode")
    links = [LinkRecord(-1, -2, LinkType.INPUT_CALC, "x"), LinkRecord(-2, -1, LinkType.CREATE, "result")]
    with pytest.raises(LinkRuleError, match="cycle"):
        neo4j_backend.nodes.store([data, calc], links)
    assert data.pk is None and calc.pk is None
    with pytest.raises(NotExistent):
        neo4j_backend.nodes.get(uuid=data.uuid)


def test_new_nodes_of_several_classes_and_link_types_in_one_batch(neo4j_backend):
    x, calc, y = _record("Data", "Int"), _record("ProcessNode", "CalculationNode", "CalcFunctionNode"), \
        _record("Data", "Dict")
    pks = neo4j_backend.nodes.store([x, calc, y], [LinkRecord(-1, -2, LinkType.INPUT_CALC, "x"),
                                                   LinkRecord(-2, -3, LinkType.CREATE, "out")])
    assert set(neo4j_backend.nodes.get(pk=pks[2]).labels) == {"Node", "Data", "Dict"}
    assert [(t.link_type, t.label) for t in neo4j_backend.nodes.links(pks[1], _forward())] == [(LinkType.CREATE, "out")]


def _forward():
    from provgraph.common.links import Direction

    return Direction.FORWARD


@pytest.mark.parametrize(("edges", "on_cycle"), [
    ([(1, 2), (2, 3)], False),
    ([(1, 2), (2, 3), (3, 1)], True),
    ([(1, 2), (1, 3), (2, 4), (3, 4)], False),  # a diamond is not a cycle
    ([(5, 6), (1, 2), (2, 1)], True),
])
def test_cycle_in_memory(edges, on_cycle):
    links = [LinkRecord(s, t, LinkType.CREATE, f"l{s}_{t}") for s, t in edges]
    assert (_cycle_in(links) is not None) is on_cycle
