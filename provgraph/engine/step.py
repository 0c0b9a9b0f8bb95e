"""Advance one process: the step machinery shared by ``run()`` and the workers.

:func:`advance` loads a process node, rebuilds its process from the node alone
(class from ``process_type``, inputs from links, state from the checkpoint) and runs
it step by step until it waits or ends. Every step is committed with its checkpoint
and an incremented ``checkpoint_version``, guarded by the version the step started
from (see :mod:`provgraph.engine.unit`). It returns a :class:`StepResult`: a frozen,
JSON-able value that tells the executor what to do next (launch these children, wake
that parent), so the step knows nothing about who executes it. No Celery here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from provgraph.engine.exceptions import ProcessNotImportable, StaleCheckpoint
from provgraph.engine.processes.process import Process
from provgraph.engine.state import Outcome, ProcessState
from provgraph.engine.unit import Committer, OrmCommitter, UnitOfWork
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.process.process import ProcessNode
from provgraph.orm.utils import load_node


class StepAction(str, Enum):
    """What :func:`advance` did."""

    #: ran one or more steps (the state says whether it now waits or ended)
    STEPPED = "stepped"
    #: still waiting for the same children: nothing was run or written
    BLOCKED = "blocked"
    #: the process is paused: nothing was run
    PAUSED = "paused"
    #: the process had already ended: nothing was run
    ENDED = "ended"
    #: another step or a kill moved the process on first: this step's writes were dropped
    STALE = "stale"


@dataclass(frozen=True)
class StepResult:
    """The outcome of :func:`advance`, for whoever drives the process (JSON round trip: to/from_dict).

    :param children: pks of child processes created by the steps, to be launched now
    :param awaiting: pks of the children the process waits for
    :param wake: pk of the caller to wake, when the process ended and was submitted by a workflow
    :param error: the traceback when the process excepted in this call
    """

    pk: int
    action: StepAction
    state: ProcessState
    checkpoint_version: int
    children: tuple[int, ...] = ()
    awaiting: tuple[int, ...] = ()
    wake: int | None = None
    exit_status: int | None = None
    error: str | None = None

    @property
    def is_waiting(self) -> bool:
        """Whether the process waits for children."""
        return self.state is ProcessState.WAITING

    @property
    def is_terminal(self) -> bool:
        """Whether the process has ended."""
        return self.state.is_terminal

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (for a task result or a message)."""
        data = asdict(self)
        data.update(action=self.action.value, state=self.state.value, children=list(self.children),
                    awaiting=list(self.awaiting))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepResult:
        """Undo :meth:`to_dict`."""
        values = dict(data)
        values.update(action=StepAction(values["action"]), state=ProcessState(values["state"]),
                      children=tuple(values.get("children", ())), awaiting=tuple(values.get("awaiting", ())))
        return cls(**values)


def load_process_class(process_type: str | None, classes: Mapping[str, type] | None = None) -> type[Process]:
    """The process class recorded as ``module:QualName`` (a process function gives its process class).

    :param classes: classes known to an in-process runner, tried first
    :raises ProcessNotImportable: when the path cannot be imported or is not a process
    """
    if classes and process_type in classes:
        return classes[process_type]
    module_name, _, qualname = (process_type or "").partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ProcessNotImportable(f"cannot import the process class {process_type!r}: {exc}") from exc
    found = getattr(found, "process_class", found)
    if not (isinstance(found, type) and issubclass(found, Process)):
        raise ProcessNotImportable(f"{process_type!r} is not a process class")
    return found


def check_importable(process_class: type[Process]) -> None:
    """Refuse a class that a worker could not import from its recorded ``process_type``.

    :raises ProcessNotImportable: for classes defined in ``__main__`` or a local scope, or shadowed
    """
    process_type = process_class.process_type()
    module_name, _, qualname = process_type.partition(":")
    if module_name == "__main__" or "<locals>" in qualname:
        where = "the __main__ script" if module_name == "__main__" else "a function's local scope"
        raise ProcessNotImportable(
            f"cannot submit {qualname}: it is defined in {where}, so a worker cannot import it; "
            "move it into an importable module (or use run() to run it in this interpreter)"
        )
    if load_process_class(process_type) is not process_class:
        raise ProcessNotImportable(f"importing {process_type!r} does not give {qualname} back (is it shadowed?)")


def _result(node: ProcessNode, action: StepAction, **extra: Any) -> StepResult:
    attributes = node.base.attributes
    return StepResult(pk=node.pk, action=action, state=node.process_state,
                      checkpoint_version=attributes.get("checkpoint_version", 0),
                      exit_status=attributes.get("exit_status", None), **extra)


