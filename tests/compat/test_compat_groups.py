"""Groups behave as AiiDA 2.x's: ``load_group``, ``Group.collection``, label setter, members, extras.

Runs on the embedded sqlite profile (session-wide, so every test uses its own labels).
"""

from __future__ import annotations

import uuid

import pytest

from provgraph.exceptions import ModificationNotAllowed, NotExistent, StoringError
from provgraph.orm import Group, Int, load_group


@pytest.fixture(autouse=True)
def sqlite_current(sqlite_profile, monkeypatch):
    """The session's sqlite profile made current (migrated) for each test; the previous one restored after."""
    from provgraph import profiles
    from provgraph.orm import backend as orm_backend

    profile, home = sqlite_profile
    previous = profiles._CURRENT.get()
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    orm_backend.get_backend(profile).migrate()
    profiles.load_profile(profile.name)
    yield profile
    profiles._CURRENT.set(previous)


def label(prefix: str = "g") -> str:
    """A label no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_get_or_create_creates_then_finds():
    name = label()
    group, created = Group.collection.get_or_create(label=name)
    assert created and group.is_stored
    again, created_again = Group.collection.get_or_create(name)
    assert not created_again and again.pk == group.pk and again == group


def test_get_or_create_needs_a_label():
    with pytest.raises(ValueError, match="label must be provided"):
        Group.collection.get_or_create()


def test_group_needs_a_label():
    with pytest.raises(ValueError):
        Group()
    with pytest.raises(ValueError):
        Group(label="")


def test_collection_get_by_label_pk_id_uuid():
    group = Group(label=label()).store()
    for key, value in (("label", group.label), ("pk", group.pk), ("id", group.pk), ("uuid", group.uuid)):
        assert Group.collection.get(**{key: value}).pk == group.pk


def test_collection_get_missing_is_not_existent():
    with pytest.raises(NotExistent):
        Group.collection.get(label=label("missing"))


def test_load_group_by_every_identifier():
    group = Group(label=label()).store()
    for found in (load_group(group.pk), load_group(str(group.pk)), load_group(group.label),
                  load_group(label=group.label), load_group(pk=group.pk), load_group(uuid=group.uuid),
                  load_group(group.uuid), load_group(group.uuid[:13])):
        assert found.pk == group.pk and found.label == group.label


def test_load_group_unknown_raises_not_existent():
    with pytest.raises(NotExistent):
        load_group(label("nope"))
    with pytest.raises(NotExistent):
        load_group(10**9)


def test_load_group_wants_exactly_one_identifier():
    with pytest.raises(ValueError):
        load_group()
    with pytest.raises(ValueError):
        load_group("x", pk=1)


def test_collection_all_count_and_delete():
    group = Group(label=label()).store()
    before = Group.collection.count()
    assert group in Group.collection.all() and before == len(Group.collection.all())
    Group.collection.delete(group.pk)
    assert Group.collection.count() == before - 1
    with pytest.raises(NotExistent):
        load_group(group.pk)
    with pytest.raises(NotExistent):
        Group.collection.delete(group.pk)


def test_collection_is_still_callable_for_a_list():
    group = Group(label=label()).store()
    assert group.pk in [g.pk for g in Group.collection()]


def test_collection_find_filters_and_orders():
    prefix = label("find")
    first, second = Group(label=prefix + "-a").store(), Group(label=prefix + "-b").store()
    assert Group.collection.find(filters={"label": first.label}) == [first]
    found = [g for g in Group.collection.find(order_by="-pk") if g.label.startswith(prefix)]
    assert found == [second, first]


def test_members_add_count_nodes_remove_clear():
    group = Group(label=label()).store()
    assert group.is_empty and group.count() == 0
    one, two = Int(1).store(), Int(2).store()
    group.add_nodes(one)
    group.add_nodes([one, two])  # a member twice is harmless
    assert group.count() == 2 and not group.is_empty
    assert sorted(node.pk for node in group.nodes) == sorted([one.pk, two.pk])
    group.remove_nodes([one])
    group.remove_nodes(one)  # non-members are ignored
    assert [node.pk for node in group.nodes] == [two.pk]
    group.clear()
    assert group.is_empty and Int(2).store() is not None and load_group(group.pk).count() == 0
    assert two.is_stored and type(two).__name__ == "Int"  # members are never deleted


def test_add_nodes_refuses_unstored_and_non_nodes():
    group = Group(label=label()).store()
    stored = Int(3).store()
    with pytest.raises(ValueError, match="unstored"):
        group.add_nodes([stored, Int(4)])
    assert group.count() == 0  # nothing added
    with pytest.raises(TypeError):
        group.add_nodes(5)
    with pytest.raises(TypeError):
        group.remove_nodes([stored, "x"])
    group.add_nodes([])  # nothing to do, no error
    assert group.is_empty


def test_unstored_group_members():
    group = Group(label=label())
    assert not group.is_stored and group.pk is None and group.count() == 0 and group.is_empty
    with pytest.raises(ModificationNotAllowed):
        group.add_nodes(Int(1).store())
    with pytest.raises(ModificationNotAllowed):
        group.clear()


def test_label_setter_renames_stored_group():
    group = Group(label=label()).store()
    new = label("renamed")
    group.label = new
    assert load_group(group.pk).label == new and load_group(new).pk == group.pk


def test_label_setter_refuses_a_taken_label():
    taken = Group(label=label()).store()
    group = Group(label=label()).store()
    with pytest.raises(StoringError):
        group.label = taken.label
    assert load_group(group.pk).label != taken.label


def test_label_setter_on_unstored_group_and_description():
    group = Group(label=label(), description="first")
    group.label = new = label("unstored")
    group.description = "second"
    group.store()
    assert (load_group(group.pk).label, load_group(group.pk).description) == (new, "second")
    group.description = "third"
    assert load_group(group.pk).description == "third"


def test_store_twice_the_same_label_is_refused():
    name = label()
    Group(label=name).store()
    with pytest.raises(StoringError):
        Group(label=name).store()


def test_store_returns_the_group():
    group = Group(label=label())
    assert group.store() is group and group.store() is group


def test_str_repr_and_user():
    group = Group(label=label()).store()
    assert str(group) == f"Group<{group.label}>"
    assert repr(group).startswith(f"<Group: {group.label!r} [type core], of user ")
    assert "@" in group.user.email and group.type_string == "core" and group.time is not None


def test_equality_and_hash_by_uuid():
    group = Group(label=label()).store()
    assert load_group(group.pk) == group and len({group, load_group(group.pk)}) == 1
    assert group != Group(label=label()).store()


def test_extras_round_trip():
    group = Group(label=label()).store()
    group.base.extras.set("a", 1)
    group.base.extras.set_many({"b": [1, 2], "c": {"d": None}})
    assert load_group(group.pk).base.extras.all == {"a": 1, "b": [1, 2], "c": {"d": None}}
    group.base.extras.delete("a")
    assert load_group(group.pk).base.extras.get("a", "gone") == "gone"
    with pytest.raises(KeyError):
        group.base.extras.get("a")
