"""The restart work chain of ``bench/campaign.py``, in a module of its own so that workers can import it.

:data:`CampaignAddWorkChain` runs ``ArithmeticAddCalculation`` until it succeeds: the failures
``core.simulated`` injects (a node failure leaves no output file, exit code 310; a truncated
output is no number, 320) are transient, so the handler just runs the job again. It is None
when this provgraph has no ``BaseRestartWorkChain`` yet (the campaign then runs plain CalcJobs).
"""

from __future__ import annotations

from typing import Any

from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation

__all__ = ["CampaignAddWorkChain"]

CampaignAddWorkChain: Any = None

try:
    from provgraph.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_
except ImportError:  # no restart work chains in this provgraph
    pass
else:

    class _CampaignAddWorkChain(BaseRestartWorkChain):
        """ArithmeticAddCalculation again until it succeeds (transient scheduler and parser failures)."""

        _process_class = ArithmeticAddCalculation

        @classmethod
        def define(cls, spec: Any) -> None:
            """The add job's inputs under ``add``, its outputs at the top."""
            super().define(spec)
            spec.expose_inputs(ArithmeticAddCalculation, namespace="add")
            spec.expose_outputs(ArithmeticAddCalculation)
            spec.outline(cls.setup, while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
                         cls.results)

        def setup(self) -> None:
            """The add job's inputs are the exposed ones."""
            super().setup()
            self.ctx.inputs = dict(self.exposed_inputs(ArithmeticAddCalculation, "add"))

        @process_handler(priority=400, exit_codes=[ArithmeticAddCalculation.exit_codes.ERROR_READING_OUTPUT_FILE,
                                                   ArithmeticAddCalculation.exit_codes.ERROR_INVALID_OUTPUT])
        def handle_transient_failure(self, node: Any) -> Any:
            """A lost node or a cut-off output file: run the same inputs again."""
            self.report(f"{node.process_label}<{node.pk}> failed with {node.exit_status}: running it again")
            return ProcessHandlerReport()

    _CampaignAddWorkChain.__name__ = _CampaignAddWorkChain.__qualname__ = "CampaignAddWorkChain"
    CampaignAddWorkChain = _CampaignAddWorkChain
