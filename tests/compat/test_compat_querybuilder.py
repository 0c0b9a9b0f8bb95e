"""AiiDA's QueryBuilder spellings on provgraph, on both backends: ``id``, classes standing for
tags, lists of classes, Process classes, the constructor's path/filters/project/order_by/limit,
and ``as_dict()`` / ``from_dict()``.
"""

from __future__ import annotations

import json
import uuid

import pytest
from compat_orm_support import mark

from provgraph.common.links import LinkType
from provgraph.engine import calcfunction, run_get_node
from provgraph.exceptions import QueryError
from provgraph.orm import CalcFunctionNode, Dict, Float, Group, Int, Node, QueryBuilder, Str

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@calcfunction
def triple(x):
    """``3 * x``: a process whose nodes a query selects by its class."""
    return x * 3


@calcfunction
def negate(x):
    """``-x``: another process function, which a query on ``triple`` must not return."""
    return -x


@pytest.fixture(autouse=True)
def _both_backends(backend_profile):
    """Every case runs on Neo4j and on the embedded sqlite backend."""
    return backend_profile


@pytest.fixture
def run() -> str:
    """A unique marker for the nodes of one test."""
    return uuid.uuid4().hex


@pytest.fixture
def ints(run):
    """Three stored Ints (values 1, 2, 3) marked with ``run``."""
    return [mark(Int(value), run).store() for value in (1, 2, 3)]


def _mine(run):
    return {"extras.run": run}


# -- 'id', classes as tags ----------------------------------------------------------------------

def test_id_filters_like_pk(run, ints):
    qb = QueryBuilder().append(Int, filters={**_mine(run), "id": ints[1].pk}, project="pk")
    assert qb.all(flat=True) == [ints[1].pk]


def test_id_projects_the_pk(run, ints):
    qb = QueryBuilder().append(Int, filters=_mine(run), project=["id", "pk"])
    assert sorted(qb.all()) == sorted([n.pk, n.pk] for n in ints)


def test_id_operators(run, ints):
    qb = QueryBuilder().append(Int, filters={**_mine(run), "id": {">": ints[0].pk}}, project="attributes.value")
    assert sorted(qb.all(flat=True)) == [2, 3]
    qb = QueryBuilder().append(Int, filters={**_mine(run), "id": {"in": [ints[0].pk, ints[2].pk]}}, project="id")
    assert sorted(qb.all(flat=True)) == [ints[0].pk, ints[2].pk]


def test_dict_keeps_the_name_id(run, ints):
    rows = QueryBuilder().append(Int, tag="i", filters={**_mine(run), "id": ints[0].pk}, project="id").dict()
    assert rows == [{"i": {"id": ints[0].pk}}]


def test_order_by_keyed_by_class(run, ints):
    qb = QueryBuilder().append(Int, filters=_mine(run), project="id").order_by({Int: {"id": "desc"}})
    assert qb.all(flat=True) == [n.pk for n in reversed(ints)]
    qb = QueryBuilder().append(Int, filters=_mine(run), project="id").order_by({Int: "id"})
    assert qb.all(flat=True) == [n.pk for n in ints]


def test_order_by_class_with_the_order_dict(run, ints):
    qb = QueryBuilder().append(Int, filters=_mine(run), project="attributes.value")
    qb.order_by({Int: [{"attributes.value": {"order": "desc"}}]})
    assert qb.all(flat=True) == [3, 2, 1]


def test_add_filter_and_add_projection_keyed_by_class(run, ints):
    qb = QueryBuilder().append(Int, filters=_mine(run))
    qb.add_filter(Int, {"attributes.value": {">=": 2}}).add_projection(Int, "attributes.value")
    assert sorted(qb.all(flat=True)) == [2, 3]


def test_relationship_to_a_class(run):
    x = mark(Int(1), run).store()
    calc = CalcFunctionNode(process_label="f")
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.store()
    qb = QueryBuilder().append(Int, filters=_mine(run)).append(CalcFunctionNode, with_incoming=Int, project="id")
    assert qb.all(flat=True) == [calc.pk]


def test_a_class_appended_twice_cannot_stand_for_a_tag(run, ints):
    qb = QueryBuilder().append(Int, filters=_mine(run)).append(Int, with_incoming="Int_1")
    with pytest.raises(QueryError, match="appended 2 times"):
        qb.order_by({Int: "id"})


def test_a_class_never_appended_is_refused():
    with pytest.raises(QueryError, match="not a tag of this query"):
        QueryBuilder().append(Int).order_by({Float: "id"})


def test_default_tags_count_from_one_per_class():
    qb = QueryBuilder().append(Int).append(CalcFunctionNode, with_incoming="Int_1").append(Int, with_outgoing="Int_1")
    assert [entry["tag"] for entry in qb.as_dict()["path"]] == ["Int_1", "CalcFunctionNode_1", "Int_2"]


# -- several classes, Process classes -----------------------------------------------------------

