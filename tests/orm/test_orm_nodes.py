"""Nodes: storing, loading, immutability of attributes, mutability of extras."""

from __future__ import annotations

import uuid

import pytest

from provgraph.exceptions import ModificationNotAllowed, MultipleObjectsError, NotExistent, ValidationError
from provgraph.orm import Bool, Data, Dict, Float, Int, List, Str, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def test_store_assigns_pk_and_load_round_trips():
    node = Dict({"energy": {"total": -1.5, "parts": [1, 2.5, None]}, "name": "H₂O"}, label="water").store()
    assert isinstance(node.pk, int) and node.is_stored
    loaded = load_node(node.pk)
    assert type(loaded) is Dict
    assert loaded.get_dict() == {"energy": {"total": -1.5, "parts": [1, 2.5, None]}, "name": "H₂O"}
    assert loaded.label == "water" and loaded.uuid == node.uuid
    assert loaded.ctime == node.ctime


@pytest.mark.parametrize("make, value", [(Int, 2**70), (Float, 0.1), (Str, "x.y%z"), (Bool, False)])
def test_base_types_round_trip_exactly(make, value):
    loaded = load_node(make(value).store().uuid)
    assert type(loaded) is make
    assert loaded.value == value and type(loaded.value) is type(value)


def test_load_by_uuid_prefix_and_errors():
    node = Int(5).store()
    assert load_node(node.uuid[:12]).pk == node.pk
    assert load_node(str(node.pk)).uuid == node.uuid
    with pytest.raises(NotExistent):
        load_node(10**15)
    with pytest.raises(NotExistent):
        load_node(str(uuid.uuid4()))
    with pytest.raises(ValidationError):
        load_node(3.5)


def test_ambiguous_uuid_prefix():
    nodes = [Int(i).store() for i in range(17)]  # 17 uuids: two share a first hex digit
    first_digits = [n.uuid[0] for n in nodes]
    shared = next(d for d in first_digits if first_digits.count(d) > 1)
    with pytest.raises(MultipleObjectsError):
        load_node(uuid=shared)


def test_attributes_are_immutable_once_stored():
    node = Dict({"a": 1}).store()
    with pytest.raises(ModificationNotAllowed, match="immutable"):
        node.base.attributes.set("a", 2)
    with pytest.raises(ModificationNotAllowed):
        node.base.attributes.delete("a")
    with pytest.raises(ModificationNotAllowed):
        node["b"] = 3
    assert load_node(node.pk).get_dict() == {"a": 1}


def test_extras_stay_mutable_and_persist():
    node = Int(1).store()
    node.base.extras.set("tag", {"x": [1, "two"]})
    node.base.extras.set_many({"n": 3, "deep": {"e": {}}})
    node.base.extras.delete("n")
    assert load_node(node.pk).base.extras.all == {"tag": {"x": [1, "two"]}, "deep": {"e": {}}}


def test_label_and_description_are_mutable_after_store():
    node = Int(1, label="before").store()
    node.label = "after"
    node.description = "long text"
    loaded = load_node(node.pk)
    assert (loaded.label, loaded.description) == ("after", "long text")


@pytest.mark.parametrize("bad", [{1, 2}, b"bytes", object(), float("nan"), float("inf"), {1: "int key"}])
def test_non_jsonable_values_are_refused_and_nothing_changes(bad):
    node = Dict({"ok": 1})
    with pytest.raises(ValidationError):
        node.base.attributes.set("bad", bad)
    with pytest.raises(ValidationError):
        node.base.attributes.set_many({"also_ok": 2, "bad": bad})
    assert node.get_dict() == {"ok": 1}


def test_value_types_are_checked():
    with pytest.raises(ValidationError):
        Int("3")
    with pytest.raises(ValidationError):
        Int(True)
    with pytest.raises(ValidationError):
        Float(float("nan"))
    with pytest.raises(ValidationError):
        Bool(1)
    with pytest.raises(ValidationError):
        List({"not": "a list"})


def test_numeric_arithmetic_gives_unstored_nodes():
    total = Int(1) + Int(2)
    assert isinstance(total, Int) and total.value == 3 and not total.is_stored
    assert isinstance(Int(1) + Float(0.5), Float) and (Int(1) + Float(0.5)).value == 1.5
    assert (Int(7) / Int(2)).value == 3.5 and isinstance(Int(7) // Int(2), Int)
    assert (3 * Int(2)).value == 6 and (2 ** Int(3)).value == 8 and (-Int(4)).value == -4
    assert Int(3) > Int(2) and Int(2) <= 2 and Int(5) == 5


def test_list_operations():
    items = List([1, "a"])
    items.append({"k": None})
    items.extend([[], {}])
    assert items.get_list() == [1, "a", {"k": None}, [], {}]
    stored = items.store()
    with pytest.raises(ModificationNotAllowed):
        stored.append(2)
    assert load_node(stored.pk).get_list() == [1, "a", {"k": None}, [], {}]


def test_generic_data_node_can_be_stored():
    node = Data(label="plain").store()
    assert type(load_node(node.pk)) is Data


def test_unregistered_node_class_is_refused():
    class Stranger(Data):
        pass

    with pytest.raises(Exception, match="unknown node class"):
        Stranger()
