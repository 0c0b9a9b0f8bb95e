"""Process handlers of a :class:`~provgraph.engine.BaseRestartWorkChain` (AiiDA's ``workchains.utils``).

A process handler is a method ``(self, node)`` of a restart work chain decorated with
:func:`process_handler`; after every iteration the work chain calls its handlers, highest
``priority`` first, with the node of the process that just ended. A handler that recognised a
problem returns a :class:`ProcessHandlerReport`; one that did not returns None.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import FunctionType
from typing import Any, NamedTuple

from provgraph.engine.processes.exit_code import ExitCode

__all__ = ["ProcessHandlerReport", "process_handler"]


class ProcessHandlerReport(NamedTuple):
    """What a process handler returns when it dealt with the process that ended.

    :param do_break: True to call no further handlers for this iteration
    :param exit_code: status 0 (the default) restarts the process; a non-zero code ends the
        work chain with it
    """

    do_break: bool = False
    exit_code: ExitCode = ExitCode()


def process_handler(wrapped: FunctionType | None = None, *, priority: int = 0,
                    exit_codes: ExitCode | list[ExitCode] | None = None, enabled: bool = True) -> Any:
    """Register a method ``(self, node)`` of a restart work chain as a process handler.

    Usable bare (``@process_handler``) or with keywords (``@process_handler(priority=500)``).

    :param priority: handlers are called from the highest priority down (default 0)
    :param exit_codes: an exit code or a list of them: the handler is only called when the
        process ended with one of their statuses (otherwise it counts as having returned None)
    :param enabled: False skips the handler unless ``handler_overrides`` enables it
    :raises TypeError: when the arguments or the method's signature do not fit
    """
    if wrapped is None:
        return functools.partial(process_handler, priority=priority, exit_codes=exit_codes, enabled=enabled)
    if not isinstance(wrapped, FunctionType):
        raise TypeError("process_handler decorates an instance method; give priority, exit_codes and enabled "
                        "as keywords")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise TypeError(f"the priority of process handler {wrapped.__name__} must be an int, not {priority!r}")
    codes = _exit_code_list(wrapped.__name__, exit_codes)
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled of process handler {wrapped.__name__} must be a bool, not {enabled!r}")
    if len(inspect.getfullargspec(wrapped).args) != 2:
        raise TypeError(f"process handler {wrapped.__name__} must take exactly (self, node)")
    return _make_handler(wrapped, priority, codes, enabled)


def _exit_code_list(name: str, exit_codes: ExitCode | list[ExitCode] | None) -> list[ExitCode] | None:
    if exit_codes is None:
        return None
    codes = [exit_codes] if isinstance(exit_codes, ExitCode) else exit_codes
    if not isinstance(codes, (list, tuple)) or not all(isinstance(code, ExitCode) for code in codes):
        raise TypeError(f"exit_codes of process handler {name} must be an ExitCode or a list of them")
    return list(codes)


def _make_handler(function: FunctionType, priority: int, codes: list[ExitCode] | None,
                  enabled: bool) -> Callable[[Any, Any], ProcessHandlerReport | None]:
    statuses = None if codes is None else {code.status for code in codes}

    @functools.wraps(function)
    def handler(self: Any, node: Any) -> ProcessHandlerReport | None:
        result = None if statuses is not None and node.exit_status not in statuses else function(self, node)
        _record_considered(self, function.__name__, result)
        return result

    handler.decorator = process_handler  # type: ignore[attr-defined]
    handler.priority = priority  # type: ignore[attr-defined]
    handler.enabled = enabled  # type: ignore[attr-defined]
    return handler


def _record_considered(workchain: Any, name: str, result: Any) -> None:
    """Append ``(name, result)`` to the last list of the work chain's ``considered_handlers`` extra."""
    key = getattr(workchain, "_considered_handlers_extra", None)
    node = getattr(workchain, "node", None)
    if key is None or node is None or not node.is_stored:
        return
    considered = node.base.extras.get(key, [])
    if not considered:
        return
    value = result
    if isinstance(result, ProcessHandlerReport):
        value = {"do_break": result.do_break, "exit_status": result.exit_code.status}
    considered[-1].append([name, value])
    node.base.extras.set(key, considered)
