"""WorkChain: a workflow whose outline of steps is interpreted one step at a time.

A step is a method; it may attach outputs (``self.out``), log (``self.report``), call
calcfunctions inline, and submit child processes (``self.submit``). Returning
``ToContext(key=child)`` (or calling ``self.to_context``) makes the WorkChain wait until
the children ended and then puts their nodes into ``self.ctx`` (``append_(child)``
appends to a list). Returning a non-zero :class:`ExitCode` ends it with that code.

After every step the cursor into the outline, the context and the awaited children are
checkpointed on the node (see :mod:`provgraph.engine.checkpoint`), so any interpreter can
rebuild the WorkChain from its node and continue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provgraph.engine import checkpoint as checkpoints
from provgraph.engine.exceptions import EngineError
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.outline import after_step, fingerprint, next_action
from provgraph.engine.processes.process import Process
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.utils import AttributeDict
from provgraph.engine.state import Outcome, ProcessState
from provgraph.engine.unit import UnitOfWork
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.process.process import ProcessNode, WorkChainNode


class ToContext(dict):
    """Returned by a step: wait for these child processes, then set them in the context by key."""


@dataclass(frozen=True)
class Appended:
    """A child whose node is appended to a context list (made by :func:`append_`)."""

    node: ProcessNode


def append_(node: ProcessNode) -> Appended:
    """In ``ToContext``, append the child's node to the context list instead of setting it."""
    return Appended(node)


def outline_names(outline: Any) -> list[str]:
    """The plain names of the methods an outline calls (steps and conditions)."""
    return [entry.partition(":")[2].rpartition(".")[2] for entry in outline.signature() if ":" in entry]


def _engine_names() -> set[str]:
    """Names a WorkChain subclass cannot use for an outline method: the engine's own."""
    return set(dir(WorkChain)) | {"node", "inputs", "ctx", "exception"}


def assign_(node: ProcessNode) -> ProcessNode:
    """In ``ToContext``, set the child's node in the context (the default; AiiDA's explicit form)."""
    return node


