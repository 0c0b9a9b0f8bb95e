"""Helpers shared by the scheduler tests: recorded outputs, golden scripts, templates, a fake transport.

Set ``PROVGRAPH_UPDATE_GOLDEN=1`` to rewrite the golden submit scripts from the
current code (then review the diff before committing it).
"""

from __future__ import annotations

import os
from pathlib import Path

from provgraph.schedulers.datastructures import CodeRun, JobResource, JobTemplate, ParEnvJobResource

DATA = Path(__file__).resolve().parent / "data"


def data_text(scheduler: str, name: str) -> str:
    """The recorded output ``data/<scheduler>/<name>``."""
    return (DATA / scheduler / name).read_text()


def assert_golden(scheduler: str, name: str, text: str) -> None:
    """Compare ``text`` with ``data/<scheduler>/<name>`` (rewritten when PROVGRAPH_UPDATE_GOLDEN=1)."""
    path = DATA / scheduler / name
    if os.environ.get("PROVGRAPH_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}: run with PROVGRAPH_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


#: Two code runs: an MPI run with awkward file names, and a serial post-processing step.
CODES = (
    CodeRun(("/opt/codes/pw.x", "-in", "aiida in.txt"), withmpi=True, stdin_name="input file",
            stdout_name="aiida.out", stderr_name="aiida.err"),
    CodeRun(("post-process", "--summary"), stdout_name="post.out", join_files=True),
)


def full_template(resources: JobResource | ParEnvJobResource, **overrides: object) -> JobTemplate:
    """A template that sets nearly every option (tests drop what a scheduler does not support)."""
    values: dict = dict(
        resources=resources, job_name="provgraph calc #42", working_directory="/scratch/user/calc 42",
        codes=CODES, max_wallclock_seconds=93784, queue_name="debug", account="proj1", qos="high",
        max_memory_kb=2048000, custom_scheduler_commands="#CUSTOM --licenses=abc",
        prepend_text="module load espresso/7.2", append_text="echo finished",
        environment_variables={"OMP_NUM_THREADS": "2", "GREETING": "it's $HOME"},
    )
    values.update(overrides)
    return JobTemplate(**values)


def minimal_template(resources: JobResource | ParEnvJobResource) -> JobTemplate:
    """A template with only resources and one serial code run."""
    return JobTemplate(resources=resources, codes=(CodeRun(("hostname",), stdout_name="out.txt"),))


class RecordingTransport:
    """A stand-in transport that records commands and answers from a table (no shell involved)."""

    def __init__(self, answers: dict[str, tuple[int, str, str]] | None = None,
                 default: tuple[int, str, str] = (0, "", "")) -> None:
        """Answer ``answers[command]`` (or ``default``) to each command."""
        self.answers = answers or {}
        self.default = default
        self.commands: list[tuple[str, str | None]] = []

    def exec_command_wait(self, command: str, workdir: str | None = None,
                          stdin: str | None = None) -> tuple[int, str, str]:
        """Record the call and return the canned answer."""
        self.commands.append((command, workdir))
        return self.answers.get(command, self.default)
