"""Process states and the transitions allowed between them (DESIGN §5)."""

from __future__ import annotations

from enum import Enum


class ProcessState(str, Enum):
    """The life of a process: created -> running <-> waiting -> finished | excepted | killed."""

    CREATED = "created"
    RUNNING = "running"
    WAITING = "waiting"
    FINISHED = "finished"
    EXCEPTED = "excepted"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        """Whether the process has ended."""
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({ProcessState.FINISHED, ProcessState.EXCEPTED, ProcessState.KILLED})

ALLOWED_TRANSITIONS: dict[ProcessState, frozenset[ProcessState]] = {
    ProcessState.CREATED: frozenset({ProcessState.RUNNING, ProcessState.KILLED, ProcessState.EXCEPTED}),
    ProcessState.RUNNING: frozenset({ProcessState.WAITING, *TERMINAL_STATES}),
    ProcessState.WAITING: frozenset({ProcessState.RUNNING, ProcessState.KILLED, ProcessState.EXCEPTED}),
    ProcessState.FINISHED: frozenset(),
    ProcessState.EXCEPTED: frozenset(),
    ProcessState.KILLED: frozenset(),
}