class WorkChain(Process):
    """A workflow of steps declared with ``spec.outline(...)`` (see the module docstring)."""

    _node_class = WorkChainNode

    @classmethod
    def _check_spec(cls, spec: ProcessSpec) -> None:
        outline = spec.get_outline()
        if outline is None:
            raise ValidationError(f"WorkChain {cls.__name__} declares no outline: call spec.outline(...) in define")
        taken = sorted({name for name in outline_names(outline) if name in _engine_names()})
        if taken:
            raise ValidationError(
                f"WorkChain {cls.__name__}: outline step or condition name(s) {', '.join(taken)} are taken by the "
                f"engine (methods or attributes of WorkChain); rename the method(s), e.g. to run_{taken[0]}"
            )

    @classmethod
    def outline_fingerprint(cls) -> str:
        """The fingerprint of the outline, computed once per class."""
        if "_fingerprint_cache" not in cls.__dict__:
            cls._fingerprint_cache = fingerprint(cls.spec().get_outline())
        return cls.__dict__["_fingerprint_cache"]

    def __init__(self, node: ProcessNode, inputs: Mapping[str, Any]) -> None:
        super().__init__(node, inputs)
        self.ctx = AttributeDict()
        self._cursor: list[int] = [0]
        self._awaiting: list[dict[str, Any]] = []
        self._known: dict[str, ProcessNode] = {}

    # -- checkpoint ------------------------------------------------------------------------------

    def checkpoint(self, work: UnitOfWork) -> dict[str, Any]:
        """Cursor, context, awaited children and attached outputs (see :mod:`provgraph.engine.checkpoint`)."""
        def keep(node: Node) -> None:
            if not node.is_stored and work.find(node.uuid) is None:
                work.add(node)

        return {
            "format": checkpoints.FORMAT, "outline": self.outline_fingerprint(), "cursor": list(self._cursor),
            "ctx": checkpoints.encode_ctx(self.ctx, keep), "awaiting": [dict(entry) for entry in self._awaiting],
            "outputs": {label: getattr(value, "uuid", value) for label, value in self._outputs.items()},
        }

    def load_checkpoint(self, data: Mapping[str, Any] | None) -> None:
        """Restore cursor, context, awaited children and outputs.

        :raises EngineError: when the checkpoint belongs to another outline or format
        """
        if not data:
            return
        if data.get("format") != checkpoints.FORMAT or data.get("outline") != self.outline_fingerprint():
            raise EngineError(
                f"the checkpoint of process {self.node.pk} was written by another version of {self.label()} "
                "(its outline or the checkpoint format changed): it cannot be continued"
            )
        from provgraph.orm.utils import load_node

        self._cursor = list(data["cursor"])
        self.ctx = checkpoints.decode_ctx(data.get("ctx", {}), lambda uuid: load_node(uuid=uuid))
        self._awaiting = [dict(entry) for entry in data.get("awaiting", [])]
        self._outputs = dict(data.get("outputs", {}))

    # -- stepping --------------------------------------------------------------------------------

    def _run_step(self) -> Outcome:
        if self._awaiting and not self._collect_children():
            return Outcome.BLOCKED
        self._set_state(ProcessState.RUNNING)
        action, self._cursor = next_action(self.spec().get_outline(), self._cursor, lambda cond: bool(cond(self)))
        if action.kind == "end":
            return self._finish()
        if action.kind == "return":
            return self._finish(self._exit_code(action.exit_code))
        result = action.function(self)
        self._cursor = after_step(self._cursor)
        return self._after_step(result)

    def _after_step(self, result: Any) -> Outcome:
        if isinstance(result, ToContext):
            self.to_context(**result)
        elif result is not None and not isinstance(result, bool):
            code = self._exit_code(result)
            if code is not None and code.status != 0:
                return self._finish(code)
        if self._awaiting:
            self._set_state(ProcessState.WAITING)
            return Outcome.WAITING
        return Outcome.CONTINUE

    def _exit_code(self, value: ExitCode | int | str | None) -> ExitCode | None:
        if value is None or isinstance(value, ExitCode):
            return value
        if isinstance(value, str):
            return self.exit_codes(value)
        if isinstance(value, int):
            known = [code for code in self.exit_codes if code.status == value]
            return known[0] if known else ExitCode(value)
        raise ValidationError(f"a step of {self.label()} returned {value!r}: return None, ToContext or an ExitCode")

    # -- children --------------------------------------------------------------------------------

    def submit(self, process: Any, inputs: Mapping[str, Any] | None = None, **kwargs: Any) -> ProcessNode:
        """Create a child process (it runs once this step committed); return its node to await it.

        Inputs come as one dict or as keywords (as in AiiDA, not both).
        """
        from provgraph.engine.launch import create_child, merge_inputs

        node = create_child(self, process, merge_inputs(inputs, kwargs))
        self._known[node.uuid] = node
        return node

    def to_context(self, **children: ProcessNode | Appended) -> None:
        """Wait for these children after the current step; then set (or append) them in the context."""
        for key, value in children.items():
            node, append = (value.node, True) if isinstance(value, Appended) else (value, False)
            if not isinstance(node, ProcessNode):
                raise ValidationError(f"to_context({key}=...) takes a process node (from self.submit), not {node!r}")
            self._known[node.uuid] = node
            self._awaiting.append({"uuid": node.uuid, "key": key, "append": append})

    def awaited_nodes(self) -> list[ProcessNode]:
        """The nodes of the children this WorkChain waits for."""
        return [self._child(entry["uuid"]) for entry in self._awaiting]

    def _child(self, uuid: str) -> ProcessNode:
        """The child's node, with its current state (re-read unless it lives only in memory)."""
        known = self._known.get(uuid)
        if known is not None and not known.is_stored:
            return known
        from provgraph.orm.utils import load_node

        self._known[uuid] = load_node(uuid=uuid)
        return self._known[uuid]

    def _collect_children(self) -> bool:
        """If every awaited child ended, put them into the context and return True."""
        nodes = [self._child(entry["uuid"]) for entry in self._awaiting]
        if not all(node.process_state.is_terminal for node in nodes):
            return False
        for entry, node in zip(self._awaiting, nodes, strict=True):
            self._put_in_context(entry["key"], node, entry["append"])
        self._awaiting = []
        return True

    def _put_in_context(self, key: str, node: ProcessNode, append: bool) -> None:
        *parents, last = key.split(".")
        target = self.ctx
        for part in parents:
            target = target.setdefault(part, AttributeDict())
        if append:
            target.setdefault(last, []).append(node)
        else:
            target[last] = node

    def status_text(self) -> str | None:
        """``Waiting for N child process(es)`` while waiting."""
        if self._awaiting:
            return f"Waiting for {len(self._awaiting)} child process(es)"
        return None
