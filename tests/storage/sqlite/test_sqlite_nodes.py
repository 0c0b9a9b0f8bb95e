"""provgraph.storage.sqlite.nodes: storing, loading, updating, links, traversal, deletion; JSON round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.common.json import MAX_INT_BITS
from provgraph.common.links import DELETE_RULES, Direction, LinkRecord, LinkType, TraversalRule
from provgraph.exceptions import LinkRuleError, MultipleObjectsError, NotExistent, StoringError, ValidationError
from provgraph.storage.entities import CommentRecord, GroupRecord, LogRecord

json_leaves = (st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
               | st.integers(min_value=-(2 ** MAX_INT_BITS - 1), max_value=2 ** MAX_INT_BITS - 1)
               | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
               | st.text(st.characters(blacklist_categories=("Cs",))))
json_values = st.recursive(json_leaves, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
                                             children, max_size=4), max_leaves=20)
json_dicts = st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8), json_values,
                             max_size=6)


def _same(a, b) -> bool:
    """Equal, with the types of every leaf kept (1, 1.0 and True are different values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (isinstance(a, float) and a != a and b != b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attributes=json_dicts, extras=json_dicts)
def test_any_jsonable_dict_round_trips(sqlite_backend, make_node, attributes, extras):
    pk = sqlite_backend.nodes.store([make_node("int", attributes=attributes, extras=extras)])[0]
    loaded = sqlite_backend.nodes.get(pk=pk)
    assert _same(loaded.attributes, attributes) and _same(loaded.extras, extras)
    sqlite_backend.nodes.update(pk, extras=attributes)
    assert _same(sqlite_backend.nodes.get(pk=pk).extras, attributes)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "x"}, {"s"}, b"x", 2 ** (MAX_INT_BITS + 1)])
def test_values_json_cannot_hold_are_refused(sqlite_backend, make_node, bad):
    with pytest.raises(ValidationError):
        sqlite_backend.nodes.store([make_node("int", attributes={"a": [bad]})])
    pk = sqlite_backend.nodes.store([make_node("int", extras={"keep": 1})])[0]
    with pytest.raises(ValidationError):
        sqlite_backend.nodes.update(pk, extras={"a": bad})
    assert sqlite_backend.nodes.count_by("nodes") == {"test.int": 1}
    assert sqlite_backend.nodes.get(pk=pk).extras == {"keep": 1}


def test_fields_round_trip_and_times_stay_exact(sqlite_backend, make_node):
    ctime = datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-5)))
    record = make_node("int", ctime=ctime, label="l", description="d", repository={"a/b.txt": "k1", "c": "k2"},
                       hash="h", computer="cluster")
    pk = sqlite_backend.nodes.store([record])[0]
    assert record.pk == pk
    loaded = sqlite_backend.nodes.get(uuid=record.uuid)
    assert loaded == record
    assert loaded.ctime == ctime and loaded.ctime.utcoffset() == timedelta(0)
    assert sorted(sqlite_backend.nodes.iter_repository_keys()) == ["k1", "k2"]
    with pytest.raises(ValidationError):
        sqlite_backend.nodes.store([make_node("int", ctime=datetime(2024, 1, 1))])  # naive time


def test_get_errors(sqlite_backend, make_node):
    records = [make_node("int") for _ in range(17)]
    sqlite_backend.nodes.store(records)
    firsts = [r.uuid[0] for r in records]
    with pytest.raises(MultipleObjectsError):
        sqlite_backend.nodes.get(uuid=next(c for c in firsts if firsts.count(c) > 1))
    assert sqlite_backend.nodes.get(uuid=records[3].uuid[:30]).pk == records[3].pk
    with pytest.raises(NotExistent):
        sqlite_backend.nodes.get(pk=10 ** 12)
    with pytest.raises(NotExistent):
        sqlite_backend.nodes.get(uuid="%")  # not a pattern
    with pytest.raises(ValidationError):
        sqlite_backend.nodes.get()
    with pytest.raises(StoringError):
        sqlite_backend.nodes.store([records[0]])  # has a pk
    with pytest.raises(StoringError):
        sqlite_backend.nodes.store([make_node("int", uuid=records[1].uuid)])  # uuid taken
    with pytest.raises(NotExistent):
        sqlite_backend.nodes.update(10 ** 12, label="x")
    with pytest.raises(ValidationError):
        sqlite_backend.nodes.update(records[0].pk, uuid="new")


