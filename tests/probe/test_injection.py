"""Issue 13 item 1: keys that are not plain identifiers never reach the statement text (both compilers).

These tests compile without a server: they check the text itself, the root of the defect. The same
payloads run against the live databases in ``tests/orm/test_querybuilder_injection.py``.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provgraph.exceptions import ProvgraphError, ValidationError
from provgraph.orm import Int, QueryBuilder
from provgraph.storage.neo4j import compiler as cypher_compiler
from provgraph.storage.neo4j import cypher_names
from provgraph.storage.sqlite import compiler as sql_compiler

#: the statement of the issue: on Neo4j 5.26 the old compiler let it return every Int
ISSUE_KEY = "zz\\u0060 IS NOT NULL OR true OR v0.\\u0060x"
PAYLOADS = [
    ISSUE_KEY,
    "zz\\uu0060 OR true OR v0.\\uuuu0060x",
    "zz\\U0060 OR true",
    "zz\\u005c\\u0060 OR true",
    "zz\\\\u0060 OR true",
    "zz` OR true OR v0.`x",
    "zz`` OR true",
    "zz // c",
    "zz /* c */",
    "zz */ OR /*",
    "zz -- c",
    "zz\n OR true",
    "value\n",
    "zz\r",
    "zz\u2028",
    "zz\uff40 OR true",
    "zz'\"",
    "zz\\u0027",
    "zz{p0}",
    "zz $p0",
    "é",
    "a b",
]
COMPILERS = {"cypher": cypher_compiler.compile_query, "sql": sql_compiler.compile_query}


def _queries(key: str) -> list[QueryBuilder]:
    """Every place a key can go: filters (each operator family), projection, ordering, has_key."""
    path = f"extras.{key}"
    qbs = [QueryBuilder().append(Int, filters={path: {op: value}})
           for op, value in (("==", 1), ("!=", 1), (">", 1), ("in", [1, "a"]), ("like", "a%"), ("contains", [1]),
                             ("of_length", 1), ("of_type", "dict"), ("of_type", "int"))]
    qbs.append(QueryBuilder().append(Int, filters={"extras": {"has_key": key}}))
    qbs.append(QueryBuilder().append(Int, filters={f"attributes.{key}.{key}": 1}, project=path))
    qbs.append(QueryBuilder().append(Int, tag="n", project="pk").order_by({"n": {path: "desc"}}))
    qbs.append(QueryBuilder().append(Int, filters={"or": [{path: 1}, {"and": [{path: {"!==": 2}}]}]}))
    return qbs


@pytest.mark.parametrize("compiler", sorted(COMPILERS))
@pytest.mark.parametrize("key", PAYLOADS)
def test_key_never_reaches_statement_text(compiler, key):
    for qb in _queries(key):
        compiled = COMPILERS[compiler](qb.as_ir())
        assert key not in compiled.text
        if compiler == "cypher":
            # nothing the lexer could rewrite or end: no backslash, every backtick pairs with a plain key
            assert "\\" not in compiled.text
            for quoted in re.findall(r"`([^`]*)`", compiled.text):
                assert cypher_names.is_plain_key(quoted), quoted


def test_plain_keys_keep_their_index_friendly_form():
    compiled = cypher_compiler.compile_query(QueryBuilder().append(Int, filters={"attributes.value": 1}).as_ir())
    assert "v0.`attributes.value`" in compiled.text
    compiled = sql_compiler.compile_query(QueryBuilder().append(Int, filters={"attributes.value": 1}).as_ir())
    assert "'$.value'" in compiled.text


@pytest.mark.parametrize("key", PAYLOADS + ["", "a\x00b", "x" * 2000])
def test_property_key_refuses_what_is_not_plain(key):
    with pytest.raises(ValidationError):
        cypher_names.property_key(key)


@pytest.mark.parametrize("name", ["Int\n", "Int`", "In t", "Int\\u0060", "", "1Int", "Ínt"])
def test_labels_are_plain_identifiers(name):
    with pytest.raises(ValidationError):
        cypher_names.label(name)
    with pytest.raises(ProvgraphError):
        sql_compiler.check_label(name)


def test_tag_with_trailing_newline_is_refused():
    with pytest.raises(ProvgraphError):
        QueryBuilder().append(Int, tag="x\n").as_ir()


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1, max_size=20).filter(lambda k: "." not in k and "\x00" not in k))
def test_fuzzed_keys_never_in_cypher_unless_plain(key):
    compiled = cypher_compiler.compile_query(QueryBuilder().append(
        Int, filters={f"extras.{key}": 1}, project=f"attributes.{key}").as_ir())
    assert "\\" not in compiled.text
    for quoted in re.findall(r"`([^`]*)`", compiled.text):
        assert cypher_names.is_plain_key(quoted)
    text = cypher_compiler.compile_query(QueryBuilder().append(Int, filters={f"extras.{key}": 1}).as_ir()).text
    assert (f"`extras.{key}`" in text) == cypher_names.is_plain_key(f"extras.{key}")
