"""``core.lsf``: IBM Spectrum LSF — ``#BSUB`` directives, ``bsub < script``, ``bjobs -o`` with a delimiter."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from provgraph.exceptions import SchedulerError
from provgraph.schedulers.base import BashScheduler, command_error, job_id_list, quote, user_selector
from provgraph.schedulers.common import NO_VALUE, parse_int, sanitize_job_name
from provgraph.schedulers.datastructures import JobInfo, JobResource, JobState, JobTemplate

__all__ = ["BJOBS_FIELDS", "DELIMITER", "LsfScheduler", "LSF_STATES"]

#: Field delimiter of ``bjobs -o``; the job name comes last, so it may contain it.
DELIMITER = "|"
#: ``bjobs -o`` fields in output order; ``job_name`` must stay last.
BJOBS_FIELDS = ("jobid", "stat", "exit_code", "queue", "user", "exec_host", "nexec_host", "slots",
                "submit_time", "start_time", "finish_time", "run_time", "project", "pend_reason", "job_name")
#: LSF job status → provgraph state.
LSF_STATES = {
    "PEND": JobState.QUEUED, "WAIT": JobState.QUEUED, "PROV": JobState.QUEUED,
    "PSUSP": JobState.QUEUED_HELD,
    "RUN": JobState.RUNNING,
    "USUSP": JobState.SUSPENDED, "SSUSP": JobState.SUSPENDED,
    "DONE": JobState.DONE, "EXIT": JobState.DONE,
    "UNKWN": JobState.UNDETERMINED, "ZOMBI": JobState.UNDETERMINED,
}
_SUBMITTED = re.compile(r"Job <(\d+)> is submitted")
_NOT_FOUND = re.compile(r"Job <[^>]*> is not found")
_FINISHED = re.compile(r"Job has already finished|No matching job found|is not found")
_TIME = re.compile(r"(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s+(\d{4}))?")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_lsf_time(text: str | None, now: datetime | None = None) -> datetime | None:
    """A ``bjobs`` time (``Nov 25 16:40[:12] [2026]`` with an optional ``E``/``L`` mark); year defaults to now's.

    The times provgraph reads (submission, start, end of a finished job) lie in
    the past, so a date without year more than a day ahead of ``now`` (clock
    skew allowed) is taken from the previous year.
    """
    if text is None or text.strip() in NO_VALUE:
        return None
    match = _TIME.match(text.strip())
    if match is None or match.group(1) not in _MONTHS:
        return None
    month, day, hour, minute, second, year = match.groups()
    now = now or datetime.now()
    when = datetime(int(year or now.year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute),
                    int(second or 0))
    if year is None and when > now + timedelta(days=1):
        when = when.replace(year=now.year - 1)
    return when


class LsfScheduler(BashScheduler):
    """LSF: ``-n <total slots>`` spread with ``span[ptile=<per machine>]``."""

    resource_class = JobResource
    unsupported_options = frozenset({"qos"})

    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """The ``#BSUB`` lines for ``template``."""
        res = template.resources
        assert isinstance(res, JobResource)
        value = self.directive_value
        lines = ["-r" if template.rerunnable else "-rn", f"-J {sanitize_job_name(template.job_name, 128)}"]
        if template.working_directory:
            lines.append(f"-cwd {value(template.working_directory, 'working_directory')}")
        lines += [f"-o {value(template.scheduler_stdout, 'scheduler_stdout')}",
                  f"-e {value(template.scheduler_stderr, 'scheduler_stderr')}"]
        for flag, field in (("-q", "queue_name"), ("-P", "account"), ("-sp", "priority")):
            if getattr(template, field):
                lines.append(f"{flag} {value(getattr(template, field), field)}")
        if not template.import_sys_environment:
            lines.append("-env none")
        slots = int(res.tot_num_mpiprocs or 1) * res.num_cores_per_mpiproc
        lines += [f"-n {slots}", f'-R "span[ptile={res.num_cores_per_machine}]"']
        if template.max_wallclock_seconds:
            minutes = math.ceil(template.max_wallclock_seconds / 60)
            lines.append(f"-W {minutes // 60:02d}:{minutes % 60:02d}")
        if template.max_memory_kb:
            lines.append(f"-M {template.max_memory_kb}KB")
        return "\n".join(f"#BSUB {line}" for line in lines)

    def submit_command(self, script_name: str) -> str:
        """``bsub < <script>`` (bsub reads ``#BSUB`` lines only from a script on stdin)."""
        return f"bsub < {quote(script_name)}"

    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The id in ``Job <1234> is submitted to queue <normal>.``."""
        match = _SUBMITTED.search(stdout)
        if retval != 0 or match is None:
            if retval == 0:
                raise SchedulerError(f"bsub printed no job id: stdout={stdout.strip()!r} stderr={stderr.strip()!r}")
            raise command_error("bsub", retval, stdout, stderr)
        return match.group(1)

    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """``bjobs -a -noheader -o '<fields> delimiter=...' <ids...>`` (or ``-u user``)."""
        fmt = quote(f"{' '.join(BJOBS_FIELDS)} delimiter='{DELIMITER}'")
        command = f"bjobs -a -noheader -o {fmt}"
        if job_ids is None:
            return f"{command} -u {user_selector(user)}"
        return f"{command} {quote(*job_id_list(job_ids).split(','))}"

    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """The jobs in bjobs' output; "Job <id> is not found" lines (either stream) are skipped."""
        other = [line for line in stderr.splitlines() if line.strip() and not _NOT_FOUND.search(line)
                 and "No unfinished job found" not in line and "No job found" not in line]
        if retval != 0 and other:
            raise command_error("bjobs", retval, stdout, stderr)
        jobs = {}
        for line in stdout.splitlines():
            if line.strip() and not _NOT_FOUND.search(line):
                info = self.parse_bjobs_line(line)
                jobs[info.job_id] = info
        return jobs

    @staticmethod
    def parse_bjobs_line(line: str, now: datetime | None = None) -> JobInfo:
        """One ``bjobs -o`` line in the :data:`BJOBS_FIELDS` format.

        :raises SchedulerError: when the line does not have all fields
        """
        parts = line.split(DELIMITER, len(BJOBS_FIELDS) - 1)
        if len(parts) != len(BJOBS_FIELDS):
            raise SchedulerError(f"unexpected bjobs line ({len(parts)} fields): {line!r}")
        raw = {name: value.strip() for name, value in zip(BJOBS_FIELDS, parts, strict=True)}
        raw["job_name"] = parts[-1]
        stat = raw["stat"]
        exit_code = parse_int(raw["exit_code"])
        if exit_code is None and stat == "DONE":
            exit_code = 0
        run_time = re.match(r"(\d+)", raw["run_time"])
        return JobInfo(
            job_id=raw["jobid"], job_state=LSF_STATES.get(stat, JobState.UNDETERMINED), raw_state=stat,
            title=raw["job_name"], job_owner=raw["user"] or None, queue_name=raw["queue"] or None,
            account=raw["project"] if raw["project"] not in NO_VALUE | {"default"} else None,
            annotation=raw["pend_reason"] if raw["pend_reason"] not in NO_VALUE else None,
            allocated_machines_raw=raw["exec_host"] if raw["exec_host"] not in NO_VALUE else None,
            num_machines=parse_int(raw["nexec_host"]), num_mpiprocs=parse_int(raw["slots"]),
            wallclock_time_seconds=int(run_time.group(1)) if run_time else None,
            submission_time=parse_lsf_time(raw["submit_time"], now),
            dispatch_time=parse_lsf_time(raw["start_time"], now),
            finish_time=parse_lsf_time(raw["finish_time"], now) if stat in ("DONE", "EXIT") else None,
            exit_status=exit_code if stat in ("DONE", "EXIT") else None, raw=raw,
        )

    def kill_command(self, job_id: str) -> str:
        """``bkill <id>``."""
        return f"bkill {quote(job_id_list([job_id]))}"

    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True for ``Job <id> is being terminated``; False when the job already finished or is unknown."""
        if _FINISHED.search(stderr) or _FINISHED.search(stdout):
            return False
        if retval != 0:
            raise command_error("bkill", retval, stdout, stderr)
        return True

    def detailed_job_info_command(self, job_id: str) -> str:
        """The ``bjobs -o`` query for this job (finished jobs stay for LSF's CLEAN_PERIOD)."""
        return self.joblist_command([job_id])

    def parse_detailed_job_info(self, job_id: str, retval: int, stdout: str, stderr: str) -> JobInfo:
        """The job's ``bjobs`` line, exit code included."""
        jobs = self.parse_joblist_output(retval, stdout, stderr)
        if job_id not in jobs:
            raise SchedulerError(f"bjobs no longer knows job {job_id}: {stderr.strip() or stdout.strip()}")
        return jobs[job_id]