def test_a_list_of_classes(run):
    nodes = [mark(Int(1), run).store(), mark(Float(2.0), run).store(), mark(Str("s"), run).store()]
    qb = QueryBuilder().append([Int, Float], filters=_mine(run), project="id")
    assert sorted(qb.all(flat=True)) == sorted(n.pk for n in nodes[:2])


def test_a_tuple_of_classes_still_works(run):
    nodes = [mark(Int(1), run).store(), mark(Str("s"), run).store()]
    qb = QueryBuilder().append((Int, Str), filters=_mine(run), project="id")
    assert sorted(qb.all(flat=True)) == sorted(n.pk for n in nodes)


def test_a_list_of_classes_without_subclassing(run):
    nodes = [mark(Int(1), run).store(), mark(Dict({}), run).store()]
    qb = QueryBuilder().append([Int, Dict], subclassing=False, filters=_mine(run), project="id")
    assert sorted(qb.all(flat=True)) == sorted(n.pk for n in nodes)


@pytest.fixture
def processes(run):
    """One run of ``triple`` and one of ``negate``, their inputs marked with ``run``."""
    _, tripled = run_get_node(triple, x=mark(Int(2), run).store())
    _, negated = run_get_node(negate, x=mark(Int(2), run).store())
    return tripled, negated


def _of_run(qb_cls_append, run):
    qb = QueryBuilder().append(Int, filters=_mine(run), tag="x")
    qb_cls_append(qb)
    return qb


def test_a_process_class_selects_its_own_nodes(run, processes):
    tripled, _ = processes
    qb = _of_run(lambda qb: qb.append(triple.process_class, with_incoming="x", project="id"), run)
    assert qb.all(flat=True) == [tripled.pk]


def test_a_process_function_selects_its_own_nodes(run, processes):
    tripled, negated = processes
    qb = _of_run(lambda qb: qb.append(negate, with_incoming="x", project="id"), run)
    assert qb.all(flat=True) == [negated.pk]


def test_a_process_class_can_be_filtered_and_projected(run, processes):
    tripled, _ = processes
    qb = _of_run(lambda qb: qb.append(triple, with_incoming="x", filters={"attributes.process_state": "finished"},
                                      project=["id", "attributes.process_label", "process_type"]), run)
    assert qb.all() == [[tripled.pk, "triple", tripled.process_type]]


def test_a_process_class_stands_for_its_tag(run, processes):
    tripled, _ = processes
    qb = QueryBuilder().append(Int, filters=_mine(run), tag="x").append(triple, with_incoming="x")
    qb.append(Int, with_incoming=triple, project="attributes.value")
    assert qb.all(flat=True) == [6]


def test_process_type_is_a_node_field(run, processes):
    tripled, negated = processes
    qb = _of_run(lambda qb: qb.append(CalcFunctionNode, with_incoming="x",
                                      filters={"process_type": negated.process_type}, project="id"), run)
    assert qb.all(flat=True) == [negated.pk]


def test_the_node_class_alone_finds_both_processes(run, processes):
    qb = _of_run(lambda qb: qb.append(CalcFunctionNode, with_incoming="x", project="id"), run)
    assert sorted(qb.all(flat=True)) == sorted(p.pk for p in processes)


# -- the constructor ----------------------------------------------------------------------------

def test_constructor_with_path_filters_project_order_and_limit(run, ints):
    qb = QueryBuilder(path=[Int], filters={"Int_1": _mine(run)}, project={"Int_1": "attributes.value"},
                      order_by={"Int_1": {"attributes.value": "desc"}}, limit=2)
    assert qb.all(flat=True) == [3, 2]


def test_constructor_with_path_dicts(run):
    x = mark(Int(7), run).store()
    calc = CalcFunctionNode(process_label="f")
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.store()
    qb = QueryBuilder(path=[{"cls": Int, "tag": "x", "filters": _mine(run)},
                            {"cls": CalcFunctionNode, "tag": "c", "with_incoming": "x", "edge_project": "label"}],
                      project={"c": "id"})
    assert qb.all() == [[calc.pk, "x"]]  # a vertex's columns, then its link's
    assert qb.dict() == [{"c": {"id": calc.pk}, "x__edge_1": {"label": "x"}}]


def test_constructor_filters_keyed_by_class(run, ints):
    qb = QueryBuilder(path=[Int], filters={Int: {**_mine(run), "attributes.value": 2}}, project={Int: "id"})
    assert qb.all(flat=True) == [ints[1].pk]


def test_constructor_offset_and_distinct(run, ints):
    qb = QueryBuilder(path=[Int], filters={"Int_1": _mine(run)}, project={"Int_1": "attributes.value"},
                      order_by={"Int_1": "attributes.value"}, offset=1, distinct=True)
    assert qb.all(flat=True) == [2, 3]


def test_constructor_refuses_unknown_arguments():
    with pytest.raises(QueryError, match="unexpected arguments: paht"):
        QueryBuilder(paht=[Int])


