"""Helpers of the restart work chain tests: a code that fails in a scripted way, and restart work chains."""

from __future__ import annotations

import uuid
from pathlib import Path

from provgraph.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.orm.computers import Computer
from provgraph.orm.nodes.data.code import InstalledCode
from provgraph.orm.nodes.data.numeric import Int

OPTIONS = {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


def local_computer(workdir: Path) -> Computer:
    """A stored core.local + core.direct computer working below ``workdir``, polled every 0.2 s."""
    return Computer(f"pg-restart-{uuid.uuid4().hex[:10]}", "localhost", "core.local", "core.direct",
                    workdir=str(workdir), metadata={"minimum_job_poll_interval": 0.2}).store()


def flaky_code(computer: Computer, directory: Path, failures: int) -> tuple[InstalledCode, Path]:
    """A code that prints garbage on its first ``failures`` runs, then runs bash on its input.

    The runs are counted in ``directory/count`` (returned), outside the jobs' working directories.
    """
    counter = directory / "count"
    script = directory / "flaky.sh"
    script.write_text(
        "#!/bin/bash\n"
        f"n=$(( $(cat '{counter}' 2>/dev/null || echo 0) + 1 ))\n"
        f"echo $n > '{counter}'\n"
        f"if [ $n -le {failures} ]; then echo \"scripted failure $n\"; exit 0; fi\n"
        "exec /bin/bash\n"
    )
    script.chmod(0o755)
    code = InstalledCode(computer=computer, filepath_executable=str(script), label=f"flaky-{uuid.uuid4().hex[:6]}")
    return code.store(), counter


class AddRestartWorkChain(BaseRestartWorkChain):
    """Runs ArithmeticAddCalculation until it succeeds; garbage output is retried, negative sums fixed."""

    _process_class = ArithmeticAddCalculation

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(ArithmeticAddCalculation, namespace="add")
        spec.expose_outputs(ArithmeticAddCalculation)
        spec.exit_code(450, "ERROR_GAVE_UP", "a handler gave up on the sum")
        spec.outline(cls.setup, while_(cls.should_run_process)(cls.run_process, cls.inspect_process), cls.results)

    def setup(self):
        super().setup()
        self.ctx.inputs = dict(self.exposed_inputs(ArithmeticAddCalculation, "add"))

    @process_handler(exit_codes=ArithmeticAddCalculation.exit_codes.ERROR_INVALID_OUTPUT)
    def handle_garbage(self, node):
        """The output was not a number: just run it again."""
        return ProcessHandlerReport()

    @process_handler(priority=500, exit_codes=[ArithmeticAddCalculation.exit_codes.ERROR_NEGATIVE_NUMBER])
    def handle_negative(self, node):
        """A negative sum: flip the sign of y and stop looking at other handlers."""
        self.ctx.inputs["y"] = Int(-self.ctx.inputs["y"].value)
        return ProcessHandlerReport(do_break=True)

    @process_handler(priority=100, exit_codes=ArithmeticAddCalculation.exit_codes.ERROR_NEGATIVE_NUMBER)
    def give_up_on_negative(self, node):
        """Called for a negative sum only when handle_negative is disabled or ranked lower."""
        return ProcessHandlerReport(True, self.exit_codes.ERROR_GAVE_UP)

    @process_handler(enabled=False)
    def reject_everything(self, node):
        """Disabled unless handler_overrides enables it: ends the work chain with a custom code."""
        return ProcessHandlerReport(exit_code=ExitCode(499, "rejected"))
