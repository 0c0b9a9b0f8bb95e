"""Pid files of daemonised workers, and the check that a pid still names *our* worker.

``worker-<i>.pid`` holds the worker's pid alone (scripts and tests read it with ``int()``);
``worker-<i>.id`` beside it records who that pid was when the worker started: the pid, the
process start time as the kernel reports it (``/proc/<pid>/stat`` field 22, clock ticks since
boot; ``ps -o lstart=`` where there is no ``/proc``) and the boot id. A pid is reused by the
system once its process has ended, so before any signal :func:`verified_pid` checks that the
process holding that pid now started at the recorded time; a pid file without an identity
(written by an older provgraph) is trusted only if the process's command line is a provgraph
worker's. A pid file that does not hold a positive integer is stale, never an error.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

#: the module every daemonised worker runs (``python -m ...``): what a legacy pid must be running
WORKER_MODULE = "provgraph.engine.celery.worker"
_PID_MAX = 2**22  # Linux's highest pid_max; larger numbers are no pid at all


def pid_file(directory: Path, index: int) -> Path:
    """The pid file of worker ``index``."""
    return directory / f"worker-{index}.pid"


def identity_file(directory: Path, index: int) -> Path:
    """The identity file of worker ``index``."""
    return directory / f"worker-{index}.id"


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque string stable for the process's life (None if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        return _ps(pid, "lstart=")
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces or ')'
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def process_command(pid: int) -> str | None:
    """The command line of process ``pid``, arguments joined by spaces (None if gone or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self/cmdline").exists():
            return None
        return _ps(pid, "command=")
    except OSError:
        return None
    return raw.replace(b"\x00", b" ").decode(errors="replace").strip()


def _ps(pid: int, field: str) -> str | None:
    try:
        done = subprocess.run(["ps", "-o", field, "-p", str(pid)], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def record(directory: Path, index: int, pid: int) -> None:
    """Write the pid file and the identity file of worker ``index`` (just started as ``pid``)."""
    identity = {"pid": pid, "start": process_start(pid), "boot": _boot_id()}
    identity_file(directory, index).write_text(json.dumps(identity) + "\n")
    pid_file(directory, index).write_text(f"{pid}\n")


def forget(directory: Path, index: int) -> None:
    """Remove the pid and identity files of worker ``index``."""
    pid_file(directory, index).unlink(missing_ok=True)
    identity_file(directory, index).unlink(missing_ok=True)


def read_pid(path: Path) -> int | None:
    """The pid a pid file holds, or None if it holds anything but one positive integer a pid can be."""
    try:
        text = path.read_bytes().decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or text.startswith("0"):
        return None  # only what record() writes: decimal digits, no sign, no leading zero
    pid = int(text)
    return pid if 1 < pid < _PID_MAX else None


def _identity(directory: Path, index: int) -> dict | None:
    try:
        data = json.loads(identity_file(directory, index).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def verified_pid(directory: Path, index: int, alive: Callable[[int], bool]) -> tuple[int | None, str]:
    """Worker ``index``'s pid if its process is alive and is that worker, with the reason when not.

    :returns: ``(pid, "")`` for a live worker of ours, else ``(None, why)`` where ``why`` is empty
        for a plain stale file (the worker ended) and says what was wrong otherwise
    """
    path = pid_file(directory, index)
    pid = read_pid(path)
    if pid is None:
        try:
            shown = path.read_bytes()[:40]
        except OSError:
            shown = b"?"
        return None, f"{path.name} holds {shown!r}, not a pid"
    if pid == os.getpid() or not alive(pid):
        return None, ""
    identity = _identity(directory, index)
    if identity is not None and identity.get("start") is not None:
        same = (identity.get("pid") == pid and identity.get("start") == process_start(pid)
                and identity.get("boot") == _boot_id())
        if same:
            return pid, ""
        return None, f"pid {pid} of {path.name} is now another process (the worker ended and its pid was reused)"
    command = process_command(pid) or ""
    if WORKER_MODULE in command:
        return pid, ""
    return None, f"pid {pid} of {path.name} is not a provgraph worker ({command[:60] or 'unknown command'!r})"


def worker_indexes(directory: Path) -> list[int]:
    """The indexes of the pid files in ``directory`` (``worker-<i>.pid``; other names ignored)."""
    found = []
    for path in directory.glob("worker-*.pid"):
        number = path.stem[len("worker-"):]
        if number.isascii() and number.isdigit() and len(number) < 6:
            found.append(int(number))
    return sorted(found)
