"""``core.simulated``: a cluster simulated in a directory, a stand-in for capacity planning.

It accepts jobs, "runs" each for a random duration and answers status queries in batch,
as SLURM's ``squeue`` does, but keeps no process per job: a job is a record file in the
state directory on the computer the transport reaches, and it completes lazily, when a
status query sees that its end time has passed. The query then runs the job's script
(synchronously, in its working directory) or, for the jobs drawn to fail, writes their
failure. So a campaign of tens of thousands of jobs costs files, not processes, and the
engine's side (submission, batched polling, retrieval, parsing, restarts) runs for real.

Failures, drawn at submission with probability ``failure_fraction`` (default 0.14, the
share of the 55,704-job LUMI campaign fixed by restart handlers), one of ``failure_kinds``:

* ``node_fail`` (a scheduler-level error): the job never runs; its detailed job
  information says ``NODE_FAIL`` with exit status 1, and its outputs are missing;
* ``truncated`` (a parser-level error): the script runs, then every file it wrote is
  emptied (a node lost while flushing); the scheduler says ``COMPLETED`` and only the
  parser can tell.

Both are transient: submitting the same inputs again (a restart work chain) fixes them.

Configuration lives ON THE COMPUTER, in ``<state dir>/config`` (``key=value`` lines,
written with the defaults at the first submission; :func:`write_config` writes it):
``min_runtime``/``max_runtime`` (seconds a job runs, uniform), ``max_queue_time`` (seconds
it waits as pending first, uniform from 0), ``failure_fraction``, ``failure_kinds``. This
fits :func:`provgraph.tools.computers.scheduler_for`, which builds a scheduler plugin
with no arguments and no computer settings: what a cluster does is the cluster's business
(SLURM keeps it in ``slurm.conf``, not in each client), so every worker of a fleet sees
the same simulated cluster whichever host it runs on. The state directory is
``$HOME/.provgraph-simulated`` of the login user on the computer, or the path in the
worker-side environment variable ``PROVGRAPH_SIMULATED_DIR`` (tests and benchmarks use
it to get a cluster of their own).

Every submission and status query appends one line to ``<state dir>/log``
(``<epoch ms> submit <job id> <workdir>`` / ``<epoch ms> query <number of ids>``):
the scheduler-side count of queries and submissions (:func:`read_log`).

The computer needs bash, GNU coreutils (``date +%s%3N``), awk, ``flock`` and ``find``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.base import BashScheduler, command_error, job_id_list, quote
from provgraph.schedulers.datastructures import JobInfo, JobResource, JobState, JobTemplate

if TYPE_CHECKING:
    from provgraph.transports.base import Transport

__all__ = ["DEFAULT_CONFIG", "DIR_ENV", "LogEvent", "SimulatedScheduler", "read_log", "write_config"]

DIR_ENV = "PROVGRAPH_SIMULATED_DIR"
#: The settings of a fresh simulated cluster.
DEFAULT_CONFIG: Mapping[str, str] = {"min_runtime": "5", "max_runtime": "60", "max_queue_time": "10",
                                     "failure_fraction": "0.14", "failure_kinds": "node_fail truncated"}
FAILURE_KINDS = frozenset({"node_fail", "truncated"})
#: The queue states the status query prints → provgraph states.
STATES = {"PD": JobState.QUEUED, "R": JobState.RUNNING, "CG": JobState.RUNNING}

# Plans one job from the config: "<submit ms> <start ms> <end ms> <fate>".
_PLAN_AWK = r"""
BEGIN { FS = "="; minr = 5; maxr = 60; maxq = 10; frac = 0.14; kinds = "node_fail truncated" }
/^[ \t]*#/ || NF < 2 { next }
{ key = $1; sub(/^[ \t]+/, "", key); sub(/[ \t]+$/, "", key); val = substr($0, index($0, "=") + 1)
  gsub(/^[ \t"]+|[ \t"]+$/, "", val)
  if (key == "min_runtime") minr = val + 0; else if (key == "max_runtime") maxr = val + 0
  else if (key == "max_queue_time") maxq = val + 0; else if (key == "failure_fraction") frac = val + 0
  else if (key == "failure_kinds") kinds = val }
