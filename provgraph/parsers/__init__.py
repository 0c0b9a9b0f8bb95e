"""CalcJob parsers: the ``Parser`` base class under the path AiiDA plugins import it from."""

from __future__ import annotations

from provgraph.engine.processes.calcjobs.parser import Parser

__all__ = ["Parser"]
