"""The transport work of a CalcJob's steps: upload, submit, retrieve, kill.

Each function takes an open transport and does one step's remote work; the CalcJob
(:mod:`~provgraph.engine.processes.calcjobs.calcjob`) calls them with retries and backoff.
All of them may be repeated after a failure or a redelivered task:

- :func:`upload` overwrites what an interrupted upload left;
- :func:`submit` is idempotent: the submit command runs in the working directory inside
  ``mkdir .provgraph_submit && ...``, and its exit code and output are kept in that folder. A
  repeated call finds the folder and reads the job id of the first submission instead of
  submitting again; if the first one never recorded its outcome (the connection died in the
  middle), it raises :class:`SubmissionUnknown` rather than risk a second job;
- :func:`retrieve` fetches into a fresh local folder each time.
"""

from __future__ import annotations

import fnmatch
import posixpath
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from provgraph.exceptions import SchedulerError, TransportError, ValidationError
from provgraph.schedulers.base import BashScheduler, Scheduler

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo
    from provgraph.transports.base import Transport

__all__ = ["SUBMIT_MARKER", "SubmissionUnknown", "retrieve", "submit", "upload"]

#: folder in the working directory recording the (single) submission
SUBMIT_MARKER = ".provgraph_submit"
_SEPARATOR = "\n@@provgraph-submit@@\n"


class SubmissionUnknown(SchedulerError):
    """An earlier submission started but left no outcome: the job may or may not exist."""


def upload(transport: Transport, sandbox: Path, workdir: str, calc_info: CalcInfo, computer_label: str) -> None:
    """Copy the prepared ``sandbox`` into ``workdir`` and do the remote copies and symbolic links.

    :raises ValidationError: when a remote copy names another computer
    :raises TransportError: when the transport fails
    """
    transport.makedirs(workdir, ignore_existing=True)
    transport.puttree(str(sandbox), workdir)
    for label, source, target in calc_info.remote_copy_list:
        _same_computer(label, computer_label)
        destination = posixpath.join(workdir, target)
        if not transport.path_exists(destination):
            transport.copy(source, destination)
    for label, source, target in calc_info.remote_symlink_list:
        _same_computer(label, computer_label)
        destination = posixpath.join(workdir, target)
        code, _, stderr = transport.exec_command_wait(f"ln -sfn {shlex.quote(source)} {shlex.quote(destination)}")
        if code != 0:
            raise TransportError(f"symlink {destination} -> {source} failed: {stderr.strip()}")


def _same_computer(label: str, computer_label: str) -> None:
    if label != computer_label:
        raise ValidationError(f"a remote copy from computer {label!r} cannot be made on {computer_label!r}: "
                              "remote copies stay on the job's computer")


def submit_shell(scheduler: BashScheduler, script: str) -> str:
    """The shell text that submits ``script`` once (see the module docstring) and prints the outcome.

    The guarded part runs in a session of its own (``setsid -w``), so a connection that drops in
    the middle (the ssh session and its processes get SIGHUP) does not stop it half way: the
    outcome is still recorded, and the retry reads it.
    """
    marker = shlex.quote(SUBMIT_MARKER)
    guarded = (f"if mkdir {marker} 2> /dev/null; then ({scheduler.submit_command(script)}) > {marker}/stdout "
               f"2> {marker}/stderr < /dev/null; echo $? > {marker}/retval.tmp && "
               f"mv {marker}/retval.tmp {marker}/retval; fi")
    return (
        f"if command -v setsid > /dev/null 2>&1; then setsid -w bash -c {shlex.quote(guarded)} < /dev/null "
        f"> /dev/null 2>&1; else bash -c {shlex.quote(guarded)} < /dev/null > /dev/null 2>&1; fi; "
        f"if [ -f {marker}/retval ]; then cat {marker}/retval; printf '{_SEPARATOR}'; cat {marker}/stdout; "
        f"printf '{_SEPARATOR}'; cat {marker}/stderr; else echo unknown; fi"
    )


def submit(transport: Transport, scheduler: Scheduler, workdir: str, script: str) -> str:
    """Submit ``script`` in ``workdir`` at most once and return the job id (see the module docstring).

    :raises SubmissionUnknown: when an earlier submission left no outcome
    :raises SchedulerError: when the scheduler refused the job
    :raises TransportError: when the transport fails
    """
    if not isinstance(scheduler, BashScheduler):  # a plugin without shell commands: no marker possible
        return scheduler.submit(transport, workdir, script)
    code, stdout, stderr = transport.exec_command_wait(submit_shell(scheduler, script), workdir=workdir)
    if code != 0:
        raise SchedulerError(f"the submit command could not run in {workdir} (exit {code}): {stderr.strip()}")
    parts = stdout.split(_SEPARATOR.strip("\n"))
    if len(parts) != 3:
        raise SubmissionUnknown(
            f"an earlier submission in {workdir} started but has recorded no outcome yet: if it does not appear, "
            f"check the scheduler for the job by hand, remove {workdir}/{SUBMIT_MARKER} to allow a new submission "
            "and play the process, or kill it")
    retval, out, err = (part.strip("\n") for part in parts)
    try:
        retval_number = int(retval.strip())
    except ValueError as exc:
        raise SchedulerError(f"unreadable exit code of the submit command: {retval!r}") from exc
    return scheduler.parse_submit_output(retval_number, out, err)


def _matches(transport: Transport, workdir: str, pattern: str) -> list[str]:
    """Relative paths below ``workdir`` matching ``pattern`` (globs are matched level by level)."""
    if not any(char in pattern for char in "*?["):
        return [pattern] if transport.path_exists(posixpath.join(workdir, pattern)) else []
    found = [""]
    for part in pattern.split("/"):
        following = []
        for prefix in found:
            folder = posixpath.join(workdir, prefix) if prefix else workdir
            if not transport.isdir(folder):
                continue
            names = fnmatch.filter(transport.listdir(folder), part)
            following += [posixpath.join(prefix, name) if prefix else name for name in names]
        found = following
    return sorted(found)


def retrieve(transport: Transport, workdir: str, patterns: list[str], target: Path) -> list[str]:
    """Copy the files and folders matching ``patterns`` from ``workdir`` into ``target``; return what was copied.

    Missing plain names are skipped (the parser decides whether that is an error).

    :raises TransportError: when the transport fails
    """
    copied = []
    for pattern in patterns:
        for relative in _matches(transport, workdir, pattern):
            source, destination = posixpath.join(workdir, relative), target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if transport.isdir(source):
                transport.gettree(source, str(destination))
            else:
                transport.get(source, str(destination))
            copied.append(relative)
    return copied