def test_batch_with_bad_link_writes_nothing(sqlite_backend, make_node):
    nodes = [make_node("int"), make_node("calc"), make_node("int")]
    with pytest.raises(LinkRuleError, match="INPUT_CALC links Data"):
        sqlite_backend.nodes.store(nodes, [LinkRecord(-1, -2, LinkType.INPUT_CALC, "x"),
                                           LinkRecord(-3, -1, LinkType.INPUT_CALC, "y")])
    assert all(node.pk is None for node in nodes)
    assert sqlite_backend.nodes.count_by("nodes") == {} and sqlite_backend.nodes.count_by("links") == {}
    with pytest.raises(StoringError, match="new node #4"):
        sqlite_backend.nodes.store(nodes, [LinkRecord(-4, -2, LinkType.INPUT_CALC, "x")])
    with pytest.raises(LinkRuleError, match="not stored"):
        sqlite_backend.nodes.store(nodes[:1], [LinkRecord(-1, 10 ** 12, LinkType.INPUT_CALC, "x")])
    assert sqlite_backend.nodes.count_by("nodes") == {}


def _chain(backend, make_node, length: int) -> list[int]:
    """x0 -> c1 -> x1 -> c2 -> x2 ...: ``length`` calculations, stored in one batch."""
    nodes, links = [make_node("int")], []
    for i in range(length):
        nodes += [make_node("calc"), make_node("int")]
        links += [LinkRecord(-(2 * i + 1), -(2 * i + 2), LinkType.INPUT_CALC, "x"),
                  LinkRecord(-(2 * i + 2), -(2 * i + 3), LinkType.CREATE, "y")]
    return backend.nodes.store(nodes, links)


def test_cycles_in_each_family_are_refused(sqlite_backend, make_node):
    pks = _chain(sqlite_backend, make_node, 20)
    with pytest.raises(LinkRuleError, match=f"a link {pks[-1]} -> {pks[1]} closes a cycle"):
        sqlite_backend.nodes.add_links([LinkRecord(pks[-1], pks[1], LinkType.INPUT_CALC, "back")])
    assert sqlite_backend.nodes.links(pks[1], Direction.BACKWARD) == sqlite_backend.nodes.links(
        pks[1], Direction.BACKWARD, labels=["x"])
    w1, w2 = sqlite_backend.nodes.store([make_node("work"), make_node("work")],
                                        [LinkRecord(-1, -2, LinkType.CALL_WORK, "CALL")])
    with pytest.raises(LinkRuleError, match="cycle|one caller"):
        sqlite_backend.nodes.add_links([LinkRecord(w2, w1, LinkType.CALL_WORK, "CALL")])
    # logical provenance may loop: a workflow returns its own input
    sqlite_backend.nodes.add_links([LinkRecord(pks[0], w1, LinkType.INPUT_WORK, "x"),
                                    LinkRecord(w1, pks[0], LinkType.RETURN, "x")])


def test_links_traverse_and_delete(sqlite_backend, make_node):
    pks = _chain(sqlite_backend, make_node, 3)
    nodes = sqlite_backend.nodes
    assert [(t.node_pk, t.link_type, t.label) for t in nodes.links(pks[1], Direction.FORWARD)] == [
        (pks[2], LinkType.CREATE, "y")]
    assert nodes.links(pks[1], Direction.FORWARD, link_types=[LinkType.INPUT_CALC]) == []
    forward = [TraversalRule(t, Direction.FORWARD, True, False, t.value) for t in (LinkType.INPUT_CALC,
                                                                                  LinkType.CREATE)]
    assert nodes.traverse([pks[2]], forward) == set(pks[2:])
    assert nodes.traverse([pks[4], 10 ** 12], []) == {pks[4], 10 ** 12}
    assert nodes.traverse([pks[0]], DELETE_RULES) == set(pks)
    group = GroupRecord(label="g")
    sqlite_backend.groups.store(group)
    sqlite_backend.groups.add_nodes(group.pk, pks)
    sqlite_backend.comments.add(CommentRecord(node_pk=pks[5], content="hi", user="u@x"))
    sqlite_backend.logs.add_many([LogRecord(node_pk=pks[5], message="m", levelname="INFO", loggername="l")])
    nodes.delete(pks[4:])
    assert sqlite_backend.groups.node_pks(group.pk) == pks[:4]
    assert sqlite_backend.comments.for_node(pks[5]) == [] and sqlite_backend.logs.for_node(pks[5]) == []
    assert nodes.links(pks[3], Direction.FORWARD) == []
    with pytest.raises(NotExistent):
        nodes.get(pk=pks[5])
    new = nodes.store([make_node("int")])[0]
    assert new > max(pks)  # a deleted pk is never handed out again
    assert nodes.count_by("links") == {"INPUT_CALC": 2, "CREATE": 1}  # x0 -> c1 -> x1 -> c2 remain
