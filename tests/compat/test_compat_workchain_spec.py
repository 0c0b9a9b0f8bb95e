"""WorkChain specs as in AiiDA 2.x: exposed inputs/outputs, namespaces, serializers, exit codes, outline."""

from __future__ import annotations

import pytest
import workchains_for_compat as wc
from process_support import reports, sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.engine import ExitCode, WorkChain, run, run_get_node
from provgraph.engine.processes.ports import PortNamespace
from provgraph.exceptions import ValidationError
from provgraph.orm import Bool, Dict, Float, Int, Str, to_aiida_type, to_provgraph_type

# --- serializer / to_aiida_type ------------------------------------------------------------------------


def test_to_aiida_type_is_to_provgraph_type():
    assert to_aiida_type is to_provgraph_type


@pytest.mark.parametrize(("value", "cls"), [(1, Int), (1.5, Float), ("a", Str), (True, Bool), ({"k": 1}, Dict)])
def test_to_aiida_type_converts(value, cls):
    node = to_aiida_type(value)
    assert type(node) is cls


def test_to_aiida_type_list():
    from provgraph.orm import List

    assert isinstance(to_aiida_type([1, 2]), List)


def test_to_aiida_type_node_unchanged():
    node = Int(3)
    assert to_aiida_type(node) is node


def test_to_aiida_type_unknown_type():
    with pytest.raises(ValidationError, match="no serializer"):
        to_aiida_type(object())


def test_to_aiida_type_register_new_type():
    class Celsius(float):
        pass

    @to_provgraph_type.register(Celsius)
    def _(value):
        return Float(float(value) + 273.15)

    assert to_aiida_type(Celsius(0.0)).value == pytest.approx(273.15)


def test_serializer_converts_plain_values():
    outputs = run(wc.SerializedWorkChain, number=4, flag=True, words="hi", params={"a": 1})
    assert outputs["result"].value == 8


def test_serializer_keeps_nodes():
    assert run(wc.SerializedWorkChain, number=Int(5))["result"].value == 10


def test_serializer_then_type_check():
    with pytest.raises(ValidationError, match="takes Int"):
        run(wc.SerializedWorkChain, number=2.5)


def test_serializer_in_builder():
    builder = wc.SerializedWorkChain.get_builder()
    builder.number = 3
    assert isinstance(builder.number, Int)


def test_serializer_stored_on_port():
    assert wc.SerializedWorkChain.spec().inputs["number"].serializer is to_aiida_type


