"""provgraph.storage.neo4j.properties: flattening attributes/extras into Neo4j properties.

The pure tests check the codec; the ``requires_neo4j`` tests check it, and the server
limits it relies on, against the real Neo4j service.
"""

from __future__ import annotations

import uuid
from typing import Any

import neo4j.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.common.json import clean_value, loads
from provgraph.exceptions import StorageError, ValidationError
from provgraph.storage.neo4j.properties import (
    INT64_MAX,
    INT64_MIN,
    MAX_KEY_LENGTH,
    encoded_key,
    escape_segment,
    flatten,
    is_native,
    property_key,
    subtree_prefixes,
    unescape_segment,
    unflatten,
)

TRICKY_KEYS = ["", ".", "..", "a.b", "%", "%2E", "%25", "%00", "~", "~json", "`", "``", " ", "\x00", "\x01",
               "\n", "é", "e\u0301", "日本", "\U0001f600", "attributes", "attributes~json.x", "pk"]
KEYS = st.text() | st.sampled_from(TRICKY_KEYS)
INT64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = (
    st.none()
    | st.booleans()
    | INT64
    | st.integers()
    | st.sampled_from([INT64_MAX, INT64_MAX + 1, INT64_MIN, INT64_MIN - 1, 10**40])
    | FLOATS
    | st.text()
)
#: Lists Neo4j could hold natively, and near misses (bool/int/float mixes, a big int inside).
LISTS = (
    st.lists(st.booleans(), min_size=1)
    | st.lists(INT64, min_size=1)
    | st.lists(FLOATS, min_size=1)
    | st.lists(st.text(), min_size=1)
    | st.lists(st.booleans() | INT64, min_size=2)
    | st.lists(INT64 | FLOATS, min_size=2)
    | st.lists(st.integers(), min_size=1)
)
JSON = st.recursive(
    SCALARS | LISTS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)
#: Attribute dicts, with nested empty dicts and dicts holding only dicts well represented.
DICTS = st.recursive(
    st.dictionaries(KEYS, JSON, max_size=4),
    lambda children: st.dictionaries(KEYS, children | JSON, max_size=4),
    max_leaves=6,
)


def typed(value: Any) -> Any:
    """Return ``value`` with every scalar tagged by its exact type, for strict comparisons."""
    if isinstance(value, dict):
        return ("dict", {key: typed(item) for key, item in value.items()})
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, value)


# --- round trip (pure) -----------------------------------------------------------------------


@given(DICTS)
def test_unflatten_inverts_flatten_exactly(data):
    assert typed(unflatten("attributes", flatten("attributes", data))) == typed(clean_value(data))


@given(DICTS)
def test_every_property_is_native_or_encoded_json(data):
    for key, value in flatten("extras", data).items():
        if key.startswith("extras."):
            assert is_native(value)
        else:
            assert key.startswith("extras~json.")
            assert isinstance(value, str)
            loads(value)


@given(DICTS, DICTS)
def test_prefixes_and_fixed_fields_coexist_on_one_node(attributes, extras):
    node = {"pk": 7, "uuid": str(uuid.uuid4()), "label": "x", "node_type": "data.core.int.Int.",
            "attributesx": 1, "attributes": 2, "extras~jsonx": "3"}
    node.update(flatten("attributes", attributes))
    node.update(flatten("extras", extras))
    assert typed(unflatten("attributes", node)) == typed(clean_value(attributes))
    assert typed(unflatten("extras", node)) == typed(clean_value(extras))


@given(st.lists(KEYS, max_size=5), st.lists(KEYS, max_size=5))
def test_key_paths_never_collide(first, second):
    if first and second and first != second:
        assert property_key("attributes", first) != property_key("attributes", second)
        assert encoded_key("attributes", first) != property_key("attributes", second)


@given(KEYS)
def test_escape_is_reversible_and_leaves_no_separator(key):
    segment = escape_segment(key)
    assert "." not in segment and "\x00" not in segment
    assert unescape_segment(segment) == key


# --- the encoding, by example ---------------------------------------------------------------


