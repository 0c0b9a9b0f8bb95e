"""Specs, ports, builders, exposed ports and exit codes."""

from __future__ import annotations

import pytest
import workflows_for_tests as wf

from provgraph.engine import ExitCode, run
from provgraph.engine.processes.exit_code import ExitCodesNamespace
from provgraph.engine.processes.ports import PortNamespace, wrap_value
from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm import Bool, Dict, Float, Int, List, Str, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def test_plain_values_are_wrapped():
    wrapped = [wrap_value(v) for v in (True, 3, 2.5, "s", {"a": 1}, [1, 2])]
    assert [type(w) for w in wrapped] == [Bool, Int, Float, Str, Dict, List]
    assert type(wrap_value(1, (Float,))) is Float


def test_validation_errors_name_the_port():
    spec = wf.OutlineWorkChain.spec()
    with pytest.raises(ValidationError, match="required port 'inputs.n' was not given"):
        spec.inputs.validate({}, "inputs")
    with pytest.raises(ValidationError, match="port 'inputs.mode' takes Str, not int"):
        spec.inputs.validate({"n": 1, "mode": 3}, "inputs")
    with pytest.raises(ValidationError, match="unexpected port 'inputs.bogus'"):
        spec.inputs.validate({"n": 1, "bogus": 3}, "inputs")
    with pytest.raises(ValidationError, match="port 'inputs.x': must be positive, got -1"):
        wf.ChildWorkChain.spec().inputs.validate({"x": -1}, "inputs")


def test_defaults_and_nested_dynamic_namespaces():
    values = wf.ExposingWorkChain.spec().inputs.validate(
        {"child": {"x": 2}, "extras": {"a": 1, "deeper": {"b": 2}}, "tag": "t"}, "inputs")
    assert values["child"]["x"] == 2 and isinstance(values["child"]["x"], Int)
    assert values["extras"]["deeper"]["b"] == 2 and values["tag"] == "t"
    with pytest.raises(ValidationError, match="port 'inputs.extras.a' takes Int, not str"):
        wf.ExposingWorkChain.spec().inputs.validate({"child": {"x": 2}, "extras": {"a": "x"}}, "inputs")
    defaults = wf.OutlineWorkChain.spec().inputs.validate({"n": 1}, "inputs")
    assert defaults["mode"] == "a" and defaults["children"] == 2 and defaults["fail"] is False
    assert "factor" not in wf.ExposingWorkChain.spec().inputs["child"]  # excluded when exposed


def test_namespace_validator_and_dotted_ports():
    namespace = PortNamespace("inputs", validator=lambda values: "need a" if "a" not in values else None,
                              dynamic=True)
    with pytest.raises(ValidationError, match="port 'inputs': need a"):
        namespace.validate({"b": 1}, "inputs")


def test_builder_attribute_access_and_validation():
    builder = wf.ExposingWorkChain.get_builder()
    builder.child.x = 3
    builder.extras = {"a": 1, "b": 2}
    builder.tag = "built"
    assert builder.child.x == 3 and builder.settings is None
    with pytest.raises(AttributeError, match="has no input 'nope'"):
        builder.nope = 1
    with pytest.raises(ValidationError, match="port 'inputs.child.x' takes Int"):
        builder.child.x = "three"
    outputs, node = run.get_node(builder)
    assert outputs["result"] == 6 and outputs["extras_total"] == 3
    assert node.base.attributes.get("non_db_inputs") == {"tag": "built"}
    assert sorted(node.inputs.keys()) == ["child__x", "extras__a", "extras__b"]


def test_function_builder():
    builder = wf.add.get_builder()
    builder.x, builder.y = 1, 2
    assert run(builder) == 3


def test_exit_codes_namespace():
    codes = wf.OutlineWorkChain.exit_codes
    assert codes.ERROR_REQUESTED == ExitCode(400, "failure requested with n={n}", "ERROR_REQUESTED")
    assert codes(400).label == "ERROR_REQUESTED" and codes("ERROR_MISSING_OUTPUT").status == 11
    assert codes.ERROR_REQUESTED.format(n=3).message == "failure requested with n=3"
    with pytest.raises(AttributeError, match="no exit code labelled 'NOPE'"):
        codes.NOPE  # noqa: B018
    with pytest.raises(NotExistent):
        codes(999)
    namespace = ExitCodesNamespace()
    namespace.add(ExitCode(5, "m", "FIVE"))
    with pytest.raises(ValidationError, match="already used"):
        namespace.add(ExitCode(5, "m", "OTHER"))


def test_expose_outputs_and_exposed_run():
    outputs, node = run.get_node(wf.ExposingWorkChain, child={"x": 4})
    assert outputs["result"] == 8 and node.is_finished_ok
    child = load_node(node.pk).called[0]
    assert child.process_label == "ChildWorkChain" and child.outputs["result"].pk == outputs["result"].pk
