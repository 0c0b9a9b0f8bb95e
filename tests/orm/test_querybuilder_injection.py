"""Injection attempts through every string a QueryBuilder user can pass: refused or harmless, on both backends."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.exceptions import ProvgraphError
from provgraph.orm import CalcFunctionNode, Int, QueryBuilder
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


PAYLOADS = [
    "x` }) DETACH DELETE n //",
    "x'}) MATCH (m) DETACH DELETE m //",
    "value` = 1 OR true OR n.`x",
    "` ]-> () CREATE (:Pwned) //",
    "\") MATCH (n) DETACH DELETE n //",
    "$p0",
    "a\x00b",
    "} RETURN 1 UNION MATCH (n) DETACH DELETE n RETURN 1 //",
    "x'); DROP TABLE nodes; --",
    "x\" = 1 OR 1=1 OR \"x",
    "') UNION SELECT * FROM sqlite_master --",
    ":p0",
    "$.a[0]",
]

#: keys aimed at Cypher's lexer (issue 13 item 1): Java-style unicode escapes are rewritten before
#: tokenising (one backslash, any number of 'u'), so they close a backtick-quoted name; then comment
#: openers, the other quote characters and their escapes, line breaks, lookalikes and parameter syntaxes
LEXER_PAYLOADS = [
    "zz\\u0060 IS NOT NULL OR true OR v0.\\u0060x",
    "zz\\u0060 IS NOT NULL OR true OR e1.\\u0060x",
    "zz\\uu0060 IS NOT NULL OR true OR v0.\\uuuu0060x",
    "zz\\U0060 IS NOT NULL OR true OR v0.\\U0060x",
    "zz\\u0060 IS NOT NULL OR true OR v0.`x",
    "zz\\u005c\\u0060 IS NOT NULL OR true OR v0.\\u005c\\u0060x",
    "zz\\\\u0060 IS NOT NULL OR true OR v0.\\\\u0060x",
    "zz\\`` IS NOT NULL OR true OR v0.``x",
    "zz\\u0060) DETACH DELETE v0 //",
    "zz\\u0060 IS NOT NULL OR true OR v0.\\u0060x /*",
    "zz\\u0027 OR true OR \\u0027",
    "zz\\u0022 OR true OR \\u0022",
    "zz\\u000a OR true //",
    "zz\\u0000",
    "zz // comment",
    "zz /* comment */ x",
    "zz */ OR true /*",
    "zz -- comment",
    "zz\n OR true OR v0.x",
    "value\n",
    "zz\r\n",
    "zz\u2028OR true",
    "zz\uff40 OR true OR v0.\uff40x",
    "zz\u02cb OR true",
    "zz{p0}",
    "zz $p0 OR true",
    "zz'\"`",
    "é",
    "e\u0301",
    "zz\u0060 IS NOT NULL OR true OR v0.\u0060x",
]
PAYLOADS += LEXER_PAYLOADS


def _sqlite_state() -> tuple[list, int]:
    """The tables of the sqlite database and its node count (nothing else writes it during this test)."""
    with get_backend().engine.connect() as connection:
        tables = connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").all()
        return [tuple(row) for row in tables], connection.exec_driver_sql("SELECT count(*) FROM nodes").scalar_one()


@pytest.fixture
def canary(backend_profile):
    """A stored node whose survival (and an unchanged schema, or no :Pwned nodes) proves nothing was injected."""
    run = uuid.uuid4().hex
    node = Int(42)
    node.base.extras.set("canary", run)
    node.store()
    on_sqlite = backend_profile.storage["backend"] == "sqlite"
    before = _sqlite_state() if on_sqlite else None
    yield node
    assert get_backend().nodes.get(pk=node.pk).extras == {"canary": run}
    if on_sqlite:
        assert _sqlite_state() == before
    else:
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
    compiled = qb.as_cypher()  # the backend's statement (Cypher or SQL)
    assert payload in compiled.params.values()
    assert payload not in re.sub(r"[$:]p[0-9]+", "", compiled.text)
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


def _storable(payload: str) -> bool:
    """Keys a node's extras can hold and a filter path can name (no '.', which splits paths; no NUL)."""
    return "." not in payload and "\x00" not in payload


@pytest.mark.parametrize("payload", [p for p in LEXER_PAYLOADS if _storable(p)])
def test_hostile_keys_stay_queryable(canary, payload):
    """A key that is not a plain identifier is not just refused: it is read exactly, as one key."""
    canary.base.extras.set(payload, 7)
    try:
        only = {"pk": canary.pk}
        found = QueryBuilder().append(Int, filters={f"extras.{payload}": 7, **only}, project="pk").all()
        assert found == [[canary.pk]]
        assert QueryBuilder().append(Int, filters={f"extras.{payload}": 8, **only}).count() == 0
        assert QueryBuilder().append(Int, filters=only, project=f"extras.{payload}").all() == [[7]]
        qb = QueryBuilder().append(Int, tag="n", filters={f"extras.{payload}": {">": 6}, **only}, project="pk")
        assert qb.order_by({"n": {f"extras.{payload}": "desc"}}).all() == [[canary.pk]]
    finally:
        canary.base.extras.delete(payload)


@pytest.mark.parametrize("payload", LEXER_PAYLOADS[:6] + ["value\n", "zz // comment"])
def test_query_command_keys(canary, backend_profile, payload):
    """``provgraph query nodes -f KEY OP VALUE`` reaches the same compiler: no widening, no traceback."""
    from click.testing import CliRunner

    from provgraph.cli.main import cli

    for section in ("attributes", "extras"):
        result = CliRunner().invoke(cli, ["-p", backend_profile.name, "query", "nodes", "-t", "Int",
                                          "-f", f"{section}.{payload}", "==", "1", "-f", "pk", "==", str(canary.pk)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code == 0 and "0 of 0 node(s)" in result.output or (
            result.exit_code == 1 and "Error" in result.output), result.output