END { srand(seed); if (maxr < minr) maxr = minr
  start = now + int(rand() * maxq * 1000); end = start + int((minr + rand() * (maxr - minr)) * 1000)
  fate = "ok"; if (rand() < frac) { n = split(kinds, k, /[ ,]+/); if (n > 0) fate = k[1 + int(rand() * n)] }
  printf "%.0f %.0f %.0f %s\n", now, start, end, fate }
"""

# Completes the claimed job $id (record moved to running/): run its script or write its failure.
_COMPLETE = r"""
complete() {
  rec="$d/running/$id"; { read -r sub start end fate; read -r wd; read -r script; } < "$rec"; touch "$rec"
  state=COMPLETED; rc=0
  case "$fate" in
    node_fail) state=NODE_FAIL; rc=1 ;;
    *) (cd "$wd" 2>/dev/null && exec bash "$script" < /dev/null > /dev/null 2>&1); rc=$?
       [ "$rc" -eq 0 ] || state=FAILED
       if [ "$fate" = truncated ]; then
         find "$wd" -type f -newer "$rec" ! -name "$script" -exec sh -c 'for f; do : > "$f"; done' _ {} +
       fi ;;
  esac
  printf '%s %s %s %s\n' "$state" "$rc" "$(( (end - start) / 1000 ))" "$fate" > "$d/done/.$id"
  mv "$d/done/.$id" "$d/done/$id"; rm -f "$rec"
}
"""


def _config_text(settings: Mapping[str, object]) -> str:
    lines = ["# provgraph core.simulated cluster settings (see provgraph/schedulers/simulated.py)"]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def check_config(settings: Mapping[str, object]) -> dict[str, str]:
    """``settings`` merged over :data:`DEFAULT_CONFIG`, as text, after checking them.

    :raises ValidationError: on an unknown key, a negative or non-numeric duration, a fraction
        outside [0, 1], ``max_runtime < min_runtime`` or an unknown failure kind
    """
    unknown = sorted(set(settings) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValidationError(f"unknown core.simulated setting(s) {', '.join(unknown)}; "
                              f"known: {', '.join(DEFAULT_CONFIG)}")
    merged = {**DEFAULT_CONFIG, **{key: str(value) for key, value in settings.items()}}
    numbers = {}
    for key in ("min_runtime", "max_runtime", "max_queue_time", "failure_fraction"):
        try:
            numbers[key] = float(merged[key])
        except ValueError:
            raise ValidationError(f"core.simulated setting {key} must be a number, got {merged[key]!r}") from None
        if not numbers[key] >= 0:
            raise ValidationError(f"core.simulated setting {key} must not be negative, got {merged[key]!r}")
    if numbers["failure_fraction"] > 1:
        raise ValidationError(f"failure_fraction must be in [0, 1], got {merged['failure_fraction']!r}")
    if numbers["max_runtime"] < numbers["min_runtime"]:
        raise ValidationError("max_runtime must not be less than min_runtime")
    kinds = merged["failure_kinds"].replace(",", " ").split()
    if not kinds or set(kinds) - FAILURE_KINDS:
        raise ValidationError(f"failure_kinds must name some of {', '.join(sorted(FAILURE_KINDS))}, "
                              f"got {merged['failure_kinds']!r}")
    merged["failure_kinds"] = f'"{" ".join(kinds)}"'
    return merged


class SimulatedScheduler(BashScheduler):
    """A simulated cluster in a state directory on the computer (see the module docstring)."""

    resource_class = JobResource

    def __init__(self, state_dir: str | None = None) -> None:
        """Use ``state_dir`` on the computer, else ``$PROVGRAPH_SIMULATED_DIR``, else ``~/.provgraph-simulated``."""
        self.state_dir = state_dir or os.environ.get(DIR_ENV) or None

    def _dir_line(self) -> str:
        """Shell lines that set ``$d`` to the state directory and make its folders."""
        where = quote(self.state_dir) if self.state_dir else '"$HOME/.provgraph-simulated"'
        return f'd={where}; mkdir -p "$d/jobs" "$d/running" "$d/done" || exit 1'

    # -- submit script ----------------------------------------------------------------------------------

    def _get_submit_script_header(self, template: JobTemplate) -> str:
        """``#SIM`` lines naming the job (they document the request; the simulation ignores them)."""
        lines = [f"#SIM --job-name={self.directive_value(template.job_name, 'job_name')}",
                 f"#SIM --ntasks={template.resources.tot_num_mpiprocs}"]
        if template.max_wallclock_seconds is not None:
            lines.append(f"#SIM --time={int(template.max_wallclock_seconds)}")
        return "\n".join(lines)

    def _get_submit_script_prologue(self, template: JobTemplate) -> str:
        """Send the script's output to the scheduler's files; ``cd`` to the working directory."""
        lines = [f"exec > {quote(template.scheduler_stdout)} 2> {quote(template.scheduler_stderr)}"]
        if template.working_directory:
            lines.append(f"cd {quote(template.working_directory)}")
        return "\n".join(lines)

    # -- commands ---------------------------------------------------------------------------------------

    def submit_command(self, script_name: str) -> str:
        """Record the job (its plan drawn from the config), log it and print ``Submitted batch job <id>``."""
        script = quote(script_name)
        return "\n".join([
            self._dir_line(),
            f"[ -f {script} ] || {{ echo \"simulated: error: unable to open file {script}\" >&2; exit 1; }}",
            f'[ -f "$d/config" ] || printf %s {quote(_config_text(DEFAULT_CONFIG))} > "$d/config"',
            'id=$(flock "$d/counter" sh -c \'n=$(cat "$1" 2> /dev/null); n=$(( ${n:-0} + 1 )); '
            'echo "$n" > "$1"; echo "$n"\' _ "$d/counter") || exit 1',
            'now=$(date +%s%3N)',
            f'plan=$(awk -v now="$now" -v seed="$id$$" {quote(_PLAN_AWK)} "$d/config") || exit 1',
            f'printf \'%s\\n%s\\n%s\\n\' "$plan" "$PWD" {script} > "$d/jobs/.$id" && mv "$d/jobs/.$id" "$d/jobs/$id"',
            'echo "$now submit $id $PWD" >> "$d/log"',
            'echo "Submitted batch job $id"',
        ])

    def parse_submit_output(self, retval: int, stdout: str, stderr: str) -> str:
        """The job id in ``Submitted batch job <id>``."""
        if retval != 0:
            raise command_error("simulated submit", retval, stdout, stderr)
        words = stdout.strip().split()
        if len(words) != 4 or words[:3] != ["Submitted", "batch", "job"] or not words[3].isdigit():
            raise SchedulerError(f"simulated submit printed no job id: {stdout.strip()!r} {stderr.strip()!r}")
        return words[3]

    def joblist_command(self, job_ids: Sequence[str] | None = None, user: str | None = None) -> str:
        """ONE command: complete the jobs whose end passed, print ``<id> PD|R`` for the others.

        Without ``job_ids``, all jobs still in the queue (``user`` is ignored: the state
        directory belongs to one login user).
        """
        if job_ids is None:
            ids = '$(ls "$d/jobs" "$d/running" | grep -E "^[0-9]+$")'
            count = "all"
        else:
            ids = quote(*job_id_list(job_ids, " ").split())
            count = str(len(job_ids))
        return "\n".join([
            self._dir_line(), _COMPLETE,
            f'now=$(date +%s%3N); echo "$now query {count}" >> "$d/log"',
            f'for id in {ids}; do',
            '  if [ -f "$d/jobs/$id" ]; then',
            '    { read -r sub start end fate; } < "$d/jobs/$id"',
            '    if [ "$now" -lt "$start" ]; then echo "$id PD"',
            '    elif [ "$now" -lt "$end" ]; then echo "$id R"',
            '    elif mv "$d/jobs/$id" "$d/running/$id" 2> /dev/null; then complete',
            '    fi',
            '  elif [ -f "$d/running/$id" ]; then echo "$id CG"',
            '  fi',
            'done',
            'exit 0',
        ])

    def parse_joblist_output(self, retval: int, stdout: str, stderr: str) -> dict[str, JobInfo]:
        """The ``<id> <state>`` lines; a job not listed has ended."""
        if retval != 0:
            raise command_error("simulated status query", retval, stdout, stderr)
        jobs = {}
        for line in stdout.splitlines():
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in STATES:
                raise SchedulerError(f"unexpected simulated status line: {line!r}")
            jobs[parts[0]] = JobInfo(job_id=parts[0], job_state=STATES[parts[1]], raw_state=parts[1])
        return jobs

    def kill_command(self, job_id: str) -> str:
        """Cancel a job still in the queue (record it ``CANCELLED``); refuse one that ended."""
        job = quote(job_id_list([job_id]))
        return "\n".join([
            self._dir_line(),
            f'if mv "$d/jobs/"{job} "$d/running/"{job} 2> /dev/null; then',
            f'  printf "CANCELLED 0 0 cancelled\\n" > "$d/done/"{job}; rm -f "$d/running/"{job}',
            f'else echo "simulated: error: Kill job error on job id "{job}": Invalid job id specified" >&2; exit 1',
            'fi',
        ])

    def parse_kill_output(self, retval: int, stdout: str, stderr: str) -> bool:
        """True when the job was cancelled, False when it had ended or is unknown."""
        if retval == 0:
            return True
        if "Invalid job id" in stderr:
            return False
        raise command_error("simulated kill", retval, stdout, stderr)

    def detailed_job_info_command(self, job_id: str) -> str:
        """Print the ended job's ``<state> <exit status> <seconds> <fate>`` line."""
        job = quote(job_id_list([job_id]))
        return f'{self._dir_line()}\ncat "$d/done/"{job}'

    def parse_detailed_job_info(self, job_id: str, retval: int, stdout: str, stderr: str) -> JobInfo:
        """The state, exit status and run time of the ended job.

        :raises SchedulerError: when the job has no end record or the record is malformed
        """
        if retval != 0:
            raise command_error(f"simulated job info of {job_id}", retval, stdout, stderr)
        parts = stdout.split()
        if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
            raise SchedulerError(f"malformed simulated job record of {job_id}: {stdout.strip()!r}")
        state, status, seconds, fate = parts
        return JobInfo(job_id=job_id, job_state=JobState.DONE, raw_state=state, exit_status=int(status),
                       wallclock_time_seconds=int(seconds), raw={"state": state, "fate": fate})


