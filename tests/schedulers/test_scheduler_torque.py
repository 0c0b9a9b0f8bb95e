"""core.torque on recorded output: submit script, qsub, qstat -f (every state), qdel."""

from __future__ import annotations

from datetime import datetime

import pytest
from scheduler_testing import assert_golden, data_text, full_template, minimal_template

from provgraph.exceptions import SchedulerError
from provgraph.schedulers.datastructures import JobResource, JobState
from provgraph.schedulers.torque import TorqueScheduler

TORQUE = TorqueScheduler()


def test_full_submit_script_matches_golden(node_resources):
    assert_golden("torque", "submit_full.sh", TORQUE.get_submit_script(full_template(node_resources)))


def test_minimal_submit_script_matches_golden():
    script = TORQUE.get_submit_script(minimal_template(JobResource(num_machines=1, num_mpiprocs_per_machine=1)))
    assert_golden("torque", "submit_minimal.sh", script)


def test_resources_and_memory_total(node_resources):
    script = TORQUE.get_submit_script(full_template(node_resources))
    assert "#PBS -l nodes=2:ppn=8" in script  # 4 MPI processes × 2 cores per machine
    assert "#PBS -l mem=4096000kb" in script  # per machine × 2 machines
    assert "#PBS -l qos=high" in script


def test_parse_submit_output():
    assert TORQUE.parse_submit_output(0, "3001.torque01.cluster\n", "") == "3001.torque01.cluster"
    with pytest.raises(SchedulerError, match="Job exceeds queue resource limits"):
        TORQUE.parse_submit_output(
            188, "", "qsub: submit error (Job exceeds queue resource limits MSG=cannot satisfy queue max nodes)\n")


def test_joblist_command():
    assert TORQUE.joblist_command(["1.t", "2.t"]) == "qstat -f 1.t 2.t"


EXPECTED = {"3001": JobState.QUEUED, "3002": JobState.QUEUED_HELD, "3003": JobState.RUNNING,
            "3004": JobState.RUNNING, "3005": JobState.SUSPENDED, "3006": JobState.QUEUED, "3007": JobState.QUEUED,
            "3008": JobState.DONE}


def test_parse_qstat_covers_every_state():
    jobs = TORQUE.parse_joblist_output(0, data_text("torque", "qstat_f_all_states.txt"), "")
    assert {job_id.split(".")[0]: info.job_state for job_id, info in jobs.items()} == EXPECTED
    assert {info.raw_state for info in jobs.values()} == set(TORQUE.states)


def test_parse_qstat_fields():
    jobs = TORQUE.parse_joblist_output(0, data_text("torque", "qstat_f_all_states.txt"), "")
    running = jobs["3003.torque01.cluster"]
    assert (running.title, running.job_owner, running.queue_name) == ("running", "bob", "batch")
    assert running.num_machines == 2
    assert running.wallclock_time_seconds == 1870 and running.requested_wallclock_time_seconds == 7200
    assert running.dispatch_time == datetime(2026, 11, 25, 10, 1, 10)
    done = jobs["3008.torque01.cluster"]
    assert done.exit_status == 271 and done.finish_time == datetime(2026, 11, 25, 10, 46, 10)


def test_unknown_job_is_not_an_error():
    assert TORQUE.parse_joblist_output(153, "", "qstat: Unknown Job Id Error 99.torque01.cluster\n") == {}


def test_kill_and_detailed_info():
    assert TORQUE.parse_kill_output(0, "", "") is True
    assert TORQUE.parse_kill_output(153, "", "qdel: Unknown Job Id 9.torque01\n") is False
    with pytest.raises(SchedulerError, match="Unauthorized"):
        TORQUE.parse_kill_output(159, "", "qdel: Unauthorized Request MSG=operation not permitted 3003.t\n")
    info = TORQUE.parse_detailed_job_info("3008.torque01.cluster", 0,
                                          data_text("torque", "qstat_f_all_states.txt"), "")
    assert (info.job_state, info.exit_status) == (JobState.DONE, 271)
