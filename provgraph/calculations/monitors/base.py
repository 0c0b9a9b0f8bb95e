"""Built-in CalcJob monitors: ``core.always_kill`` (as AiiDA's) and ``core.file_contains``.

A monitor is called as ``monitor(node, transport, **kwargs)`` on a running job (see
:mod:`provgraph.engine.processes.calcjobs.monitors`); it returns None to let the job go on.
"""

from __future__ import annotations

import shlex
from typing import Any

from provgraph.engine.processes.calcjobs.monitors import CalcJobMonitorResult

__all__ = ["always_kill", "file_contains"]


def always_kill(node: Any, transport: Any) -> str | None:
    """Stop the job at the first call (useful to test monitoring)."""
    return "This monitor always kills the job."


def file_contains(node: Any, transport: Any, filename: str, marker: str, retrieve: bool = True, parse: bool = True,
                  override_exit_code: bool = True) -> CalcJobMonitorResult | None:
    """Stop the job once ``filename`` in its working directory contains ``marker``.

    :param filename: path relative to the working directory (a missing file means no marker yet)
    :param marker: the text looked for (a plain string, not a pattern)
    :param retrieve: fetch the files of the stopped job
    :param parse: run the parser on them
    :param override_exit_code: end with STOPPED_BY_MONITOR (else with the parser's exit code)
    """
    workdir = node.base.attributes.get("remote_workdir")
    command = f"grep -qF -- {shlex.quote(marker)} {shlex.quote(filename)}"
    code, _, _ = transport.exec_command_wait(command, workdir=workdir)
    if code != 0:
        return None
    return CalcJobMonitorResult(message=f"{filename} contains {marker!r}", retrieve=retrieve, parse=parse,
                                override_exit_code=override_exit_code)
