"""AiiDA's node API on provgraph, on both backends: the stale-node rule, node.inputs/outputs,
node.user, clone(), repr, and the refusal of dotted attribute keys.

Each case is a small piece of AiiDA 2.x documented behaviour (checked against aiida-core 2.9).
"""

from __future__ import annotations

import io
import uuid

import pytest
from compat_orm_support import mark

from provgraph.common.links import LinkType
from provgraph.common.states import ProcessState
from provgraph.exceptions import (
    ModificationNotAllowed,
    NotExistent,
    NotExistentAttributeError,
    NotExistentKeyError,
    ValidationError,
)
from provgraph.orm import (
    CalcFunctionNode,
    Data,
    Dict,
    Float,
    Int,
    List,
    QueryBuilder,
    SinglefileData,
    Str,
    User,
    WorkChainNode,
    load_node,
)
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture
def run() -> str:
    """A unique marker for the nodes of one test."""
    return uuid.uuid4().hex


@pytest.fixture(autouse=True)
def _both_backends(backend_profile):
    """Every case runs on Neo4j and on the embedded sqlite backend."""
    return backend_profile


def _calc_with_outputs(labels=("result", "nested__sub", "nested__deep__x")):
    """A stored CalcFunctionNode with inputs x, y and the created outputs ``labels`` (Int 0, 1, ...)."""
    x, y = Int(1).store(), Int(2).store()
    calc = CalcFunctionNode(process_label="add", process_type="some.module:add")
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.base.links.add_incoming(y, LinkType.INPUT_CALC, "y")
    calc.store()
    outputs = {}
    for value, label in enumerate(labels):
        out = Int(value)
        out.base.links.add_incoming(calc, LinkType.CREATE, label)
        outputs[label] = out.store()
    return calc, outputs


def _advance_elsewhere(pk: int, version: int, **values) -> None:
    """Write process bookkeeping as a worker does: one guarded commit through the storage backend."""
    assert get_backend().coordination.commit_guarded(
        {pk: version}, [], [], {pk: {**values, "checkpoint_version": version + 1}}, []) is not None