def test_serializer_must_be_callable():
    class Bad(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input("x", serializer="nope")
            spec.outline(cls.go)

        def go(self):
            pass

    with pytest.raises(ValidationError, match="callable"):
        Bad.spec()


# --- input namespaces ----------------------------------------------------------------------------------


def test_optional_namespace_may_be_left_out():
    assert run(wc.NamespacedWorkChain, x=Int(1))["result"].value == 1


def test_optional_namespace_given_is_validated():
    with pytest.raises(ValidationError, match="inputs.extra.a"):
        run(wc.NamespacedWorkChain, x=Int(1), extra={"b": Int(1)})


def test_optional_namespace_given_with_defaults():
    assert run(wc.NamespacedWorkChain, x=Int(1), extra={"a": Int(2)})["result"].value == 8


def test_namespace_required_flag():
    spec = wc.NamespacedWorkChain.spec()
    assert spec.inputs["extra"].required is False and spec.inputs["extra"].help == "optional extras"


def test_required_namespace_asks_for_its_ports():
    class Strict(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input_namespace("sub")
            spec.input("sub.a", valid_type=Int)
            spec.outline(cls.go)

        def go(self):
            pass

    with pytest.raises(ValidationError, match="inputs.sub.a"):
        run(Strict)


def test_dynamic_namespace_takes_any_key():
    outputs = run(wc.NamespacedWorkChain, x=Int(1), free={"p": Int(2), "q": Int(3)})
    assert {key: node.value for key, node in outputs["free_doubled"].items()} == {"p": 4, "q": 6}


def test_dynamic_namespace_checks_type():
    with pytest.raises(ValidationError, match="inputs.free.p"):
        run(wc.NamespacedWorkChain, x=Int(1), free={"p": Str("no")})


def test_dynamic_namespace_is_port_namespace():
    free = wc.NamespacedWorkChain.spec().inputs["free"]
    assert isinstance(free, PortNamespace) and free.dynamic


def test_namespaced_input_links_use_double_underscore():
    _, node = run_get_node(wc.NamespacedWorkChain, x=Int(1), extra={"a": Int(2)}, free={"p": Int(1)})
    labels = sorted(t.link_label for t in node.base.links.get_incoming())
    assert labels == ["extra__a", "extra__b", "free__p", "x"]


def test_optional_output_namespace_may_stay_empty():
    _, node = run_get_node(wc.NamespacedWorkChain, x=Int(1))
    assert node.is_finished_ok


# --- exposed inputs and outputs ---------------------------------------------------------------------


def test_expose_inputs_copies_ports():
    inputs = wc.ExposingWorkChain.spec().inputs
    assert "x" in inputs and "y" not in inputs
    assert set(inputs["inner"].ports) >= {"y", "offset"} and "x" not in inputs["inner"].ports
    assert set(inputs["inner"]["deeper"].ports) >= {"x", "y", "offset"}


def test_exposed_port_keeps_help():
    assert wc.ExposingWorkChain.spec().inputs["x"].help == "left"


def test_exposed_inputs_agglomerate_and_lower_wins():
    outputs, node = run_get_node(wc.ExposingWorkChain, x=Int(1), inner={"y": Int(2), "deeper": {"x": Int(10),
                                                                                                "y": Int(20)}})
    messages = reports(node)
    assert "agglomerated: ['x', 'y'] x=1" in messages
    assert "deeper: ['x', 'y'] x=10 y=20" in messages
    assert "inner only: ['y']" in messages
    assert outputs["sum"].value == 3


def test_exposed_outputs_placed_by_namespace():
    outputs = run(wc.ExposingWorkChain, x=Int(1), inner={"y": Int(2), "deeper": {"x": Int(1), "y": Int(1)}})
    assert outputs["sum"].value == 3 and outputs["child"]["sum"].value == 3
    assert outputs["sum"].uuid == outputs["child"]["sum"].uuid


def test_exposed_inputs_of_class_never_exposed_is_empty():
    class Other(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.expose_inputs(wc.AddWorkChain, namespace="sub")
            spec.outline(cls.go)

        def go(self):
            self.report(f"top: {dict(self.exposed_inputs(wc.AddWorkChain))}")
            self.report(f"sub: {sorted(self.exposed_inputs(wc.AddWorkChain, namespace='sub'))}")

    _, node = run_get_node(Other, sub={"x": 1, "y": 2})
    assert reports(node) == ["top: {}", "sub: ['x', 'y']"]


def test_optional_namespace_with_defaults_is_filled_then_checked():
    class Filled(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input_namespace("extra", required=False)
            spec.input("extra.a", valid_type=Int)
            spec.input("extra.b", valid_type=Int, default=lambda: Int(5))
            spec.outline(cls.go)

        def go(self):
            pass

    with pytest.raises(ValidationError, match="inputs.extra.a"):
        run(Filled)


def test_optional_namespace_with_only_defaults_is_filled():
    class OnlyDefaults(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input_namespace("extra", required=False)
            spec.input("extra.b", valid_type=Int, default=lambda: Int(5))
            spec.outline(cls.go)

        def go(self):
            self.report(f"b={self.inputs.extra.b.value}")

    _, node = run_get_node(OnlyDefaults)
    assert reports(node) == ["b=5"]


def test_optional_namespace_without_defaults_left_out():
    class NoDefaults(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input_namespace("extra", required=False)
            spec.input("extra.a", valid_type=Int)
            spec.outline(cls.go)

        def go(self):
            self.report(f"has extra: {'extra' in self.inputs}")

    _, node = run_get_node(NoDefaults)
    assert reports(node) == ["has extra: False"]


def test_exposed_inputs_unknown_namespace():
    class Other(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.expose_inputs(wc.AddWorkChain, namespace="a")
            spec.outline(cls.go)

        def go(self):
            self.exposed_inputs(wc.AddWorkChain, namespace="zzz")

    with pytest.raises(ValidationError, match="no inputs namespace 'zzz'"):
        run(Other, a={"x": 1, "y": 2})


def test_expose_inputs_include_and_exclude_together_refused():
    class Other(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.expose_inputs(wc.AddWorkChain, include=["x"], exclude=["y"])
            spec.outline(cls.go)

        def go(self):
            pass

    with pytest.raises(ValidationError, match="exclude or include"):
        Other.spec()


def test_expose_inputs_replaces_port_of_same_name():
    class Other(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input("x", valid_type=Str)
            spec.expose_inputs(wc.AddWorkChain)
            spec.outline(cls.go)

        def go(self):
            pass

    assert Other.spec().inputs["x"].valid_type == (Int,)


class _Nested(WorkChain):
    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("top", valid_type=Int, required=False)
        spec.input("base.a", valid_type=Int)
        spec.input("base.b", valid_type=Int)
        spec.input("base.sub.c", valid_type=Int)
        spec.outline(cls.go)

    def go(self):
        pass


def _exposing(**options):
    class Exposing(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.expose_inputs(_Nested, namespace="n", **options)
            spec.outline(cls.go)

        def go(self):
            pass

    return Exposing.spec().inputs["n"]


def test_expose_exclude_nested_port():
    exposed = _exposing(exclude=("base.b", "base.sub.c"))
    assert set(exposed["base"].ports) == {"a", "sub"} and set(exposed["base"]["sub"].ports) == set()


def test_expose_include_nested_port():
    exposed = _exposing(include=("base.a",))
    assert set(exposed.ports) == {"base"} and set(exposed["base"].ports) == {"a"}


def test_expose_include_whole_namespace():
    exposed = _exposing(include=("base",))
    assert set(exposed["base"].ports) == {"a", "b", "sub"}


def test_expose_exclude_does_not_change_source():
    _exposing(exclude=("base.b",))
    assert "b" in _Nested.spec().inputs["base"].ports


def test_expose_namespace_options():
    exposed = _exposing(namespace_options={"required": False, "populate_defaults": False, "help": "optional"})
    assert exposed.required is False and exposed.populate_defaults is False and exposed.help == "optional"


def test_expose_namespace_options_unknown():
    with pytest.raises(ValidationError, match="not namespace properties"):
        _exposing(namespace_options={"colour": "red"})


def test_expose_rules_must_be_sequences():
    with pytest.raises(ValidationError, match="list or tuple"):
        _exposing(exclude="base")


def test_optional_exposed_namespace_left_out():
    class Parent(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.expose_inputs(wc.AddWorkChain, namespace="maybe",
                               namespace_options={"required": False, "populate_defaults": False})
            spec.outline(cls.go)

        def go(self):
            self.report(f"given: {'maybe' in self.inputs}")

    _, node = run_get_node(Parent)
    assert reports(node) == ["given: False"]
    _, node = run_get_node(Parent, maybe={"x": 1, "y": 2})
    assert reports(node) == ["given: True"]


def test_exposed_namespace_carries_metadata():
    inputs = wc.ExposingWorkChain.spec().inputs
    assert "metadata" in inputs["inner"].ports


# --- exit codes and outline --------------------------------------------------------------------------------


def test_exit_code_by_label():
    code = wc.FailingWorkChain.exit_codes.ERROR_TOO_BIG
    assert code.status == 401 and code.label == "ERROR_TOO_BIG"


def test_exit_code_format():
    _, node = run_get_node(wc.FailingWorkChain, x=Int(11))
    assert node.exit_status == 401 and node.exit_message == "x is too big: 11" and node.is_failed


def test_exit_code_not_hit():
    _, node = run_get_node(wc.FailingWorkChain, x=Int(1))
    assert node.is_finished_ok and node.exit_code is None or node.exit_status == 0


def test_plain_exit_code_from_step():
    _, node = run_get_node(wc.ExitCodeWorkChain)
    assert node.exit_status == 333 and node.exit_message == "plain code"


def test_exit_code_object_fields():
    code = ExitCode(400, "msg", "LABEL")
    assert (code.status, code.message, code.label) == (400, "msg", "LABEL")


def test_while_append_and_if_else():
    outputs, node = run_get_node(wc.LoopWorkChain, n=Int(3))
    assert outputs["total"].value == 1 + 2 + 3 and outputs["parity"].value == "odd"
    assert len(node.called) == 3 + 2


def test_if_branch_even():
    assert run(wc.LoopWorkChain, n=Int(2))["parity"].value == "even"


def test_while_never_entered():
    assert run(wc.LoopWorkChain, n=Int(0))["total"].value == 0


def test_missing_outline_refused():
    class NoOutline(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)

    with pytest.raises(ValidationError, match="no outline"):
        NoOutline.spec()


@pytest.mark.parametrize("name", ["submit", "report", "out", "to_context", "exposed_inputs", "ctx", "inputs",
                                  "node", "spec", "checkpoint", "step"])
def test_outline_step_named_like_engine_method_refused(name):
    def step(self):
        return None

    step.__name__ = step.__qualname__ = name
    namespace = {"define": classmethod(lambda cls, spec: (WorkChain.define.__func__(cls, spec),
                                                          spec.outline(step)))}
    colliding = type("Colliding", (WorkChain,), namespace)
    with pytest.raises(ValidationError, match=f"{name}.*taken by the engine"):
        colliding.spec()


def test_outline_condition_named_like_engine_method_refused():
    class Colliding(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.outline(cls.go)

        def go(self):
            pass

    def is_terminated(self):
        return False

    from provgraph.engine import while_

    Colliding.define = classmethod(lambda cls, spec: (WorkChain.define.__func__(cls, spec),
                                                      spec.outline(while_(is_terminated)(cls.go))))
    with pytest.raises(ValidationError, match="is_terminated"):
        Colliding.spec()


def test_colliding_workchain_stores_nothing_when_run():
    from provgraph.orm import QueryBuilder, WorkChainNode

    class Report(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.outline(cls.report)

    before = QueryBuilder().append(WorkChainNode).count()
    with pytest.raises(ValidationError, match="report"):
        run(Report)
    assert QueryBuilder().append(WorkChainNode).count() == before


def test_spec_input_help_and_valid_type():
    port = wc.AddWorkChain.spec().inputs["x"]
    assert port.help == "left" and port.valid_type == (Int,)


def test_get_builder_restart():
    _, node = run_get_node(wc.AddWorkChain, x=Int(1), y=Int(2), offset=Int(3))
    builder = node.get_builder_restart()
    assert builder.process_class is wc.AddWorkChain
    assert builder.x.value == 1 and builder.offset.value == 3
    builder.y = Int(100)
    assert run(builder)["sum"].value == 104


def test_get_builder_restart_nested():
    _, node = run_get_node(wc.NamespacedWorkChain, x=Int(1), extra={"a": Int(2)})
    builder = node.get_builder_restart()
    assert builder.extra.a.value == 2 and builder.extra.b.value == 5


def test_get_builder_restart_of_function():
    _, node = wc.add.run_get_node(Int(1), Int(2))
    builder = node.get_builder_restart()
    assert run(builder).value == 3


def test_documented_add_and_multiply():
    outputs, node = run_get_node(wc.AddAndMultiplyWorkChain, x=Int(1), y=Int(2), z=Int(3))
    assert outputs["result"].value == 9 and outputs["extra_sum"].value == 3 and node.is_finished_ok


def test_untyped_port_takes_any_data():
    assert run(wc.AddAndMultiplyWorkChain, x=Int(1), y=Float(2.5), z=Int(2))["result"].value == 7.0


def test_untyped_port_wraps_plain_values():
    assert run(wc.AddAndMultiplyWorkChain, x=1, y=2, z=3)["result"].value == 9


def test_port_validator_message():
    with pytest.raises(ValidationError, match="x must be non-negative"):
        run(wc.AddAndMultiplyWorkChain, x=Int(-1), y=Int(2), z=Int(3))


def test_namespace_validator_message():
    with pytest.raises(ValidationError, match="y and z cannot both be zero"):
        run(wc.AddAndMultiplyWorkChain, x=Int(1), y=Int(0), z=Int(0))


def test_dynamic_outputs_undeclared_label():
    _, node = run_get_node(wc.AddAndMultiplyWorkChain, x=Int(1), y=Int(1), z=Int(1))
    labels = {t.link_label for t in node.base.links.get_outgoing()}
    assert {"result", "extra_sum"} <= labels


def test_context_node_survives_between_steps():
    _, node = run_get_node(wc.AddAndMultiplyWorkChain, x=Int(2), y=Int(2), z=Int(2))
    add_node = next(c for c in node.called if c.process_label == "add")
    mul_node = next(c for c in node.called if c.process_label == "multiply")
    created = add_node.base.links.get_outgoing().one().node
    assert created.uuid in {t.node.uuid for t in mul_node.base.links.get_incoming()}


def test_exposed_outputs_shape_as_aiida():
    outputs, node = run_get_node(wc.ExposedShapeWorkChain, inner={"x": Int(1)})
    assert reports(node) == [
        "{'child.ns': 'AttributeDict', 'child.sum': 'Int'}",
        "{'ns': 'AttributeDict', 'sum': 'Int'}",
        "{'child.ns': 'AttributeDict', 'child.sum': 'Int'}",
    ]
    assert sorted(outputs) == ["child", "ns", "sum"]
    assert outputs["child"]["ns"]["a"].value == 7 and outputs["child"]["sum"].value == 2
