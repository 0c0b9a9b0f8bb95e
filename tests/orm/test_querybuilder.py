"""QueryBuilder on both backends (real Neo4j, sqlite): relationships, operators, projections, result methods.

Every test runs once per backend and expects the same answers from both."""

from __future__ import annotations

import uuid

import pytest

from provgraph.common.links import LinkType
from provgraph.exceptions import MultipleObjectsError, NotExistent, QueryError
from provgraph.orm import (
    CalcFunctionNode,
    Data,
    Dict,
    Float,
    Int,
    List,
    Node,
    QueryBuilder,
    Str,
    WorkChainNode,
)
from provgraph.orm.bulk import store_graph

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


@pytest.fixture
def run():
    """A unique marker put in extras.run of every node a test makes."""
    return uuid.uuid4().hex


def _mark(node, run):
    node.base.extras.set("run", run)
    return node


def _chain(run, length=4):
    """Int(0) -> calc -> Int(1) -> calc -> ... ; returns (ints, calcs)."""
    nodes, links = [_mark(Int(0), run)], []
    for i in range(1, length):
        calc, out = _mark(CalcFunctionNode(), run), _mark(Int(i), run)
        nodes += [calc, out]
        links += [(len(nodes) - 3, len(nodes) - 2, LinkType.INPUT_CALC, "x"),
                  (len(nodes) - 2, len(nodes) - 1, LinkType.CREATE, "result")]
    store_graph(nodes, links)
    return nodes[0::2], nodes[1::2]


def _ints(run, **filters):
    return QueryBuilder().append(Int, tag="n", filters={"extras.run": run, **filters}, project="attributes.value")


def test_filters_projection_and_order(run):
    for value in (3, 7, 11, 2**70):
        _mark(Int(value), run).store()
    qb = _ints(run, **{"attributes.value": {">": 5}}).order_by({"n": {"attributes.value": "desc"}})
    assert qb.all(flat=True) == [11, 7]  # the big int is encoded: no ordering comparison on it
    assert _ints(run, **{"attributes.value": 2**70}).all(flat=True) == [2**70]
    assert _ints(run, **{"attributes.value": {"in": [3, 11, 99]}}).count() == 2
    assert _ints(run, **{"attributes.value": {"!in": [3, 11]}}).count() == 2
    assert sorted(_ints(run, **{"or": [{"attributes.value": 3}, {"attributes.value": {"<=": 7, ">": 5}}]})
                  .all(flat=True)) == [3, 7]
    assert _ints(run, **{"~": {"attributes.value": {"<": 10}}}).count() == 2


def test_string_operators(run):
    for text in ("alpha", "Alphabet", "beta", "50% off"):
        _mark(Str(text), run).store()

    def values(**flt):
        qb = QueryBuilder().append(Str, filters={"extras.run": run, "attributes.value": flt},
                                   project="attributes.value")
        return sorted(qb.all(flat=True))

    assert values(like="alpha%") == ["alpha"]
    assert values(ilike="alpha%") == ["Alphabet", "alpha"]
    assert values(like="_eta") == ["beta"]
    assert values(like="50\\% off") == ["50% off"]
    assert values(**{"!like": "%a%"}) == ["50% off"]


def test_nested_and_container_operators(run):
    _mark(Dict({"e": {"total": -1.5, "parts": [1, 2, 3]}, "tags": ["a", "b"], "none": None, "empty": []}), run).store()
    _mark(Dict({"e": {"total": 2.0, "parts": [1]}, "tags": ["c"], "mixed": [1, "x"]}), run).store()

    def count(**flt):
        return QueryBuilder().append(Dict, filters={"extras.run": run, **flt}).count()

    assert count(**{"attributes.e.total": {"<": 0}}) == 1
    assert count(**{"attributes.e": {"has_key": "parts"}}) == 2
    assert count(**{"attributes": {"has_key": "none"}}) == 1
    assert count(**{"attributes.none": None}) == 1
    assert count(**{"attributes.empty": []}) == 1
    assert count(**{"attributes.mixed": [1, "x"]}) == 1
    assert count(**{"attributes.tags": {"contains": ["a"]}}) == 1
    assert count(**{"attributes.e.parts": {"of_length": 3}}) == 1
    assert count(**{"attributes.e.parts": {"longer": 1}}) == 1
    assert count(**{"attributes.e.parts": {"shorter": 2}}) == 1
    assert count(**{"attributes.empty": {"of_length": 0}}) == 1
    assert count(**{"attributes.e": {"of_type": "dict"}}) == 2
    assert count(**{"attributes.e.total": {"of_type": "float"}}) == 2
    assert count(**{"attributes.tags": {"of_type": "list"}}) == 2
    assert count(**{"attributes.none": {"of_type": "null"}}) == 1
    row = QueryBuilder().append(Dict, filters={"extras.run": run, "attributes.e.total": -1.5},
                                project=["attributes.e", "attributes.none", "attributes.missing", "attributes"]).one()
    assert row[0] == {"total": -1.5, "parts": [1, 2, 3]}
    assert row[1] is None and row[2] is None
    assert row[3]["tags"] == ["a", "b"]


