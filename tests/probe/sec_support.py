"""Helpers shared by the "sec" probe tests (issue 13): CLI runs that must never end in a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from click.testing import CliRunner, Result

from provgraph.cli.main import cli


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``provgraph ARGS`` in-process; fail the test if it ended in an uncaught exception (a traceback)."""
    result = CliRunner().invoke(cli, list(args), input=input)
    assert_no_traceback(result, args)
    return result


def assert_no_traceback(result: Result, args: tuple | list) -> None:
    """The run ended by a clean exit (0, 1 with a message, or 2 for a usage error), never by an exception."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        shown = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        raise AssertionError(f"provgraph {list(args)!r} raised {exc!r}:\n{shown}\noutput: {result.output}")
    assert "Traceback (most recent call last)" not in result.output, result.output


def one_line_error(result: Result) -> str:
    """The error a failed run printed: exactly one 'Error: ...' line (a usage error may print usage first)."""
    assert result.exit_code in (1, 2), result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(lines) == 1, result.output
    return lines[0]


@contextmanager
def decoy(*argv: str) -> Iterator[subprocess.Popen]:
    """A harmless process of our own (its own session) standing in for an unrelated program."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", *argv],
                               start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not _command_ready(process.pid, argv) and time.monotonic() < deadline:
            time.sleep(0.02)
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


def _command_ready(pid: int, argv: tuple[str, ...]) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().decode(errors="replace")
    except OSError:
        return True
    return all(arg in command for arg in argv) and "time.sleep" in command