def test_scalars_are_native_and_keep_their_type():
    props = flatten("attributes", {"energy": {"total": -1.5, "unit": "eV"}, "n": 1, "x": 1.0, "ok": True})
    assert props == {"attributes.energy.total": -1.5, "attributes.energy.unit": "eV",
                     "attributes.n": 1, "attributes.x": 1.0, "attributes.ok": True}
    assert [type(props[k]) for k in ("attributes.n", "attributes.x", "attributes.ok")] == [int, float, bool]


def test_homogeneous_lists_are_native():
    data = {"b": [True, False], "i": [1, INT64_MAX], "f": [1.0, 2.5], "s": ["a", ""]}
    assert flatten("attributes", data) == {f"attributes.{key}": value for key, value in data.items()}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        ({}, "{}"),
        ([], "[]"),
        ([1, 2.0], "[1,2.0]"),
        ([True, 1], "[true,1]"),
        ([1, None], "[1,null]"),
        (["a", 1], '["a",1]'),
        ([{"a": 1}], '[{"a":1}]'),
        ([[1], [2]], "[[1],[2]]"),
        (INT64_MAX + 1, "9223372036854775808"),
        (INT64_MIN - 1, "-9223372036854775809"),
        ([1, INT64_MAX + 1], "[1,9223372036854775808]"),
    ],
)
def test_values_neo4j_cannot_hold_are_encoded(value, text):
    assert flatten("attributes", {"k": value}) == {"attributes~json.k": text}


def test_dicts_of_only_dicts_round_trip():
    data = {"a": {"b": {}}, "c": {"d": {"e": {}}, "f": {}}}
    props = flatten("attributes", data)
    assert props == {"attributes~json.a.b": "{}", "attributes~json.c.d.e": "{}", "attributes~json.c.f": "{}"}
    assert unflatten("attributes", props) == data


def test_empty_root_gives_no_property():
    assert flatten("attributes", {}) == {}
    assert unflatten("attributes", {"pk": 1}) == {}


def test_a_string_that_looks_encoded_stays_a_string():
    data = {"s": "null", "t": "[]", "u": "{}"}
    assert flatten("attributes", data) == {"attributes.s": "null", "attributes.t": "[]", "attributes.u": "{}"}
    assert unflatten("attributes", flatten("attributes", data)) == data


def test_odd_keys_are_escaped_reversibly():
    data = {"a.b": 1, "%": 2, "": {"": 3}, "x\x00y": 4, "~json": 5, "`": 6}
    props = flatten("attributes", data)
    assert set(props) == {"attributes.a%2Eb", "attributes.%25", "attributes..", "attributes.x%00y",
                          "attributes.~json", "attributes.`"}
    assert unflatten("attributes", props) == data


def test_property_key_and_encoded_key_for_the_query_builder():
    assert property_key("attributes", ["energy", "total"]) == "attributes.energy.total"
    assert encoded_key("attributes", ["energy", "total"]) == "attributes~json.energy.total"
    assert property_key("extras", ["a.b", "%"]) == "extras.a%2Eb.%25"
    assert subtree_prefixes("attributes", ["energy"]) == ("attributes.energy.", "attributes~json.energy.")


# --- errors ----------------------------------------------------------------------------------


def test_flatten_reports_non_json_values_with_their_path():
    expected = r"^attributes 'a\.b\[1\]': value of type set is not JSON-able$"
    with pytest.raises(ValidationError, match=expected):
        flatten("attributes", {"a": {"b": [1, {2}]}})
    with pytest.raises(ValidationError, match=r"^extras 'x': float nan is refused"):
        flatten("extras", {"x": float("nan")})


def test_flatten_needs_a_dict():
    with pytest.raises(ValidationError, match="attributes must be a dict, not list"):
        flatten("attributes", [1])  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "a.b", "a~json", "1a", "a b", None])
def test_prefix_must_be_an_identifier(prefix):
    with pytest.raises(ValidationError, match="must be an identifier"):
        flatten(prefix, {})  # type: ignore[arg-type]


