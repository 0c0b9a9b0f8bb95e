"""CalcJob monitors: functions called on a running job that may stop it (AiiDA's live monitoring).

A CalcJob takes monitors in its input namespace ``monitors``: each a ``Dict`` with

- ``entry_point`` (required): the name of the function in group ``provgraph.calculations.monitors``;
- ``kwargs``: keyword arguments passed to it;
- ``priority`` (default 0): monitors run by decreasing priority (then by name);
- ``minimum_poll_interval``: at least this many seconds between two calls (default: every poll);
- ``disabled`` (default False): not called.

While the job waits for its scheduler, each due monitor is called as
``monitor(node, transport, **kwargs)`` with an open transport whose working directory is the
job's (``transport.exec_command_wait(..., workdir=node.get_remote_workdir())`` reads its files).
It returns None (all is well), a message (stop the job), or a :class:`CalcJobMonitorResult`:
``action`` ``kill`` stops the job, ``disable-self`` stops calling that monitor,
``disable-all`` stops calling any; for a kill, ``retrieve`` (default True) fetches the files,
``parse`` (default True) runs the parser on them, and ``override_exit_code`` (default True)
makes the process end with exit code 150 ``STOPPED_BY_MONITOR`` whatever the parser said.

A stopped job's scheduler job is cancelled; the message is reported on the node and kept in its
``monitor_result`` attribute. A monitor that raises is reported and disabled (the job goes on).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import NotExistent

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcjob import CalcJob
    from provgraph.engine.processes.exit_code import ExitCode
    from provgraph.transports.base import Transport

__all__ = ["MONITOR_GROUP", "CalcJobMonitorAction", "CalcJobMonitorResult", "run_monitors", "validate_monitors"]

#: the entry point group of monitor functions
MONITOR_GROUP = "provgraph.calculations.monitors"
_KEYS = {"entry_point", "kwargs", "priority", "minimum_poll_interval", "disabled", "call_timestamp", "call_count"}


class CalcJobMonitorAction(str, Enum):
    """What a monitor asks for (AiiDA's values)."""

    KILL = "kill"
    DISABLE_ALL = "disable-all"
    DISABLE_SELF = "disable-self"


@dataclass
class CalcJobMonitorResult:
    """What a monitor returns when it wants something done (see the module docstring)."""

    key: str | None = None
    message: str | None = None
    action: CalcJobMonitorAction = CalcJobMonitorAction.KILL
    retrieve: bool = True
    parse: bool = True
    override_exit_code: bool = True

    def __post_init__(self) -> None:
        self.action = CalcJobMonitorAction(self.action)
        if self.action is CalcJobMonitorAction.KILL and not self.retrieve and self.parse:
            raise ValueError("a monitor result cannot ask to parse without retrieving")


def _load(name: str) -> Any:
    from importlib.metadata import entry_points

    found = {ep.name: ep for ep in entry_points(group=MONITOR_GROUP)}
    if name not in found:
        raise NotExistent(f"no monitor {name!r} in entry point group {MONITOR_GROUP} (known: {sorted(found)})")
    return found[name].load()


def validate_monitors(value: Any, _: Any = None) -> str | None:
    """The problem with the ``monitors`` inputs, or None when they are valid."""
    for name, monitor in (value or {}).items():
        spec = monitor.get_dict() if hasattr(monitor, "get_dict") else monitor
        if not isinstance(spec, Mapping):
            return f"monitors.{name} must be a Dict"
        unknown = set(spec) - _KEYS
        if unknown:
            return f"monitors.{name}: unknown keys {sorted(unknown)} (allowed: {sorted(_KEYS)})"
        try:
            function = _load(spec.get("entry_point"))
        except (NotExistent, TypeError) as exc:
            return f"monitors.{name}: {exc}"
        if not callable(function):
            return f"monitors.{name}: entry point {spec['entry_point']!r} is not a function"
        if not isinstance(spec.get("kwargs", {}), Mapping):
            return f"monitors.{name}.kwargs must be a dict"
        for key in ("priority", "minimum_poll_interval"):
            number = spec.get(key, 0)
            if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
                return f"monitors.{name}.{key} must be a number >= 0, not {number!r}"
    return None


def _ordered(process: CalcJob) -> list[tuple[str, dict]]:
    monitors = process.inputs.get("monitors") or {}
    specs = [(name, dict(node.get_dict())) for name, node in monitors.items()]
    return sorted(specs, key=lambda item: (-int(item[1].get("priority", 0)), item[0]))


def run_monitors(process: CalcJob, transport: Transport) -> CalcJobMonitorResult | None:
    """Call the due monitors of ``process`` (see the module docstring); return the first kill asked for.

    The calls made (per monitor: time and count, and disabled ones) are kept in the checkpoint.
    """
    state: dict[str, Any] = process._cp.setdefault("monitors", {})
    if state.get("__all_disabled__"):
        return None
    now = time.time()
    for name, spec in _ordered(process):
        mine = state.setdefault(name, {"calls": 0, "last": None, "disabled": bool(spec.get("disabled", False))})
        interval = float(spec.get("minimum_poll_interval", 0) or 0)
        if mine["disabled"] or (mine["last"] is not None and now - mine["last"] < interval):
            continue
        mine.update(calls=mine["calls"] + 1, last=now)
        try:
            outcome = _load(spec["entry_point"])(process.node, transport, **dict(spec.get("kwargs") or {}))
        except Exception as exc:  # noqa: BLE001 - a broken monitor must not break the job
            mine["disabled"] = True
            process.report(f"monitor {name} raised {type(exc).__name__}: {exc}; it is disabled")
            continue
        if outcome is None:
            continue
        result = CalcJobMonitorResult(message=outcome) if isinstance(outcome, str) else outcome
        if not isinstance(result, CalcJobMonitorResult):
            mine["disabled"] = True
            process.report(f"monitor {name} returned {outcome!r}, not None, a str or a CalcJobMonitorResult; "
                           "it is disabled")
            continue
        result.key = result.key or name
        if result.action is CalcJobMonitorAction.DISABLE_SELF:
            mine["disabled"] = True
        elif result.action is CalcJobMonitorAction.DISABLE_ALL:
            state["__all_disabled__"] = True
            return None
        else:
            return result
    return None


def stop_job(process: CalcJob, transport: Transport, result: CalcJobMonitorResult) -> None:
    """Cancel the scheduler job on ``result``'s request and remember the result for the retrieve step."""
    from provgraph.tools.computers import scheduler_for

    job_id = process._cp.get("job_id")
    cancelled = scheduler_for(process.computer).kill(transport, str(job_id))
    process.report(f"monitor {result.key} stopped the job: {result.message}"
                   + ("" if cancelled else f" (scheduler job {job_id} had already ended)"))
    record = {**asdict(result), "action": result.action.value}
    process._cp["monitor_result"] = record
    process._updates["monitor_result"] = record


def finish_stopped(process: CalcJob, transport: Transport) -> ExitCode | None:
    """The retrieve stage of a job a monitor stopped: retrieve and parse as it asked; return the exit code."""
    from provgraph.engine.processes.calcjobs.staging import retrieve_and_parse

    result = process._cp["monitor_result"]
    stopped = process.exit_codes.STOPPED_BY_MONITOR.format(message=result["message"])
    if not result["retrieve"]:
        return stopped
    if not result["parse"]:
        _retrieve_only(process, transport)
        return stopped
    exit_code = retrieve_and_parse(process, transport)
    return stopped if result["override_exit_code"] else exit_code


def _retrieve_only(process: CalcJob, transport: Transport) -> None:
    import tempfile
    from pathlib import Path

    from provgraph.engine.processes.calcjobs.lifecycle import retrieve
    from provgraph.orm.nodes.data.files import FolderData

    with tempfile.TemporaryDirectory(prefix="provgraph-retrieve-") as folder:
        retrieve(transport, process._cp["workdir"], list(process._cp.get("retrieve_list", [])), Path(folder))
        process.out("retrieved", FolderData(tree=Path(folder)))


def check(process: CalcJob, transport: Transport) -> bool:
    """Run the due monitors of a waiting job; True when one stopped it (the next stage is then ``retrieve``)."""
    if not process.inputs.get("monitors"):
        return False
    result = run_monitors(process, transport)
    if result is None:
        return False
    stop_job(process, transport, result)
    process._cp.update(stage="retrieve")
    process._updates.update(scheduler_state="done")
    return True


def wake_delay(process: CalcJob) -> float | None:
    """Seconds until a worker should run the monitors again (None: no monitor to run)."""
    from provgraph.engine.processes.calcjobs.poller import poll_interval

    state = process._cp.get("monitors", {})
    if state.get("__all_disabled__"):
        return None
    intervals = [float(spec.get("minimum_poll_interval", 0) or 0) for name, spec in _ordered(process)
                 if not state.get(name, {}).get("disabled", spec.get("disabled", False))]
    return max(min(intervals), poll_interval(process.computer)) if intervals else None
