"""Example processes shipped with provgraph (registered as ``core.arithmetic.*`` entry points).

They mirror AiiDA's tutorial: ``add`` and ``multiply`` calcfunctions, and the
``AddMultiplyWorkChain`` computing ``(x + y) * z`` with them. Benchmarks and tests
use them because a worker can always import them.
"""

from __future__ import annotations

from provgraph.engine.processes.functions import calcfunction, workfunction
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.workchain import ToContext, WorkChain
from provgraph.orm.nodes.data.numeric import Int, NumericType


@calcfunction
def add(x: NumericType, y: NumericType) -> NumericType:
    """Return ``x + y`` as a new node."""
    return x + y


@calcfunction
def multiply(x: NumericType, y: NumericType) -> NumericType:
    """Return ``x * y`` as a new node."""
    return x * y


@workfunction
def add_multiply(x: NumericType, y: NumericType, z: NumericType) -> NumericType:
    """Return ``(x + y) * z``, calling ``add`` and ``multiply``."""
    return multiply(add(x, y), z)


class AddMultiplyWorkChain(WorkChain):
    """``(x + y) * z`` in two steps: add, then multiply."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs x, y, z; output result."""
        super().define(spec)
        spec.input("x", valid_type=NumericType)
        spec.input("y", valid_type=NumericType)
        spec.input("z", valid_type=NumericType)
        spec.outline(cls.add, cls.multiply, cls.results)
        spec.output("result", valid_type=NumericType)

    def add(self) -> None:
        """Add x and y."""
        self.ctx.sum = add(self.inputs.x, self.inputs.y)

    def multiply(self) -> None:
        """Multiply the sum by z."""
        self.ctx.product = multiply(self.ctx.sum, self.inputs.z)

    def results(self) -> None:
        """Return the product."""
        self.out("result", self.ctx.product)


class NestedAddMultiplyWorkChain(WorkChain):
    """Submit an AddMultiplyWorkChain as a child, wait for it, and return its result."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """The inputs of AddMultiplyWorkChain, exposed; output result."""
        super().define(spec)
        spec.expose_inputs(AddMultiplyWorkChain)
        spec.outline(cls.submit_child, cls.results)
        spec.output("result", valid_type=NumericType)

    def submit_child(self) -> ToContext:
        """Submit the child and wait for it."""
        return ToContext(child=self.submit(AddMultiplyWorkChain, **self.exposed_inputs(AddMultiplyWorkChain)))

    def results(self) -> None:
        """Forward the child's result."""
        self.out("result", self.ctx.child.outputs["result"])


__all__ = ["AddMultiplyWorkChain", "Int", "NestedAddMultiplyWorkChain", "add", "add_multiply", "multiply"]
