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


class CalcFunctionNode(CalculationNode):
    """The record of a ``@calcfunction`` run."""

    _node_type = "process.calculation.calcfunction"


class CalcJobNode(CalculationNode):
    """The record of a CalcJob run on a computer."""

    _node_type = "process.calculation.calcjob"
    _updatable_attributes = ProcessNode._updatable_attributes | frozenset({
        "job_id", "scheduler_state", "scheduler_lastchecktime", "remote_workdir", "retrieve_list",
        "retrieve_temporary_list", "detailed_job_info", "last_job_info", "state",
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


class WorkFunctionNode(WorkflowNode):
    """The record of a ``@workfunction`` run."""

    _node_type = "process.workflow.workfunction"


class WorkChainNode(WorkflowNode):
    """The record of a WorkChain run."""

    _node_type = "process.workflow.workchain"
