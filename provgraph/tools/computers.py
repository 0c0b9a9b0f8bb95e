"""Reaching a stored :class:`~provgraph.orm.computers.Computer`: its transport, scheduler and work directory.

The per-user transport settings (``computer.configure(...)``) are stored under
the keyword names of the transport class's constructor (``username``,
``port``, ``key_filename``, ``known_hosts``, ``proxy_jump``,
``connect_timeout``, ``safe_open_interval`` for ``core.ssh``), so
:func:`transport_for` passes them through unchanged.  A transport whose
constructor takes ``host`` gets the computer's hostname.

:func:`check_computer` runs the checks of ``provgraph computer test``: each
one reports ok or failed with the reason, and the checks that need a failed
one are reported as skipped.
"""

from __future__ import annotations

import inspect
import os
import string
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import ConfigurationError, NotExistent, ProvgraphError, TransportError, ValidationError

if TYPE_CHECKING:
    from provgraph.orm.computers import Computer
    from provgraph.schedulers.base import Scheduler
    from provgraph.transports.base import Transport

__all__ = ["CheckResult", "check_computer", "resolve_workdir", "scheduler_for", "transport_for",
           "transport_parameters", "validate_template"]

#: Transports that need no per-user configuration before use.
UNCONFIGURED_OK = frozenset({"core.local"})


def transport_parameters(transport_type: str) -> dict[str, inspect.Parameter]:
    """The keyword settings the transport plugin ``transport_type`` accepts (``host`` excluded).

    :raises NotExistent: when no transport plugin has that name
    """
    from provgraph.plugins import TransportFactory

    signature = inspect.signature(TransportFactory(transport_type).__init__)
    return {name: p for name, p in signature.parameters.items()
            if name not in ("self", "host") and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _settings(computer: Computer, user: str | None) -> dict[str, Any]:
    try:
        return computer.get_configuration(user)
    except NotExistent:
        if computer.transport_type in UNCONFIGURED_OK:
            return {}
        short = computer.transport_type.removeprefix("core.")
        raise ConfigurationError(
            f"computer {computer.label!r} is not configured for {user or 'the current user'}: "
            f"run `provgraph computer configure {short} {computer.label}`") from None


def transport_for(computer: Computer, user: str | None = None) -> Transport:
    """A new, closed transport to ``computer`` with the settings of ``user`` (default: the profile's user).

    :raises ConfigurationError: when the computer needs a configuration the user has not given
    :raises ValidationError: when the stored settings hold a key the transport does not know
    :raises NotExistent: when the computer's transport plugin is not installed
    """
    from provgraph.plugins import TransportFactory

    cls = TransportFactory(computer.transport_type)
    settings = _settings(computer, user)
    unknown = sorted(set(settings) - set(transport_parameters(computer.transport_type)))
    if unknown:
        raise ValidationError(f"computer {computer.label!r} has settings {computer.transport_type} does not know: "
                              f"{', '.join(unknown)}; run `provgraph computer configure` again")
    if "host" in inspect.signature(cls.__init__).parameters:
        return cls(computer.hostname, **settings)
    return cls(**settings)


def scheduler_for(computer: Computer) -> Scheduler:
    """An instance of the computer's scheduler plugin.

    :raises NotExistent: when the plugin is not installed
    """
    from provgraph.plugins import SchedulerFactory

    return SchedulerFactory(computer.scheduler_type)()


def validate_template(template: str, allowed: set[str], what: str) -> str:
    """Check that the ``{placeholders}`` of ``template`` are all in ``allowed``; return it.

    :raises ValidationError: on an unknown placeholder or a malformed brace
    """
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise ValidationError(f"{what} {template!r} is malformed: {exc}") from exc
    unknown = sorted(names - allowed)
    if unknown:
        raise ValidationError(f"{what} {template!r} uses unknown placeholder(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(sorted(allowed)) or 'none'}")
    return template


def resolve_workdir(computer: Computer, username: str) -> str:
    """The computer's work directory with ``{username}`` filled in.

    :raises ValidationError: when the template is malformed or not absolute
    """
    validate_template(computer.workdir, {"username"}, "work directory")
    path = computer.workdir.format(username=username)
    if not path.startswith("/"):
        raise ValidationError(f"work directory {path!r} of computer {computer.label!r} is not absolute")
    return path


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of ``computer test``: ``status`` is ok, failed or skipped."""

    name: str
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the check passed."""
        return self.status == "ok"


class _Checker:
    """Runs named checks in order; after a failure, the rest are skipped."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def run(self, name: str, check: Callable[[], str]) -> bool:
        if self.results and not all(r.ok for r in self.results):
            self.results.append(CheckResult(name, "skipped", "an earlier check failed"))
            return False
        try:
            detail = check()
        except ProvgraphError as exc:
            self.results.append(CheckResult(name, "failed", f"{type(exc).__name__}: {exc}"))
            return False
        self.results.append(CheckResult(name, "ok", detail))
        return True


def _roundtrip_file(transport: Transport, workdir: str) -> str:
    """Write a file into ``workdir``, read it back, remove it."""
    name = f".provgraph-test-{uuid.uuid4().hex}"
    content = uuid.uuid4().hex
    remote = f"{workdir.rstrip('/')}/{name}"
    with tempfile.TemporaryDirectory() as local:
        source, back = os.path.join(local, "out"), os.path.join(local, "back")
        with open(source, "w") as handle:
            handle.write(content)
        transport.put(source, remote)
        try:
            transport.get(remote, back)
        finally:
            transport.rmtree(remote)
        with open(back) as handle:
            if handle.read() != content:
                raise TransportError(f"{remote} read back differs from what was written")
    return f"wrote, read back and removed {name}"


def check_computer(computer: Computer, user: str | None = None) -> list[CheckResult]:
    """Run the checks of ``provgraph computer test`` on ``computer``; never raises a ProvgraphError."""
    checker = _Checker()
    state: dict[str, Any] = {}

    def make() -> str:
        state["transport"] = transport_for(computer, user)
        state["scheduler"] = scheduler_for(computer)
        return f"{computer.transport_type} transport, {computer.scheduler_type} scheduler"

    def connect() -> str:
        state["transport"].open()
        return f"connected to {computer.hostname}"

    def whoami() -> str:
        state["username"] = state["transport"].whoami()
        return f"remote user {state['username']}"

    def workdir() -> str:
        path = state["workdir"] = resolve_workdir(computer, state["username"])
        state["transport"].makedirs(path, ignore_existing=True)
        return f"{path} holds {len(state['transport'].listdir(path))} entries"

    def jobs() -> str:
        found = state["scheduler"].get_jobs(state["transport"], user=state["username"])
        return f"{len(found)} job(s) of {state['username']} in the queue"

    checks = [
        ("load transport and scheduler plugins", make),
        ("open the transport", connect),
        ("find the remote user name", whoami),
        ("create and list the work directory", workdir),
        ("write and read a file in the work directory", lambda: _roundtrip_file(state["transport"], state["workdir"])),
        ("ask the scheduler for jobs", jobs),
    ]
    try:
        for name, check in checks:
            checker.run(name, check)
    finally:
        if "transport" in state:
            state["transport"].close()
    return checker.results
