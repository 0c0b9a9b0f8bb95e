"""Process: the base of calcfunctions, workfunctions and WorkChains.

A process class declares its spec in ``define(cls, spec)``. An instance wraps its
process node and its validated inputs; :meth:`Process.step` runs it one step (a
function body, or one WorkChain outline step) and records the outcome in the node's
bookkeeping attributes through the unit of work. A process is rebuilt from its node
alone (:meth:`Process.rebuild`): the class from ``process_type``, the inputs from the
input links (plus the ``non_db_inputs`` attribute), the rest from the checkpoint.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from provgraph.common.json import clean_value
from provgraph.common.links import LinkType
from provgraph.engine.exceptions import EngineError
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.ports import Port, PortNamespace, split_non_db
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.utils import AttributeDict, deep_merge, flatten, to_attribute_dict, unflatten
from provgraph.engine.state import Outcome, ProcessState, check_transition
from provgraph.engine.unit import Frame, UnitOfWork, entered
from provgraph.exceptions import ValidationError
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.data.data import Data
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.process.process import ProcessNode, WorkflowNode
from provgraph.storage.entities import LogRecord

if TYPE_CHECKING:
    from provgraph.engine.processes.builder import ProcessBuilder

#: the link label of a CALL link when the caller gives none (as in AiiDA)
DEFAULT_CALL_LABEL = "CALL"

#: where processes that except in this context leave their exception, by node uuid (see
#: :func:`collecting_exceptions`), so that ``run()`` can raise the user's own exception again
_EXCEPTIONS: ContextVar[dict[str, BaseException] | None] = ContextVar("provgraph_exceptions", default=None)


@contextmanager
def collecting_exceptions() -> Iterator[dict[str, BaseException]]:
    """Collect the exceptions of the processes that except in the block, by node uuid."""
    found: dict[str, BaseException] = {}
    token = _EXCEPTIONS.set(found)
    try:
        yield found
    finally:
        _EXCEPTIONS.reset(token)


class _ClassProperty:
    """A read-only property computed on the class (``Cls.exit_codes`` as well as ``self.exit_codes``)."""

    def __init__(self, getter: Any) -> None:
        self.getter = getter

    def __get__(self, instance: Any, owner: type) -> Any:
        return self.getter(owner)


class Process:
    """The base of every process (see the module docstring)."""

    _node_class: ClassVar[type[ProcessNode]] = ProcessNode
    _input_link: ClassVar[LinkType] = LinkType.INPUT_WORK
    _output_link: ClassVar[LinkType] = LinkType.RETURN
    _call_link: ClassVar[LinkType] = LinkType.CALL_WORK
    #: whether ``metadata.store_provenance=False`` may run it without storing (calcfunctions only)
    _unstored_allowed: ClassVar[bool] = False

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Declare the spec; subclasses call ``super().define(spec)`` first."""
        spec.input_namespace("metadata", non_db=True, help="label, description and call_link_label of the node")
        spec.input("metadata.label", valid_type=str, required=False, non_db=True)
        spec.input("metadata.description", valid_type=str, required=False, non_db=True)
        spec.input("metadata.call_link_label", valid_type=str, required=False, non_db=True)
        spec.input("metadata.store_provenance", valid_type=bool, required=False, non_db=True,
                   help="False runs a calcfunction at the top level without storing anything (default True)")
        spec.exit_code(1, "ERROR_UNSPECIFIED", "the process failed for an unspecified reason")
        spec.exit_code(10, "ERROR_INVALID_OUTPUT", "the process returned an invalid output: {message}")
        spec.exit_code(11, "ERROR_MISSING_OUTPUT", "the process did not register the required output(s) {labels}")

    @classmethod
    def spec(cls) -> ProcessSpec:
        """The spec of this class, built once from ``define``."""
        if "_spec_cache" not in cls.__dict__:
            spec = ProcessSpec()
            cls.define(spec)
            cls._check_spec(spec)
            cls._spec_cache = spec
        return cls.__dict__["_spec_cache"]

    @classmethod
    def _check_spec(cls, spec: ProcessSpec) -> None:
        """Subclass hook: refuse an incomplete spec."""

    exit_codes = _ClassProperty(lambda cls: cls.spec().exit_codes)
    exit_codes.__doc__ = "The exit codes of the spec, by label."

    @classmethod
    def get_builder(cls) -> ProcessBuilder:
        """A builder to fill the inputs attribute by attribute, validated as they are set."""
        from provgraph.engine.processes.builder import ProcessBuilder

        return ProcessBuilder(cls)

    @classmethod
    def process_type(cls) -> str:
        """The importable path ``module:QualName`` recorded on the node to rebuild the process."""
        return f"{cls.__module__}:{cls.__qualname__}"

    @classmethod
    def label(cls) -> str:
        """The process label recorded on the node."""
        return cls.__name__

    def __init__(self, node: ProcessNode, inputs: Mapping[str, Any]) -> None:
        self.node = node
        self.inputs = to_attribute_dict(inputs)
        self._state = node.process_state
        self._exit: tuple[int | None, str | None] | None = None
        self._traceback: str | None = None
        self._traceback_logged = False
        self._outputs: dict[str, Node | str] = {}
        self._work: UnitOfWork | None = None
        self._classes: dict[str, type] | None = None
        #: the exception that ended the process, when it excepted in this interpreter
        self.exception: BaseException | None = None

    # -- creation and rebuild ------------------------------------------------------------------

    @classmethod
    def create(cls, inputs: Mapping[str, Any] | None, work: UnitOfWork, caller: Process | None = None) -> Process:
        """Validate ``inputs`` and make the (unstored) process node with its links in ``work``.

        :raises ValidationError: naming the port when an input does not fit the spec
        """
        values = cls.spec().inputs.validate(dict(inputs or {}), "inputs")
        db, non_db = split_non_db(cls.spec().inputs, values)
        metadata = non_db.get("metadata", {})
        if metadata.get("store_provenance") is False and (not cls._unstored_allowed or caller is not None):
            raise ValidationError(
                f"{cls.label()}: metadata.store_provenance=False is only supported for a calcfunction run at the "
                "top level (provenance of workflows and of calls inside processes is always stored)"
            )
        node = cls._node_class(process_label=cls.label(), process_type=cls.process_type(),
                               label=metadata.get("label", ""), description=metadata.get("description", ""))
        extra = {key: value for key, value in non_db.items() if key != "metadata"}
        if extra:
            node.base.attributes.set("non_db_inputs", clean_value(extra, kind="non-db input"))
        node.base.attributes.set("checkpoint_version", 0)
        if caller is not None:
            caller._link_child(node, metadata.get("call_link_label") or DEFAULT_CALL_LABEL, work)
        work.add(node)
        for label, data in db.items():
            work.link(data, node, cls._input_link, label)
        return cls(node, values)

    def _link_child(self, child: ProcessNode, label: str, work: UnitOfWork) -> None:
        if not isinstance(self.node, WorkflowNode):
            raise ValidationError(
                f"{self.label()} cannot call other processes: calculations create data, only workflows call "
                "(use a workfunction or a WorkChain)"
            )
        link_type = LinkType.CALL_CALC if child.class_tree().count("CalculationNode") else LinkType.CALL_WORK
        if self.node.is_stored:
            child.base.attributes.set("caller_pk", self.node.pk)
        work.link(self.node, child, link_type, label)

    @classmethod
    def recorded_inputs(cls, node: ProcessNode) -> dict[str, Any]:
        """The nested inputs a stored node of this class was launched with (input links and non-db values)."""
        inputs = unflatten({t.link_label: t.node for t in node.base.links.get_incoming(link_type=cls._input_link)})
        return deep_merge(inputs, node.base.attributes.get("non_db_inputs", None) or {})

    @classmethod
    def rebuild(cls, node: ProcessNode) -> Process:
        """The process of a stored node, ready to continue from its checkpoint."""
        process = cls(node, cls.recorded_inputs(node))
        process.load_checkpoint(node.base.attributes.get("checkpoint", None))
        return process

    def load_checkpoint(self, data: Mapping[str, Any] | None) -> None:
        """Restore the state saved by :meth:`checkpoint` (nothing to restore by default)."""

    def checkpoint(self, work: UnitOfWork) -> dict[str, Any] | None:
        """The JSON-able state to continue from (None: start over, as function processes do).

        Unstored nodes the state refers to are added to ``work`` so that they are stored with it.
        """
        return None

    # -- running ---------------------------------------------------------------------------------

    @property
    def stores_provenance(self) -> bool:
        """False when run with ``metadata.store_provenance=False`` (nothing of it is stored)."""
        return self.inputs.get("metadata", {}).get("store_provenance", True) is not False

    @property
    def state(self) -> ProcessState:
        """The current state (in memory; written to the node when the step commits)."""
        return self._state

    @property
    def traceback(self) -> str | None:
        """The traceback text when the process excepted in this interpreter."""
        return self._traceback

    def awaited_nodes(self) -> list[ProcessNode]:
        """The nodes of the children the process waits for (none, unless it is a workflow that waits)."""
        return []

    @property
    def exit_status(self) -> int | None:
        """The exit status once finished (None while running, or when excepted or killed)."""
        return self._exit[0] if self._exit is not None else None

    @property
    def runner_classes(self) -> dict[str, type] | None:
        """The in-process runner's classes during a step (None on a worker: children must be importable)."""
        return self._classes

    @property
    def is_terminated(self) -> bool:
        """Whether the process ended."""
        return self._state.is_terminal

    def step(self, work: UnitOfWork, classes: dict[str, type] | None = None) -> Outcome:
        """Run one step, buffering every write in ``work``; exceptions end the process as excepted."""
        if self.is_terminated:
            return Outcome.TERMINATED
        self._work, self._classes = work, classes
        try:
            with entered(Frame(work, self, classes)):
                return self._run_step()
        except Exception as exc:  # a process's own failure is recorded, not raised
            self._except(exc)
            return Outcome.TERMINATED
        finally:
            self._work = None

    def mark_running(self) -> None:
        """Move from created to running before the first step (see ``advance(mark_running=True)``)."""
        self._set_state(ProcessState.RUNNING)

    def _run_step(self) -> Outcome:
        """Subclass hook: do one step and say what it left."""
        raise NotImplementedError

    def _set_state(self, state: ProcessState) -> None:
        self._state = check_transition(self._state, state)

    def _finish(self, exit_code: ExitCode | None = None) -> Outcome:
        """End normally; a missing required output turns a success into ERROR_MISSING_OUTPUT."""
        if exit_code is None or exit_code.status == 0:
            missing = [label for label in self.spec().outputs.required_labels() if label not in self._outputs]
            exit_code = self.exit_codes.ERROR_MISSING_OUTPUT.format(labels=", ".join(missing)) if missing else None
        exit_code = exit_code or ExitCode(0)
        self._exit = (exit_code.status, exit_code.message)
        self._set_state(ProcessState.FINISHED)
        return Outcome.TERMINATED

    def _except(self, exc: BaseException) -> None:
        """End with an exception: the traceback goes to the node's ``exception`` attribute."""
        self.exception = exc
        sink = _EXCEPTIONS.get()
        if sink is not None:
            sink[self.node.uuid] = exc
        self._traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self._traceback_logged = False
        self._exit = (None, f"{type(exc).__name__}: {exc}")
        self._state = ProcessState.EXCEPTED

    def except_from(self, exc: BaseException) -> None:
        """Mark the process excepted because committing its step failed (e.g. a broken link rule)."""
        self._except(exc)

    def bookkeeping(self, version: int, work: UnitOfWork) -> dict[str, Any]:
        """The bookkeeping attributes to write with checkpoint version ``version``.

        :raises ValidationError: when the state cannot be checkpointed (e.g. a ctx value that is not JSON-able)
        """
        terminal = self.is_terminated
        values: dict[str, Any] = {
            "process_state": self._state.value, "checkpoint_version": version,
            "checkpoint": None if terminal else self.checkpoint(work), "process_status": self.status_text(),
        }
        if self._exit is not None:
            values.update(exit_status=self._exit[0], exit_message=self._exit[1])
        if self._traceback is not None:
            values["exception"] = self._traceback
            if not self._traceback_logged:  # as in AiiDA, the traceback is also in the process report
                work.log(self.node, "REPORT", self._traceback, f"provgraph.engine.{self.label()}")
                self._traceback_logged = True
        if terminal:
            values["sealed"] = True
        return values

    def safe_bookkeeping(self, version: int, work: UnitOfWork) -> dict[str, Any]:
        """:meth:`bookkeeping`; if the engine's own machinery fails on it (e.g. a context value that
        cannot be checkpointed, a broken hook), the process ends excepted with that error instead."""
        try:
            return self.bookkeeping(version, work)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the process must not stay running
            self._except(exc)
            return self.excepted_bookkeeping(version, work)

    def excepted_bookkeeping(self, version: int, work: UnitOfWork) -> dict[str, Any]:
        """The bookkeeping of an excepted process, written even when the process's own hooks are broken."""
        try:
            return self.bookkeeping(version, work)
        except Exception:  # noqa: BLE001 - e.g. a user method shadowing an engine hook
            work.log(self.node, "REPORT", self._traceback or "", f"provgraph.engine.{self.label()}")
            return {"process_state": ProcessState.EXCEPTED.value, "checkpoint_version": version,
                    "checkpoint": None, "process_status": None, "exit_status": None,
                    "exit_message": self._exit[1] if self._exit else None, "exception": self._traceback,
                    "sealed": True}

    def status_text(self) -> str | None:
        """A one-line description of what the process is doing (``process_status``)."""
        return None

    # -- outputs, logs, exposed ports -----------------------------------------------------------

    @property
    def outputs(self) -> AttributeDict:
        """The outputs attached so far, nested by namespace."""
        return to_attribute_dict(unflatten({label: self._output_node(label) for label in self._outputs}))

    def _output_node(self, label: str) -> Node:
        value = self._outputs[label]
        if isinstance(value, str):
            from provgraph.orm.utils import load_node

            value = self._outputs[label] = load_node(uuid=value)
        return value

    def out(self, label: str, value: Any) -> None:
        """Attach an output; ``label`` may be dotted (``ns.x``), a mapping value fills a namespace.

        :raises ValidationError: when the output port does not exist or does not take the value
        """
        if isinstance(value, Mapping) and not isinstance(value, Node):
            for flat_label, node in flatten(value, label.replace(".", "__") + "__").items():
                self.out(flat_label, node)
            return
        flat = label.replace(".", "__")
        self._output_port(flat).validate(value, "outputs." + flat.replace("__", "."), wrap=False)
        if flat in self._outputs:
            raise ValidationError(f"output '{flat}' of {self.label()} was already attached")
        self._attach(flat, value)
        self._outputs[flat] = value

    def out_many(self, outputs: Mapping[str, Any]) -> None:
        """Attach every output of a (nested) mapping."""
        for label, value in outputs.items():
            self.out(label, value)

    def _output_port(self, flat: str) -> Port:
        namespace: PortNamespace = self.spec().outputs
        parts = flat.split("__")
        for depth, part in enumerate(parts):
            port = namespace.ports.get(part)
            if port is None:
                if namespace.dynamic:
                    return Port(parts[-1] if parts[-1].isidentifier() else "value", valid_type=namespace.valid_type)
                raise ValidationError(f"{self.label()} has no output '{'.'.join(parts[:depth + 1])}'"
                                      f" (outputs: {', '.join(sorted(namespace.ports)) or 'none'})")
            if isinstance(port, Port):
                if depth != len(parts) - 1:
                    raise ValidationError(f"output '{part}' of {self.label()} is a port, not a namespace")
                return port
            namespace = port
        raise ValidationError(f"output '{flat.replace('__', '.')}' of {self.label()} is a namespace: give a mapping")

    def _attach(self, label: str, value: Data) -> None:
        """Link an output in the unit of work (RETURN for workflows; calculations override).

        :raises LinkRuleError: when a workflow returns data that is neither stored nor created
        """
        self.require_work().link(self.node, value, self._output_link, label)

    def require_work(self) -> UnitOfWork:
        """The unit of work of the running step.

        :raises EngineError: outside a step
        """
        if self._work is None:
            raise EngineError(f"{self.label()} is not running a step: outputs are attached inside steps")
        return self._work

    def report(self, message: str, *args: Any) -> None:
        """Log a message on the process node (a Log entity, shown by ``provgraph process report``)."""
        text = message % args if args else message
        logger = f"provgraph.engine.{self.label()}"
        if self._work is not None:
            self._work.log(self.node, "REPORT", text, logger)
        elif self.node.is_stored:
            get_backend().logs.add_many([LogRecord(self.node.pk, text, "REPORT", logger)])
        else:
            raise EngineError("report() outside a step needs a stored process node")

    def exposed_inputs(self, process_class: type[Process], namespace: str | None = None,
                       agglomerate: bool = True) -> AttributeDict:
        """The inputs this process got for the ports it exposed from ``process_class`` (ready to pass on).

        :param agglomerate: also gather the inputs exposed from it in the parent namespaces of
            ``namespace``; those of lower-lying namespaces win (as in AiiDA)
        """
        gathered: dict[str, Any] = {}
        for level, names in self.spec().exposed_levels("inputs", process_class, namespace, agglomerate):
            source: Any = self.inputs
            for part in (level.split(".") if level else []):
                source = source.get(part, {}) if isinstance(source, Mapping) else {}
            gathered.update({name: source[name] for name in names if name in source})
        return AttributeDict(gathered)

    def exposed_outputs(self, node: ProcessNode, process_class: type[Process],
                        namespace: str | None = None, agglomerate: bool = True) -> AttributeDict:
        """The outputs of a finished child ``node`` for the ports exposed from ``process_class``, ready for
        ``self.out_many``.

        As in AiiDA, each is keyed by the namespace it was exposed in (the lowest one with
        ``agglomerate``) and its top-level name, dotted (``child.sum``); outputs in a namespace of the
        child come as a nested dict under their top-level name (``child.ns`` -> ``{'a': node}``).
        """
        produced = unflatten(output_links(node))
        placed: dict[str, str | None] = {}
        for level, names in self.spec().exposed_levels("outputs", process_class, namespace, agglomerate):
            placed.update({name: level for name in names if name in produced})
        return to_attribute_dict({f"{level}.{name}" if level else name: produced[name]
                                  for name, level in placed.items()})


def outputs_of(node: ProcessNode) -> AttributeDict:
    """The outputs of a process node, nested by namespace."""
    return to_attribute_dict(unflatten(output_links(node)))


def output_links(node: ProcessNode) -> dict[str, Node]:
    """The output nodes of a process node by (flat) link label, read from its CREATE/RETURN links."""
    links = node.base.links.get_outgoing(link_type=(LinkType.CREATE, LinkType.RETURN))
    return {t.link_label: t.node for t in links}