def test_with_incoming_outgoing_and_edges(run):
    ints, calcs = _chain(run, 3)
    qb = QueryBuilder().append(Int, tag="x", filters={"extras.run": run, "attributes.value": 0})
    qb.append(CalcFunctionNode, tag="c", with_incoming="x", edge_filters={"label": "x"},
              edge_project=["label", "type"], project="pk")
    assert qb.all() == [[calcs[0].pk, "x", "INPUT_CALC"]]
    qb = QueryBuilder().append(CalcFunctionNode, tag="c", filters={"pk": calcs[0].pk})
    qb.append(Int, with_incoming="c", project="attributes.value")
    assert qb.all(flat=True) == [1]
    qb = QueryBuilder().append(Int, tag="y", filters={"pk": ints[1].pk})
    qb.append(CalcFunctionNode, with_outgoing="y", project="pk")
    assert qb.one() == [calcs[0].pk]
    rows = QueryBuilder().append(CalcFunctionNode, tag="c", filters={"pk": calcs[0].pk}) \
        .append(Node, with_incoming="c", edge_tag="out", edge_project="label", project="pk").dict()
    assert rows == [{"Node_1": {"pk": ints[1].pk}, "out": {"label": "result"}}]


def test_ancestors_and_descendants(run):
    ints, calcs = _chain(run, 4)
    qb = QueryBuilder().append(Int, tag="last", filters={"pk": ints[-1].pk})
    qb.append(Node, with_descendants="last", project="pk")
    assert sorted(qb.all(flat=True)) == sorted(n.pk for n in ints[:-1] + calcs)
    qb = QueryBuilder().append(Int, tag="first", filters={"pk": ints[0].pk})
    qb.append(Int, with_ancestors="first", project="attributes.value")
    assert sorted(qb.all(flat=True)) == [1, 2, 3]


def test_subclassing_and_tuples(run):
    _mark(Int(1), run).store(), _mark(Float(1.5), run).store(), _mark(List([1]), run).store()
    assert QueryBuilder().append(Data, filters={"extras.run": run}).count() == 3
    assert QueryBuilder().append((Int, Float), filters={"extras.run": run}).count() == 2
    assert QueryBuilder().append(Data, subclassing=False, filters={"extras.run": run}).count() == 0
    assert QueryBuilder().append(Int, subclassing=False, filters={"extras.run": run}).count() == 1


def test_result_methods(run):
    nodes = [_mark(Int(i), run).store() for i in range(5)]
    qb = QueryBuilder().append(Int, tag="n", filters={"extras.run": run}).order_by({"n": "pk"})
    assert [row[0].pk for row in qb.all()] == [n.pk for n in nodes]  # default projection: '*' of the last
    assert isinstance(qb.first()[0], Int) and qb.first()[0].pk == nodes[0].pk
    assert qb.count() == 5
    assert [row[0].pk for row in qb.iterall(batch_size=2)] == [n.pk for n in nodes]
    limited = QueryBuilder().append(Int, tag="n", filters={"extras.run": run}, project="pk") \
        .order_by({"n": {"pk": "desc"}}).limit(2).offset(1)
    assert limited.all(flat=True) == [nodes[3].pk, nodes[2].pk]
    assert limited.count() == 5
    with pytest.raises(MultipleObjectsError):
        qb.one()
    with pytest.raises(NotExistent):
        QueryBuilder().append(Int, filters={"extras.run": "nothing-" + run}).one()
    assert QueryBuilder().append(Int, filters={"extras.run": "nothing-" + run}).first() is None
    dicts = list(QueryBuilder().append(Int, tag="n", filters={"extras.run": run}, project=["pk", "uuid"]).iterdict())
    assert {d["n"]["pk"] for d in dicts} == {n.pk for n in nodes}


