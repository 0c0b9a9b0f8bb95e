"""Launching processes: ``run()`` in this interpreter, ``submit()`` to the workers.

- ``run(process, **inputs)`` (or ``run(process, inputs_dict)``) blocks and returns the outputs;
  ``run_get_node``/``run_get_pk`` also return the node or its pk. A process that excepts raises
  its own exception again, as in AiiDA. A WorkChain is stored first and then driven by the very
  :func:`~provgraph.engine.step.advance` the workers use, one committed step at a time;
  the children it submits are driven in this interpreter too. Function processes, and
  any process run from inside another one's step, run inline: they join the caller's
  unit of work (one commit).
- ``submit(process, **inputs)`` stores the node in the created state and hands its pk
  to the *submitter* installed with :func:`set_submitter` (the Celery adapter installs
  one); without a submitter it refuses, storing nothing. Inside a WorkChain step it
  submits a child (like ``self.submit``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from provgraph.engine.exceptions import EngineError, ProcessExcepted, ProcessKilled
from provgraph.engine.processes.builder import ProcessBuilder
from provgraph.engine.processes.functions import FunctionProcess, ResultAndNode, ResultAndPk
from provgraph.engine.processes.process import Process, collecting_exceptions, outputs_of
from provgraph.engine.processes.utils import AttributeDict
from provgraph.engine.state import Outcome, ProcessState
from provgraph.engine.step import StepAction, StepResult, advance, check_importable
from provgraph.engine.unit import Committer, OrmCommitter, UnitOfWork, current_frame
from provgraph.exceptions import ConfigurationError, ValidationError
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.process.process import ProcessNode
from provgraph.orm.utils import load_node

Submitter = Callable[[int], Any]


class _SubmitterSlot:
    """Holds the submitter hook. Module-level state by necessity: a worker installs it once for the
    whole process (all threads), so a ContextVar would not do.
    """

    submitter: Submitter | None = None
    #: until someone sets a submitter, ``submit()`` publishes to the current profile's broker
    automatic: bool = True


def set_submitter(submitter: Submitter | None) -> Submitter | None:
    """Install the callable that hands a stored process (by pk) to the workers; return the previous one.

    Setting ``None`` switches submission off (``submit()`` then refuses), which tests use.
    """
    previous, _SubmitterSlot.submitter = get_submitter(), submitter
    _SubmitterSlot.automatic = False
    return previous


def get_submitter() -> Submitter | None:
    """The installed submitter; by default the Celery publisher when the current profile has a broker."""
    if _SubmitterSlot.automatic and _SubmitterSlot.submitter is None:
        from provgraph.profiles import get_profile

        if get_profile().broker.get("backend"):
            from provgraph.engine.celery.tasks import publish

            return publish
    return _SubmitterSlot.submitter


def resolve(process: Any, args: tuple[Any, ...], inputs: Mapping[str, Any]) -> tuple[type[Process], dict]:
    """The process class and inputs of a launch call (class, process function or builder).

    :raises ValidationError: when ``process`` is not launchable or positional arguments do not fit
    """
    if isinstance(process, ProcessBuilder):
        if len(args) == 1 and isinstance(args[0], Mapping):
            inputs = {**args[0], **inputs}
        elif args:
            raise ValidationError("a builder takes more inputs as one dict or as keyword arguments only")
        return process.process_class, {**process._inputs(), **inputs}
    process_class = getattr(process, "process_class", process)
    if not (isinstance(process_class, type) and issubclass(process_class, Process)):
        raise ValidationError(f"cannot launch {process!r}: give a process class, process function or builder")
    if issubclass(process_class, FunctionProcess):
        if len(args) == 1 and isinstance(args[0], Mapping) and not isinstance(args[0], Node):
            return process_class, process_class.inputs_from_call((), merge_inputs(args[0], inputs))
        return process_class, process_class.inputs_from_call(args, dict(inputs))
    if len(args) == 1 and isinstance(args[0], Mapping):  # run(Cls, {'x': ...}) as in AiiDA
        return process_class, merge_inputs(args[0], inputs)
    if args:
        raise ValidationError(
            f"{process_class.__name__} takes its inputs as one dict or as keyword arguments, not {len(args)} "
            "positional argument(s)"
        )
    return process_class, dict(inputs)


def merge_inputs(inputs: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs given as one dict or as keywords (AiiDA's rule: not both).

    :raises ValidationError: when both are given
    """
    if inputs is not None and kwargs:
        raise ValidationError(
            f"give the inputs as one dict or as keyword arguments, not both (dict keys: {sorted(inputs)}, "
            f"keywords: {sorted(kwargs)})"
        )
    return dict(kwargs) if kwargs else dict(inputs or {})


