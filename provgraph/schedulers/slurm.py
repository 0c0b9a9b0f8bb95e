"""``core.slurm``: SLURM through ``sbatch --parsable``, ``squeue``, ``scancel`` and ``scontrol``/``sacct``."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from provgraph.exceptions import SchedulerError
from provgraph.schedulers.base import BashScheduler, command_error, job_id_list, quote, user_selector
from provgraph.schedulers.common import parse_datetime, parse_duration, parse_int, sanitize_job_name
from provgraph.schedulers.datastructures import JobInfo, JobResource, JobState, JobTemplate

__all__ = ["SlurmScheduler", "SQUEUE_FIELDS", "SEPARATOR"]

#: Separator between squeue fields; the job name comes last, so it may contain it.
SEPARATOR = "^|^"
#: (squeue format code, field name), in output order; ``%j`` (name) must stay last.
SQUEUE_FIELDS = (
    ("%i", "job_id"), ("%t", "state"), ("%r", "reason"), ("%u", "user"), ("%D", "num_nodes"),
    ("%C", "num_cpus"), ("%N", "nodelist"), ("%P", "partition"), ("%a", "account"),
    ("%l", "time_limit"), ("%M", "time_used"), ("%V", "submit_time"), ("%S", "start_time"), ("%j", "name"),
)
#: Compact state codes (squeue ``%t``) → provgraph state.
COMPACT_STATES = {
    "PD": JobState.QUEUED, "CF": JobState.QUEUED, "RQ": JobState.QUEUED, "RF": JobState.QUEUED,
    "RH": JobState.QUEUED_HELD, "RD": JobState.QUEUED_HELD, "SE": JobState.QUEUED_HELD,
    "R": JobState.RUNNING, "CG": JobState.RUNNING, "SO": JobState.RUNNING, "SI": JobState.RUNNING,
    "RS": JobState.RUNNING,
    "S": JobState.SUSPENDED, "ST": JobState.SUSPENDED,
    "CD": JobState.DONE, "CA": JobState.DONE, "F": JobState.DONE, "TO": JobState.DONE, "NF": JobState.DONE,
    "PR": JobState.DONE, "BF": JobState.DONE, "DL": JobState.DONE, "OOM": JobState.DONE, "RV": JobState.DONE,
}
#: Long state names (scontrol, sacct) → compact codes.
LONG_STATES = {
    "PENDING": "PD", "CONFIGURING": "CF", "REQUEUED": "RQ", "REQUEUE_FED": "RF", "REQUEUE_HOLD": "RH",
    "RESV_DEL_HOLD": "RD", "SPECIAL_EXIT": "SE", "RUNNING": "R", "COMPLETING": "CG", "STAGE_OUT": "SO",
    "SIGNALING": "SI", "RESIZING": "RS", "SUSPENDED": "S", "STOPPED": "ST", "COMPLETED": "CD",
    "CANCELLED": "CA", "FAILED": "F", "TIMEOUT": "TO", "NODE_FAIL": "NF", "PREEMPTED": "PR",
    "BOOT_FAIL": "BF", "DEADLINE": "DL", "OUT_OF_MEMORY": "OOM", "REVOKED": "RV",
}
_HELD_REASONS = re.compile(r"^\(?(JobHeld\w*|Held\w*)\)?$")
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S",)
_SACCT_FIELDS = ("JobID", "JobName", "User", "Partition", "Account", "State", "ExitCode", "Submit", "Start",
                 "End", "Elapsed", "Timelimit", "NNodes", "NCPUS", "NodeList", "Reason")
_SCONTROL_SPLIT = re.compile(r"\s+(?=[A-Za-z][A-Za-z0-9_/:]*=)")
_GONE = ("Invalid job id specified",)
_FINISHED = ("already completing or completed", "Invalid job id specified")


def state_from_code(code: str, reason: str | None = None) -> JobState:
    """The provgraph state of a compact SLURM state code, held when ``reason`` says so."""
    state = COMPACT_STATES.get(code, JobState.UNDETERMINED)
    if state is JobState.QUEUED and reason and _HELD_REASONS.match(reason):
        return JobState.QUEUED_HELD
    return state


def _exit_status(exit_code: str | None) -> int | None:
    """The exit status in SLURM's ``status:signal`` form (a signal counts as 128 + signal)."""
    if not exit_code:
        return None
    status, _, signal = exit_code.partition(":")
    status_value, signal_value = parse_int(status), parse_int(signal)
    if signal_value:
        return 128 + signal_value
    return status_value