class _CountChecks:
    """Counts the version checks the ORM asks the backend for (the real backend still answers)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        nodes = get_backend().nodes
        real = nodes.get_if_changed

        def counting(pk, mtime):
            self.calls += 1
            return real(pk, mtime)

        monkeypatch.setattr(nodes, "get_if_changed", counting)


# -- the stale-node rule ------------------------------------------------------------------------

def test_extras_set_through_another_object_are_seen():
    node = Int(3).store()
    other = load_node(node.pk)
    other.base.extras.set("flag", True)
    assert node.base.extras.get("flag") is True
    assert node.base.extras.all == {"flag": True}
    assert "flag" in node.base.extras and len(node.base.extras) == 1


def test_extras_deleted_elsewhere_disappear():
    node = Int(3).store()
    node.base.extras.set_many({"a": 1, "b": 2})
    load_node(node.pk).base.extras.delete("a")
    assert sorted(node.base.extras.keys()) == ["b"]
    assert node.base.extras.get("a", "gone") == "gone"


def test_label_and_description_changed_elsewhere_are_seen():
    node = Str("x").store()
    other = load_node(node.pk)
    other.label, other.description = "new label", "new description"
    assert (node.label, node.description) == ("new label", "new description")


def test_mtime_moves_when_extras_change():
    node = Int(1).store()
    before = node.mtime
    load_node(node.pk).base.extras.set("k", "v")
    assert node.mtime > before
    assert node.mtime == load_node(node.pk).mtime


def test_a_process_node_reports_the_state_a_worker_wrote():
    calc = CalcFunctionNode(process_label="f").store()
    assert calc.process_state is ProcessState.CREATED and not calc.is_terminated
    _advance_elsewhere(calc.pk, 0, process_state="running")
    assert calc.process_state is ProcessState.RUNNING and not calc.is_terminated
    _advance_elsewhere(calc.pk, 1, process_state="finished", exit_status=0, sealed=True)
    assert calc.is_terminated and calc.is_finished_ok and calc.exit_status == 0 and calc.is_sealed


def test_a_failed_exit_status_written_elsewhere_is_seen():
    calc = CalcFunctionNode(process_label="f").store()
    _advance_elsewhere(calc.pk, 0, process_state="finished", exit_status=301, exit_message="bad input")
    assert calc.is_failed and not calc.is_finished_ok
    assert (calc.exit_status, calc.exit_message) == (301, "bad input")


def test_outputs_created_after_the_object_was_loaded_are_listed():
    calc = CalcFunctionNode(process_label="f").store()
    early = load_node(calc.pk)
    assert "result" not in early.outputs
    out = Int(5)
    out.base.links.add_incoming(calc, LinkType.CREATE, "result")
    out.store()
    assert early.outputs.result.pk == out.pk


def test_attributes_of_data_are_read_without_a_query(monkeypatch):
    node = Dict({"a": 1}).store()
    checks = _CountChecks(monkeypatch)
    assert node["a"] == 1 and node.get_dict() == {"a": 1} and node.base.attributes.all == {"a": 1}
    assert checks.calls == 0


def test_a_sealed_process_stops_checking_its_attributes(monkeypatch):
    calc = CalcFunctionNode(process_label="f").store()
    _advance_elsewhere(calc.pk, 0, process_state="finished", exit_status=0, sealed=True)
    assert calc.is_sealed  # one check: it learns it is sealed
    checks = _CountChecks(monkeypatch)
    assert calc.is_finished_ok and calc.process_label == "f"
    assert checks.calls == 0
    calc.base.extras.get("x", None)  # extras stay mutable: still checked
    assert checks.calls == 1


def test_an_unsealed_process_checks_on_every_read(monkeypatch):
    calc = CalcFunctionNode(process_label="f").store()
    checks = _CountChecks(monkeypatch)
    _ = calc.process_state
    _ = calc.process_state
    assert checks.calls == 2


def test_reading_a_node_deleted_elsewhere_says_so():
    from provgraph.orm.delete import delete_nodes

    node = Int(9).store()
    delete_nodes([node.pk], dry_run=False)
    with pytest.raises(NotExistent):
        _ = node.base.extras.all
    assert node.value == 9  # immutable attributes stay readable from memory


def test_the_backend_version_check_answers_only_when_the_node_moved():
    node = Int(1).store()
    nodes, before = get_backend().nodes, node.mtime
    assert nodes.get_if_changed(node.pk, before) is None
    load_node(node.pk).base.extras.set("x", 1)
    fresh = nodes.get_if_changed(node.pk, before)
    assert fresh is not None and fresh.extras == {"x": 1} and fresh.mtime > before
    assert nodes.get_if_changed(node.pk, fresh.mtime) is None
    with pytest.raises(NotExistent):
        nodes.get_if_changed(10**12, before)


def test_a_change_made_here_needs_no_reread(monkeypatch):
    node = Int(1).store()
    node.base.extras.set("x", 1)
    record = node._record
    node.base.extras.get("x")
    assert node._record is record  # the version this object wrote is the stored one


# -- node.inputs / node.outputs -----------------------------------------------------------------

def test_outputs_by_attribute_and_by_item():
    calc, outs = _calc_with_outputs()
    assert calc.outputs.result.pk == outs["result"].pk
    assert calc.outputs["result"].pk == outs["result"].pk


def test_nested_output_namespaces():
    calc, outs = _calc_with_outputs()
    assert calc.outputs.nested.sub.pk == outs["nested__sub"].pk
    assert calc.outputs["nested"]["sub"].pk == outs["nested__sub"].pk
    assert calc.outputs.nested.deep.x.pk == outs["nested__deep__x"].pk
    assert sorted(calc.outputs.nested) == ["deep", "sub"]


def test_a_flat_double_underscore_label_still_works():
    calc, outs = _calc_with_outputs()
    assert calc.outputs["nested__sub"].pk == outs["nested__sub"].pk
    assert calc.outputs.nested__sub.pk == outs["nested__sub"].pk


def test_iteration_contains_and_dir_see_the_top_level():
    calc, _ = _calc_with_outputs()
    assert sorted(calc.outputs) == ["nested", "result"]
    assert "result" in calc.outputs and "nested" in calc.outputs and "missing" not in calc.outputs
    assert "nested__sub" in calc.outputs
    assert {"nested", "result"} <= set(dir(calc.outputs))
    assert "sub" in dir(calc.outputs.nested)


def test_keys_items_and_len_are_the_flat_labels():
    calc, outs = _calc_with_outputs()
    assert sorted(calc.outputs.keys()) == ["nested__deep__x", "nested__sub", "result"]
    assert {label: node.pk for label, node in calc.outputs.items()} == {k: v.pk for k, v in outs.items()}
    assert len(calc.outputs) == 3 and len(calc.outputs.values()) == 3


def test_a_missing_output_attribute_is_an_attribute_error():
    calc, _ = _calc_with_outputs()
    with pytest.raises(NotExistentAttributeError, match="does not have an output with link label 'missing'"):
        _ = calc.outputs.missing
    with pytest.raises(AttributeError):
        _ = calc.outputs.missing
    assert not hasattr(calc.outputs, "missing")
    assert getattr(calc.outputs, "missing", None) is None


def test_a_missing_output_key_is_a_key_error():
    calc, _ = _calc_with_outputs()
    with pytest.raises(NotExistentKeyError):
        calc.outputs["missing"]
    with pytest.raises(KeyError):
        calc.outputs["missing"]
    assert isinstance(NotExistentKeyError("x"), NotExistent)


def test_a_missing_name_in_a_namespace_is_an_attribute_error():
    calc, _ = _calc_with_outputs()
    with pytest.raises(AttributeError):
        _ = calc.outputs.nested.missing


def test_inputs_by_attribute_item_and_iteration():
    calc, _ = _calc_with_outputs()
    assert calc.inputs.x.value == 1 and calc.inputs["y"].value == 2
    assert sorted(calc.inputs) == ["x", "y"]
    with pytest.raises(NotExistentAttributeError, match="does not have an input"):
        _ = calc.inputs.z


def test_workflow_inputs_and_returned_outputs():
    x = Int(4).store()
    work = WorkChainNode(process_label="W")
    work.base.links.add_incoming(x, LinkType.INPUT_WORK, "inputs__x")
    work.store()
    work.base.links.add_outgoing(x, LinkType.RETURN, "echo__value")
    assert work.inputs.inputs.x.pk == x.pk and work.outputs.echo.value.pk == x.pk
    assert list(work.outputs) == ["echo"]


def test_inputs_of_an_unstored_process_are_its_pending_links():
    x = Int(1).store()
    calc = CalcFunctionNode(process_label="f")
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    assert calc.inputs.x.pk == x.pk and list(calc.outputs) == []


def test_a_links_manager_compares_with_a_flat_dict_and_shows_itself():
    calc, outs = _calc_with_outputs(labels=("result",))
    assert calc.outputs == {"result": outs["result"]}
    assert repr(calc.outputs) == f"<NodeLinksManager: Manager for outgoing CREATE links for node pk={calc.pk}>"


def test_data_nodes_have_no_inputs_or_outputs():
    assert not hasattr(Int(1), "outputs") and not hasattr(Int(1), "inputs")


# -- user, clone, repr --------------------------------------------------------------------------

def test_node_user_is_a_user_object():
    node = Int(1).store()
    assert isinstance(node.user, User)
    assert node.user.email == str(node.user) and "@" in node.user.email
    assert node.user == User.collection.get_default()
    assert repr(node.user) == f"<User: {node.user.email}>"


def test_clone_is_an_unstored_copy_with_a_new_uuid():
    node = mark(Dict({"a": {"b": 1}}, label="L", description="D"), "clone")
    node.store()
    clone = node.clone()
    assert not clone.is_stored and clone.uuid != node.uuid and type(clone) is Dict
    assert clone.get_dict() == {"a": {"b": 1}} and (clone.label, clone.description) == ("L", "D")
    assert clone.base.extras.all == {"run": "clone"}
    clone["c"] = 2  # unstored: editable, and the original does not change
    assert "c" not in node.get_dict()
    assert clone.store().pk != node.pk


def test_clone_keeps_the_files():
    node = SinglefileData(io.BytesIO(b"content"), filename="a.txt").store()
    clone = node.clone().store()
    assert clone.base.repository.get_object_content("a.txt", mode="rb") == b"content"


def test_a_process_node_cannot_be_cloned():
    with pytest.raises(ValidationError, match="not cloned"):
        CalcFunctionNode(process_label="f").clone()


def test_repr_and_str_follow_aiida():
    node = Int(5)
    assert repr(node) == f"<Int: uuid: {node.uuid} (unstored) value: 5>"
    assert str(node) == f"uuid: {node.uuid} (unstored) value: 5"
    node.store()
    assert repr(node) == f"<Int: uuid: {node.uuid} (pk: {node.pk}) value: 5>"


@pytest.mark.parametrize(("make", "shown"), [
    (lambda: Float(1.5), " value: 1.5"), (lambda: Str("text"), " value: text"),
    (lambda: List([1, 2]), " value: [1, 2]"), (lambda: Dict({"a": 1}), ""), (lambda: Data(), ""),
])
def test_repr_of_each_data_type(make, shown):
    node = make()
    assert repr(node) == f"<{type(node).__name__}: uuid: {node.uuid} (unstored){shown}>"


def test_repr_of_a_process_node_names_its_process_type():
    calc = CalcFunctionNode(process_label="add", process_type="some.module:add").store()
    assert repr(calc) == f"<CalcFunctionNode: uuid: {calc.uuid} (pk: {calc.pk}) (some.module:add)>"


# -- attribute and extra keys containing dots ---------------------------------------------------

@pytest.mark.parametrize("section", ["attributes", "extras"])
def test_a_dotted_key_is_refused_and_nothing_changes(section):
    node = Data()
    namespace = getattr(node.base, section)
    namespace.set("kept", 1)
    with pytest.raises(ValidationError, match="cannot contain '.'"):
        namespace.set("a.b", 1)
    with pytest.raises(ValidationError):
        namespace.set_many({"fine": 1, "a.b": 2})
    assert namespace.all == {"kept": 1}


def test_a_dotted_extra_on_a_stored_node_is_refused_and_nothing_is_written():
    node = Int(1).store()
    with pytest.raises(ValidationError):
        node.base.extras.set("x.y", 1)
    assert load_node(node.pk).base.extras.all == {}


def test_a_dict_with_a_dotted_key_is_refused():
    with pytest.raises(ValidationError, match="'a.b'"):
        Dict({"a.b": 1})


def test_dotted_keys_inside_nested_values_are_kept_and_found_with_has_key(run):
    node = mark(Dict({"files": {"input.txt": 3}}), run).store()
    assert load_node(node.pk)["files"] == {"input.txt": 3}
    qb = QueryBuilder().append(Dict, filters={"extras.run": run, "attributes.files": {"has_key": "input.txt"}},
                               project="id")
    assert qb.all(flat=True) == [node.pk]


def test_stored_attributes_stay_immutable():
    node = Int(1).store()
    with pytest.raises(ModificationNotAllowed):
        node.base.attributes.set("value", 2)
    assert load_node(node.pk).value == 1
