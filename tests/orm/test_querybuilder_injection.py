"""Injection attempts through every string a QueryBuilder user can pass: refused or harmless."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.exceptions import ProvgraphError
from provgraph.orm import CalcFunctionNode, Int, QueryBuilder

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]

PAYLOADS = [
    "x` }) DETACH DELETE n //",
    "x'}) MATCH (m) DETACH DELETE m //",
    "value` = 1 OR true OR n.`x",
    "` ]-> () CREATE (:Pwned) //",
    "\") MATCH (n) DETACH DELETE n //",
    "$p0",
    "a\x00b",
    "} RETURN 1 UNION MATCH (n) DETACH DELETE n RETURN 1 //",
]


@pytest.fixture
def canary():
    """A stored node whose survival (and the absence of :Pwned nodes) proves nothing was injected."""
    run = uuid.uuid4().hex
    node = Int(42)
    node.base.extras.set("canary", run)
    node.store()
    yield node
    from provgraph import cypher

    assert cypher("MATCH (n:Node {pk: $pk}) RETURN count(n)", pk=node.pk)[0][0] == 1
    assert cypher("MATCH (n:Pwned) RETURN count(n)")[0][0] == 0


def _harmless_or_refused(build):
    try:
        result = build().all()
    except ProvgraphError:
        return None
    return result


@pytest.mark.parametrize("section", ["attributes", "extras"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_attribute_and_extra_keys(canary, payload, section):
    key = f"{section}.{payload}"
    only = {"pk": canary.pk}
    result = _harmless_or_refused(lambda: QueryBuilder().append(Int, filters={key: 1, **only}, project=key))
    assert result in (None, [])
    result = _harmless_or_refused(lambda: QueryBuilder().append(Int, tag="n", filters=only, project=key))
    assert result in (None, [[None]])
    result = _harmless_or_refused(lambda: QueryBuilder().append(Int, tag="n", filters=only, project="pk")
                                  .order_by({"n": key}))
    assert result in (None, [[canary.pk]])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_values_travel_as_parameters(canary, payload):
    qb = QueryBuilder().append(Int, filters={"pk": canary.pk, "label": payload,
                                             "attributes.value": {"in": [payload]}})
    compiled = qb.as_cypher()
    assert payload in compiled.params.values()
    assert payload not in compiled.text.replace("$p0", "").replace("$p1", "").replace("$p2", "")
    assert qb.all() == []
    assert QueryBuilder().append(Int, filters={"pk": canary.pk, "label": {"like": payload}}).count() == 0
    qb = QueryBuilder().append(Int, tag="x", filters={"pk": canary.pk}).append(
        CalcFunctionNode, with_incoming="x", edge_filters={"label": payload})
    assert qb.count() == 0


@pytest.mark.parametrize("payload", PAYLOADS + ["1abc", "with space", "x" * 100])
def test_tags_are_refused(canary, payload):
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(Int, tag=payload).all()
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(Int, tag="x").append(Int, with_incoming=payload).all()


@pytest.mark.parametrize("payload", PAYLOADS + ["= 1 OR 1=1 OR n.x", "DELETE"])
def test_operators_and_fields_are_refused(canary, payload):
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(Int, filters={"attributes.value": {payload: 1}}).all()
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(Int, filters={payload: 1}).all()
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(Int, project=payload).all()


def test_class_names_are_refused(canary):
    hostile = type("Int` DETACH DELETE n //", (Int,), {"_node_type": "data.core.int"})
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(hostile).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(min_size=1, max_size=30), value=st.text(max_size=30))
def test_fuzzed_keys_and_values(canary, key, value):
    result = _harmless_or_refused(lambda: QueryBuilder().append(
        Int, filters={f"extras.{key}": value, "pk": canary.pk}))
    assert result in (None, [])
