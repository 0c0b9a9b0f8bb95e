"""An example CalcJob, its parser and a WorkChain using it, under AiiDA's entry-point names.

``core.arithmetic.add`` (calculations and parsers; also ``core.arithmetic.add_job``) and the
``core.arithmetic.multiply_add`` workflow, as in AiiDA.

:class:`ArithmeticAddCalculation` writes ``echo $((x + y))`` into its input file and runs a
shell (an InstalledCode such as ``/bin/bash``) on it, the input file on standard input and the
output file as standard output; :class:`ArithmeticAddParser` turns the output file into the
``sum`` Int. Tests and ``bench/calcjobs.py`` use them because every worker can import them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provgraph.engine.processes.calcjobs import CalcInfo, CalcJob, CodeInfo, Parser
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.workchain import ToContext, WorkChain
from provgraph.exceptions import NotExistent
from provgraph.orm.nodes.data.code import AbstractCode
from provgraph.orm.nodes.data.numeric import Int

__all__ = ["ArithmeticAddCalculation", "ArithmeticAddParser", "MultiplyAddWorkChain"]


class ArithmeticAddCalculation(CalcJob):
    """``x + y`` computed by a shell on the computer."""

    default_parser = "core.arithmetic.add"

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs x and y (Int), output sum (Int); the input and output file names are options."""
        super().define(spec)
        spec.input("x", valid_type=Int, help="the left operand")
        spec.input("y", valid_type=Int, help="the right operand")
        spec.input("metadata.options.input_filename", valid_type=str, default="aiida.in", non_db=True)
        spec.input("metadata.options.output_filename", valid_type=str, default="aiida.out", non_db=True)
        spec.output("sum", valid_type=Int, help="x + y")
        spec.exit_code(310, "ERROR_READING_OUTPUT_FILE", "the output file could not be read")
        spec.exit_code(320, "ERROR_INVALID_OUTPUT", "the output file does not hold an integer")
        spec.exit_code(410, "ERROR_NEGATIVE_NUMBER", "the sum is negative")

    def prepare_for_submission(self, folder: Path) -> CalcInfo:
        """Write the input script; run the code on it, the output going to the output file."""
        input_name, output_name = self.option("input_filename"), self.option("output_filename")
        (folder / input_name).write_text(f"echo $(({self.inputs.x.value} + {self.inputs.y.value}))\n")
        code = CodeInfo(stdin_name=input_name, stdout_name=output_name, code_uuid=self.inputs.code.uuid)
        return CalcInfo(codes_info=[code], retrieve_list=[output_name])


class ArithmeticAddParser(Parser):
    """Reads the integer the shell printed into ``sum``."""

    def parse(self, **kwargs: Any) -> ExitCode | None:
        """``sum`` from the output file; exit codes 310, 320 or 410 when it is missing, not a number or negative."""
        name = self.option("output_filename", "aiida.out")
        try:
            text = self.retrieved.get_object_content(name)
        except (NotExistent, OSError):  # a missing file is the parser's verdict, not a crash
            return self.exit_codes.ERROR_READING_OUTPUT_FILE
        try:
            value = int(str(text).strip())
        except ValueError:
            return self.exit_codes.ERROR_INVALID_OUTPUT
        self.out("sum", Int(value))
        if value < 0:
            return self.exit_codes.ERROR_NEGATIVE_NUMBER
        return None


class MultiplyAddWorkChain(WorkChain):
    """``x * y + z``: ``multiply`` as a calcfunction, then the sum by :class:`ArithmeticAddCalculation` on ``code``."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs x, y, z (Int) and code; output result (Int); exit code 400 for a negative result."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.input("y", valid_type=Int)
        spec.input("z", valid_type=Int)
        spec.input("code", valid_type=AbstractCode)
        spec.outline(cls.multiply, cls.add, cls.validate_result, cls.result)
        spec.output("result", valid_type=Int)
        spec.exit_code(400, "ERROR_NEGATIVE_NUMBER", "The result is a negative number.")

    def multiply(self) -> None:
        """The product of x and y, by the ``multiply`` calcfunction."""
        from provgraph.engine.examples import multiply

        self.ctx.product = multiply(self.inputs.x, self.inputs.y)

    def add(self) -> ToContext:
        """Submit the addition of the product and z on the code."""
        future = self.submit(ArithmeticAddCalculation, x=self.ctx.product, y=self.inputs.z, code=self.inputs.code)
        self.report(f"Submitted the `ArithmeticAddCalculation`: {future}")
        return ToContext(addition=future)

    def validate_result(self) -> ExitCode | None:
        """A negative sum fails the workflow with ERROR_NEGATIVE_NUMBER."""
        if self.ctx.addition.base.links.get_outgoing(link_label_filter="sum").one().node.value < 0:
            return self.exit_codes.ERROR_NEGATIVE_NUMBER
        return None

    def result(self) -> None:
        """Attach the sum as ``result``."""
        self.out("result", self.ctx.addition.base.links.get_outgoing(link_label_filter="sum").one().node)
