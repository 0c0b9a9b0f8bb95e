"""BaseRestartWorkChain: run a process again and again until it succeeds, fixing what failed.

A subclass names the process to run (``_process_class``), fills ``self.ctx.inputs`` in its
``setup`` and declares an outline such as::

    spec.outline(
        cls.setup,
        while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
        cls.results,
    )

After each iteration ``inspect_process`` calls the :func:`process_handler` methods, highest
priority first, with the node of the process that ended. The outcome follows AiiDA's table:

- the process excepted or was killed → exit code 301 / 302;
- a handler returned a report with status 0 → restart (after ``self.ctx.inputs`` was fixed),
  unless ``max_iterations`` is reached (401, or a pause with ``pause_on_max_iterations``);
- a handler returned a non-zero exit code → the work chain ends with it;
- the process failed and no handler reported → the ``on_unhandled_failure`` policy: ``abort``
  (default, 402 ``ERROR_UNHANDLED_FAILURE``), ``pause``, ``restart_once`` (402 on the second
  unhandled failure in a row), ``restart_and_pause`` (pause on the second);
- the process succeeded and no handler reported → done; ``results`` attaches its outputs.

Every handler considered is recorded in the ``considered_handlers`` extra (one list per
iteration). With ``clean_workdir=True`` the remote working directories of every CalcJob
called below the work chain are removed when it finishes (extra ``cleaned`` on the folder).

Differences from AiiDA: a paused work chain is paused through provgraph's ``paused`` flag
(played with ``provgraph process play``); the working directories are cleaned when the work
chain *finishes* (any exit status), not when it is killed or excepted, because a kill is
written by another process (``provgraph process kill``) that runs none of the work chain's code.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

from provgraph.common.links import LinkType
from provgraph.engine.exceptions import EngineError
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.ports import PortNamespace
from provgraph.engine.processes.process import Process
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.utils import AttributeDict
from provgraph.engine.processes.workchain import ToContext, WorkChain, append_
from provgraph.engine.processes.workchains.utils import ProcessHandlerReport, process_handler
from provgraph.engine.state import Outcome
from provgraph.engine.unit import UnitOfWork
from provgraph.orm.nodes.data.bool_ import Bool
from provgraph.orm.nodes.data.containers import Dict
from provgraph.orm.nodes.data.numeric import Int
from provgraph.orm.nodes.data.str_ import Str
from provgraph.orm.nodes.process.process import ProcessNode

__all__ = ["BaseRestartWorkChain", "validate_handler_overrides", "validate_on_unhandled_failure"]

#: the values ``on_unhandled_failure`` accepts
UNHANDLED_FAILURE_POLICIES = ("abort", "pause", "restart_once", "restart_and_pause")


def validate_on_unhandled_failure(value: Str | None) -> str | None:
    """Refuse an ``on_unhandled_failure`` that is not one of :data:`UNHANDLED_FAILURE_POLICIES`."""
    if value is not None and value.value not in UNHANDLED_FAILURE_POLICIES:
        return f"on_unhandled_failure {value.value!r} must be one of: {', '.join(UNHANDLED_FAILURE_POLICIES)}"
    return None


def validate_handler_overrides(process_class: type[BaseRestartWorkChain], value: Dict | None,
                               _port: Any = None) -> str | None:
    """Check ``handler_overrides``: keys name process handlers, values are ``{enabled, priority}`` dicts.

    A bare boolean value (AiiDA's deprecated form) is accepted as ``{"enabled": value}``.
    """
    if not value:
        return None
    for name, overrides in value.get_dict().items():
        if not process_class.is_process_handler(name):
            return f"handler_overrides: {name!r} is not a process handler of {process_class.__name__}"
        if isinstance(overrides, bool):
            continue
        if not isinstance(overrides, dict):
            return f"handler_overrides: the value of {name!r} must be a dict with enabled and/or priority"
        unknown = sorted(set(overrides) - {"enabled", "priority"})
        if unknown:
            return f"handler_overrides: {name!r} has unsupported keys {unknown} (only enabled and priority)"
        if "enabled" in overrides and not isinstance(overrides["enabled"], bool):
            return f"handler_overrides: enabled of {name!r} must be a bool"
        priority = overrides.get("priority")
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            return f"handler_overrides: priority of {name!r} must be an int"
    return None


class _ProcessClassProperty:
    """``self.process_class``: the process class run in the loop (AiiDA's property).

    Read on the class it gives the class itself, because the launchers read ``X.process_class``
    to find what to launch (a process function's class, or the class given).
    """

    def __get__(self, instance: Any, owner: type) -> type[Process]:
        if instance is None:
            return owner
        process_class = owner._process_class
        if not (isinstance(process_class, type) and issubclass(process_class, Process)):
            raise EngineError(f"{owner.__name__} sets no valid Process class in _process_class")
        return process_class


class BaseRestartWorkChain(WorkChain):
    """Runs ``_process_class`` until it succeeds, calling process handlers after each run (module docstring)."""

    #: the process class run in the loop (a subclass sets it)
    _process_class: ClassVar[type[Process] | None] = None
    #: the extra recording the handlers considered after each iteration
    _considered_handlers_extra: ClassVar[str] = "considered_handlers"

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """The inputs max_iterations, clean_workdir, handler_overrides, on_unhandled_failure and the exit codes."""
        super().define(spec)
        spec.input("max_iterations", valid_type=Int, default=lambda: Int(5),
                   help="how many times the process may be run before the work chain gives up")
        spec.input("clean_workdir", valid_type=Bool, default=lambda: Bool(False),
                   help="remove the working directories of every CalcJob called once the work chain finished")
        spec.input("handler_overrides", valid_type=Dict, required=False,
                   validator=functools.partial(validate_handler_overrides, cls),
                   help="process handler name -> {'enabled': bool, 'priority': int}, overriding the declaration")
        spec.input("on_unhandled_failure", valid_type=Str, required=False, validator=validate_on_unhandled_failure,
                   help="what to do when the process failed and no handler dealt with it: abort (default), "
                        "pause, restart_once or restart_and_pause")
        spec.input("pause_on_max_iterations", valid_type=Bool, required=False,
                   help="pause instead of ending with 401 when max_iterations is reached (the count restarts on play)")
        spec.exit_code(301, "ERROR_SUB_PROCESS_EXCEPTED", "The sub process excepted.")
        spec.exit_code(302, "ERROR_SUB_PROCESS_KILLED", "The sub process was killed.")
        spec.exit_code(401, "ERROR_MAXIMUM_ITERATIONS_EXCEEDED", "The maximum number of iterations was exceeded.")
        spec.exit_code(402, "ERROR_UNHANDLED_FAILURE", "The process failed with an unhandled failure.")

    @classmethod
    def _check_spec(cls, spec: ProcessSpec) -> None:
        if cls is not BaseRestartWorkChain:  # the base itself is abstract: it has no outline
            super()._check_spec(spec)

    def __init__(self, node: ProcessNode, inputs: Mapping[str, Any]) -> None:
        super().__init__(node, inputs)
        self.process_class  # noqa: B018 - refuse a subclass without a valid _process_class early
        self._pause_message: str | None = None

    process_class = _ProcessClassProperty()

    # -- handlers -----------------------------------------------------------------------------------

    @classmethod
    def is_process_handler(cls, name: str | Any) -> bool:
        """Whether ``name`` (a method name or function) is a process handler of this class."""
        handler = getattr(cls, name, None) if isinstance(name, str) else name
        return getattr(handler, "decorator", None) is process_handler

    @classmethod
    def get_process_handlers(cls) -> list[Any]:
        """The process handlers of this class and its bases (unbound functions), by name."""
        names = {name for klass in cls.__mro__ for name in vars(klass)}
        return [getattr(cls, name) for name in sorted(names) if cls.is_process_handler(name)]

    def get_process_handlers_by_priority(self) -> list[tuple[int, Any]]:
        """``(priority, handler)`` of the enabled handlers, ``handler_overrides`` applied."""
        overrides_of = self.ctx.get("handler_overrides", {})
        handlers = []
        for handler in self.get_process_handlers():
            overrides = overrides_of.get(handler.__name__, {})
            if isinstance(overrides, bool):
                overrides = {"enabled": overrides}
            enabled = overrides.get("enabled")
            if enabled is False or (enabled is None and not handler.enabled):
                continue
            priority = overrides.get("priority")
            handlers.append((handler.priority if priority is None else priority, handler))
        return handlers

    # -- outline steps ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Initialise the context: overrides, process name, iteration count and flags."""
        overrides = self.inputs.get("handler_overrides")
        self.ctx.handler_overrides = overrides.get_dict() if overrides is not None else {}
        self.ctx.process_name = self.process_class.__name__
        self.ctx.unhandled_failure = False
        self.ctx.is_finished = False
        self.ctx.iteration = 0

    def should_run_process(self) -> bool:
        """Whether to run the process (again): until it finished and no handler asked for more."""
        return not self.ctx.is_finished

    def run_process(self) -> ToContext:
        """Launch the process with ``self.ctx.inputs`` (call link ``iteration_NN``).

        :raises EngineError: when the subclass put no inputs in ``self.ctx.inputs``
        """
        self.ctx.iteration += 1
        if "inputs" not in self.ctx:
            raise EngineError(f"{type(self).__name__} defined no process inputs in self.ctx.inputs")
        inputs = AttributeDict(self.ctx.inputs)
        metadata = dict(inputs.get("metadata", {}))
        metadata["call_link_label"] = f"iteration_{self.ctx.iteration:02d}"
        inputs["metadata"] = metadata
        node = self.submit(self.process_class, **self._wrap_bare_dict_inputs(self.process_class.spec().inputs,
                                                                             inputs))
        considered = self.node.base.extras.get(self._considered_handlers_extra, [])
        considered.append([])
        self.node.base.extras.set(self._considered_handlers_extra, considered)
        self.report(f"launching {self.ctx.process_name}<{node.pk}> iteration #{self.ctx.iteration}")
        return ToContext(children=append_(node))

    def inspect_process(self) -> ExitCode | None:
        """Judge the process that ended, calling the handlers (see the module docstring)."""
        node = self.ctx.children[self.ctx.iteration - 1]
        if node.is_excepted:
            return self.exit_codes.ERROR_SUB_PROCESS_EXCEPTED
        if node.is_killed:
            return self.exit_codes.ERROR_SUB_PROCESS_KILLED
        last_report = self._call_handlers(node)
        if node.is_failed and last_report is None:
            return self._unhandled_failure(node)
        self.ctx.unhandled_failure = False
        if last_report is None:
            self.ctx.is_finished = True
            return None
        return self._handled(node, last_report)

    def _call_handlers(self, node: ProcessNode) -> ProcessHandlerReport | None:
        last_report = None
        for _, handler in sorted(self.get_process_handlers_by_priority(), key=lambda pair: pair[0], reverse=True):
            report = handler(self, node)
            if report is not None and not isinstance(report, ProcessHandlerReport):
                raise EngineError(f"process handler {handler.__name__} returned {report!r}, not a "
                                  "ProcessHandlerReport or None")
            if report is not None:
                last_report = report
                if report.do_break:
                    break
        return last_report

    def _unhandled_failure(self, node: ProcessNode) -> ExitCode | None:
        policy = self.inputs.get("on_unhandled_failure")
        policy = policy.value if policy is not None else "abort"
        name = f"{self.ctx.process_name}<{node.pk}>"
        if policy == "abort":
            self.report(f"{name} failed with an unhandled failure, aborting")
            return self.exit_codes.ERROR_UNHANDLED_FAILURE
        if policy == "pause" or (policy == "restart_and_pause" and self.ctx.unhandled_failure):
            again = " for the second consecutive time" if policy == "restart_and_pause" else ""
            self.report(f"{name} failed with an unhandled failure{again}, pausing for inspection")
            self.ctx.unhandled_failure = False
            self.pause(f"Paused for user inspection, see: 'provgraph process report {self.node.pk}'")
            return None
        if self.ctx.unhandled_failure:  # restart_once, second failure in a row
            self.report(f"{name} failed with an unhandled failure for the second consecutive time, aborting")
            return self.exit_codes.ERROR_UNHANDLED_FAILURE
        self.ctx.unhandled_failure = True
        self.report(f"{name} failed with an unhandled failure, restarting once more")
        return None

    def _handled(self, node: ProcessNode, report: ProcessHandlerReport) -> ExitCode | None:
        if self.ctx.is_finished:  # a handler accepted the process as it is
            return report.exit_code
        name = f"{self.ctx.process_name}<{node.pk}>"
        pause = False
        limit = self.inputs.max_iterations.value
        if self.ctx.iteration >= limit:
            self.report(f"Reached the maximum number of global iterations ({limit}).")
            wants_pause = self.inputs.get("pause_on_max_iterations")
            if not (wants_pause is not None and wants_pause.value):
                self.report(f"Aborting! Last ran: {name}")
                return self.exit_codes.ERROR_MAXIMUM_ITERATIONS_EXCEEDED
            pause = True
        outcome = "finished successfully" if node.is_finished_ok else "failed"
        verdict = ("a handler was triggered, restarting" if node.is_finished_ok else
                   "a handler dealt with the problem, restarting")
        if report.exit_code.status != 0:
            verdict = "a handler detected an unrecoverable problem, aborting"
        self.report(f"{name} {outcome} but {verdict}")
        if report.exit_code.status == 0 and pause:
            self.report(f"Resetting the iteration counter and pausing for inspection: resume with "
                        f"`provgraph process play {self.node.pk}` or kill with `provgraph process kill {self.node.pk}`")
            self.ctx.iteration = 0
            self.pause(f"Paused for user inspection, see: 'provgraph process report {self.node.pk}'")
            return None
        return report.exit_code

    def get_outputs(self, node: ProcessNode) -> dict[str, Any]:
        """The outputs to attach to the work chain: by default those of ``node`` (nested by namespace)."""
        from provgraph.engine.processes.process import outputs_of

        return dict(outputs_of(node))

    def results(self) -> ExitCode | None:
        """Attach the outputs of the last process that the spec declares as outputs."""
        node = self.ctx.children[self.ctx.iteration - 1]
        self.report(f"work chain completed after {self.ctx.iteration} iterations")
        self._attach_outputs(node)
        return None

    def _attach_outputs(self, node: ProcessNode) -> dict[str, Any]:
        outputs = self.get_outputs(node)
        for name, port in self.spec().outputs.ports.items():
            if name in outputs:
                if name not in self._outputs and not any(label.startswith(f"{name}__") for label in self._outputs):
                    self.out(name, outputs[name])
            elif getattr(port, "required", False):
                self.report(f"required output `{name}` was not an output of {self.ctx.process_name}<{node.pk}> "
                            "(or an incorrect class/output is being exposed).")
        return outputs

    def _wrap_bare_dict_inputs(self, namespace: PortNamespace, inputs: Mapping[str, Any]) -> AttributeDict:
        """``inputs`` with plain dicts wrapped into Dict nodes where the port takes a Dict."""
        wrapped = AttributeDict()
        for key, value in inputs.items():
            port = namespace.ports.get(key)
            if isinstance(port, PortNamespace) and isinstance(value, Mapping):
                wrapped[key] = self._wrap_bare_dict_inputs(port, value)
            elif port is not None and not isinstance(port, PortNamespace) and port.valid_type \
                    and Dict in port.valid_type and type(value) in (dict, AttributeDict):
                wrapped[key] = Dict(dict(value))
            else:
                wrapped[key] = value
        return wrapped

    # -- pausing and cleaning -----------------------------------------------------------------------

    def pause(self, message: str | None = None) -> None:
        """Pause the work chain once the current step committed (``provgraph process play`` resumes it)."""
        self._pause_message = message or "Paused"

    def bookkeeping(self, version: int, work: UnitOfWork) -> dict[str, Any]:
        """The WorkChain's bookkeeping plus ``paused`` when a step asked to pause."""
        values = super().bookkeeping(version, work)
        if self._pause_message is not None and not self.is_terminated:
            values.update(paused=True, process_status=self._pause_message)
            self._pause_message = None
        return values

    def _finish(self, exit_code: ExitCode | None = None) -> Outcome:
        if "clean_workdir" in self.inputs:
            self._clean_workdirs()
        return super()._finish(exit_code)

    def _clean_workdirs(self) -> None:
        """Remove the working directories of the CalcJobs called below this work chain (``clean_workdir``)."""
        if not self.inputs.clean_workdir.value:
            self.report("remote folders will not be cleaned")
            return
        cleaned = []
        for node in _called_descendants(self.node):
            remote = _remote_folder(node)
            if remote is not None and clean_remote_folder(remote):
                cleaned.append(str(node.pk))
        if cleaned:
            self.report(f"cleaned remote folders of calculations: {' '.join(cleaned)}")


def _called_descendants(node: ProcessNode) -> list[ProcessNode]:
    found, stack = [], list(node.called)
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(child.called)
    return found


def _remote_folder(node: ProcessNode) -> Any:
    if "CalcJobNode" not in node.class_tree():
        return None
    for triple in node.base.links.get_outgoing(link_type=LinkType.CREATE):
        if triple.link_label == "remote_folder":
            return triple.node
    return None


def clean_remote_folder(remote: Any) -> bool:
    """Remove the folder of a RemoteData on its computer and mark it with the extra ``cleaned``.

    :return: whether it was cleaned (False when the computer could not be reached: reported, not raised)
    """
    from provgraph.engine.processes.calcjobs import connections
    from provgraph.exceptions import ProvgraphError

    try:
        computer = connections.computer(remote.computer)
        transport = connections.open_transport(computer, remote.user)
        path = remote.get_remote_path()
        if transport.path_exists(path):
            transport.rmtree(path)
    except (OSError, ProvgraphError):
        return False
    remote.base.extras.set("cleaned", True)
    return True
