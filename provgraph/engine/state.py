"""The process state machine (DESIGN §5): created → running ⇄ waiting → finished | excepted | killed.

The states and the table of allowed transitions live in :mod:`provgraph.common.states`
(the ORM uses them too); this module adds the engine's view: checked transitions and
the outcome of one step.
"""

from __future__ import annotations

from enum import Enum

from provgraph.common.states import ALLOWED_TRANSITIONS, TERMINAL_STATES, ProcessState
from provgraph.engine.exceptions import EngineError

__all__ = ["ALLOWED_TRANSITIONS", "TERMINAL_STATES", "Outcome", "ProcessState", "check_transition"]


class Outcome(str, Enum):
    """What one call of ``Process.step()`` left the process in."""

    #: a step ran and there is more to do
    CONTINUE = "continue"
    #: the process now waits for child processes
    WAITING = "waiting"
    #: the process ended (finished, excepted or killed)
    TERMINATED = "terminated"
    #: still waiting for the same children: nothing changed, nothing to commit
    BLOCKED = "blocked"


def check_transition(current: ProcessState, new: ProcessState) -> ProcessState:
    """Return ``new`` if the state machine allows ``current -> new`` (staying put is allowed).

    :raises EngineError: for a transition the table does not allow
    """
    if new != current and new not in ALLOWED_TRANSITIONS[current]:
        raise EngineError(f"a process cannot go from {current.value} to {new.value}")
    return new
