"""The job-description classes AiiDA plugins import from ``aiida.common.datastructures``.

They live with the code that uses them (the CalcJob engine, the schedulers, the stash data
type); this module gathers them under the path plugin code expects.
"""

from __future__ import annotations

from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo, CodeInfo
from provgraph.orm.nodes.data.remote_stash import StashMode
from provgraph.schedulers.datastructures import CodeRunMode

__all__ = ["CalcInfo", "CodeInfo", "CodeRunMode", "StashMode"]