def _register(process_class: type[Process], classes: dict[str, type] | None) -> None:
    if classes is not None:
        classes[process_class.process_type()] = process_class


def run_get_node(process: Any, *args: Any, **inputs: Any) -> ResultAndNode:
    """Run a process here and now; return its outputs (nested by namespace) and its node.

    :raises ValidationError: when the inputs do not fit the spec (nothing is stored)
    :raises Exception: the process's own exception when it excepted (as in AiiDA; the node is
        stored as excepted first); :class:`ProcessExcepted` only when that exception is not at hand
    :raises ProcessKilled: when it was killed
    """
    process_class, inputs = resolve(process, args, inputs)
    if current_frame() is not None or issubclass(process_class, FunctionProcess):
        instance = run_inline(process_class, inputs)
        return ResultAndNode(outputs_of_process(instance), instance.node)
    return ResultAndNode(*Runner().run(process_class, inputs))


def run(process: Any, *args: Any, **inputs: Any) -> Any:
    """Run a process here and now; return its outputs (see :func:`run_get_node`)."""
    return run_get_node(process, *args, **inputs)[0]


def run_get_pk(process: Any, *args: Any, **inputs: Any) -> ResultAndPk:
    """Run a process here and now; return its outputs and its node's pk."""
    result, node = run_get_node(process, *args, **inputs)
    return ResultAndPk(result, node.pk)


run.get_node = run_get_node  # type: ignore[attr-defined]
run.get_pk = run_get_pk  # type: ignore[attr-defined]


def outputs_of_process(process: Process) -> Any:
    """The outputs of a process that ran in this interpreter (its own record of them: no query).

    A process function gives what calling it gives (its single ``result`` node, as in AiiDA).
    """
    if isinstance(process, FunctionProcess):
        return process.function_outputs()
    return process.outputs


def run_inline(process_class: type[Process], inputs: Mapping[str, Any]) -> Process:
    """Run a process to its end in the caller's unit of work (or a new one, committed at the end,
    unless it runs with ``metadata.store_provenance=False``).

    An exception of the process is raised again once its excepted node is recorded.
    """
    frame = current_frame()
    if frame is None:
        work, classes = UnitOfWork(), {}
        _register(process_class, classes)
        process = process_class.create(inputs, work)
        drive_in_memory(process, work, classes)
        if process.stores_provenance:
            OrmCommitter().commit(work, {})
    else:
        _register(process_class, frame.classes)
        process = process_class.create(inputs, frame.work, caller=frame.process)
        drive_in_memory(process, frame.work, frame.classes)
    if process.exception is not None:
        raise process.exception
    if process.state is ProcessState.KILLED:
        raise ProcessKilled(f"{process.label()} was killed")
    return process


def drive_in_memory(process: Process, work: UnitOfWork, classes: dict[str, type] | None) -> None:
    """Step an unstored process to its end, running the children it submits right away.

    :raises EngineError: when it waits for a process that does not run here
    """
    version = 0
    while True:
        before = set(work.launched)
        outcome = process.step(work, classes)
        version += 1
        work.update(process.node, process.safe_bookkeeping(version, work))
        for uuid in [uuid for uuid in work.launched if uuid not in before]:
            drive_in_memory(work.launched.pop(uuid), work, classes)
        if outcome is Outcome.TERMINATED:
            return
        if outcome is Outcome.BLOCKED:
            raise EngineError(f"{process.label()} waits for a process that does not run in this interpreter")


def create_child(parent: Process, process: Any, inputs: Mapping[str, Any]) -> ProcessNode:
    """Create a child process of ``parent`` in its current step; it is launched once the step commits.

    :raises ProcessNotImportable: on a worker, for a class the workers could not import
    """
    process_class, inputs = resolve(process, (), inputs)
    work = parent.require_work()
    if parent.runner_classes is None:
        check_importable(process_class)
    _register(process_class, parent.runner_classes)
    child = process_class.create(inputs, work, caller=parent)
    work.launched[child.node.uuid] = child
    return child.node