class SlurmScheduler(BashScheduler):
    """SLURM: ``#SBATCH`` directives; jobs polled with one ``squeue --jobs=...`` per computer."""

    resource_class = JobResource

    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """The ``#SBATCH`` lines for ``template``."""
        res = template.resources
        assert isinstance(res, JobResource)
        value = self.directive_value
        lines = ["--requeue" if template.rerunnable else "--no-requeue",
                 f"--job-name={sanitize_job_name(template.job_name, 128)}"]
        if template.working_directory:
            lines.append(f"--chdir={value(template.working_directory, 'working_directory')}")
        lines += [f"--output={value(template.scheduler_stdout, 'scheduler_stdout')}",
                  f"--error={value(template.scheduler_stderr, 'scheduler_stderr')}"]
        for option, field in (("partition", "queue_name"), ("account", "account"), ("qos", "qos"),
                              ("nice", "priority")):
            if getattr(template, field):
                lines.append(f"--{option}={value(getattr(template, field), field)}")
        lines += [f"--nodes={res.num_machines}", f"--ntasks-per-node={res.num_mpiprocs_per_machine}"]
        if res.num_cores_per_mpiproc > 1:
            lines.append(f"--cpus-per-task={res.num_cores_per_mpiproc}")
        if template.max_wallclock_seconds:
            lines.append(f"--time={self.format_time(template.max_wallclock_seconds)}")
        if template.max_memory_kb:
            lines.append(f"--mem={math.ceil(template.max_memory_kb / 1024)}")
        if not template.import_sys_environment:
            lines.append("--export=NONE")
        return "\n".join(f"#SBATCH {line}" for line in lines)

    @staticmethod
    def format_time(seconds: int) -> str:
        """``D-HH:MM:SS`` (days only when needed), as ``--time`` accepts it."""
        days, rest = divmod(int(seconds), 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
        return f"{days}-{clock}" if days else clock

    # -- submit ----------------------------------------------------------------------------------------

    def submit_command(self, script_name: str) -> str:
        """``sbatch --parsable <script>``."""
        return f"sbatch --parsable {quote(script_name)}"

    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The job id ``sbatch --parsable`` printed (``id`` or ``id;cluster``)."""
        if retval != 0:
            raise command_error("sbatch", retval, stdout, stderr)
        match = re.fullmatch(r"(\d+)(?:;\S+)?", stdout.strip().splitlines()[-1] if stdout.strip() else "")
        if match is None:
            raise SchedulerError(f"sbatch printed no job id: stdout={stdout.strip()!r} stderr={stderr.strip()!r}")
        return match.group(1)

    # -- joblist ---------------------------------------------------------------------------------------

    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """``squeue --noheader --format=... --jobs=a,b,c`` (all states), or ``--user=...`` without ids."""
        fmt = SEPARATOR.join(code for code, _ in SQUEUE_FIELDS)
        command = f"squeue --noheader --format={quote(fmt)}"
        if job_ids is None:
            return f"{command} --user={user_selector(user)}"
        return f"{command} --states=all --jobs={quote(job_id_list(job_ids))}"

    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """The jobs in squeue's output; an "invalid job id" error (all jobs gone) gives ``{}``."""
        if retval != 0:
            if any(marker in stderr for marker in _GONE):
                return {}
            raise command_error("squeue", retval, stdout, stderr)
        jobs = {}
        for line in stdout.splitlines():
            if line.strip():
                info = self.parse_squeue_line(line)
                jobs[info.job_id] = info
        return jobs

    @staticmethod
    def parse_squeue_line(line: str) -> JobInfo:
        """One squeue line in the :data:`SQUEUE_FIELDS` format.

        :raises SchedulerError: when the line does not have all fields
        """
        parts = line.split(SEPARATOR, len(SQUEUE_FIELDS) - 1)
        if len(parts) != len(SQUEUE_FIELDS):
            raise SchedulerError(f"unexpected squeue line ({len(parts)} fields): {line!r}")
        raw = {name: value.strip() for (_, name), value in zip(SQUEUE_FIELDS, parts, strict=True)}
        raw["name"] = parts[-1]
        reason = raw["reason"] if raw["reason"] not in ("None", "") else None
        state = state_from_code(raw["state"], reason)
        return JobInfo(
            job_id=raw["job_id"], job_state=state, raw_state=raw["state"], title=raw["name"],
            job_owner=raw["user"] or None, queue_name=raw["partition"] or None,
            account=raw["account"] if raw["account"] not in ("", "(null)") else None,
            annotation=reason, allocated_machines_raw=raw["nodelist"] or None,
            num_machines=parse_int(raw["num_nodes"]), num_cpus=parse_int(raw["num_cpus"]),
            wallclock_time_seconds=parse_duration(raw["time_used"]),
            requested_wallclock_time_seconds=parse_duration(raw["time_limit"]),
            submission_time=parse_datetime(raw["submit_time"], _DATE_FORMATS),
            dispatch_time=parse_datetime(raw["start_time"], _DATE_FORMATS) if state is not JobState.QUEUED
            else None,
            raw=raw,
        )

    # -- kill ------------------------------------------------------------------------------------------

    def kill_command(self, job_id: str) -> str:
        """``scancel --verbose <id>`` (only verbose scancel reports a job that had already ended)."""
        return f"scancel --verbose {quote(job_id_list([job_id]))}"

    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True when scancel accepted the kill; False when the job was already finished or unknown."""
        if any(marker in stderr for marker in _FINISHED):
            return False
        if retval != 0:
            raise command_error("scancel", retval, stdout, stderr)
        return True

    # -- detailed info ---------------------------------------------------------------------------------

    def detailed_job_info_command(self, job_id: str) -> str:
        """``scontrol show job --oneliner`` (while slurmctld remembers the job), else ``sacct``."""
        job = quote(job_id_list([job_id]))
        return (f"scontrol show job --oneliner {job} || "
                f"sacct --noheader --parsable2 --format={','.join(_SACCT_FIELDS)} --jobs={job}")

    def parse_detailed_job_info(self, job_id: str, retval: int, stdout: str, stderr: str) -> JobInfo:
        """The job's exit information from scontrol's key=value line or sacct's ``|``-separated rows."""
        if retval != 0:
            raise command_error(f"detailed info of job {job_id}", retval, stdout, stderr)
        for line in stdout.splitlines():
            if line.startswith("JobId="):
                fields = dict(item.split("=", 1) for item in _SCONTROL_SPLIT.split(line.strip()) if "=" in item)
                if fields.get("JobId") == job_id:
                    return self._info_from_scontrol(fields)
            elif line.split("|", 1)[0] == job_id:
                return self._info_from_sacct(dict(zip(_SACCT_FIELDS, line.split("|"), strict=False)))
        raise SchedulerError(f"no detailed information for job {job_id} in: {stdout.strip()!r} {stderr.strip()!r}")

    @staticmethod
    def _info(job_id: str, long_state: str, fields: dict[str, str], **values: object) -> JobInfo:
        code = LONG_STATES.get(long_state.split()[0] if long_state else "", long_state)
        return JobInfo(job_id=job_id, job_state=state_from_code(code), raw_state=long_state, raw=fields,
                       **values)  # type: ignore[arg-type]

    def _info_from_scontrol(self, f: dict[str, str]) -> JobInfo:
        return self._info(
            f["JobId"], f.get("JobState", ""), f, title=f.get("JobName"),
            job_owner=f.get("UserId", "").split("(")[0] or None, queue_name=f.get("Partition"),
            account=f.get("Account") if f.get("Account") not in (None, "(null)") else None,
            annotation=f.get("Reason") if f.get("Reason") != "None" else None,
            allocated_machines_raw=f.get("NodeList"), num_machines=parse_int(f.get("NumNodes")),
            num_cpus=parse_int(f.get("NumCPUs")), exit_status=_exit_status(f.get("ExitCode")),
            wallclock_time_seconds=parse_duration(f.get("RunTime")),
            requested_wallclock_time_seconds=parse_duration(f.get("TimeLimit")),
            submission_time=parse_datetime(f.get("SubmitTime"), _DATE_FORMATS),
            dispatch_time=parse_datetime(f.get("StartTime"), _DATE_FORMATS),
            finish_time=parse_datetime(f.get("EndTime"), _DATE_FORMATS),
        )

    def _info_from_sacct(self, f: dict[str, str]) -> JobInfo:
        return self._info(
            f["JobID"], f.get("State", ""), f, title=f.get("JobName"), job_owner=f.get("User") or None,
            queue_name=f.get("Partition") or None, account=f.get("Account") or None,
            annotation=f.get("Reason") if f.get("Reason") not in (None, "", "None") else None,
            allocated_machines_raw=f.get("NodeList") or None, num_machines=parse_int(f.get("NNodes")),
            num_cpus=parse_int(f.get("NCPUS")), exit_status=_exit_status(f.get("ExitCode")),
            wallclock_time_seconds=parse_duration(f.get("Elapsed")),
            requested_wallclock_time_seconds=parse_duration(f.get("Timelimit")),
            submission_time=parse_datetime(f.get("Submit"), _DATE_FORMATS),
            dispatch_time=parse_datetime(f.get("Start"), _DATE_FORMATS),
            finish_time=parse_datetime(f.get("End"), _DATE_FORMATS),
        )
