"""Pause, play and kill processes from the Python API (the CLI calls these too).

- ``kill`` ends a process that has not ended (created, running or waiting) in the killed
  state, sealed, and then kills every child it called that has not ended. The kill is a
  version-guarded write: a step running at the same time finds its checkpoint stale and
  drops its writes.
- ``pause`` sets the ``paused`` attribute (a version-guarded merge of that one flag, see
  :func:`set_paused`): :func:`~provgraph.engine.step.advance` refuses to
  step the process (a step already running finishes and commits). ``play`` clears it and
  hands the process back to the submitter, if one is installed, so the workers pick it up.
"""

from __future__ import annotations

from provgraph.engine.exceptions import StaleCheckpoint
from provgraph.engine.launch import get_submitter
from provgraph.engine.state import ProcessState, check_transition
from provgraph.engine.unit import Committer, OrmCommitter, UnitOfWork
from provgraph.exceptions import ValidationError
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.process.process import ProcessNode
from provgraph.orm.utils import load_node

#: how often kill retries when steps keep moving the process on
KILL_ATTEMPTS = 10


def _process_node(process: ProcessNode | int | str) -> ProcessNode:
    node = process if isinstance(process, ProcessNode) else load_node(process)
    if not isinstance(node, ProcessNode):
        raise ValidationError(f"{node!r} is not a process node")
    if not node.is_stored:
        raise ValidationError(f"{node!r} is not stored: only stored processes can be controlled")
    return load_node(node.pk)


def kill(process: ProcessNode | int | str, message: str = "Killed through the Python API",
         committer: Committer | None = None) -> list[int]:
    """Kill a process and, recursively, the children it called that have not ended.

    :return: the pks of the processes killed (empty when it had already ended)
    """
    killed: list[int] = []
    _kill_tree(_process_node(process), message, committer or OrmCommitter(), killed)
    return killed


def _kill_tree(node: ProcessNode, message: str, committer: Committer, killed: list[int]) -> None:
    from provgraph.engine.processes.calcjobs.kill import cancel_job

    cancel_job(node)  # a CalcJob's scheduler job is cancelled first (nothing for other processes)
    if _kill_one(node.pk, message, committer):
        killed.append(node.pk)
    for child in node.called:
        if not child.process_state.is_terminal:
            _kill_tree(child, f"Killed because its caller <{node.pk}> was killed", committer, killed)


def _kill_one(pk: int, message: str, committer: Committer) -> bool:
    for _ in range(KILL_ATTEMPTS):
        node = load_node(pk)
        if node.process_state.is_terminal:
            return False
        check_transition(node.process_state, ProcessState.KILLED)
        version = node.base.attributes.get("checkpoint_version", 0)
        work = UnitOfWork()
        work.update(node, {
            "process_state": ProcessState.KILLED.value, "exit_message": message, "process_status": message,
            "checkpoint": None, "checkpoint_version": version + 1, "sealed": True,
        })
        try:
            committer.commit(work, {pk: version})
        except StaleCheckpoint:
            continue
        return True
    raise StaleCheckpoint(f"could not kill process {pk}: it kept moving on ({KILL_ATTEMPTS} attempts)")


def set_paused(process: ProcessNode | int | str, paused: bool, attempts: int = KILL_ATTEMPTS) -> bool:
    """Set or clear the ``paused`` flag of a process that has not ended; return whether it changed.

    The flag is written by :meth:`~provgraph.storage.base.ProcessCoordination.commit_guarded`, merged
    into the stored attributes under the checkpoint version read just before (retried when a step
    moved it on), so it never rolls back a checkpoint a worker commits at the same time.

    :raises StaleCheckpoint: when the process kept moving on for ``attempts`` tries
    """
    pk = _process_node(process).pk
    coordination = get_backend().coordination
    for _ in range(attempts):
        node = load_node(pk)
        attributes = node.base.attributes
        if node.process_state.is_terminal or attributes.get("paused", False) == paused:
            return False
        guard = {pk: attributes.get("checkpoint_version", 0)}
        if coordination.commit_guarded(guard, [], [], {pk: {"paused": paused}}, []) is not None:
            return True
    raise StaleCheckpoint(f"could not {'pause' if paused else 'play'} process {pk}: it kept moving on")


def pause(process: ProcessNode | int | str) -> bool:
    """Pause a process that has not ended; return whether it was paused by this call."""
    return set_paused(process, True)


def play(process: ProcessNode | int | str) -> bool:
    """Resume a paused process (handing it to the submitter if one is installed); return whether it was paused."""
    pk = _process_node(process).pk
    if not set_paused(pk, False):
        return False
    submitter = get_submitter()
    if submitter is not None:
        submitter(pk)
    return True
