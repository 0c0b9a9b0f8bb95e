"""The workflow of ``make demo`` (entry point ``core.demo.main_job``).

:class:`MainJobWorkChain` shows every kind of process in one provenance graph: it calls the
``add`` calcfunction, runs an ``AddMultiplyWorkChain`` as a child and waits for it, then
sends the child's result and ``z`` through :class:`ArithmeticAddCalculation`, a CalcJob that
runs a real shell on its input file through the code's computer (``core.local`` + ``core.direct``
in the demo), and multiplies what the job computed by ``z`` with the ``multiply`` calcfunction.
"""

from __future__ import annotations

from provgraph.engine.examples import AddMultiplyWorkChain, add, multiply
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.workchain import ToContext, WorkChain
from provgraph.orm.nodes.data.code import AbstractCode
from provgraph.orm.nodes.data.numeric import Int

__all__ = ["MainJobWorkChain"]


class MainJobWorkChain(WorkChain):
    """``((x + y) + z) * z`` via a calcfunction, a child WorkChain, a CalcJob and a calcfunction."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs x, y, z (Int) and the code the CalcJob runs; outputs each intermediate and the result."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.input("y", valid_type=Int)
        spec.input("z", valid_type=Int)
        spec.input("code", valid_type=AbstractCode, help="a shell (e.g. /bin/bash) on the job's computer")
        spec.outline(cls.add_inputs, cls.run_child, cls.run_job, cls.finish)
        spec.output("sum", valid_type=Int, help="x + y, by the add calcfunction")
        spec.output("child_result", valid_type=Int, help="(x + y) * z, by the child AddMultiplyWorkChain")
        spec.output("job_sum", valid_type=Int, help="child_result + z, by the CalcJob")
        spec.output("result", valid_type=Int, help="job_sum * z, by the multiply calcfunction")
        spec.exit_code(400, "ERROR_CHILD_FAILED", "a called process did not finish successfully")

    def add_inputs(self) -> None:
        """x + y with a calcfunction, right here in the step."""
        self.ctx.sum = add(self.inputs.x, self.inputs.y)
        self.out("sum", self.ctx.sum)

    def run_child(self) -> ToContext:
        """Submit the child WorkChain and wait for it (the worker slot is freed meanwhile)."""
        self.report("submitting the child AddMultiplyWorkChain")
        return ToContext(child=self.submit(AddMultiplyWorkChain, x=self.inputs.x, y=self.inputs.y, z=self.inputs.z))

    def run_job(self) -> ToContext | ExitCode | None:
        """Submit the CalcJob on the child's result and wait for it."""
        if not self.ctx.child.is_finished_ok:
            return self.exit_codes.ERROR_CHILD_FAILED
        self.ctx.child_result = self.ctx.child.outputs["result"]
        self.out("child_result", self.ctx.child_result)
        self.report(f"child gave {self.ctx.child_result.value}; submitting the CalcJob")
        options = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}
        return ToContext(job=self.submit(ArithmeticAddCalculation, code=self.inputs.code, x=self.ctx.child_result,
                                         y=self.inputs.z, metadata={"options": options}))

    def finish(self) -> ExitCode | None:
        """Multiply what the job computed by z."""
        if not self.ctx.job.is_finished_ok:
            return self.exit_codes.ERROR_CHILD_FAILED
        job_sum = self.ctx.job.outputs["sum"]
        self.out("job_sum", job_sum)
        self.out("result", multiply(job_sum, self.inputs.z))
        return None
