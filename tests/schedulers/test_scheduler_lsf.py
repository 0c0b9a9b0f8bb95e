"""core.lsf on recorded output: submit script, bsub, bjobs -o (every state), bkill."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler_testing import RecordingTransport, assert_golden, data_text, full_template, minimal_template

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.datastructures import JobResource, JobState
from provgraph.schedulers.lsf import BJOBS_FIELDS, DELIMITER, LSF_STATES, LsfScheduler, parse_lsf_time

LSF = LsfScheduler()
NOW = datetime(2026, 11, 25, 13, 0)


def test_full_submit_script_matches_golden(node_resources):
    script = LSF.get_submit_script(full_template(node_resources, qos=None, priority="50"))
    assert_golden("lsf", "submit_full.sh", script)


def test_minimal_submit_script_matches_golden():
    script = LSF.get_submit_script(minimal_template(JobResource(num_machines=1, num_mpiprocs_per_machine=1)))
    assert_golden("lsf", "submit_minimal.sh", script)


def test_wallclock_is_rounded_up_to_minutes(node_resources):
    script = LSF.get_submit_script(full_template(node_resources, qos=None, max_wallclock_seconds=61,
                                                 import_sys_environment=False))
    assert "#BSUB -W 00:02" in script and "#BSUB -env none" in script
    with pytest.raises(ValidationError, match="qos"):
        LSF.get_submit_script(full_template(node_resources))


def test_submit():
    assert LSF.submit_command("job.sh") == "bsub < job.sh"
    assert LSF.parse_submit_output(0, "Job <5001> is submitted to queue <normal>.\n", "") == "5001"
    assert LSF.parse_submit_output(0, "Job <5002> is submitted to default queue <normal>.\n", "") == "5002"
    with pytest.raises(SchedulerError, match="not a valid queue"):
        LSF.parse_submit_output(255, "", "nope: No such queue. Job not submitted. not a valid queue\n")
    with pytest.raises(SchedulerError, match="no job id"):
        LSF.parse_submit_output(0, "hmm\n", "")


def test_joblist_command():
    command = LSF.joblist_command(["5001", "5002"])
    assert command.startswith("bjobs -a -noheader -o ")
    assert command.endswith(" 5001 5002")
    assert "delimiter=" in command and " job_name " in command
    assert LSF.joblist_command(None, "dave").endswith("-u dave")


EXPECTED = {"5001": JobState.QUEUED, "5002": JobState.QUEUED_HELD, "5003": JobState.RUNNING,
            "5004": JobState.SUSPENDED, "5005": JobState.SUSPENDED, "5006": JobState.DONE, "5007": JobState.DONE,
            "5008": JobState.QUEUED, "5009": JobState.QUEUED, "5010": JobState.UNDETERMINED,
            "5011": JobState.UNDETERMINED}


def test_parse_bjobs_covers_every_state():
    jobs = LSF.parse_joblist_output(0, data_text("lsf", "bjobs_all_states.txt"), "")
    assert {job_id: info.job_state for job_id, info in jobs.items()} == EXPECTED
    assert {info.raw_state for info in jobs.values()} == set(LSF_STATES)


def test_parse_bjobs_fields():
    lines = data_text("lsf", "bjobs_all_states.txt").splitlines()
    running = LSF.parse_bjobs_line(lines[2], now=NOW)
    assert running.title == "scf|run"  # the name is last, so it may hold the delimiter
    assert running.allocated_machines_raw == "4*node01:4*node02"
    assert (running.num_machines, running.num_mpiprocs, running.wallclock_time_seconds) == (2, 8, 3600)
    assert running.submission_time == datetime(2026, 11, 25, 11, 0)
    assert running.dispatch_time == datetime(2026, 11, 25, 11, 5)
    assert running.finish_time is None and running.exit_status is None
    pending = LSF.parse_bjobs_line(lines[0], now=NOW)
    assert pending.annotation == "Job slot limit reached;" and pending.account == "proj1"
    done, crashed = LSF.parse_bjobs_line(lines[5], now=NOW), LSF.parse_bjobs_line(lines[6], now=NOW)
    assert (done.exit_status, done.account) == (0, None)
    assert crashed.exit_status == 3 and crashed.finish_time == datetime(2026, 11, 25, 9, 2)


def test_lsf_times():
    assert parse_lsf_time("Nov 25 13:05 L", NOW) == datetime(2026, 11, 25, 13, 5)  # clock skew tolerated
    assert parse_lsf_time("Dec 31 23:59", NOW) == datetime(2025, 12, 31, 23, 59)  # no year, not in the future
    assert parse_lsf_time("Jan  2 03:04:05 2027", NOW) == datetime(2027, 1, 2, 3, 4, 5)
    assert parse_lsf_time("-", NOW) is None and parse_lsf_time("garbage", NOW) is None


def test_unknown_jobs_are_left_out():
    stdout = data_text("lsf", "bjobs_all_states.txt")
    jobs = LSF.parse_joblist_output(255, stdout, "Job <999> is not found\n")
    assert "999" not in jobs and len(jobs) == 11
    assert LSF.parse_joblist_output(0, "Job <998> is not found\n", "") == {}
    with pytest.raises(SchedulerError, match="LSF is down"):
        LSF.parse_joblist_output(255, "", "LSF is down. Please wait ...\n")


def test_get_jobs_one_call(recording_transport):
    recording_transport.default = (0, data_text("lsf", "bjobs_all_states.txt"), "")
    assert sorted(LSF.get_jobs(recording_transport, ["5001", "5007"])) == ["5001", "5007"]
    assert len(recording_transport.commands) == 1


def test_kill():
    assert LSF.kill_command("5003") == "bkill 5003"
    assert LSF.parse_kill_output(0, "Job <5003> is being terminated\n", "") is True
    assert LSF.parse_kill_output(255, "", "Job <5006>: Job has already finished\n") is False
    assert LSF.parse_kill_output(255, "", "Job <999>: No matching job found\n") is False
    with pytest.raises(SchedulerError, match="Not the owner"):
        LSF.parse_kill_output(255, "", "Job <5003>: Not the owner of the job\n")


def test_detailed_info():
    info = LSF.parse_detailed_job_info("5007", 0, data_text("lsf", "bjobs_all_states.txt"), "")
    assert (info.job_state, info.exit_status) == (JobState.DONE, 3)
    with pytest.raises(SchedulerError, match="no longer knows"):
        LSF.parse_detailed_job_info("999", 255, "", "Job <999> is not found\n")


def test_submit_through_a_transport():
    transport = RecordingTransport(default=(0, "Job <7> is submitted to queue <normal>.\n", ""))
    assert LSF.submit(transport, "/home/dave", "job.sh") == "7"


_name = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30) \
    .filter(lambda s: s == s.strip())


@given(st.integers(1, 10**9), st.sampled_from(sorted(LSF_STATES)), st.integers(0, 255), st.integers(0, 10**7),
       st.integers(1, 10**5), _name)
def test_bjobs_line_round_trip(job_id, stat, exit_code, run_time, slots, name):
    values = {"jobid": str(job_id), "stat": stat, "exit_code": str(exit_code), "queue": "normal", "user": "dave",
              "exec_host": "node1", "nexec_host": "1", "slots": str(slots), "submit_time": "Nov 25 12:00",
              "start_time": "Nov 25 12:01", "finish_time": "Nov 25 12:02", "run_time": f"{run_time} second(s)",
              "project": "p", "pend_reason": "-", "job_name": name}
    info = LSF.parse_bjobs_line(DELIMITER.join(values[f] for f in BJOBS_FIELDS), now=NOW)
    assert (info.job_id, info.job_state, info.title) == (str(job_id), LSF_STATES[stat], name)
    assert (info.num_mpiprocs, info.wallclock_time_seconds) == (slots, run_time)
    assert info.exit_status == (exit_code if stat in ("DONE", "EXIT") else None)