def write_config(transport: Transport, state_dir: str | None = None, **settings: object) -> dict[str, str]:
    """Write the simulated cluster's settings (merged over the defaults) on the computer; return them.

    :raises ValidationError: on bad settings (nothing is written)
    """
    merged = check_config(settings)
    scheduler = SimulatedScheduler(state_dir)
    command = f'{scheduler._dir_line()}\nprintf %s {quote(_config_text(merged))} > "$d/config.new" && ' \
              'mv "$d/config.new" "$d/config"'
    retval, stdout, stderr = transport.exec_command_wait(command)
    if retval != 0:
        raise command_error("writing the simulated config", retval, stdout, stderr)
    return merged


@dataclass(frozen=True)
class LogEvent:
    """One line of the simulated cluster's log: a submission (``detail`` = job id and workdir) or a query."""

    epoch_ms: int
    kind: str
    detail: str


def read_log(transport: Transport, state_dir: str | None = None) -> list[LogEvent]:
    """The submissions and status queries the simulated cluster saw, oldest first.

    :raises SchedulerError: when the log cannot be read
    """
    command = f'{SimulatedScheduler(state_dir)._dir_line()}\ntouch "$d/log" && cat "$d/log"'
    retval, stdout, stderr = transport.exec_command_wait(command)
    if retval != 0:
        raise command_error("reading the simulated log", retval, stdout, stderr)
    events = []
    for line in stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].isdigit():
            events.append(LogEvent(int(parts[0]), parts[1], parts[2]))
    return events