def test_distinct(run):
    x = _mark(Int(1), run).store()
    for _ in range(3):
        calc = CalcFunctionNode()
        calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
        _mark(calc, run).store()
    qb = QueryBuilder().append(Int, tag="x", filters={"pk": x.pk}, project="pk")
    qb.append(CalcFunctionNode, with_incoming="x")
    assert qb.all(flat=True) == [x.pk] * 3
    assert qb.distinct().all(flat=True) == [x.pk]


def test_workflow_links_in_queries(run):
    work = _mark(WorkChainNode(), run).store()
    calc = CalcFunctionNode()
    calc.base.links.add_incoming(work, LinkType.CALL_CALC, "CALL")
    calc.store()
    qb = QueryBuilder().append(WorkChainNode, tag="w", filters={"pk": work.pk})
    qb.append(CalcFunctionNode, with_incoming="w", edge_filters={"type": "CALL_CALC"}, project="pk")
    assert qb.all(flat=True) == [calc.pk]


def test_compiled_statement_uses_parameters(run, backend_profile):
    qb = QueryBuilder().append(Int, tag="x", filters={"attributes.value": {">": 5}, "label": "secret-value"})
    compiled = qb.as_cypher()  # the backend's statement: Cypher on neo4j, SQL on sqlite
    assert "secret-value" not in compiled.text and "secret-value" in compiled.params.values()
    first_word = "MATCH" if backend_profile.storage["backend"] == "neo4j" else "SELECT"
    assert first_word in compiled.text and str(compiled).startswith(first_word)


@pytest.mark.parametrize("build, message", [
    (lambda: QueryBuilder().append(Int, tag="x").append(Int, with_incoming="nope"), "unknown tag"),
    (lambda: QueryBuilder().append(Int, tag="x").append(Int, with_friends="x"), "unknown relationship"),
    (lambda: QueryBuilder().append(Int, filters={"colour": 1}), "unknown filter field 'colour'"),
    (lambda: QueryBuilder().append(Int, filters={"attributes.value": {"~=": 1}}), "unknown operator"),
    (lambda: QueryBuilder().append(Int, filters={"attributes.value": {">": {"a": 1}}}), "compares numbers"),
    (lambda: QueryBuilder().append(Int, filters={"attributes.value": {"in": 3}}), "needs a list"),
    (lambda: QueryBuilder().append(Int, filters={"label": {"like": 3}}), "needs a string pattern"),
    (lambda: QueryBuilder().append(Int, filters={"label": {"has_key": "a"}}), "applies to attributes"),
    (lambda: QueryBuilder().append(Int, tag="x").append(Int, tag="x", with_incoming="x"), "already used"),
    (lambda: QueryBuilder().append(Int, tag="x").append(Int), "relates to an earlier one"),
    (lambda: QueryBuilder().append(Int, tag="x").append(entity_type="group", with_incoming="x"), "cannot relate"),
    (lambda: QueryBuilder().append(Int, project="colour"), "unknown projection"),
    (lambda: QueryBuilder().append(Int, tag="x").order_by({"y": "pk"}), "unknown tag"),
    (lambda: QueryBuilder().append(Int).limit(-1), "non-negative"),
])
def test_errors_speak_the_users_terms(build, message):
    with pytest.raises(QueryError, match=message):
        build().all()


def test_remaining_comparisons_and_extras_projection(run):
    for value in (1, 2, 3):
        node = _mark(Int(value), run)
        node.base.extras.set("meta", {"double": value * 2})
        node.store()
    assert sorted(_ints(run, **{"attributes.value": {"!=": 2}}).all(flat=True)) == [1, 3]
    assert sorted(_ints(run, **{"attributes.value": {">=": 2}}).all(flat=True)) == [2, 3]
    assert sorted(_ints(run, **{"attributes.value": {"<": 2}}).all(flat=True)) == [1]
    assert sorted(_ints(run, **{"attributes.value": {"and": [{">": 1}, {"<": 3}]}}).all(flat=True)) == [2]
    qb = QueryBuilder().append(Int, tag="n", filters={"extras.run": run, "extras.meta.double": {">": 2}},
                               project=["extras.meta.double", "extras"])
    rows = sorted(qb.all(), key=lambda row: row[0])
    assert [row[0] for row in rows] == [4, 6]
    assert rows[0][1] == {"run": run, "meta": {"double": 4}}