def advance(pk: int, *, committer: Committer | None = None, classes: dict[str, type] | None = None,
            mark_running: bool = False) -> StepResult:
    """Run the process of node ``pk`` until it waits or ends, committing a checkpoint after every step.

    :param committer: how the steps are written (default: :class:`OrmCommitter`)
    :param mark_running: first commit the move from created to running on its own, so that a
        process computing for long (a calcfunction) shows as running meanwhile
    :param classes: process classes an in-process runner knows by ``process_type`` (None on a worker:
        then children must be importable); children created by the steps are added to it
    :raises ProcessNotImportable: when the process class cannot be imported here (nothing is changed)
    """
    node = load_node(pk)
    if not isinstance(node, ProcessNode):
        raise ValidationError(f"node {pk} is a {type(node).__name__}, not a process")
    if node.is_sealed or node.process_state.is_terminal:
        return _result(node, StepAction.ENDED)
    if node.base.attributes.get("paused", False):
        return _result(node, StepAction.PAUSED)
    process_class = load_process_class(node.process_type, classes)
    return _Stepper(node, process_class, committer or OrmCommitter(), classes).run(mark_running)


class _Stepper:
    """Drives one process in :func:`advance`: step, commit, repeat."""

    def __init__(self, node: ProcessNode, process_class: type[Process], committer: Committer,
                 classes: dict[str, type] | None) -> None:
        self.node, self.committer, self.classes = node, committer, classes
        self.version: int = node.base.attributes.get("checkpoint_version", 0)
        self.children: list[int] = []
        self.process = self._rebuild(process_class)

    def _rebuild(self, process_class: type[Process]) -> Process:
        try:
            return process_class.rebuild(self.node)
        except Exception as exc:  # noqa: BLE001 - e.g. a checkpoint of another outline version, a broken spec
            try:
                process = process_class(self.node, {})
            except Exception:  # noqa: BLE001
                process = Process(self.node, {})
            process.except_from(exc)
            return process

    def run(self, mark_running: bool = False) -> StepResult:
        """Step and commit until the process waits, ends or is paused (or a commit finds it moved on)."""
        paused, stepped = False, False
        if mark_running and self.process.state is ProcessState.CREATED:
            self.process.mark_running()
            try:
                self._commit(UnitOfWork())
            except StaleCheckpoint:
                return _result(load_node(self.node.pk), StepAction.STALE)
        while True:
            work = UnitOfWork()
            outcome = self.process.step(work, self.classes) if not self.process.is_terminated else Outcome.TERMINATED
            if outcome is Outcome.BLOCKED:
                break
            try:
                fresh = self._commit(work)
            except StaleCheckpoint:
                return _result(load_node(self.node.pk), StepAction.STALE)
            stepped = True
            if outcome in (Outcome.TERMINATED, Outcome.WAITING) or self.process.is_terminated:
                break
            if fresh.get("paused", False):
                paused = True
                break
        action = StepAction.PAUSED if paused else StepAction.STEPPED if stepped else StepAction.BLOCKED
        return self._step_result(action)

    def _commit(self, work: UnitOfWork) -> dict[str, Any]:
        """Commit one step; a step whose writes fail (a broken rule, or an error of the engine's own
        machinery) ends the process as excepted instead, so it never stays running."""
        try:
            work.update(self.node, self.process.bookkeeping(self.version + 1, work))
            fresh = self.committer.commit(work, {self.node.pk: self.version})
        except StaleCheckpoint:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever failed, the process ends excepted
            self.process.except_from(exc)
            work = UnitOfWork()
            work.update(self.node, self.process.excepted_bookkeeping(self.version + 1, work))
            fresh = self.committer.commit(work, {self.node.pk: self.version})
        self.version += 1
        self.children += [child.node.pk for child in work.launched.values()]
        return fresh.get(self.node.pk, {})

    def _step_result(self, action: StepAction) -> StepResult:
        process = self.process
        awaiting = tuple(child.pk for child in process.awaited_nodes() if child.pk is not None)
        wake = self.node.base.attributes.get("caller_pk", None) if process.is_terminated else None
        return StepResult(
            pk=self.node.pk, action=action, state=process.state, checkpoint_version=self.version,
            children=tuple(self.children), awaiting=awaiting, wake=wake,
            exit_status=process.exit_status, error=process.traceback,
        )
