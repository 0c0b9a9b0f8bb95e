"""Processes: the spec, the Process base, process functions and WorkChain."""

from __future__ import annotations

from provgraph.engine.processes.builder import ProcessBuilder, ProcessBuilderNamespace
from provgraph.engine.processes.exit_code import ExitCode, ExitCodesNamespace
from provgraph.engine.processes.functions import ProcessFunction, calcfunction, workfunction
from provgraph.engine.processes.outline import if_, return_, while_
from provgraph.engine.processes.ports import UNSPECIFIED, Port, PortNamespace
from provgraph.engine.processes.process import Process
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.workchain import ToContext, WorkChain, append_

__all__ = [
    "UNSPECIFIED", "ExitCode", "ExitCodesNamespace", "Port", "PortNamespace", "Process", "ProcessBuilder",
    "ProcessBuilderNamespace", "ProcessFunction", "ProcessSpec", "ToContext", "WorkChain", "append_",
    "calcfunction", "if_", "return_", "while_", "workfunction",
]