def test_outerjoin_ordering_nulls_and_paging(run):
    ints, calcs = _chain(run, 2)
    lonely = _mark(Int(5), run).store()
    qb = QueryBuilder().append(Int, tag="x", filters={"extras.run": run}, project="pk")
    qb.append(CalcFunctionNode, with_incoming="x", outerjoin=True, project="pk")
    qb.order_by({"x": {"pk": "asc"}})
    assert qb.all() == [[ints[0].pk, calcs[0].pk], [ints[1].pk, None], [lonely.pk, None]]
    assert qb.count() == 3
    # a key missing on some nodes sorts last ascending and first descending, as Cypher does
    _mark(Int(9), run).store().base.extras.set("rank", 2)
    ints[1].base.extras.set("rank", 1)
    ranked = QueryBuilder().append(Int, tag="n", filters={"extras.run": run}, project="extras.rank")
    assert ranked.order_by({"n": [{"extras.rank": "asc"}, {"pk": "asc"}]}).all(flat=True) == [1, 2, None, None]
    ranked = QueryBuilder().append(Int, tag="n", filters={"extras.run": run}, project="extras.rank")
    assert ranked.order_by({"n": [{"extras.rank": "desc"}, {"pk": "asc"}]}).all(flat=True) == [None, None, 2, 1]
    assert ranked.offset(3).all(flat=True) == [1]
    newest = QueryBuilder().append(Int, tag="n", filters={"extras.run": run, "ctime": {">=": ints[0].ctime}},
                                   project="pk").order_by({"n": {"ctime": "desc"}}).limit(1)
    assert newest.all(flat=True) == QueryBuilder().append(Int, filters={"extras.run": run}, project="pk") \
        .order_by({Int.__name__ + "_1": {"pk": "desc"}}).limit(1).all(flat=True)


def test_negations_and_missing_keys(run):
    _mark(Int(1), run).store()
    other = _mark(Int(2), run)
    other.base.extras.set("flag", "on")
    other.store()
    def pks(**flt):
        return len(QueryBuilder().append(Int, filters={"extras.run": run, **flt}).all())

    assert pks(**{"extras.flag": {"!=": "off"}}) == 1  # a missing key is not "different"
    assert pks(**{"extras.flag": {"!in": ["off"]}}) == 2  # but it is "not in"
    assert pks(**{"~": {"extras.flag": "on"}}) == 1
    assert pks(**{"extras.flag": {"of_type": "str"}}) == 1
    assert pks(**{"extras": {"has_key": "flag"}}) == 1


def test_keys_that_need_quoting(run):
    node = _mark(Dict({'q"uote': 1, "sp ace": {"é": "x"}, "back\\slash": [1, 2], "$a[0]": True}), run).store()
    def found(**flt):
        return QueryBuilder().append(Dict, filters={"extras.run": run, **flt}, project="pk").all(flat=True)

    assert found(**{'attributes.q"uote': 1}) == [node.pk]
    assert found(**{"attributes.sp ace.é": "x"}) == [node.pk]
    assert found(**{"attributes.back\\slash": {"contains": [2]}}) == [node.pk]
    assert found(**{"attributes.$a[0]": True}) == [node.pk]
    assert found(**{"attributes.sp ace": {"has_key": "é"}}) == [node.pk]
    row = QueryBuilder().append(Dict, filters={"pk": node.pk}, project=["attributes.sp ace", 'attributes.q"uote']).one()
    assert row == [{"é": "x"}, 1]


def test_ancestors_of_a_joined_vertex(run):
    ints, calcs = _chain(run, 3)
    qb = QueryBuilder().append(Int, tag="x", filters={"extras.run": run, "attributes.value": 0})
    qb.append(CalcFunctionNode, tag="c", with_incoming="x")
    qb.append(Int, with_ancestors="c", project="attributes.value")
    assert sorted(qb.all(flat=True)) == [1, 2]
    qb.distinct()
    assert qb.count() == 2
