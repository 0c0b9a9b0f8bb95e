"""WorkChains of the engine compatibility tests, written as an AiiDA 2.x user would (imports renamed).

They live in an importable module so that ``submit()`` accepts them.
"""

from __future__ import annotations

from provgraph.engine import ExitCode, ToContext, WorkChain, append_, calcfunction, if_, while_
from provgraph.orm import Bool, Dict, Int, Str, to_aiida_type


@calcfunction
def add(x, y):
    return x + y


@calcfunction
def double(x):
    return Int(x.value * 2)


class AddWorkChain(WorkChain):
    """x + y, with an optional offset."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", valid_type=Int, help="left")
        spec.input("y", valid_type=Int, help="right")
        spec.input("offset", valid_type=Int, required=False)
        spec.outline(cls.compute)
        spec.output("sum", valid_type=Int)

    def compute(self):
        total = add(self.inputs.x, self.inputs.y)
        if "offset" in self.inputs:
            total = add(total, self.inputs.offset)
        self.out("sum", total)


class SerializedWorkChain(WorkChain):
    """Inputs declared with ``serializer=to_aiida_type``."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("number", valid_type=Int, serializer=to_aiida_type)
        spec.input("flag", valid_type=Bool, serializer=to_aiida_type, default=lambda: Bool(False))
        spec.input("words", valid_type=Str, serializer=to_aiida_type, required=False)
        spec.input("params", valid_type=Dict, serializer=to_aiida_type, required=False)
        spec.outline(cls.compute)
        spec.output("result", valid_type=Int)

    def compute(self):
        self.out("result", double(self.inputs.number))


class NamespacedWorkChain(WorkChain):
    """An optional input namespace with required ports, and a dynamic one."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.input_namespace("extra", required=False, populate_defaults=False, help="optional extras")
        spec.input("extra.a", valid_type=Int)
        spec.input("extra.b", valid_type=Int, default=lambda: Int(5))
        spec.input_namespace("free", dynamic=True, valid_type=Int, required=False)
        spec.outline(cls.compute)
        spec.output("result", valid_type=Int)
        spec.output_namespace("free_doubled", dynamic=True, valid_type=Int, required=False)

    def compute(self):
        total = self.inputs.x
        if "extra" in self.inputs:
            total = add(add(total, self.inputs.extra.a), self.inputs.extra.b)
        self.out("result", total if not total.is_stored else add(total, Int(0)))
        for key, value in self.inputs.get("free", {}).items():
            self.out(f"free_doubled.{key}", double(value))


class ExposingWorkChain(WorkChain):
    """Exposes AddWorkChain's inputs at the top, in ``inner``, and in ``inner.deeper``."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(AddWorkChain, include=["x"])
        spec.expose_inputs(AddWorkChain, namespace="inner", exclude=["x"])
        spec.expose_inputs(AddWorkChain, namespace="inner.deeper")
        spec.expose_outputs(AddWorkChain)
        spec.expose_outputs(AddWorkChain, namespace="child")
        spec.outline(cls.run_child, cls.results)

    def run_child(self):
        gathered = self.exposed_inputs(AddWorkChain, namespace="inner")
        self.report(f"agglomerated: {sorted(gathered)} x={gathered['x'].value}")
        deeper = self.exposed_inputs(AddWorkChain, namespace="inner.deeper")
        self.report(f"deeper: {sorted(deeper)} x={deeper['x'].value} y={deeper['y'].value}")
        flat = self.exposed_inputs(AddWorkChain, namespace="inner", agglomerate=False)
        self.report(f"inner only: {sorted(flat)}")
        return ToContext(child=self.submit(AddWorkChain, **gathered))

    def results(self):
        self.out_many(self.exposed_outputs(self.ctx.child, AddWorkChain))
        self.out_many(self.exposed_outputs(self.ctx.child, AddWorkChain, namespace="child", agglomerate=False))


class LoopWorkChain(WorkChain):
    """while_ with append_ and an if_/else_."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("n", valid_type=Int)
        spec.outline(
            cls.setup,
            while_(cls.not_done)(cls.launch, cls.count),
            if_(cls.is_even)(cls.even).else_(cls.odd),
        )
        spec.output("total", valid_type=Int)
        spec.output("parity", valid_type=Str)

    def setup(self):
        self.ctx.i = 0

    def not_done(self):
        return self.ctx.i < self.inputs.n.value

    def launch(self):
        return ToContext(children=append_(self.submit(AddWorkChain, x=Int(self.ctx.i), y=Int(1))))

    def count(self):
        self.ctx.i += 1

    def is_even(self):
        return self.inputs.n.value % 2 == 0

    def even(self):
        self._finish_with("even")

    def odd(self):
        self._finish_with("odd")

    def _finish_with(self, parity):
        total = sum(child.base.links.get_outgoing(link_label_filter="sum").one().node.value
                    for child in self.ctx.get("children", []))
        self.out("total", add(Int(total), Int(0)))
        self.out("parity", add_str(Str(parity)))


@calcfunction
def add_str(s):
    return Str(s.value)


class FailingWorkChain(WorkChain):
    """Returns an exit code from a step."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.outline(cls.check)
        spec.exit_code(401, "ERROR_TOO_BIG", "x is too big: {x}")

    def check(self):
        if self.inputs.x.value > 10:
            return self.exit_codes.ERROR_TOO_BIG.format(x=self.inputs.x.value)
        return None


