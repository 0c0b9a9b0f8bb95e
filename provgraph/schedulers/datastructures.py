"""Value types of the scheduler layer: frozen dataclasses and enums, never attribute dicts.

* :class:`JobState` — the few states provgraph acts on; each plugin maps its raw states to them.
* :class:`JobResource` (machines × MPI processes) and :class:`ParEnvJobResource` (SGE parallel
  environment × slots) — what a job asks for, validated on construction.
* :class:`CodeRun` and :class:`JobTemplate` — everything a submit script is generated from.
* :class:`JobInfo` — what a status query or the detailed exit info says about one job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from types import MappingProxyType

from provgraph.exceptions import ValidationError

__all__ = ["CodeRun", "CodeRunMode", "JobInfo", "JobResource", "JobState", "JobTemplate",
           "ParEnvJobResource", "AnyJobResource"]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class JobState(str, Enum):
    """The state of a scheduler job, as provgraph acts on it."""

    QUEUED = "queued"
    QUEUED_HELD = "queued_held"
    RUNNING = "running"
    SUSPENDED = "suspended"
    DONE = "done"
    UNDETERMINED = "undetermined"


def _positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class JobResource:
    """Machines × MPI processes per machine (SLURM, PBS, Torque, LSF, direct).

    Give any two of ``num_machines``, ``num_mpiprocs_per_machine`` and
    ``tot_num_mpiprocs`` (or all three, consistent); the third is computed.
    ``num_cores_per_mpiproc`` (threads per process) defaults to 1.

    :raises ValidationError: when values are not positive integers or do not fit together
    """

    num_machines: int | None = None
    num_mpiprocs_per_machine: int | None = None
    tot_num_mpiprocs: int | None = None
    num_cores_per_mpiproc: int = 1

    def __post_init__(self) -> None:
        """Validate and fill in the missing count."""
        for name in ("num_machines", "num_mpiprocs_per_machine", "tot_num_mpiprocs", "num_cores_per_mpiproc"):
            _positive(name, getattr(self, name))
        machines, per_machine, total = self.num_machines, self.num_mpiprocs_per_machine, self.tot_num_mpiprocs
        if machines is None and per_machine is not None and total is not None:
            if total % per_machine:
                raise ValidationError(f"tot_num_mpiprocs={total} is not a multiple of "
                                      f"num_mpiprocs_per_machine={per_machine}")
            machines = total // per_machine
        elif per_machine is None and machines is not None and total is not None:
            if total % machines:
                raise ValidationError(f"tot_num_mpiprocs={total} is not a multiple of num_machines={machines}")
            per_machine = total // machines
        elif machines is not None and per_machine is not None:
            if total is not None and total != machines * per_machine:
                raise ValidationError(f"tot_num_mpiprocs={total} != num_machines={machines} × "
                                      f"num_mpiprocs_per_machine={per_machine}")
            total = machines * per_machine
        else:
            raise ValidationError("give two of num_machines, num_mpiprocs_per_machine, tot_num_mpiprocs")
        object.__setattr__(self, "num_machines", machines)
        object.__setattr__(self, "num_mpiprocs_per_machine", per_machine)
        object.__setattr__(self, "tot_num_mpiprocs", total)

    @property
    def num_cores_per_machine(self) -> int:
        """Cores used on each machine (MPI processes × cores per process)."""
        return int(self.num_mpiprocs_per_machine or 1) * self.num_cores_per_mpiproc


@dataclass(frozen=True)
class ParEnvJobResource:
    """A parallel environment and a number of slots (SGE's ``-pe name slots``).

    :raises ValidationError: when the environment name is empty or the counts are not positive
    """

    parallel_env: str
    tot_num_mpiprocs: int
    num_cores_per_mpiproc: int = 1

    def __post_init__(self) -> None:
        """Validate the fields."""
        if not isinstance(self.parallel_env, str) or not self.parallel_env.strip() \
                or any(c.isspace() for c in self.parallel_env):
            raise ValidationError(f"parallel_env must be a name without spaces, not {self.parallel_env!r}")
        _positive("tot_num_mpiprocs", self.tot_num_mpiprocs)
        _positive("num_cores_per_mpiproc", self.num_cores_per_mpiproc)


AnyJobResource = JobResource | ParEnvJobResource


class CodeRunMode(str, Enum):
    """How the run lines of several codes in one job are executed."""

    SERIAL = "serial"
    PARALLEL = "parallel"  # each line in the background, then ``wait``


@dataclass(frozen=True)
class CodeRun:
    """One executable run in the job: ``[mpirun ...] cmdline_params < stdin > stdout 2> stderr``.

    ``cmdline_params`` starts with the executable.  With ``withmpi`` the
    template's ``mpirun_command`` is put in front.  ``join_files`` sends
    stderr to stdout.
    """

    cmdline_params: tuple[str, ...]
    withmpi: bool = False
    stdin_name: str | None = None
    stdout_name: str | None = None
    stderr_name: str | None = None
    join_files: bool = False
    #: words put before the executable, after mpirun (a container engine's command, e.g. ``docker run ...``);
    #: written in double quotes so that variables such as ``$PWD`` expand in the job
    prepend_cmdline_params: tuple[str, ...] = ()
    #: pass the executable, its arguments and redirections as one argument (``... sh -c "<command>"``)
    wrap_cmdline_params: bool = False

    def __post_init__(self) -> None:
        """Validate that there is an executable."""
        object.__setattr__(self, "cmdline_params", tuple(str(p) for p in self.cmdline_params))
        object.__setattr__(self, "prepend_cmdline_params", tuple(str(p) for p in self.prepend_cmdline_params))
        if not self.cmdline_params or not self.cmdline_params[0]:
            raise ValidationError("a CodeRun needs at least the executable in cmdline_params")


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


@dataclass(frozen=True)
class JobTemplate:
    """Everything a scheduler needs to write a submit script.

    ``mpirun_command`` words may hold ``{tot_num_mpiprocs}``,
    ``{num_machines}``, ``{num_mpiprocs_per_machine}`` and
    ``{num_cores_per_mpiproc}``, filled in from ``resources``.
    ``scheduler_stdout``/``scheduler_stderr`` receive what the job itself
    prints outside the code runs.  Environment values are single-quoted
    unless ``environment_variables_double_quotes`` (then ``$VAR`` expands).

    :raises ValidationError: on a bad environment-variable name or a negative limit
    """

    resources: AnyJobResource
    job_name: str = "provgraph"
    shebang: str = "#!/bin/bash"
    working_directory: str | None = None
    codes: tuple[CodeRun, ...] = ()
    codes_run_mode: CodeRunMode = CodeRunMode.SERIAL
    mpirun_command: tuple[str, ...] = ("mpirun", "-np", "{tot_num_mpiprocs}")
    max_wallclock_seconds: int | None = None
    queue_name: str | None = None
    account: str | None = None
    qos: str | None = None
    max_memory_kb: int | None = None
    priority: str | None = None
    custom_scheduler_commands: str = ""
    prepend_text: str = ""
    append_text: str = ""
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    environment_variables_double_quotes: bool = False
    import_sys_environment: bool = True
    rerunnable: bool = False
    scheduler_stdout: str = "_scheduler-stdout.txt"
    scheduler_stderr: str = "_scheduler-stderr.txt"

    def __post_init__(self) -> None:
        """Validate limits and environment names; freeze the mapping."""
        if not isinstance(self.resources, (JobResource, ParEnvJobResource)):
            raise ValidationError(f"resources must be a JobResource or ParEnvJobResource, not {self.resources!r}")
        for name in ("max_wallclock_seconds", "max_memory_kb"):
            _positive(name, getattr(self, name))
        for name in self.environment_variables:
            if not _ENV_NAME.fullmatch(str(name)):
                raise ValidationError(f"not a valid environment variable name: {name!r}")
        object.__setattr__(self, "environment_variables", _frozen_mapping(self.environment_variables))
        object.__setattr__(self, "codes", tuple(self.codes))
        object.__setattr__(self, "mpirun_command", tuple(str(w) for w in self.mpirun_command))


@dataclass(frozen=True)
class JobInfo:
    """What the scheduler says about one job.

    Times are naive datetimes in the scheduler's local time.  ``raw`` keeps
    the fields as the scheduler printed them (for the detailed exit info).
    """

    job_id: str
    job_state: JobState
    raw_state: str = ""
    title: str | None = None
    job_owner: str | None = None
    queue_name: str | None = None
    account: str | None = None
    annotation: str | None = None
    allocated_machines_raw: str | None = None
    num_machines: int | None = None
    num_mpiprocs: int | None = None
    num_cpus: int | None = None
    wallclock_time_seconds: int | None = None
    requested_wallclock_time_seconds: int | None = None
    submission_time: datetime | None = None
    dispatch_time: datetime | None = None
    finish_time: datetime | None = None
    exit_status: int | None = None
    raw: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Freeze the raw mapping."""
        object.__setattr__(self, "raw", _frozen_mapping(self.raw))
