"""What PBS Pro and Torque share: ``#PBS`` directives, ``qsub``, ``qstat -f`` blocks and ``qdel``.

The two descend from the same OpenPBS code and print the same ``qstat -f``
layout (``Job Id: <id>`` then indented ``key = value`` lines, long values
continued on tab-indented lines); they differ in resource syntax, state letters
and a few attribute names, which the subclasses set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from provgraph.exceptions import SchedulerError
from provgraph.schedulers.base import BashScheduler, command_error, job_id_list, quote, user_selector
from provgraph.schedulers.common import format_hms, parse_datetime, parse_duration, parse_int, sanitize_job_name
from provgraph.schedulers.datastructures import JobInfo, JobResource, JobState, JobTemplate

__all__ = ["PbsBaseScheduler", "parse_qstat_f"]

_DATE_FORMATS = ("%a %b %d %H:%M:%S %Y",)
#: stderr lines that mean "this job is gone", not "qstat failed".
_GONE = re.compile(r"Unknown Job Id|Job has finished|does not exist", re.IGNORECASE)


def parse_qstat_f(text: str) -> list[dict[str, str]]:
    """Split ``qstat -f`` output into one ``{attribute: value}`` dict per job (``Job Id`` included).

    :raises SchedulerError: when an attribute line appears before any ``Job Id:`` line
    """
    jobs: list[dict[str, str]] = []
    last_key: str | None = None
    for line in text.splitlines():
        if line.startswith("Job Id:"):
            jobs.append({"Job Id": line.split(":", 1)[1].strip()})
            last_key = None
        elif not line.strip():
            continue
        elif line.startswith("\t") and last_key is not None:
            jobs[-1][last_key] += line.strip()  # a long value wrapped by qstat
        elif " = " in line:
            if not jobs:
                raise SchedulerError(f"qstat -f: attribute before any 'Job Id:' line: {line!r}")
            key, value = line.strip().split(" = ", 1)
            jobs[-1][key] = value
            last_key = key
    return jobs


class PbsBaseScheduler(BashScheduler):
    """The shared part of the PBS family; subclasses give the resource lines and state table."""

    resource_class = JobResource
    #: job_state letter → provgraph state.
    states: ClassVar[dict[str, JobState]] = {}
    #: The attribute holding the exit status (``Exit_status`` in PBS Pro, ``exit_status`` in Torque).
    exit_status_key: ClassVar[str] = "Exit_status"
    #: Extra ``qstat`` flags (PBS Pro's ``-x`` includes finished jobs).
    qstat_flags: ClassVar[str] = "-f"

    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """The ``#PBS`` lines: name, output files, queue, account, environment, resources, walltime."""
        value = self.directive_value
        lines = [f"-r {'y' if template.rerunnable else 'n'}",
                 f"-N {sanitize_job_name(template.job_name, 15, first_alpha=True)}",
                 f"-o {value(template.scheduler_stdout, 'scheduler_stdout')}",
                 f"-e {value(template.scheduler_stderr, 'scheduler_stderr')}"]
        for flag, field in (("-q", "queue_name"), ("-A", "account"), ("-p", "priority")):
            if getattr(template, field):
                lines.append(f"{flag} {value(getattr(template, field), field)}")
        if template.import_sys_environment:
            lines.append("-V")
        lines += self._resource_lines(template)
        if template.max_wallclock_seconds:
            lines.append(f"-l walltime={format_hms(template.max_wallclock_seconds)}")
        return "\n".join(f"#PBS {line}" for line in lines)

    def _resource_lines(self, template: JobTemplate) -> list[str]:
        """The ``-l`` resource lines (without ``#PBS``); subclasses override."""
        raise NotImplementedError

    def _get_submit_script_prologue(self, template: JobTemplate) -> str:
        """PBS starts jobs in the home folder: go to the working directory (or the submission folder)."""
        if template.working_directory:
            return f"cd {quote(template.working_directory)}"
        return 'cd "$PBS_O_WORKDIR"'

    def submit_command(self, script_name: str) -> str:
        """``qsub <script>``."""
        return f"qsub {quote(script_name)}"

    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The job id qsub printed (``1234.server``)."""
        if retval != 0:
            raise command_error("qsub", retval, stdout, stderr)
        lines = stdout.strip().splitlines()
        if not lines or not re.fullmatch(r"\d+(\[\d*\])?(\.\S+)?", lines[-1].strip()):
            raise SchedulerError(f"qsub printed no job id: stdout={stdout.strip()!r} stderr={stderr.strip()!r}")
        return lines[-1].strip()

    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """``qstat -f <ids...>`` in one call (or ``-u user``)."""
        if job_ids is None:
            return f"qstat {self.qstat_flags} -u {user_selector(user)}"
        return f"qstat {self.qstat_flags} {quote(*job_id_list(job_ids).split(','))}"

    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """The jobs of a ``qstat -f`` output; "unknown job" errors for some ids are not failures."""
        if retval != 0:
            other_errors = [line for line in stderr.splitlines() if line.strip() and not _GONE.search(line)]
            if other_errors or not stderr.strip():
                raise command_error("qstat", retval, stdout, stderr)
        jobs = {}
        for fields in parse_qstat_f(stdout):
            info = self.job_info(fields)
            jobs[info.job_id] = info
        return jobs

    def job_info(self, f: dict[str, str]) -> JobInfo:
        """A JobInfo from one ``qstat -f`` block."""
        raw_state = f.get("job_state", "")
        return JobInfo(
            job_id=f["Job Id"], job_state=self.states.get(raw_state, JobState.UNDETERMINED), raw_state=raw_state,
            title=f.get("Job_Name"), job_owner=f.get("Job_Owner", "").split("@")[0] or None,
            queue_name=f.get("queue"), account=f.get("Account_Name"), annotation=f.get("comment"),
            allocated_machines_raw=f.get("exec_host"), num_machines=self._num_machines(f),
            num_mpiprocs=parse_int(f.get("Resource_List.mpiprocs")), num_cpus=parse_int(f.get("Resource_List.ncpus")),
            wallclock_time_seconds=parse_duration(f.get("resources_used.walltime")),
            requested_wallclock_time_seconds=parse_duration(f.get("Resource_List.walltime")),
            submission_time=parse_datetime(f.get("ctime"), _DATE_FORMATS),
            dispatch_time=parse_datetime(f.get("stime") or f.get("start_time"), _DATE_FORMATS),
            finish_time=parse_datetime(f.get("obittime") or f.get("comp_time"), _DATE_FORMATS),
            exit_status=parse_int(f.get(self.exit_status_key)), raw=f,
        )

    def _num_machines(self, f: dict[str, str]) -> int | None:
        """The number of machines of a job (``Resource_List.nodect`` by default)."""
        return parse_int(f.get("Resource_List.nodect"))

    def kill_command(self, job_id: str) -> str:
        """``qdel <id>``."""
        return f"qdel {quote(job_id_list([job_id]))}"

    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True when qdel accepted the kill; False when the job was already gone."""
        if retval == 0:
            return True
        if _GONE.search(stderr):
            return False
        raise command_error("qdel", retval, stdout, stderr)

    def detailed_job_info_command(self, job_id: str) -> str:
        """``qstat -f <id>`` (finished jobs stay visible for a while), read for the exit status."""
        return self.joblist_command([job_id])

    def parse_detailed_job_info(self, job_id: str, retval: int, stdout: str, stderr: str) -> JobInfo:
        """The job's ``qstat -f`` block, exit status included."""
        jobs = self.parse_joblist_output(retval, stdout, stderr)
        if job_id not in jobs:
            raise SchedulerError(f"qstat no longer knows job {job_id}: {stderr.strip()}")
        return jobs[job_id]
