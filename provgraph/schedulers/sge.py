"""``core.sge``: (Son of) Grid Engine — ``#$`` directives, parallel environments, ``qstat -xml``, ``qacct``.

SGE's ``qstat`` cannot select a list of job ids in one call, so the batched
status query lists all jobs of the user (``qstat -xml -u <user>``) and the
requested ids are picked from it.  ``qstat`` output comes from the cluster the
user trusts; it is parsed with the standard-library XML parser.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence

from provgraph.exceptions import SchedulerError
from provgraph.schedulers.base import BashScheduler, command_error, job_id_list, quote, user_selector
from provgraph.schedulers.common import format_hms, parse_datetime, parse_int, sanitize_job_name
from provgraph.schedulers.datastructures import JobInfo, JobState, JobTemplate, ParEnvJobResource

__all__ = ["SgeScheduler", "state_from_sge"]

_XML_DATES = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")
_QACCT_DATES = ("%a %b %d %H:%M:%S %Y", "%m/%d/%Y %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")
_SUBMITTED = re.compile(r"Your job(?:-array)? (\d+)")
_GONE = re.compile(r"does not exist|not found", re.IGNORECASE)


def state_from_sge(state: str) -> JobState:
    """The provgraph state of an SGE state string (``qw``, ``hqw``, ``r``, ``Eqw``, ``dr``, ``s``...)."""
    if "E" in state:
        return JobState.UNDETERMINED  # error state: needs the user (qmod -cj)
    if "d" in state:
        return JobState.DONE  # being deleted
    if "h" in state:
        return JobState.QUEUED_HELD
    if any(c in state for c in "sST"):
        return JobState.SUSPENDED
    if "r" in state or "t" in state:  # "R" alone means restarted, not running ("Rq" waits)
        return JobState.RUNNING
    if "q" in state or "w" in state:
        return JobState.QUEUED
    return JobState.UNDETERMINED


class SgeScheduler(BashScheduler):
    """Grid Engine with a parallel environment (``-pe <env> <slots>``)."""

    resource_class = ParEnvJobResource
    unsupported_options = frozenset({"qos", "max_memory_kb"})

    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """The ``#$`` lines for ``template``."""
        res = template.resources
        assert isinstance(res, ParEnvJobResource)
        value = self.directive_value
        shell = template.shebang[2:].split()[0] if template.shebang.startswith("#!") else "/bin/bash"
        lines = [f"-S {shell}", f"-r {'yes' if template.rerunnable else 'no'}",
                 f"-N {sanitize_job_name(template.job_name, 128, first_alpha=True)}"]
        lines.append(f"-wd {value(template.working_directory, 'working_directory')}" if template.working_directory
                     else "-cwd")
        lines += [f"-o {value(template.scheduler_stdout, 'scheduler_stdout')}",
                  f"-e {value(template.scheduler_stderr, 'scheduler_stderr')}"]
        for flag, field in (("-q", "queue_name"), ("-P", "account"), ("-p", "priority")):
            if getattr(template, field):
                lines.append(f"{flag} {value(getattr(template, field), field)}")
        if template.import_sys_environment:
            lines.append("-V")
        lines.append(f"-pe {res.parallel_env} {res.tot_num_mpiprocs * res.num_cores_per_mpiproc}")
        if template.max_wallclock_seconds:
            lines.append(f"-l h_rt={format_hms(template.max_wallclock_seconds)}")
        return "\n".join(f"#$ {line}" for line in lines)

    def submit_command(self, script_name: str) -> str:
        """``qsub <script>``."""
        return f"qsub {quote(script_name)}"

    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The id in ``Your job 1234 ("name") has been submitted`` (or a bare ``-terse`` id)."""
        if retval != 0:
            raise command_error("qsub", retval, stdout, stderr)
        match = _SUBMITTED.search(stdout) or re.fullmatch(r"\s*(\d+)(?:\.\S+)?\s*", stdout)
        if match is None:
            raise SchedulerError(f"qsub printed no job id: stdout={stdout.strip()!r} stderr={stderr.strip()!r}")
        return match.group(1)

    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """``qstat -xml -u <user>``: all jobs of the user in one call (ids are picked by the caller)."""
        if job_ids is not None:
            job_id_list(job_ids)  # validated even though qstat cannot select them
        return f"qstat -xml -u {user_selector(user)}"

    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """Every ``job_list`` element of the XML (running ones under queue_info, pending under job_info)."""
        if retval != 0:
            raise command_error("qstat", retval, stdout, stderr)
        try:
            root = ElementTree.fromstring(stdout.strip() or "<job_info/>")
        except ElementTree.ParseError as exc:
            raise SchedulerError(f"qstat -xml printed malformed XML: {exc}: {stdout[:200]!r}") from exc
        jobs = {}
        for element in root.iter("job_list"):
            info = self._job_info(element)
            jobs[info.job_id] = info
        return jobs

    @staticmethod
    def _job_info(element: ElementTree.Element) -> JobInfo:
        raw = {child.tag: (child.text or "").strip() for child in element}
        raw["list_state"] = element.get("state", "")
        if not raw.get("JB_job_number"):
            raise SchedulerError("qstat -xml: a job_list without JB_job_number")
        state = raw.get("state", "")
        queue = raw.get("queue_name") or None
        return JobInfo(
            job_id=raw["JB_job_number"], job_state=state_from_sge(state), raw_state=state,
            title=raw.get("JB_name"), job_owner=raw.get("JB_owner"),
            queue_name=queue.split("@")[0] if queue else None,
            allocated_machines_raw=queue.split("@")[1] if queue and "@" in queue else None,
            num_mpiprocs=parse_int(raw.get("slots")),
            submission_time=parse_datetime(raw.get("JB_submission_time"), _XML_DATES),
            dispatch_time=parse_datetime(raw.get("JAT_start_time"), _XML_DATES), raw=raw,
        )

    def kill_command(self, job_id: str) -> str:
        """``qdel <id>``."""
        return f"qdel {quote(job_id_list([job_id]))}"

    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True when qdel registered the deletion; False when the job does not exist (any more)."""
        if retval == 0:
            return True
        if _GONE.search(stderr) or _GONE.search(stdout):
            return False
        raise command_error("qdel", retval, stdout, stderr)

    def detailed_job_info_command(self, job_id: str) -> str:
        """``qacct -j <id>`` (the accounting record written when the job ends)."""
        return f"qacct -j {quote(job_id_list([job_id]))}"

    def parse_detailed_job_info(self, job_id: str, retval: int, stdout: str, stderr: str) -> JobInfo:
        """The accounting record: ``key value`` lines after a ``=====`` rule (the last record wins)."""
        if retval != 0:
            raise command_error(f"qacct -j {job_id}", retval, stdout, stderr)
        fields: dict[str, str] = {}
        for line in stdout.splitlines():
            if line.startswith("====="):
                fields = {}
            elif line.strip():
                key, _, value = line.strip().partition(" ")
                fields[key] = value.strip()
        if fields.get("jobnumber") != job_id:
            raise SchedulerError(f"qacct has no record of job {job_id}: {stdout.strip()[:200]!r}")
        failed = (fields.get("failed") or "0").split()[0]
        return JobInfo(
            job_id=job_id, job_state=JobState.DONE, raw_state=f"failed={failed}", title=fields.get("jobname"),
            job_owner=fields.get("owner"), queue_name=fields.get("qname"),
            account=fields.get("project") if fields.get("project") != "NONE" else None,
            annotation=fields.get("failed") if failed != "0" else None,
            allocated_machines_raw=fields.get("hostname"), num_mpiprocs=parse_int(fields.get("slots")),
            wallclock_time_seconds=_seconds(fields.get("ru_wallclock")),
            submission_time=parse_datetime(fields.get("qsub_time"), _QACCT_DATES),
            dispatch_time=parse_datetime(fields.get("start_time"), _QACCT_DATES),
            finish_time=parse_datetime(fields.get("end_time"), _QACCT_DATES),
            exit_status=parse_int(fields.get("exit_status", "").split()[0] if fields.get("exit_status") else None),
            raw=fields,
        )


def _seconds(text: str | None) -> int | None:
    """Whole seconds in qacct's ``ru_wallclock`` (``62``, ``62s`` or ``62.000s``)."""
    match = re.match(r"\s*(\d+)", text or "")
    return int(match.group(1)) if match else None
