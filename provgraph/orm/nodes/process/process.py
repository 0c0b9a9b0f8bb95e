"""The ProcessNode family: the recorded trace of calculations and workflows."""

from __future__ import annotations

from typing import Any, ClassVar

from provgraph.common.links import LinkType
from provgraph.common.states import ALLOWED_TRANSITIONS, ProcessState
from provgraph.exceptions import ModificationNotAllowed, ValidationError
from provgraph.orm.nodes.links import NodeLinksManager
from provgraph.orm.nodes.node import Node


class ProcessNode(Node):
    """A process run. Its bookkeeping attributes stay writable after store until it is sealed."""

    _node_type = "process"
    #: attributes the engine may update on a stored, unsealed node
    _updatable_attributes: ClassVar[frozenset[str]] = frozenset({
        "process_state", "process_status", "exit_status", "exit_message", "paused", "checkpoint",
        "checkpoint_version", "sealed", "exception",
    })

    def __init__(self, process_label: str | None = None, process_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base.attributes.set_many({
            "process_state": ProcessState.CREATED.value, "process_label": process_label or type(self).__name__,
            "process_type": process_type, "sealed": False,
        })

    def _attribute_mutable(self, key: str) -> bool:
        return key in self._updatable_attributes and not self.is_sealed

    @property
    def is_sealed(self) -> bool:
        """Whether the node is sealed (terminal; nothing changes any more)."""
        return bool(self.base.attributes.get("sealed", False))

    def seal(self) -> None:
        """Seal the node once its process ended."""
        if not self.process_state.is_terminal:
            raise ModificationNotAllowed(f"cannot seal {self!r}: it is still {self.process_state.value}")
        self.base.attributes.set("sealed", True)

    @property
    def process_label(self) -> str:
        """Name of the process class that ran."""
        return self.base.attributes.get("process_label", "")

    @property
    def process_type(self) -> str | None:
        """Importable path or entry point of the process class."""
        return self.base.attributes.get("process_type", None)

    @property
    def process_state(self) -> ProcessState:
        """The current state."""
        return ProcessState(self.base.attributes.get("process_state", ProcessState.CREATED.value))

    def set_process_state(self, state: ProcessState | str) -> None:
        """Move to ``state``, refusing transitions the state machine does not allow."""
        new = ProcessState(state)
        current = self.process_state
        if new != current and new not in ALLOWED_TRANSITIONS[current]:
            raise ValidationError(f"process {self.pk} cannot go from {current.value} to {new.value}")
        self.base.attributes.set("process_state", new.value)

    @property
    def exit_status(self) -> int | None:
        """0 for success; set when the process finished."""
        return self.base.attributes.get("exit_status", None)

    def set_exit_status(self, status: int | None, message: str | None = None) -> None:
        """Record the exit status and message."""
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise ValidationError(f"exit status must be an int, not {status!r}")
        self.base.attributes.set_many({"exit_status": status, "exit_message": message})

    @property
    def exit_message(self) -> str | None:
        """The message accompanying a non-zero exit status."""
        return self.base.attributes.get("exit_message", None)

    @property
    def is_terminated(self) -> bool:
        """Finished, excepted or killed."""
        return self.process_state.is_terminal

    @property
    def is_finished(self) -> bool:
        """Ended normally (any exit status)."""
        return self.process_state is ProcessState.FINISHED

    @property
    def is_finished_ok(self) -> bool:
        """Ended normally with exit status 0."""
        return self.is_finished and self.exit_status == 0

    @property
    def is_failed(self) -> bool:
        """Ended normally with a non-zero exit status."""
        return self.is_finished and self.exit_status != 0

    @property
    def is_excepted(self) -> bool:
        """Ended with an exception."""
        return self.process_state is ProcessState.EXCEPTED

    @property
    def is_killed(self) -> bool:
        """Was killed."""
        return self.process_state is ProcessState.KILLED

    @property
    def caller(self) -> ProcessNode | None:
        """The workflow that called this process, or None."""
        found = self.base.links.get_incoming(link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK)).first()
        return found.node if found else None

    @property
    def called(self) -> list[ProcessNode]:
        """The processes this one called."""
        return self.base.links.get_outgoing(link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK)).all_nodes()

    @property
    def called_descendants(self) -> list[ProcessNode]:
        """Every process called by this one, directly or through its children (depth first)."""
        found: list[ProcessNode] = []
        for child in self.called:
            found.append(child)
            found += child.called_descendants
        return found

    @property
    def process_status(self) -> str | None:
        """A one-line description of what the process is doing (e.g. what it waits for)."""
        return self.base.attributes.get("process_status", None)

    @property
    def exception(self) -> str | None:
        """The traceback text when the process excepted, else None."""
        return self.base.attributes.get("exception", None)

    @property
    def paused(self) -> bool:
        """Whether the process is paused."""
        return bool(self.base.attributes.get("paused", False))

    @property
    def checkpoint(self) -> Any:
        """The checkpoint the process continues from (None once it ended)."""
        return self.base.attributes.get("checkpoint", None)

    @property
    def is_created(self) -> bool:
        """Not started yet."""
        return self.process_state is ProcessState.CREATED

    @property
    def is_running(self) -> bool:
        """Running a step."""
        return self.process_state is ProcessState.RUNNING

    @property
    def is_waiting(self) -> bool:
        """Waiting for children (or a job)."""
        return self.process_state is ProcessState.WAITING

    @property
    def exit_code(self) -> Any:
        """The :class:`~provgraph.engine.ExitCode` rebuilt from exit status and message (None while either is unset).

        Like :attr:`process_class`, this reaches into the engine lazily (as AiiDA's ORM does).
        """
        from provgraph.engine.processes.exit_code import ExitCode

        status, message = self.exit_status, self.exit_message
        if status is None or message is None:
            return None
        return ExitCode(status, message)

    @property
    def process_class(self) -> type:
        """The process class that ran (loaded from ``process_type``).

        :raises ValueError: when the node has no process type or it cannot be loaded here
        """
        from provgraph.engine.exceptions import ProcessNotImportable
        from provgraph.engine.step import load_process_class

        if not self.process_type:
            raise ValidationError(f"{self!r} records no process type")
        try:
            return load_process_class(self.process_type)
        except ProcessNotImportable as exc:
            raise ValidationError(f"cannot load the process class of {self!r}: {exc}") from exc

    def get_builder_restart(self) -> Any:
        """A builder of :attr:`process_class` filled with this process's inputs, to launch it again.

        :raises ValueError: when the process class cannot be loaded here
        """
        process_class = self.process_class
        builder = process_class.get_builder()
        builder._update(process_class.recorded_inputs(self))
        self._restart_metadata(builder)
        return builder

    def _restart_metadata(self, builder: Any) -> None:
        """Put label, description and (for a CalcJob) the options recorded on the node back into ``builder``."""
        metadata = builder.metadata
        for key in ("label", "description"):
            if getattr(self, key, None):
                metadata[key] = getattr(self, key)
        options = builder.process_class.spec().inputs.get("metadata.options")
        for name in getattr(options, "ports", {}):
            value = self.base.attributes.get(name, None)
            if value is not None:
                try:
                    metadata.options[name] = value
                except (ValidationError, AttributeError):  # an option recorded in another form stays default
                    continue




