"""records.to_json: the plain-value shortcut writes exactly what the full clean_value path writes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provgraph.common.json import clean_value
from provgraph.exceptions import ValidationError
from provgraph.storage.sqlite.records import _plain, to_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def _full(value) -> str:
    return json.dumps(clean_value(value), sort_keys=True, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


@given(JSON)
def test_to_json_matches_the_full_path_or_refuses_alike(value):
    try:
        expected = _full(value)
    except ValidationError:
        with pytest.raises(ValidationError):
            to_json(value, "attribute")
        return
    assert to_json(value, "attribute") == expected


def test_the_shortcut_leaves_odd_values_to_the_full_check():
    assert _plain({"a": [1, 2.5, "x", None, True], "b": {"c": {}}})
    for odd in ({"a": (1,)}, {"a": "é"}, {"a": float("nan")}, {1: "a"}, {"a": 2**70}, {"a": {1, 2}}):
        assert not _plain(odd)
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(ValidationError, match="cycle"):
        to_json({"a": cyclic}, "attribute")
    with pytest.raises(ValidationError, match="NaN"):
        to_json({"a": [float("inf")]}, "attribute")