def test_key_paths_must_be_non_empty_lists_of_str():
    with pytest.raises(ValidationError, match="at least one key"):
        property_key("attributes", [])
    with pytest.raises(ValidationError, match="must be made of str keys"):
        encoded_key("attributes", ["a", 1])  # type: ignore[list-item]


def test_too_long_key_paths_are_refused():
    fits = "k" * (MAX_KEY_LENGTH - len("attributes~json."))
    assert flatten("attributes", {fits: None}) == {f"attributes~json.{fits}": "null"}
    with pytest.raises(ValidationError, match=f"is too long: .* limit is {MAX_KEY_LENGTH}"):
        flatten("attributes", {fits + "k": None})
    with pytest.raises(ValidationError, match="is too long"):
        flatten("attributes", {"%" * (MAX_KEY_LENGTH // 3): 1})  # escaping triples the length


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"attributes.a": 1, "attributes.a.b": 2}, "'a' is stored as a leaf and also as the parent of 'a.b'"),
        ({"attributes.a": 1, "attributes~json.a": "2"}, "'a' is stored as a leaf and also as a leaf again"),
        ({"attributes~json.a": "{}", "attributes.a.b": 1}, "also as the parent of 'a.b'"),
        ({"attributes.a%41": 1}, "holds a '%' that is not an escape"),
        ({"attributes.a%2": 1}, "holds a '%' that is not an escape"),
        ({"attributes~json.a": "NaN"}, "holds invalid encoded JSON"),
        ({"attributes~json.a": 3}, "should hold JSON text, not a int"),
        ({"attributes.a": [1, 2.0]}, "holds a value flatten never writes natively"),
    ],
)
def test_unflatten_refuses_what_flatten_never_writes(properties, message):
    with pytest.raises(StorageError, match=message):
        unflatten("attributes", properties)


# --- the real server -------------------------------------------------------------------------


def _write_and_read(driver, props: dict[str, Any]) -> dict[str, Any]:
    """CREATE a probe node with ``props``, return ``properties(n)`` read back, delete it."""
    marker = str(uuid.uuid4())
    with driver.session() as session:
        session.execute_write(
            lambda tx: tx.run("CREATE (n:PropProbe) SET n = $props, n.probe_marker = $m", props=props,
                              m=marker).consume()
        )
        try:
            stored = session.execute_read(
                lambda tx: tx.run("MATCH (n:PropProbe {probe_marker: $m}) RETURN properties(n) AS p",
                                  m=marker).single()["p"]
            )
        finally:
            session.execute_write(
                lambda tx: tx.run("MATCH (n:PropProbe {probe_marker: $m}) DELETE n", m=marker).consume()
            )
    del stored["probe_marker"]
    return stored


@pytest.fixture
def probe_cleanup(neo4j_driver):
    """Delete every probe node after the test, whatever happened."""
    yield neo4j_driver
    with neo4j_driver.session() as session:
        session.execute_write(lambda tx: tx.run("MATCH (n:PropProbe) DELETE n").consume())


@pytest.mark.requires_neo4j
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attributes=DICTS, extras=DICTS)
def test_round_trip_through_neo4j(probe_cleanup, attributes, extras):
    props = {**flatten("attributes", attributes), **flatten("extras", extras), "pk": 1, "label": "probe"}
    stored = _write_and_read(probe_cleanup, props)
    assert typed(stored) == typed(props)
    assert typed(unflatten("attributes", stored)) == typed(clean_value(attributes))
    assert typed(unflatten("extras", stored)) == typed(clean_value(extras))


@pytest.mark.requires_neo4j
def test_tricky_values_round_trip_through_neo4j(probe_cleanup):
    data = {
        "bounds": [INT64_MIN, INT64_MAX], "big": [INT64_MAX + 1], "zero": -0.0, "tiny": 5e-324,
        "huge": 1.7976931348623157e308, "bools": [True, False], "mixed": [1, 1.0, True], "none": None,
        "nested": {"a": {"b": {}}, "c": []}, "nul": "a\x00b",
        "keys": {key: index for index, key in enumerate(TRICKY_KEYS)},
    }
    stored = _write_and_read(probe_cleanup, flatten("attributes", data))
    assert typed(unflatten("attributes", stored)) == typed(data)


