"""AiiDA's Data API on provgraph, on the embedded sqlite default: List and Dict, codes,
computers and users (``load_code``, ``load_computer``, ``Code.get_builder``, ``User.collection``).
"""

from __future__ import annotations

import uuid

import numpy
import pytest
from compat_orm_support import sqlite_default  # noqa: F401 - fixture

from provgraph.exceptions import (
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    NotExistentAttributeError,
    NotExistentKeyError,
    ValidationError,
)
from provgraph.orm import (
    ArrayData,
    Computer,
    Dict,
    InstalledCode,
    Int,
    List,
    User,
    load_code,
    load_computer,
    load_node,
)


@pytest.fixture(autouse=True)
def _embedded(request):
    """Every case runs on the embedded sqlite profile."""
    return request.getfixturevalue("sqlite_default")


# -- List ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: List(list=[1, 2, 3]), lambda: List([1, 2, 3]),
                                  lambda: List(value=[1, 2, 3]), lambda: List((1, 2, 3))])
def test_list_constructors(make):
    assert make().get_list() == [1, 2, 3]


def test_an_empty_list():
    assert List().get_list() == [] and len(List()) == 0


def test_list_refuses_value_and_list_together():
    with pytest.raises(ValidationError, match="not both"):
        List([1], list=[2])


@pytest.mark.parametrize("bad", ["abc", 3, {"a": 1}])
def test_list_refuses_what_is_not_a_list(bad):
    with pytest.raises(ValidationError):
        List(list=bad)


def test_list_methods_change_an_unstored_list():
    items = List([3, 1, 2])
    items.append(4)
    items.extend([5])
    items.insert(0, 9)
    assert items.get_list() == [9, 3, 1, 2, 4, 5]
    assert items.pop() == 5
    items.remove(9)
    assert (items.index(2), items.count(2)) == (2, 1)
    items.sort()
    assert items.get_list() == [1, 2, 3, 4]
    items.reverse()
    items[0] = 7
    del items[1]
    assert items.get_list() == [7, 2, 1] and items == [7, 2, 1] and len(items) == 3


@pytest.mark.parametrize("change", [lambda x: x.append(1), lambda x: x.extend([1]), lambda x: x.insert(0, 1),
                                    lambda x: x.pop(), lambda x: x.remove(1), lambda x: x.sort(),
                                    lambda x: x.reverse(), lambda x: x.__setitem__(0, 5),
                                    lambda x: x.__delitem__(0), lambda x: x.set_list([])])
def test_a_stored_list_cannot_change(change):
    items = List(list=[1, 2]).store()
    with pytest.raises(ModificationNotAllowed):
        change(items)
    assert load_node(items.pk).get_list() == [1, 2] and items.get_list() == [1, 2]


def test_a_stored_list_reads_back():
    items = List(list=[1, "a", {"b": [2]}]).store()
    assert load_node(items.pk).get_list() == [1, "a", {"b": [2]}] and load_node(items.pk).value == items.value


# -- Dict ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: Dict(dict={"a": 1}), lambda: Dict({"a": 1}), lambda: Dict(value={"a": 1})])
def test_dict_constructors(make):
    assert make().get_dict() == {"a": 1}


def test_dict_attribute_access():
    params = Dict(dict={"a": 1, "b": {"c": 2}})
    assert params.dict.a == 1 and params.dict.b == {"c": 2} and params.dict.b["c"] == 2
    assert params.dict["a"] == 1 and "a" in params.dict and sorted(params.dict) == ["a", "b"]
    assert {"a", "b"} <= set(dir(params.dict))


def test_dict_attribute_access_after_store():
    params = Dict(dict={"energy": -1.5}).store()
    assert load_node(params.pk).dict.energy == -1.5


def test_a_missing_dict_attribute_is_an_attribute_error():
    with pytest.raises(NotExistentAttributeError):
        _ = Dict({"a": 1}).dict.b
    assert not hasattr(Dict({"a": 1}).dict, "b")


def test_a_missing_dict_key_is_a_key_error():
    with pytest.raises(NotExistentKeyError):
        _ = Dict({"a": 1})["b"]
    with pytest.raises(KeyError):
        _ = Dict({"a": 1})["b"]


def test_dict_get_with_a_default():
    params = Dict({"a": 1})
    assert params.get("a") == 1 and params.get("b") is None and params.get("b", 5) == 5


def test_dict_attribute_assignment_while_unstored():
    params = Dict({"a": 1})
    params.dict.b = 2
    params["c"] = 3
    assert params.get_dict() == {"a": 1, "b": 2, "c": 3}
    del params.dict.a
    assert params.get_dict() == {"b": 2, "c": 3}


def test_update_dict_and_set_dict():
    params = Dict({"a": 1})
    params.update_dict({"b": 2})
    assert params.get_dict() == {"a": 1, "b": 2}
    params.set_dict({"z": 0})
    assert params.get_dict() == {"z": 0}


@pytest.mark.parametrize("change", [lambda d: d.update_dict({"b": 2}), lambda d: d.set_dict({}),
                                    lambda d: d.__setitem__("a", 2), lambda d: setattr(d.dict, "a", 2)])
