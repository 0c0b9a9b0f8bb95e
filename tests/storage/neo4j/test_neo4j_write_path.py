"""The Neo4j write path: times sent as epoch numbers, statements per class tree and per link type."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from provgraph.common.links import Direction, LinkRecord, LinkType
from provgraph.exceptions import ValidationError
from provgraph.storage.base import NodeRecord
from provgraph.storage.neo4j.nodes import wire_row

DICT = ("Node", "Data", "Dict")
CALC = ("Node", "ProcessNode", "CalculationNode", "CalcFunctionNode")


def record(tree, when: datetime, **attributes) -> NodeRecord:
    return NodeRecord(uuid=str(uuid.uuid4()), node_type="test.write_path", labels=tree, ctime=when, mtime=when,
                      user="tests@provgraph.example", attributes=attributes)


@pytest.mark.parametrize("when", [
    datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
    datetime(1960, 5, 4, 3, 2, 1, 999999, tzinfo=timezone(timedelta(hours=2))),
    datetime(1970, 1, 1, tzinfo=timezone.utc) - timedelta(microseconds=1),
])
def test_times_come_back_as_the_same_instant_to_the_microsecond(neo4j_backend, when):
    node = record(DICT, when, a=1)
    neo4j_backend.nodes.store([node])
    stored = neo4j_backend.nodes.get(pk=node.pk)
    assert stored.ctime == when and stored.mtime == when
    assert stored.ctime.utcoffset() == timedelta(0)


def test_naive_times_are_refused_and_nothing_is_written(neo4j_backend):
    node = record(DICT, datetime(2026, 1, 1), a=1)  # no timezone
    with pytest.raises(ValidationError, match="timezone-aware"):
        neo4j_backend.nodes.store([node])
    assert node.pk is None


def test_wire_row_leaves_the_properties_untouched():
    props = {"pk": 1, "ctime": datetime(2026, 1, 1, tzinfo=timezone.utc),
             "mtime": datetime(2026, 1, 1, 0, 0, 1, 5, tzinfo=timezone.utc), "attributes.a": 1}
    row = wire_row(props)
    assert row == {"p": {"pk": 1, "attributes.a": 1}, "c": [1767225600, 0], "m": [1767225601, 5000]}
    assert set(props) == {"pk", "ctime", "mtime", "attributes.a"}  # a retried transaction can send it again


def test_one_store_of_mixed_trees_and_link_types(neo4j_backend):
    now = datetime.now(timezone.utc)
    nodes = [record(DICT, now, i=0), record(CALC, now), record(DICT, now, i=1), record(DICT, now, i=2)]
    links = [LinkRecord(-1, -2, LinkType.INPUT_CALC, "x"), LinkRecord(-2, -3, LinkType.CREATE, "a"),
             LinkRecord(-2, -4, LinkType.CREATE, "b")]
    pks = neo4j_backend.nodes.store(nodes, links)
    assert [neo4j_backend.nodes.get(pk=pk).labels for pk in pks] == [
        tuple(sorted(DICT)), tuple(sorted(CALC)), tuple(sorted(DICT)), tuple(sorted(DICT))]
    out = neo4j_backend.nodes.links(pks[1], Direction.FORWARD)
    assert [(t.node_pk, t.link_type, t.label) for t in out] == [
        (pks[2], LinkType.CREATE, "a"), (pks[3], LinkType.CREATE, "b")]
    assert [(t.node_pk, t.link_type) for t in neo4j_backend.nodes.links(pks[1], Direction.BACKWARD)] == [
        (pks[0], LinkType.INPUT_CALC)]
