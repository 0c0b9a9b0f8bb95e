"""``core.direct``: run the script right away as a background process; ``ps`` is the queue.

The job runs as ``setsid nohup bash <script> &`` (``setsid`` where available),
so its process id is the id of a new process group: killing the job kills
what it started too.  ``ps`` knows nothing about a process after it ended, so
there is no detailed exit information.
"""

from __future__ import annotations

from collections.abc import Sequence

from provgraph.exceptions import SchedulerError
from provgraph.schedulers.base import BashScheduler, command_error, job_id_list, quote, user_selector
from provgraph.schedulers.common import parse_duration
from provgraph.schedulers.datastructures import JobInfo, JobResource, JobState, JobTemplate

__all__ = ["DirectScheduler", "PS_STATES"]

#: First letter of ``ps``'s STAT column → provgraph state.
PS_STATES = {
    "R": JobState.RUNNING, "S": JobState.RUNNING, "D": JobState.RUNNING, "I": JobState.RUNNING,
    "W": JobState.RUNNING, "T": JobState.SUSPENDED, "t": JobState.SUSPENDED,
    "Z": JobState.DONE, "X": JobState.DONE,
}
#: Where the submit command sends the script's own output when the template names no other file.
DEFAULT_STDOUT, DEFAULT_STDERR = "_scheduler-stdout.txt", "_scheduler-stderr.txt"


class DirectScheduler(BashScheduler):
    """No queue: the job starts at once on the machine the transport reaches."""

    resource_class = JobResource
    unsupported_options = frozenset({"queue_name", "account", "qos", "max_memory_kb", "priority",
                                     "max_wallclock_seconds"})

    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """No directives; the tot_num_mpiprocs is recorded as a comment."""
        return f"# core.direct job {template.job_name!r}: {template.resources.tot_num_mpiprocs} MPI process(es)" \
            .replace("\n", " ")

    def _get_submit_script_prologue(self, template: JobTemplate) -> str:
        """Redirect the script's output when the template names other files; ``cd`` to the working directory."""
        lines = []
        if template.scheduler_stdout != DEFAULT_STDOUT:
            lines.append(f"exec > {quote(template.scheduler_stdout)}")
        if template.scheduler_stderr != DEFAULT_STDERR:
            lines.append(f"exec 2> {quote(template.scheduler_stderr)}")
        if template.working_directory:
            lines.append(f"cd {quote(template.working_directory)}")
        return "\n".join(lines)

    def submit_command(self, script_name: str) -> str:
        """Start ``bash <script>`` detached in its own session and print its process id."""
        run = f"nohup bash {quote(script_name)} > {DEFAULT_STDOUT} 2> {DEFAULT_STDERR} < /dev/null &"
        return (f"if command -v setsid > /dev/null 2>&1; then setsid {run} else {run} fi; "
                "echo $!")

    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The process id the submit command echoed."""
        if retval != 0:
            raise command_error("direct submit", retval, stdout, stderr)
        pid = stdout.strip()
        if not pid.isdigit():
            raise SchedulerError(f"direct submit printed no process id: {stdout.strip()!r} {stderr.strip()!r}")
        return pid

    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """``ps -o pid= -o stat= -o etime= -o args= -p a,b,c`` (or ``-U user``)."""
        command = "ps -o pid= -o stat= -o etime= -o args="
        if job_ids is None:
            return f"{command} -U {user_selector(user)}"
        return f"{command} -p {quote(job_id_list(job_ids))}"

    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """The processes in ps's output (ps exits 1 with no output when none of them exists)."""
        if retval != 0 and (stdout.strip() or stderr.strip()):
            raise command_error("ps", retval, stdout, stderr)
        jobs = {}
        for line in stdout.splitlines():
            if line.strip():
                info = self.parse_ps_line(line)
                jobs[info.job_id] = info
        return jobs

    @staticmethod
    def parse_ps_line(line: str) -> JobInfo:
        """One ``pid stat etime args`` line.

        :raises SchedulerError: when the line has fewer fields or a non-numeric pid
        """
        parts = line.split(None, 3)
        if len(parts) < 3 or not parts[0].isdigit():
            raise SchedulerError(f"unexpected ps line: {line!r}")
        pid, stat, etime = parts[:3]
        return JobInfo(job_id=pid, job_state=PS_STATES.get(stat[:1], JobState.UNDETERMINED), raw_state=stat,
                       title=parts[3] if len(parts) > 3 else None, wallclock_time_seconds=parse_duration(etime),
                       raw={"pid": pid, "stat": stat, "etime": etime, "args": parts[3] if len(parts) > 3 else ""})

    def kill_command(self, job_id: str) -> str:
        """Send TERM to the job's process group (or the process if it leads none) unless it has ended.

        An ended job may linger as a zombie (where nobody reaps orphans); that counts as gone.
        """
        pid = quote(job_id_list([job_id]))
        return (f"ps -o stat= -p {pid} | grep -q '^[^ZX]' || {{ echo 'kill: ({pid}) - No such process' >&2; "
                f"exit 1; }}; kill -s TERM -- -{pid} 2> /dev/null || kill -s TERM {pid}")

    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True when a signal was sent; False when the process no longer exists."""
        if retval == 0:
            return True
        if "No such process" in stderr:
            return False
        raise command_error("kill", retval, stdout, stderr)
