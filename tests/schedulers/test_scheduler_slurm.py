"""core.slurm on recorded output: submit script, sbatch, squeue (every state), scancel, scontrol/sacct."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler_testing import RecordingTransport, assert_golden, data_text, full_template, minimal_template

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.datastructures import JobResource, JobState, ParEnvJobResource
from provgraph.schedulers.slurm import COMPACT_STATES, SEPARATOR, SQUEUE_FIELDS, SlurmScheduler

SLURM = SlurmScheduler()


def test_full_submit_script_matches_golden(node_resources):
    assert_golden("slurm", "submit_full.sh", SLURM.get_submit_script(full_template(node_resources, priority="10")))


def test_minimal_submit_script_matches_golden():
    script = SLURM.get_submit_script(minimal_template(JobResource(num_machines=1, tot_num_mpiprocs=1)))
    assert_golden("slurm", "submit_minimal.sh", script)


def test_header_options(node_resources):
    script = SLURM.get_submit_script(full_template(node_resources, import_sys_environment=False, rerunnable=True,
                                                   max_wallclock_seconds=59))
    assert "#SBATCH --export=NONE" in script and "#SBATCH --requeue" in script
    assert "#SBATCH --time=00:00:59" in script
    assert "#SBATCH --cpus-per-task=2" in script


def test_sge_resources_are_refused():
    with pytest.raises(ValidationError, match="JobResource"):
        SLURM.get_submit_script(minimal_template(ParEnvJobResource("mpi", 4)))


def test_directive_with_a_double_quote_is_refused(node_resources):
    with pytest.raises(ValidationError, match="double quotes"):
        SLURM.get_submit_script(full_template(node_resources, working_directory='/tmp/a"b'))


@pytest.mark.parametrize("stdout", ["12345\n", "12345;cluster2\n", "sbatch: warning: x\n12345\n"])
def test_parse_submit_output(stdout):
    assert SLURM.parse_submit_output(0, stdout, "") == "12345"


def test_parse_submit_error_carries_stderr():
    stderr = "sbatch: error: Batch job submission failed: Invalid account or account/partition combination\n"
    with pytest.raises(SchedulerError, match="Invalid account"):
        SLURM.parse_submit_output(1, "", stderr)
    with pytest.raises(SchedulerError, match="no job id"):
        SLURM.parse_submit_output(0, "Submitted to nowhere\n", "")


def test_submit_runs_sbatch_in_the_workdir():
    transport = RecordingTransport(default=(0, "77\n", ""))
    assert SLURM.submit(transport, "/work/calc 1", "_provgraph_submit.sh") == "77"
    assert transport.commands == [("sbatch --parsable _provgraph_submit.sh", "/work/calc 1")]


def test_joblist_command_is_one_batched_call():
    command = SLURM.joblist_command(["11", "12", "13"])
    assert command.startswith("squeue --noheader --format=")
    assert command.endswith("--states=all --jobs=11,12,13")
    assert SLURM.joblist_command(None, "alice").endswith("--user=alice")
    assert SLURM.joblist_command(None, None).endswith('--user="$USER"')


def test_joblist_command_refuses_shell_metacharacters():
    with pytest.raises(ValidationError):
        SLURM.joblist_command(["11;rm -rf ~"])


EXPECTED_STATES = {
    "1001": JobState.QUEUED, "1002": JobState.QUEUED_HELD, "1003": JobState.QUEUED_HELD,
    "1004": JobState.RUNNING, "1005": JobState.RUNNING, "1006": JobState.QUEUED, "1007": JobState.SUSPENDED,
    "1008": JobState.SUSPENDED, "1009": JobState.DONE, "1010": JobState.DONE, "1011": JobState.DONE,
    "1012": JobState.DONE, "1013": JobState.DONE, "1014": JobState.DONE, "1015": JobState.DONE,
    "1016": JobState.DONE, "1017": JobState.DONE, "1018": JobState.QUEUED_HELD, "1019": JobState.QUEUED_HELD,
    "1020": JobState.QUEUED, "1021": JobState.QUEUED_HELD, "1022": JobState.RUNNING, "1023": JobState.RUNNING,
    "1024": JobState.RUNNING, "1025": JobState.QUEUED, "1026": JobState.DONE, "1027": JobState.UNDETERMINED,
}


def test_parse_squeue_covers_every_state():
    jobs = SLURM.parse_joblist_output(0, data_text("slurm", "squeue_all_states.txt"), "")
    assert {job_id: info.job_state for job_id, info in jobs.items()} == EXPECTED_STATES
    assert {info.raw_state for info in jobs.values()} >= set(COMPACT_STATES)


def test_parse_squeue_fields():
    jobs = SLURM.parse_joblist_output(0, data_text("slurm", "squeue_all_states.txt"), "")
    running = jobs["1004"]
    assert running.title == "scf run^|^with separator"  # the name is last, so it may hold the separator
    assert running.allocated_machines_raw == "nid[001-002]"
    assert (running.num_machines, running.num_cpus) == (2, 16)
    assert running.wallclock_time_seconds == 3723
    assert running.requested_wallclock_time_seconds == 86400
    assert running.submission_time == datetime(2026, 11, 25, 8, 0, 0)
    assert running.dispatch_time == datetime(2026, 11, 25, 8, 1, 10)
    assert (running.job_owner, running.queue_name, running.account) == ("alice", "debug", "proj1")
    assert jobs["1001"].dispatch_time is None  # an expected start time is not a dispatch time
    assert jobs["1002"].annotation == "JobHeldUser"
    assert jobs["1005"].requested_wallclock_time_seconds is None  # UNLIMITED
    assert jobs["1027"].account is None


def test_all_jobs_gone_is_an_empty_answer():
    stderr = "slurm_load_jobs error: Invalid job id specified\n"
    assert SLURM.parse_joblist_output(1, "", stderr) == {}


def test_squeue_failure_raises_with_stderr():
    with pytest.raises(SchedulerError, match="Unable to contact slurm controller"):
        SLURM.parse_joblist_output(1, "", "squeue: error: Unable to contact slurm controller (connect failure)\n")
    with pytest.raises(SchedulerError, match="unexpected squeue line"):
        SLURM.parse_joblist_output(0, "garbage line\n", "")


def test_get_jobs_keeps_only_requested_ids_and_skips_empty_lists():
    transport = RecordingTransport(default=(0, data_text("slurm", "squeue_all_states.txt"), ""))
    assert SLURM.get_jobs(transport, []) == {}
    assert transport.commands == []
    jobs = SLURM.get_jobs(transport, ["1004", "1009", "999"])
    assert sorted(jobs) == ["1004", "1009"]
    assert len(transport.commands) == 1


def test_kill():
    assert SLURM.kill_command("42") == "scancel --verbose 42"
    assert SLURM.parse_kill_output(0, "", "scancel: Terminating job 42\n") is True
    # recorded from slurm 22.05: scancel exits 0 even for an ended job; only --verbose says so
    stderr = "scancel: Terminating job 14\nscancel: error: Kill job error on job id 14: Job/step already " \
             "completing or completed\n"
    assert SLURM.parse_kill_output(0, "", stderr) is False
    assert SLURM.parse_kill_output(1, "", "scancel: error: Invalid job id specified\n") is False
    with pytest.raises(SchedulerError, match="Access/permission denied"):
        SLURM.parse_kill_output(1, "", "scancel: error: Kill job error on job id 42: Access/permission denied\n")


def test_detailed_info_from_scontrol():
    command = SLURM.detailed_job_info_command("1009")
    assert command.startswith("scontrol show job --oneliner 1009 || sacct ")
    info = SLURM.parse_detailed_job_info("1009", 0, data_text("slurm", "scontrol_show_job_completed.txt"), "")
    assert (info.job_state, info.raw_state, info.exit_status) == (JobState.DONE, "COMPLETED", 0)
    assert info.title == "done ok" and info.job_owner == "alice"
    assert info.raw["WorkDir"] == "/scratch/alice/calc 42"
    assert info.wallclock_time_seconds == 754
    assert info.finish_time == datetime(2026, 11, 25, 6, 13, 34)
    failed = SLURM.parse_detailed_job_info("1010", 0, data_text("slurm", "scontrol_show_job_failed.txt"), "")
    assert (failed.exit_status, failed.annotation) == (3, "NonZeroExitCode")


def test_detailed_info_from_sacct():
    stderr = "slurm_load_jobs error: Invalid job id specified\n"
    info = SLURM.parse_detailed_job_info("1011", 0, data_text("slurm", "sacct_cancelled.txt"), stderr)
    assert (info.job_state, info.raw_state) == (JobState.DONE, "CANCELLED by 1001")
    assert info.exit_status == 128 + 15
    assert info.wallclock_time_seconds == 90


def test_detailed_info_failure():
    with pytest.raises(SchedulerError, match="disabled"):
        SLURM.parse_detailed_job_info("5", 1, "", "sacct: error: Slurm accounting storage is disabled\n")
    with pytest.raises(SchedulerError, match="no detailed information"):
        SLURM.parse_detailed_job_info("5", 0, "", "")


# -- property test: any squeue line we can print parses back to the same values ---------------------------

_token = st.text(alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_.[],"),
                 min_size=1, max_size=12)
_name = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30) \
    .filter(lambda s: s == s.strip() and s.strip())
_times = st.integers(min_value=0, max_value=400 * 86400)
_dates = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)).map(
    lambda d: d.replace(microsecond=0))


def _slurm_duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@given(job_id=st.integers(min_value=1, max_value=10**9), code=st.sampled_from(sorted(COMPACT_STATES)),
       user=_token, partition=_token, nodes=st.integers(1, 10**4), cpus=st.integers(1, 10**6),
       used=_times, limit=_times, submitted=_dates, started=_dates, name=_name)
def test_squeue_line_round_trip(job_id, code, user, partition, nodes, cpus, used, limit, submitted, started, name):
    values = {"job_id": str(job_id), "state": code, "reason": "None", "user": user, "num_nodes": str(nodes),
              "num_cpus": str(cpus), "nodelist": "nid001", "partition": partition, "account": "acct",
              "time_limit": _slurm_duration(limit), "time_used": _slurm_duration(used),
              "submit_time": submitted.isoformat(), "start_time": started.isoformat(), "name": name}
    line = SEPARATOR.join(values[field] for _, field in SQUEUE_FIELDS)
    info = SLURM.parse_joblist_output(0, line + "\n", "")[str(job_id)]
    assert info.job_state is COMPACT_STATES[code]
    assert (info.title, info.job_owner, info.queue_name) == (name, user, partition)
    assert (info.num_machines, info.num_cpus) == (nodes, cpus)
    assert (info.wallclock_time_seconds, info.requested_wallclock_time_seconds) == (used, limit)
    assert info.submission_time == submitted
    assert info.dispatch_time == (None if info.job_state is JobState.QUEUED else started)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_time_round_trips_through_the_duration_parser(seconds):
    from provgraph.schedulers.common import parse_duration

    assert parse_duration(SlurmScheduler.format_time(seconds)) == seconds


def test_output_recorded_from_the_real_slurm_22_05():
    """squeue and scontrol output captured from the service kit's SLURM with exactly our commands."""
    jobs = SLURM.parse_joblist_output(0, data_text("slurm", "squeue_recorded_22.05.txt"), "")
    assert {job_id: (info.job_state, info.title) for job_id, info in jobs.items()} == {
        "23": (JobState.DONE, "rec-done"), "24": (JobState.RUNNING, "rec running"),
        "25": (JobState.QUEUED_HELD, "rec-held"), "26": (JobState.DONE, "rec-fail")}
    assert jobs["24"].wallclock_time_seconds == 3 and jobs["24"].requested_wallclock_time_seconds is None
    info = SLURM.parse_detailed_job_info("26", 0, data_text("slurm", "scontrol_recorded_22.05_failed.txt"), "")
    assert (info.raw_state, info.exit_status, info.annotation, info.account) == ("FAILED", 3, "NonZeroExitCode", None)
