"""core.pbspro on recorded output: submit script, qsub, qstat -f -x (every state), qdel."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler_testing import RecordingTransport, assert_golden, data_text, full_template, minimal_template

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.datastructures import JobResource, JobState
from provgraph.schedulers.pbsbase import parse_qstat_f
from provgraph.schedulers.pbspro import PbsProScheduler

PBS = PbsProScheduler()


def test_full_submit_script_matches_golden(node_resources):
    script = PBS.get_submit_script(full_template(node_resources, qos=None, priority="100"))
    assert_golden("pbspro", "submit_full.sh", script)


def test_minimal_submit_script_matches_golden():
    script = PBS.get_submit_script(minimal_template(JobResource(num_machines=1, num_mpiprocs_per_machine=1)))
    assert_golden("pbspro", "submit_minimal.sh", script)


def test_qos_is_refused(node_resources):
    with pytest.raises(ValidationError, match="qos"):
        PBS.get_submit_script(full_template(node_resources))


def test_parse_submit_output():
    assert PBS.parse_submit_output(0, "2001.pbs01\n", "") == "2001.pbs01"
    with pytest.raises(SchedulerError, match="Unknown queue"):
        PBS.parse_submit_output(170, "", "qsub: Unknown queue\n")
    with pytest.raises(SchedulerError, match="no job id"):
        PBS.parse_submit_output(0, "something else\n", "")


def test_joblist_command_is_batched():
    assert PBS.joblist_command(["1.pbs01", "2.pbs01"]) == "qstat -f -x 1.pbs01 2.pbs01"
    assert PBS.joblist_command(None, "alice") == "qstat -f -x -u alice"


EXPECTED = {"2001.pbs01": JobState.QUEUED, "2002.pbs01": JobState.QUEUED_HELD, "2003.pbs01": JobState.RUNNING,
            "2004.pbs01": JobState.RUNNING, "2005.pbs01": JobState.SUSPENDED, "2006.pbs01": JobState.SUSPENDED,
            "2007.pbs01": JobState.QUEUED, "2008.pbs01": JobState.QUEUED, "2009[].pbs01": JobState.RUNNING,
            "2010.pbs01": JobState.DONE, "2011[3].pbs01": JobState.DONE, "2012.pbs01": JobState.UNDETERMINED}


def test_parse_qstat_covers_every_state():
    jobs = PBS.parse_joblist_output(0, data_text("pbspro", "qstat_f_x_all_states.txt"), "")
    assert {job_id: info.job_state for job_id, info in jobs.items()} == EXPECTED
    assert {info.raw_state for info in jobs.values()} == set(PBS.states)


def test_parse_qstat_fields():
    jobs = PBS.parse_joblist_output(0, data_text("pbspro", "qstat_f_x_all_states.txt"), "")
    running = jobs["2003.pbs01"]
    assert (running.title, running.job_owner, running.queue_name, running.account) == \
        ("running", "alice", "workq", "proj1")
    assert running.allocated_machines_raw == "node01/0*4+node02/0*4"
    assert (running.num_machines, running.num_mpiprocs, running.num_cpus) == (2, 8, 8)
    assert running.wallclock_time_seconds == 3723 and running.requested_wallclock_time_seconds == 86400
    assert running.submission_time == datetime(2026, 11, 25, 8, 0)
    assert running.dispatch_time == datetime(2026, 11, 25, 8, 1, 10)
    assert running.raw["Variable_List"].endswith("PBS_O_HOST=login01.cluster")  # continuation lines joined
    assert jobs["2001.pbs01"].annotation.startswith("Not Running")
    finished = jobs["2010.pbs01"]
    assert finished.exit_status == 0 and finished.finish_time == datetime(2026, 11, 25, 9, 3, 13)


def test_unknown_jobs_are_left_out_not_errors():
    stdout = data_text("pbspro", "qstat_f_x_all_states.txt")
    stderr = "qstat: Unknown Job Id 99.pbs01\nqstat: 98.pbs01 Job has finished, use -x or -H to obtain historical " \
             "job information\n"
    jobs = PBS.parse_joblist_output(153, stdout, stderr)
    assert "99.pbs01" not in jobs and "2001.pbs01" in jobs
    with pytest.raises(SchedulerError, match="cannot connect"):
        PBS.parse_joblist_output(2, "", "Connection refused\nqstat: cannot connect to server pbs01 (errno=111)\n")


def test_get_jobs_one_call_for_many(recording_transport):
    recording_transport.default = (0, data_text("pbspro", "qstat_f_x_all_states.txt"), "")
    jobs = PBS.get_jobs(recording_transport, ["2001.pbs01", "2010.pbs01"])
    assert sorted(jobs) == ["2001.pbs01", "2010.pbs01"]
    assert recording_transport.commands == [("qstat -f -x 2001.pbs01 2010.pbs01", None)]


def test_kill():
    assert PBS.kill_command("2003.pbs01") == "qdel 2003.pbs01"
    assert PBS.parse_kill_output(0, "", "") is True
    assert PBS.parse_kill_output(35, "", "qdel: Job has finished 2010.pbs01\n") is False
    assert PBS.parse_kill_output(153, "", "qdel: Unknown Job Id 99.pbs01\n") is False
    with pytest.raises(SchedulerError, match="Unauthorized"):
        PBS.parse_kill_output(159, "", "qdel: Unauthorized Request  2003.pbs01\n")


def test_detailed_info_reads_the_exit_status():
    assert PBS.detailed_job_info_command("2011[3].pbs01") == "qstat -f -x '2011[3].pbs01'"
    info = PBS.parse_detailed_job_info("2011[3].pbs01", 0, data_text("pbspro", "qstat_f_x_all_states.txt"), "")
    assert (info.job_state, info.exit_status) == (JobState.DONE, 271)
    with pytest.raises(SchedulerError, match="no longer knows"):
        PBS.parse_detailed_job_info("7.pbs01", 153, "", "qstat: Unknown Job Id 7.pbs01\n")


def test_submit_through_a_transport():
    transport = RecordingTransport(default=(0, "2001.pbs01\n", ""))
    assert PBS.submit(transport, "/home/alice/calc", "job.sh") == "2001.pbs01"
    assert transport.commands == [("qsub job.sh", "/home/alice/calc")]


_value = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1,
                 max_size=40)


@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z_.]{0,20}", fullmatch=True), _value), min_size=1,
                max_size=15, unique_by=lambda kv: kv[0]),
       st.sampled_from(sorted(PBS.states)))
def test_qstat_block_round_trip(attributes, state):
    lines = ["Job Id: 7.server", f"    job_state = {state}"]
    lines += [f"    {key} = {value}" for key, value in attributes if key != "job_state"]
    fields = parse_qstat_f("\n".join(lines) + "\n")
    assert len(fields) == 1
    expected = {"Job Id": "7.server", "job_state": state, **{k: v for k, v in attributes if k != "job_state"}}
    assert fields[0] == expected
    assert PBS.job_info(fields[0]).job_state is PBS.states[state]
