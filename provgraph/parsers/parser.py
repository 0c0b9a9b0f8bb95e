"""``aiida.parsers.parser`` translated: the CalcJob ``Parser`` base class."""

from __future__ import annotations

from provgraph.engine.processes.calcjobs.parser import Parser

__all__ = ["Parser"]