def submit(process: Any, inputs: Mapping[str, Any] | None = None, *, wait: bool = False,
           wait_interval: float = 5, **kwargs: Any) -> ProcessNode:
    """Store a process in the created state and hand it to the workers; return its node.

    Inputs come as one dict (``submit(Cls, {'x': 1})``) or as keywords, as in AiiDA (not both).
    Inside a WorkChain step this submits a child of it (as ``self.submit``).

    :param wait: block until the process ended, looking every ``wait_interval`` seconds; the
        node returned then shows its final state
    :raises ProcessNotImportable: for a class the workers could not import (nothing is stored)
    :raises ConfigurationError: when no submitter is installed (nothing is stored)
    """
    inputs = merge_inputs(inputs, kwargs)
    frame = current_frame()
    if frame is not None and frame.process is not None:
        if wait:
            raise ValidationError("submit(wait=True) inside a process step would block it: return ToContext instead")
        return create_child(frame.process, process, inputs)
    node = _submit_top(process, inputs)
    return wait_for(node.pk, wait_interval) if wait else node


def wait_for(pk: int, interval: float) -> ProcessNode:
    """Wait until process ``pk`` ended (looking every ``interval`` seconds); return its fresh node."""
    while True:
        node = load_node(pk)
        if node.process_state.is_terminal:
            return node
        time.sleep(max(interval, 0.01))


def _submit_top(process: Any, inputs: Mapping[str, Any]) -> ProcessNode:
    """Store a process and hand it to the submitter (see :func:`submit`)."""
    process_class, inputs = resolve(process, (), inputs)
    check_importable(process_class)
    submitter = get_submitter()
    if submitter is None:
        raise ConfigurationError(
            "no submitter is installed: start the Celery adapter (provgraph.engine.celery) or call "
            "provgraph.engine.launch.set_submitter(callable) first; use run() to run it in this interpreter"
        )
    node = create_stored(process_class, inputs)
    submitter(node.pk)
    return node


def create_stored(process_class: type[Process], inputs: Mapping[str, Any],
                  committer: Committer | None = None) -> ProcessNode:
    """Store a new process node (created state) with its inputs, ready for :func:`advance`."""
    work = UnitOfWork()
    process = process_class.create(inputs, work)
    if not process.stores_provenance:
        raise ValidationError(f"{process.label()}: metadata.store_provenance=False runs only with run(), not submit()")
    (committer or OrmCommitter()).commit(work, {})
    return process.node


class Runner:
    """Drives stored processes to their end in this interpreter with :func:`advance`.

    :param poll_interval: seconds between looks at a paused process or at children run elsewhere
    """

    def __init__(self, committer: Committer | None = None, poll_interval: float = 0.2) -> None:
        self.committer = committer or OrmCommitter()
        self.poll_interval = poll_interval
        #: classes created under this runner, so that run() works for any class (also in __main__)
        self.classes: dict[str, type] = {}

    def run(self, process_class: type[Process], inputs: Mapping[str, Any]) -> tuple[AttributeDict, ProcessNode]:
        """Store the process, drive it to its end, return its outputs and node.

        :raises Exception: the process's own exception when it excepted (ProcessExcepted if not at hand)
        :raises ProcessKilled: when it was killed
        """
        _register(process_class, self.classes)
        pk = create_stored(process_class, inputs, self.committer).pk
        with collecting_exceptions() as raised:
            self.drive(pk)
        node = load_node(pk)
        if node.process_state is ProcessState.EXCEPTED:
            if node.uuid in raised:  # the user's own exception, as AiiDA raises it
                raise raised[node.uuid]
            trace = node.base.attributes.get("exception", "")
            raise ProcessExcepted(f"{node.process_label} <{node.pk}> excepted:\n{trace}")
        if node.process_state is ProcessState.KILLED:
            raise ProcessKilled(f"{node.process_label} <{node.pk}> was killed: {node.exit_message}")
        return outputs_of(node), node

    def drive(self, pk: int) -> StepResult:
        """Advance process ``pk`` and the children it launches or waits for until it ends.

        Children it waits for that were created before (e.g. by a step run elsewhere) are driven
        too; a paused process is polled until it is played or killed.
        """
        while True:
            result = advance(pk, committer=self.committer, classes=self.classes)
            for child in result.children:
                self.drive(child)
            if result.is_terminal:
                return result
            if result.action is StepAction.BLOCKED:
                for child in result.awaiting:
                    self.drive(child)
            elif result.action is StepAction.PAUSED:
                time.sleep(self.poll_interval)
