"""The process engine: processes, the step machinery, launch, and (in ``celery/``) the workers.

Layers, from the inside out:

- ``processes/``: what a process *is* (spec, ports, exit codes, process functions, WorkChain
  and its outline interpreter);
- ``unit.py``/``checkpoint.py``/``state.py``: buffered writes of a step, checkpoint format, states;
- ``step.py``: :func:`advance` one stored process until it waits or ends → :class:`StepResult`;
- ``launch.py``: ``run()`` drives ``advance()`` in this interpreter; ``submit()`` hands over to
  the installed submitter; ``control.py``: pause, play, kill;
- ``celery/``: the worker fleet, a thin adapter over ``advance()`` (the only celery importer).
"""

from __future__ import annotations

from provgraph.engine.control import kill, pause, play
from provgraph.engine.launch import run, run_get_node, run_get_pk, set_submitter, submit
from provgraph.engine.processes import (
    ExitCode,
    Process,
    ProcessBuilder,
    ProcessSpec,
    ToContext,
    WorkChain,
    append_,
    calcfunction,
    if_,
    return_,
    while_,
    workfunction,
)
from provgraph.engine.processes.calcjobs import CalcJob
from provgraph.engine.processes.workchain import assign_
from provgraph.engine.state import ProcessState
from provgraph.engine.step import StepAction, StepResult, advance

__all__ = [
    "CalcJob", "ProcessState", "assign_",
    "ExitCode", "Process", "ProcessBuilder", "ProcessSpec", "StepAction", "StepResult", "ToContext", "WorkChain",
    "advance", "append_", "calcfunction", "if_", "kill", "pause", "play", "return_", "run", "run_get_node",
    "run_get_pk", "set_submitter", "submit", "while_", "workfunction",
]