@pytest.mark.parametrize("bad", [{"path": "Int"}, {"path": [Int], "filters": [1]},
                                 {"path": [{"cls": Int, "colour": "red"}]}])
def test_constructor_refuses_malformed_queries(bad):
    with pytest.raises(QueryError):
        QueryBuilder(**bad)


# -- as_dict / from_dict ------------------------------------------------------------------------

def test_as_dict_has_aiidas_keys_and_is_json():
    qb = QueryBuilder().append(Int, tag="i", filters={"attributes.value": {">": 1}}, project="id")
    described = qb.as_dict()
    assert set(described) == {"path", "filters", "project", "order_by", "limit", "offset", "distinct"}
    assert json.loads(json.dumps(described)) == described
    assert described["filters"] == {"i": {"attributes.value": {">": 1}}}
    assert described["project"] == {"i": ["id"]}


def test_from_dict_gives_the_same_rows(run, ints):
    qb = QueryBuilder(limit=2).append(Int, tag="i", filters=_mine(run), project="attributes.value")
    qb.order_by({"i": {"attributes.value": "desc"}})
    again = QueryBuilder.from_dict(json.loads(json.dumps(qb.as_dict())))
    assert again.all(flat=True) == qb.all(flat=True) == [3, 2]
    assert again.as_dict() == qb.as_dict()


def test_from_dict_keeps_relationships_and_edges(run):
    x = mark(Int(1), run).store()
    calc = CalcFunctionNode(process_label="f")
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.store()
    qb = QueryBuilder().append(Int, tag="x", filters=_mine(run))
    qb.append(CalcFunctionNode, with_incoming="x", edge_filters={"label": "x"}, edge_project="label", project="id")
    again = QueryBuilder.from_dict(json.loads(json.dumps(qb.as_dict())))
    assert again.all() == qb.all() == [[calc.pk, "x"]]
    unlabelled = QueryBuilder().append(Int, tag="x", filters=_mine(run))
    unlabelled.append(CalcFunctionNode, with_incoming="x", edge_filters={"label": "y"}, project="id")
    assert QueryBuilder.from_dict(unlabelled.as_dict()).all() == []


def test_from_dict_keeps_added_filters(run, ints):
    qb = QueryBuilder().append(Int, tag="i", filters=_mine(run), project="attributes.value")
    qb.add_filter("i", {"attributes.value": {">": 1}})
    assert qb.as_dict()["filters"]["i"] == {"and": [_mine(run), {"attributes.value": {">": 1}}]}
    assert sorted(QueryBuilder.from_dict(qb.as_dict()).all(flat=True)) == [2, 3]


def test_from_dict_keeps_a_process_class(run, processes):
    tripled, _ = processes
    qb = QueryBuilder().append(Int, tag="x", filters=_mine(run)).append(triple, with_incoming="x", project="id")
    described = qb.as_dict()
    assert described["path"][1]["process_type"] == tripled.process_type
    assert QueryBuilder.from_dict(described).all(flat=True) == [tripled.pk]


def test_from_dict_of_several_classes(run):
    nodes = [mark(Int(1), run).store(), mark(Float(2.0), run).store()]
    qb = QueryBuilder().append([Int, Float], filters=_mine(run), project="id")
    assert qb.as_dict()["path"][0]["entity_type"] == ["data.core.int", "data.core.float"]
    assert sorted(QueryBuilder.from_dict(qb.as_dict()).all(flat=True)) == sorted(n.pk for n in nodes)


def test_from_dict_reads_aiidas_entity_type_spelling(run, ints):
    described = {"path": [{"entity_type": "data.core.int.Int.", "orm_base": "node", "tag": "i"}],
                 "filters": {"i": _mine(run)}, "project": {"i": ["attributes.value"]},
                 "order_by": [{"i": [{"attributes.value": {"order": "asc"}}]}], "limit": None, "offset": None}
    assert QueryBuilder.from_dict(described).all(flat=True) == [1, 2, 3]


def test_from_dict_of_groups():
    group = Group(label=f"compat-{uuid.uuid4().hex}").store()
    qb = QueryBuilder().append(Group, filters={"label": group.label}, project="id")
    assert QueryBuilder.from_dict(qb.as_dict()).all(flat=True) == [group.pk]


def test_id_on_groups_and_nodes_in_groups(run, ints):
    group = Group(label=f"compat-{uuid.uuid4().hex}").store()
    group.add_nodes([ints[0]])
    qb = QueryBuilder().append(Group, filters={"id": group.pk}, tag="g").append(Node, with_group="g", project="id")
    assert qb.all(flat=True) == [ints[0].pk]


@pytest.mark.parametrize("bad", [None, [], {"path": "x"}, {"path": [{"entity_type": "data.core.nothing"}]},
                                 {"path": [3]}])
def test_from_dict_refuses_what_is_not_a_query(bad):
    with pytest.raises(QueryError):
        QueryBuilder.from_dict(bad)