class FunctionCalculationMixin:
    """What a process-function node records of its function (as in AiiDA)."""

    base: Any

    @property
    def function_name(self) -> str | None:
        """The name of the decorated function."""
        return self.base.attributes.get("function_name", None)

    @property
    def function_namespace(self) -> str | None:
        """The module the function was defined in."""
        return self.base.attributes.get("function_namespace", None)

    @property
    def function_starting_line_number(self) -> int | None:
        """The line of the source file where the function starts."""
        return self.base.attributes.get("function_starting_line_number", None)

    @property
    def function_number_of_lines(self) -> int | None:
        """How many lines the function's source spans."""
        return self.base.attributes.get("function_number_of_lines", None)


class CalculationNode(ProcessNode):
    """A process that creates data."""

    _node_type = "process.calculation"

    @property
    def inputs(self) -> NodeLinksManager:
        """Input nodes by link label (``node.inputs.x``, ``node.inputs['x']``)."""
        return NodeLinksManager(self, [LinkType.INPUT_CALC], incoming=True)

    @property
    def outputs(self) -> NodeLinksManager:
        """Created nodes by link label (``node.outputs.result``, ``node.outputs.nested.sub``)."""
        return NodeLinksManager(self, [LinkType.CREATE], incoming=False)


class CalcFunctionNode(FunctionCalculationMixin, CalculationNode):
    """The record of a ``@calcfunction`` run."""

    _node_type = "process.calculation.calcfunction"


class CalcJobNode(CalculationNode):
    """The record of a CalcJob run on a computer."""

    _node_type = "process.calculation.calcjob"
    _updatable_attributes = ProcessNode._updatable_attributes | frozenset({
        "job_id", "scheduler_state", "scheduler_lastchecktime", "remote_workdir", "retrieve_list",
        "retrieve_temporary_list", "detailed_job_info", "last_job_info", "state", "monitor_result",
    })


class WorkflowNode(ProcessNode):
    """A process that calls other processes and returns their data."""

    _node_type = "process.workflow"

    @property
    def inputs(self) -> NodeLinksManager:
        """Input nodes by link label (``node.inputs.x``, ``node.inputs['x']``)."""
        return NodeLinksManager(self, [LinkType.INPUT_WORK], incoming=True)

    @property
    def outputs(self) -> NodeLinksManager:
        """Returned nodes by link label (``node.outputs.result``, ``node.outputs.nested.sub``)."""
        return NodeLinksManager(self, [LinkType.RETURN], incoming=False)


class WorkFunctionNode(FunctionCalculationMixin, WorkflowNode):
    """The record of a ``@workfunction`` run."""

    _node_type = "process.workflow.workfunction"


class WorkChainNode(WorkflowNode):
    """The record of a WorkChain run."""

    _node_type = "process.workflow.workchain"
