"""Work chains built on :class:`~provgraph.engine.WorkChain` (AiiDA's ``engine.processes.workchains``)."""

from __future__ import annotations

from provgraph.engine.processes.workchains.restart import BaseRestartWorkChain
from provgraph.engine.processes.workchains.utils import ProcessHandlerReport, process_handler

__all__ = ["BaseRestartWorkChain", "ProcessHandlerReport", "process_handler"]