@pytest.mark.requires_neo4j
def test_longest_key_is_written_and_queried_in_cypher(probe_cleanup):
    segment = "k" * (MAX_KEY_LENGTH - len("attributes.") - 1) + "`"
    key = property_key("attributes", [segment])
    assert len(key) == MAX_KEY_LENGTH
    assert _write_and_read(probe_cleanup, {key: 1}) == {key: 1}
    quoted = "`" + key.replace("`", "``") + "`"
    with probe_cleanup.session() as session:
        session.run("CREATE (n:PropProbe) SET n = $props", props={key: 42}).consume()
        found = session.run(f"MATCH (n:PropProbe) WHERE n.{quoted} = 42 RETURN n[$key] AS v", key=key).single()
    assert found["v"] == 42


# The server behaviours the codec is designed around; if one changes, revisit properties.py.


@pytest.mark.requires_neo4j
def test_server_refuses_nul_in_property_keys(probe_cleanup):
    with pytest.raises(neo4j.exceptions.ClientError, match="(?i)null-bytes") as info:
        _write_and_read(probe_cleanup, {"a\x00b": 1})
    assert info.value.code == "Neo.ClientError.Schema.TokenNameError"


@pytest.mark.requires_neo4j
def test_server_keeps_other_odd_keys_as_they_are(probe_cleanup):
    props = {"a\x01b\n": 1, " lead": 2, "x`y": 3, "\u00e9": 4, "e\u0301": 5, "\U0001f600": 6}
    assert _write_and_read(probe_cleanup, props) == props


@pytest.mark.requires_neo4j
def test_server_coerces_int_float_lists_to_floats(probe_cleanup):
    assert typed(_write_and_read(probe_cleanup, {"a": [1, 2.5]})) == typed({"a": [1.0, 2.5]})


@pytest.mark.requires_neo4j
def test_server_refuses_bool_int_lists(probe_cleanup):
    with pytest.raises(neo4j.exceptions.CypherTypeError):
        _write_and_read(probe_cleanup, {"a": [True, 1]})


@pytest.mark.requires_neo4j
def test_server_drops_null_properties(probe_cleanup):
    assert _write_and_read(probe_cleanup, {"a": None, "b": 1}) == {"b": 1}


# --- the plain-value fast path ---------------------------------------------------------------


@given(DICTS | st.dictionaries(st.sampled_from("abcde"), JSON, max_size=5))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_fast_path_gives_exactly_the_full_paths_properties(data):
    from provgraph.storage.neo4j.properties import _flatten_full, _flatten_plain

    fast = _flatten_plain("attributes", data)
    full = _flatten_full("attributes", data)
    if fast is not None:
        assert typed(fast) == typed(full)
    assert typed(flatten("attributes", data)) == typed(full)


def test_fast_path_takes_the_usual_attributes_and_leaves_the_rest_to_the_full_path():
    from provgraph.storage.neo4j.properties import _flatten_plain

    usual = {"a": 1, "b": 1.5, "c": "s", "d": [1, 2], "e": {"f": True}, "g": None, "h": [], "i": [1, "x"]}
    assert _flatten_plain("attributes", usual) == {
        "attributes.a": 1, "attributes.b": 1.5, "attributes.c": "s", "attributes.d": [1, 2],
        "attributes.e.f": True, "attributes~json.g": "null", "attributes~json.h": "[]",
        "attributes~json.i": '[1,"x"]'}
    for unusual in ({"a": (1, 2)}, {"a": "é"}, {"a": ["é"]}, {"a": 2**70}, {"a": float("nan")}, {"é": 1}):
        assert _flatten_plain("attributes", unusual) is None
    cyclic: dict = {}
    cyclic["self"] = {"x": cyclic}
    with pytest.raises(ValidationError, match="cycle"):
        flatten("attributes", cyclic)
    with pytest.raises(ValidationError, match="NaN"):
        flatten("attributes", {"a": [1.0, float("nan")]})
