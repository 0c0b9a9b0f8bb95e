"""Processes used by the engine tests; importable (also by spawned interpreters) as ``workflows_for_tests``."""

from __future__ import annotations

from provgraph.engine import ToContext, WorkChain, append_, calcfunction, if_, return_, while_, workfunction
from provgraph.orm import Dict, Int, Str


@calcfunction
def add(x, y):
    """x + y."""
    return x + y


@calcfunction
def scale(x, factor=3, offset=None):
    """x * factor (+ offset when given)."""
    result = x * factor
    return result + offset if offset is not None else result


@calcfunction
def total(**values):
    """The sum of any number of inputs."""
    return Int(sum(value.value for value in values.values()))


@calcfunction
def split(x):
    """A nested dict of outputs."""
    return {"half": Int(x.value // 2), "parts": {"low": Int(x.value % 2), "high": Int(x.value - x.value % 2)}}


@calcfunction
def fail(x):
    """Always raises."""
    raise ValueError(f"boom {x.value}")


@calcfunction
def return_input(x):
    """Wrong: a calculation returning existing data."""
    return x


@calcfunction
def return_plain(x):
    """Wrong: a plain value instead of a node."""
    return x.value


@calcfunction
def call_other(x):
    """Wrong: a calculation calling a process."""
    return add(x, x)


@workfunction
def pick(x, y):
    """Return an input unchanged (allowed: logical provenance may loop back)."""
    return {"picked": x}


@workfunction
def fetch(pk):
    """Return existing data that is not an input: the stored node ``pk``."""
    from provgraph.orm import load_node

    return {"fetched": load_node(pk.value)}


@workfunction
def add_then_scale(x, y, factor=2):
    """Call two calcfunctions and return the last result."""
    return scale(add(x, y), factor)


@workfunction
def make_new(x):
    """Wrong: a workflow creating data."""
    return Int(x.value + 1)


def positive(value, _port):
    """Validator: the Int must be positive."""
    return None if value.value > 0 else f"must be positive, got {value.value}"


class ChildWorkChain(WorkChain):
    """Double x with a calcfunction."""

    @classmethod
    def define(cls, spec):
        """x -> result = 2x."""
        super().define(spec)
        spec.input("x", valid_type=Int, validator=positive)
        spec.input("factor", valid_type=Int, default=lambda: Int(2))
        spec.output("result", valid_type=Int)
        spec.outline(cls.compute)

    def compute(self):
        """Scale x."""
        self.out("result", scale(self.inputs.x, self.inputs.factor))


class OutlineWorkChain(WorkChain):
    """Every outline construct: if_/elif_/else_, while_ with append_, ToContext, return_ with and without code."""

    @classmethod
    def define(cls, spec):
        """n, mode, children, fail; outputs value, total, doubled.* ."""
        super().define(spec)
        spec.input("n", valid_type=Int)
        spec.input("mode", valid_type=Str, default=lambda: Str("a"))
        spec.input("children", valid_type=Int, default=lambda: Int(2))
        spec.input("fail", valid_type=bool, default=False, non_db=True)
        spec.output("value", valid_type=Int)
        spec.output("total", valid_type=Int)
        spec.output_namespace("doubled", dynamic=True, valid_type=Int)
        spec.exit_code(400, "ERROR_REQUESTED", "failure requested with n={n}")
        spec.outline(
            cls.setup,
            if_(cls.mode_is_a)(cls.branch_a).elif_(cls.mode_is_b)(cls.branch_b).else_(cls.branch_c),
            while_(cls.more_children)(cls.launch_child),
            cls.launch_single,
            cls.results,
            if_(cls.fail_requested)(return_("ERROR_REQUESTED")),
            return_,
            cls.never_reached,
        )

    def setup(self):
        """Initialise the context with plain values, a list and a node."""
        self.ctx.launched = 0
        self.ctx.trace = ["setup"]
        self.ctx.options = {"@weird": 1, "nested": {"k": [1, 2]}}
        self.ctx.seed = self.inputs.n

    def mode_is_a(self):
        """Mode a?"""
        return self.inputs.mode.value == "a"

    def mode_is_b(self):
        """Mode b?"""
        return self.inputs.mode.value == "b"

    def branch_a(self):
        """n + 100."""
        self.ctx.trace.append("a")
        self.ctx.value = add(self.inputs.n, Int(100))

    def branch_b(self):
        """n + 200."""
        self.ctx.trace.append("b")
        self.ctx.value = add(self.inputs.n, Int(200))

    def branch_c(self):
        """n + 300."""
        self.ctx.trace.append("c")
        self.ctx.value = add(self.inputs.n, Int(300))

    def more_children(self):
        """Until `children` children were launched."""
        return self.ctx.launched < self.inputs.children.value

    def launch_child(self):
        """Submit one child per loop turn and wait for it (appended to ctx.children)."""
        self.ctx.launched += 1
        self.ctx.trace.append(f"child{self.ctx.launched}")
        child = self.submit(ChildWorkChain, x=Int(self.ctx.launched))
        return ToContext(children=append_(child))

    def launch_single(self):
        """One more child, set (not appended) in the context."""
        self.to_context(single=self.submit(ChildWorkChain, x=self.ctx.seed, factor=Int(10)))

    def results(self):
        """Attach the outputs."""
        self.ctx.trace.append("results")
        self.out("value", self.ctx.value)
        results = {f"c{i}": child.outputs["result"] for i, child in enumerate(self.ctx.children)}
        self.out_many({"doubled": results})
        self.out("total", total(single=self.ctx.single.outputs["result"], **results))
        self.report("trace %s", ",".join(self.ctx.trace))
        assert self.ctx.options == {"@weird": 1, "nested": {"k": [1, 2]}}

    def fail_requested(self):
        """Whether the fail input asks for a non-zero exit."""
        return self.inputs.fail

    def never_reached(self):
        """After return_: must never run."""
        raise AssertionError("return_ did not end the WorkChain")


class ExposingWorkChain(WorkChain):
    """Expose ChildWorkChain's inputs in a namespace and its outputs at the top; dynamic and non-db inputs."""

    @classmethod
    def define(cls, spec):
        """child.* from ChildWorkChain; extras.* dynamic Ints; tag non-db."""
        super().define(spec)
        spec.expose_inputs(ChildWorkChain, namespace="child", exclude=("factor",))
        spec.expose_outputs(ChildWorkChain)
        spec.input_namespace("extras", dynamic=True, valid_type=Int)
        spec.input("tag", valid_type=str, non_db=True, required=False)
        spec.input("settings", valid_type=Dict, required=False)
        spec.output("extras_total", valid_type=Int, required=False)
        spec.outline(cls.run_child, cls.results)

    def run_child(self):
        """Submit the child with the exposed inputs."""
        inputs = self.exposed_inputs(ChildWorkChain, namespace="child")
        assert set(inputs) == {"x"}, inputs
        return ToContext(child=self.submit(ChildWorkChain, **inputs))

    def results(self):
        """Forward the child's outputs; sum the extras."""
        self.out_many(self.exposed_outputs(self.ctx.child, ChildWorkChain))
        if self.inputs.get("extras"):
            self.out("extras_total", total(**self.inputs.extras))
        self.report("tag=%s", self.inputs.get("tag"))


class FailingWorkChain(WorkChain):
    """A step returns a non-zero exit code."""

    @classmethod
    def define(cls, spec):
        """No inputs; exit code 410."""
        super().define(spec)
        spec.exit_code(410, "ERROR_BAD", "bad thing: {what}")
        spec.outline(cls.check, cls.never_reached)

    def check(self):
        """Fail."""
        self.report("about to fail")
        return self.exit_codes.ERROR_BAD.format(what="always")

    def never_reached(self):
        """Not run."""
        raise AssertionError("the WorkChain went on after a non-zero exit code")


class MissingOutputWorkChain(WorkChain):
    """Ends without its required output."""

    @classmethod
    def define(cls, spec):
        """Output result is required."""
        super().define(spec)
        spec.output("result", valid_type=Int)
        spec.outline(cls.nothing)

    def nothing(self):
        """Attach nothing."""


class ExceptingWorkChain(WorkChain):
    """A step calls a calcfunction that raises."""

    @classmethod
    def define(cls, spec):
        """x."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.outline(cls.explode)

    def explode(self):
        """Call the failing calcfunction."""
        self.report("calling fail")
        fail(self.inputs.x)


class ParentWorkChain(WorkChain):
    """Submit a ChildWorkChain and a nested ParentWorkChain (depth levels), and wait for them."""

    @classmethod
    def define(cls, spec):
        """depth."""
        super().define(spec)
        spec.input("depth", valid_type=Int, default=lambda: Int(1))
        spec.output("result", valid_type=Int, required=False)
        spec.outline(cls.launch, cls.results)

    def launch(self):
        """Submit the children."""
        children = {"child": self.submit(ChildWorkChain, x=Int(self.inputs.depth.value + 1))}
        if self.inputs.depth.value > 0:
            children["nested"] = self.submit(ParentWorkChain, depth=Int(self.inputs.depth.value - 1))
        return ToContext(**children)

    def results(self):
        """Forward the child's result."""
        self.out("result", self.ctx.child.outputs["result"])


class InlineRunWorkChain(WorkChain):
    """A step runs a workfunction and a whole WorkChain inline (they join the step's commit)."""

    @classmethod
    def define(cls, spec):
        """x; outputs from_workfunction and from_workchain."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("from_workfunction", valid_type=Int)
        spec.output("from_workchain", valid_type=Int)
        spec.outline(cls.inline)

    def inline(self):
        """Run both inline."""
        from provgraph.engine import run

        self.out("from_workfunction", add_then_scale(self.inputs.x, Int(1)))
        self.out("from_workchain", run(ChildWorkChain, x=self.inputs.x)["result"])


def continue_in_fresh_interpreter(pk: int) -> dict:
    """Entry point of a spawned interpreter: drive process ``pk`` to its end from its stored checkpoint."""
    from provgraph.engine.launch import Runner
    from provgraph.profiles import load_profile

    load_profile("services")
    result = Runner().drive(pk)
    return result.to_dict()


class CalcThenChildWorkChain(WorkChain):
    """Issue 5's fault-test workflow: a calcfunction, a child WorkChain, then a calcfunction on its result.

    ``result = ((x + y) + y) * z + z`` (the child is the AddMultiplyWorkChain of the examples).
    """

    @classmethod
    def define(cls, spec):
        """x, y, z -> result."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.input("y", valid_type=Int)
        spec.input("z", valid_type=Int)
        spec.output("result", valid_type=Int)
        spec.outline(cls.add_first, cls.run_child, cls.finish)

    def add_first(self):
        """x + y with a calcfunction."""
        self.ctx.sum = add(self.inputs.x, self.inputs.y)

    def run_child(self):
        """Submit the child and wait for it."""
        from provgraph.engine.examples import AddMultiplyWorkChain

        return ToContext(child=self.submit(AddMultiplyWorkChain, x=self.ctx.sum, y=self.inputs.y, z=self.inputs.z))

    def finish(self):
        """Add z to the child's result with a calcfunction."""
        self.out("result", add(self.ctx.child.outputs["result"], self.inputs.z))
