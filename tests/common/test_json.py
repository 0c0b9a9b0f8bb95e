"""provgraph.common.json: validation and normalisation of JSON-able values, canonical JSON."""

from __future__ import annotations

import enum
import math
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provgraph.common.json import MAX_INT_BITS, clean_value, dumps, loads
from provgraph.exceptions import ValidationError

KEYS = st.text() | st.sampled_from(["", ".", "a.b", "%", "%2E", "~json", "`", " ", "\x00", "é", "日本"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**200])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


def typed(value: Any) -> Any:
    """Return ``value`` with every scalar tagged by its exact type (``1``, ``1.0``, ``True``
    and ``0.0``/``-0.0`` all differ), for strict comparisons."""
    if isinstance(value, dict):
        return ("dict", {key: typed(item) for key, item in value.items()})
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, value)


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


class Real(float):
    pass


# --- clean_value: accepted values ------------------------------------------------------------


@given(JSON)
def test_clean_value_keeps_json_values_exactly(value):
    assert typed(clean_value(value)) == typed(value)


@given(st.dictionaries(KEYS, JSON, max_size=5))
def test_clean_value_returns_a_deep_copy(value):
    cleaned = clean_value(value)
    cleaned["__new__"] = [1]
    for item in cleaned.values():
        if isinstance(item, (dict, list)):
            item.clear()
    assert "__new__" not in value
    assert typed(clean_value(value)) == typed(value)


def test_clean_value_turns_tuples_into_lists():
    assert clean_value({"a": (1, (2, 3))}) == {"a": [1, [2, 3]]}
    assert type(clean_value((1,))) is list


def test_clean_value_keeps_bool_int_and_float_apart():
    cleaned = clean_value({"b": True, "i": 1, "f": 1.0, "z": -0.0})
    assert [type(cleaned[k]) for k in "bif"] == [bool, int, float]
    assert math.copysign(1, cleaned["z"]) == -1


def test_clean_value_converts_subclasses_to_their_base_type():
    cleaned = clean_value(OrderedDict(a=Colour.RED, b=Name("x"), c=Real(0.5), d=[Name("k")]))
    assert type(cleaned) is dict
    assert typed(cleaned) == typed({"a": 1, "b": "x", "c": 0.5, "d": ["k"]})


def test_clean_value_converts_str_subclass_keys():
    cleaned = clean_value({Name("k"): 1})
    assert [type(key) for key in cleaned] == [str]


def test_clean_value_accepts_big_ints_up_to_the_limit():
    big = 2**MAX_INT_BITS - 1
    assert clean_value({"n": big}) == {"n": big}
    assert clean_value(-big) == -big


def test_numpy_float64_is_a_float_subclass_and_becomes_float():
    cleaned = clean_value({"x": np.float64(0.25)})
    assert type(cleaned["x"]) is float


# --- clean_value: refused values -------------------------------------------------------------


def test_error_names_the_path_of_the_offending_item():
    with pytest.raises(ValidationError) as info:
        clean_value({"a": {"b": [1, 2, {3}]}})
    assert str(info.value) == "attribute 'a.b[2]': value of type set is not JSON-able"


def test_error_names_the_kind_of_value():
    with pytest.raises(ValidationError, match=r"^extra 'x': value of type bytes is not JSON-able$"):
        clean_value({"x": b"raw"}, kind="extra")


def test_error_at_the_root_has_no_path():
    with pytest.raises(ValidationError, match=r"^attribute: value of type frozenset is not JSON-able$"):
        clean_value(frozenset())


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ({1, 2}, "set"),
        (b"x", "bytes"),
        (bytearray(b"x"), "bytearray"),
        (object(), "object"),
        (1j, "complex"),
        (np.int64(3), "numpy.int64"),
        (np.bool_(True), "numpy.bool"),
        (np.zeros(2), "numpy.ndarray"),
        (range(3), "range"),
    ],
)
def test_non_json_able_values_are_refused(value, type_name):
    expected = rf"^attribute 'k\[0\]': value of type {type_name} is not JSON-able$"
    with pytest.raises(ValidationError, match=expected):
        clean_value({"k": [value]})


@pytest.mark.parametrize("key", [1, 1.5, None, True, ("a",)])
def test_non_str_keys_are_refused(key):
    expected = r"^attribute 'a': key .* is not a string \(JSON keys must be str\)$"
    with pytest.raises(ValidationError, match=expected):
        clean_value({"a": {key: 1}})


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf, Real("nan")])
def test_nan_and_infinities_are_refused(number):
    expected = r"^attribute 'x\[1\]': float (nan|inf|-inf) is refused: JSON cannot hold NaN or infinities$"
    with pytest.raises(ValidationError, match=expected):
        clean_value({"x": [0.0, number]})


def test_ints_beyond_the_limit_are_refused():
    with pytest.raises(ValidationError, match=r"^attribute 'n': int of 14001 bits is too large"):
        clean_value({"n": -(2**MAX_INT_BITS)})


@pytest.mark.parametrize("value", [{"s": "a\ud800"}, {"\udfff": 1}])
def test_lone_surrogates_are_refused(value):
    with pytest.raises(ValidationError, match="lone surrogate"):
        clean_value(value)


def test_reference_cycles_are_refused():
    loop: list[Any] = [1]
    loop.append({"back": loop})
    expected = r"^attribute 'l\[1\]\.back': value contains a reference to itself"
    with pytest.raises(ValidationError, match=expected):
        clean_value({"l": loop})


def test_shared_subvalues_are_not_cycles():
    shared = [1, 2]
    assert clean_value({"a": shared, "b": [shared, shared]}) == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


def test_too_deep_nesting_is_a_validation_error():
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(ValidationError, match="nested too deeply"):
        clean_value(value)


def test_validation_error_is_a_value_error():
    with pytest.raises(ValueError):
        clean_value({"a": {1}})


# --- dumps / loads ---------------------------------------------------------------------------


def test_dumps_is_canonical():
    assert dumps({"b": [1, 1.0, True, None], "a": "é"}) == '{"a":"é","b":[1,1.0,true,null]}'


@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_dumps_does_not_depend_on_key_order(value):
    assert dumps(dict(reversed(list(value.items())))) == dumps(value)


@given(JSON)
def test_loads_inverts_dumps_exactly(value):
    assert typed(loads(dumps(value))) == typed(value)


@given(JSON, JSON)
def test_dumps_tells_values_apart(first, second):
    assert (dumps(first) == dumps(second)) == (typed(first) == typed(second))


def test_dumps_refuses_non_json_values():
    with pytest.raises(ValidationError, match=r"^value 'a': float nan is refused"):
        dumps({"a": math.nan})
    with pytest.raises(ValidationError, match="not a string"):
        dumps({1: "a"})


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_loads_refuses_non_standard_constants(text):
    with pytest.raises(ValidationError, match=r"^invalid JSON text: (-?Infinity|NaN) is not a JSON value$"):
        loads(text)


@pytest.mark.parametrize("text", ["", "[1,", "{'a': 1}", "tru"])
def test_loads_refuses_invalid_text(text):
    with pytest.raises(ValidationError, match="^invalid JSON text: "):
        loads(text)


def test_loads_refuses_duplicate_keys():
    with pytest.raises(ValidationError, match="key 'a' appears twice"):
        loads('{"a": 1, "a": 2}')


def test_loads_refuses_lone_surrogate_escapes():
    with pytest.raises(ValidationError, match="lone surrogate"):
        loads('"\\ud800"')