def test_a_stored_dict_cannot_change(change):
    params = Dict({"a": 1}).store()
    with pytest.raises(ModificationNotAllowed):
        change(params)
    assert load_node(params.pk).get_dict() == {"a": 1} and params.get_dict() == {"a": 1}


@pytest.mark.parametrize("bad", [[1], "text", None])
def test_set_and_update_dict_refuse_what_is_not_a_dict(bad):
    params = Dict({"a": 1})
    with pytest.raises(ValidationError):
        params.set_dict(bad)
    with pytest.raises(ValidationError):
        params.update_dict(bad)
    assert params.get_dict() == {"a": 1}


def test_a_bad_value_in_update_dict_changes_nothing():
    params = Dict({"a": 1})
    with pytest.raises(ValidationError):
        params.update_dict({"b": 2, "c": object()})
    assert params.get_dict() == {"a": 1}


def test_dict_equality_and_keys():
    params = Dict({"a": 1, "b": {"c": 2}})
    assert params == {"a": 1, "b": {"c": 2}} and params == Dict({"a": 1, "b": {"c": 2}})
    assert sorted(params.keys()) == ["a", "b"] and dict(params.items()) == params.get_dict()
    assert params.dict == {"a": 1, "b": {"c": 2}} and sorted(params) == ["a", "b"]


def test_array_names_with_a_dot_are_refused():
    with pytest.raises(ValidationError, match="invalid array name"):
        ArrayData({"a.b": numpy.zeros(2)})


# -- computers, codes, users --------------------------------------------------------------------

@pytest.fixture
def computer():
    """A stored local computer with a unique label."""
    return Computer(label=f"compat-{uuid.uuid4().hex[:10]}", hostname="localhost").store()


@pytest.fixture
def code(computer):
    """An installed code of the arithmetic add CalcJob on ``computer``."""
    return InstalledCode(computer=computer, filepath_executable="/bin/bash", label=f"add-{uuid.uuid4().hex[:8]}",
                         default_calc_job_plugin="core.arithmetic.add_job").store()


def test_load_computer_by_label_pk_and_uuid(computer):
    assert load_computer(computer.label).uuid == computer.uuid
    assert load_computer(computer.pk).label == computer.label
    assert load_computer(str(computer.pk)).label == computer.label
    assert load_computer(computer.uuid).label == computer.label
    assert load_computer(label=computer.label).pk == computer.pk
    assert load_computer(pk=computer.pk).label == computer.label


def test_load_computer_of_nothing_says_so():
    with pytest.raises(NotExistent, match="no computer"):
        load_computer("no-such-computer")
    with pytest.raises(ValidationError):
        load_computer()


def test_computer_collection(computer):
    assert Computer.collection.get(label=computer.label).pk == computer.pk
    assert computer.label in [c.label for c in Computer.collection.all()]
    assert [c.label for c in Computer.collection()] == [c.label for c in Computer.collection.all()]


def test_load_code_by_label_full_label_pk_and_uuid(code, computer):
    for identifier in (code.label, f"{code.label}@{computer.label}", code.pk, str(code.pk), code.uuid):
        assert load_code(identifier).pk == code.pk
    assert load_code(label=code.label).pk == code.pk and load_code(pk=code.pk).pk == code.pk


def test_load_code_on_the_wrong_computer_or_label(code):
    with pytest.raises(NotExistent):
        load_code(f"{code.label}@elsewhere")
    with pytest.raises(NotExistent):
        load_code("no-such-code")


def test_load_code_of_a_node_that_is_not_a_code():
    node = Int(1).store()
    with pytest.raises(NotExistent, match="not a code"):
        load_code(node.pk)


def test_load_code_of_a_label_used_on_two_computers(code):
    other = Computer(label=f"compat-{uuid.uuid4().hex[:10]}", hostname="localhost").store()
    InstalledCode(computer=other, filepath_executable="/bin/sh", label=code.label).store()
    with pytest.raises(MultipleObjectsError):
        load_code(code.label)
    assert load_code(f"{code.label}@{other.label}").filepath_executable == "/bin/sh"


def test_code_get_builder_sets_the_code(code):
    builder = code.get_builder()
    assert builder.code.pk == code.pk
    assert type(builder).__name__ == "ProcessBuilder"


def test_code_get_builder_needs_a_default_plugin(computer):
    code = InstalledCode(computer=computer, filepath_executable="/bin/bash", label="plain").store()
    with pytest.raises(ValidationError, match="default_calc_job_plugin"):
        code.get_builder()


def test_user_collection_default_get_and_all():
    default = User.collection.get_default()
    assert User.collection.get(default.email) == default
    assert default.email in [user.email for user in User.collection.all()]
    created, user = User.collection.get_or_create(f"{uuid.uuid4().hex[:8]}@example.org", first_name="Ada")
    assert created and user.first_name == "Ada"
    assert User.collection.get_or_create(user.email) == (False, user)


def test_a_node_user_knows_the_names():
    user = User.get_or_create(f"{uuid.uuid4().hex[:8]}@example.org", "Ada", "Lovelace", "EPFL")
    assert (user.first_name, user.last_name, user.institution) == ("Ada", "Lovelace", "EPFL")
    assert user.get_full_name() == f"Ada Lovelace ({user.email})"
    node = Int(1).store()
    assert node.user.first_name == User.collection.get_default().first_name