class RaisingWorkChain(WorkChain):
    """Raises the user's own exception in a step."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.outline(cls.explode)

    def explode(self):
        raise ZeroDivisionError(f"user error {self.inputs.x.value}")


class ParentOfRaisingWorkChain(WorkChain):
    """Waits for a child that raises; then fails with an exit code."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.launch, cls.inspect)
        spec.exit_code(450, "ERROR_CHILD", "the child failed")

    def launch(self):
        return ToContext(child=self.submit(RaisingWorkChain, x=Int(3)))

    def inspect(self):
        if not self.ctx.child.is_finished_ok:
            return self.exit_codes.ERROR_CHILD
        return None


class UnserializableContextWorkChain(WorkChain):
    """Puts a value in the context that the engine cannot checkpoint (its machinery fails, not the step)."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.first, cls.second)

    def first(self):
        self.ctx.handle = object()

    def second(self):
        pass


class ParentOfBrokenWorkChain(WorkChain):
    """Waits for a child whose checkpoint cannot be written."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.launch, cls.inspect)
        spec.output("child_excepted", valid_type=Bool)

    def launch(self):
        return ToContext(child=self.submit(UnserializableContextWorkChain))

    def inspect(self):
        self.out("child_excepted", as_bool(Bool(self.ctx.child.is_excepted)))


@calcfunction
def as_bool(b):
    return Bool(b.value)


class ExitCodeWorkChain(WorkChain):
    """Ends with a plain ExitCode from a step."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.step_one)

    def step_one(self):
        return ExitCode(333, "plain code")


class BrokenHookWorkChain(WorkChain):
    """Its status hook (called by the engine, not by the outline) raises: the engine's own machinery fails."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.first, cls.second)

    def first(self):
        self.ctx.ok = True

    def second(self):
        pass

    def status_text(self):
        raise RuntimeError("status hook broke")


class ParentOfBrokenHookWorkChain(WorkChain):
    """Waits for BrokenHookWorkChain."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.launch, cls.inspect)
        spec.output("child_excepted", valid_type=Bool)

    def launch(self):
        return ToContext(child=self.submit(BrokenHookWorkChain))

    def inspect(self):
        self.out("child_excepted", as_bool(Bool(self.ctx.child.is_excepted)))


@calcfunction
def pk_of(x):
    return Int(x.pk)


class UnstoredInputsWorkChain(WorkChain):
    """A step passing new (unstored) values to calcfunctions, one feeding the next."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.compute)
        spec.output("first", valid_type=Int)
        spec.output("first_pk", valid_type=Int)
        spec.output("new_pk", valid_type=Int)

    def compute(self):
        first = add(Int(20), Int(22))
        self.out("first", first)
        self.out("first_pk", pk_of(first))
        self.out("new_pk", pk_of(Int(7)))


class SubmitDictWorkChain(WorkChain):
    """Submits its child with a positional inputs dict, as AiiDA's ``self.submit(Cls, inputs)``."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.launch, cls.collect)
        spec.output("sum", valid_type=Int)

    def launch(self):
        return ToContext(child=self.submit(AddWorkChain, {"x": Int(2), "y": Int(3)}))

    def collect(self):
        self.out("sum", self.ctx.child.base.links.get_outgoing(link_label_filter="sum").one().node)


@calcfunction
def multiply(x, y):
    return x * y


def validate_x(value, _):
    """An input validator as in AiiDA's documentation: return an error message or None."""
    if value.value < 0:
        return "x must be non-negative"
    return None


def validate_inputs(inputs, _):
    """A whole-namespace validator."""
    if "y" in inputs and "z" in inputs and inputs["y"].value == inputs["z"].value == 0:
        return "y and z cannot both be zero"
    return None


class AddAndMultiplyWorkChain(WorkChain):
    """The documented add-then-multiply example: ports without types, results kept in the context."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", validator=validate_x)
        spec.input("y")
        spec.input("z")
        spec.inputs.validator = validate_inputs
        spec.outline(cls.add, cls.multiply, cls.results)
        spec.output("result")
        spec.outputs.dynamic = True

    def add(self):
        self.ctx.sum = add(self.inputs.x, self.inputs.y)

    def multiply(self):
        self.ctx.product = multiply(self.ctx.sum, self.inputs.z)

    def results(self):
        self.out("result", self.ctx.product)
        self.out("extra_sum", self.ctx.sum)


class NamespacedOutputsWorkChain(WorkChain):
    """A child with an output namespace."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.outline(cls.go)
        spec.output("sum", valid_type=Int)
        spec.output("ns.a", valid_type=Int)

    def go(self):
        self.out("sum", double(self.inputs.x))
        self.out("ns.a", add(self.inputs.x, Int(6)))


class ExposedShapeWorkChain(WorkChain):
    """Reports the shape of exposed_outputs as AiiDA gives it."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(NamespacedOutputsWorkChain, namespace="inner")
        spec.expose_outputs(NamespacedOutputsWorkChain, namespace="child")
        spec.expose_outputs(NamespacedOutputsWorkChain)
        spec.outline(cls.go, cls.results)

    def go(self):
        inputs = self.exposed_inputs(NamespacedOutputsWorkChain, namespace="inner")
        return ToContext(c=self.submit(NamespacedOutputsWorkChain, **inputs))

    def results(self):
        for kwargs in ({"namespace": "child"}, {}, {"namespace": "child", "agglomerate": False}):
            found = self.exposed_outputs(self.ctx.c, NamespacedOutputsWorkChain, **kwargs)
            self.report(str({key: type(value).__name__ for key, value in sorted(found.items())}))
        self.out_many(self.exposed_outputs(self.ctx.c, NamespacedOutputsWorkChain, namespace="child"))
        self.out_many(self.exposed_outputs(self.ctx.c, NamespacedOutputsWorkChain))
