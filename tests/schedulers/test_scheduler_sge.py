"""core.sge on recorded output: submit script, qsub, qstat -xml (every state), qdel, qacct."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler_testing import RecordingTransport, assert_golden, data_text, full_template, minimal_template

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.schedulers.datastructures import JobResource, JobState, ParEnvJobResource
from provgraph.schedulers.sge import SgeScheduler, state_from_sge

SGE = SgeScheduler()
PE = ParEnvJobResource("mpi", 8, num_cores_per_mpiproc=2)


def test_full_submit_script_matches_golden():
    script = SGE.get_submit_script(full_template(PE, qos=None, max_memory_kb=None, priority="-10"))
    assert_golden("sge", "submit_full.sh", script)


def test_minimal_submit_script_matches_golden():
    assert_golden("sge", "submit_minimal.sh", SGE.get_submit_script(minimal_template(ParEnvJobResource("smp", 1))))


def test_node_resources_and_unsupported_options_are_refused():
    with pytest.raises(ValidationError, match="ParEnvJobResource"):
        SGE.get_submit_script(minimal_template(JobResource(num_machines=1, tot_num_mpiprocs=1)))
    with pytest.raises(ValidationError, match="max_memory_kb"):
        SGE.get_submit_script(full_template(PE, qos=None))


def test_parse_submit_output():
    assert SGE.parse_submit_output(0, 'Your job 4001 ("relax-Si") has been submitted\n', "") == "4001"
    assert SGE.parse_submit_output(0, "4002\n", "") == "4002"  # qsub -terse
    with pytest.raises(SchedulerError, match="unknown queue"):
        SGE.parse_submit_output(1, "", 'Unable to run job: Job was rejected because job requests unknown queue '
                                       '"nope".\nExiting.\n')


def test_joblist_is_one_call_for_the_user():
    assert SGE.joblist_command(["1", "2"], "carol") == "qstat -xml -u carol"
    assert SGE.joblist_command(None) == 'qstat -xml -u "$USER"'


EXPECTED = {"4001": JobState.RUNNING, "4002": JobState.RUNNING, "4003": JobState.RUNNING,
            "4004": JobState.SUSPENDED, "4005": JobState.SUSPENDED, "4006": JobState.SUSPENDED,
            "4007": JobState.DONE, "4010": JobState.QUEUED, "4011": JobState.QUEUED_HELD,
            "4012": JobState.UNDETERMINED, "4013": JobState.QUEUED}


def test_parse_qstat_xml_covers_every_state():
    jobs = SGE.parse_joblist_output(0, data_text("sge", "qstat_all_states.xml"), "")
    assert {job_id: info.job_state for job_id, info in jobs.items()} == EXPECTED


def test_parse_qstat_xml_fields():
    jobs = SGE.parse_joblist_output(0, data_text("sge", "qstat_all_states.xml"), "")
    running = jobs["4001"]
    assert (running.title, running.job_owner, running.queue_name) == ("relax-Si", "carol", "all.q")
    assert running.allocated_machines_raw == "node01.cluster" and running.num_mpiprocs == 16
    assert running.dispatch_time == datetime(2026, 11, 25, 11, 2, 3)
    assert jobs["4010"].submission_time == datetime(2026, 11, 25, 11, 10) and jobs["4010"].queue_name is None


def test_qstat_with_no_jobs_and_failures():
    assert SGE.parse_joblist_output(0, "", "") == {}
    assert SGE.parse_joblist_output(0, "<?xml version='1.0'?>\n<job_info>\n  <queue_info/>\n</job_info>\n", "") == {}
    with pytest.raises(SchedulerError, match="malformed XML"):
        SGE.parse_joblist_output(0, "<job_info><job_list>", "")
    with pytest.raises(SchedulerError, match="qmaster"):
        SGE.parse_joblist_output(1, "", "error: commlib error: got select error (Connection refused)\n"
                                        "unable to send message to qmaster using port 6444\n")


def test_get_jobs_picks_the_requested_ids(recording_transport):
    recording_transport.default = (0, data_text("sge", "qstat_all_states.xml"), "")
    assert sorted(SGE.get_jobs(recording_transport, ["4001", "4011", "9999"], "carol")) == ["4001", "4011"]
    assert recording_transport.commands == [("qstat -xml -u carol", None)]


def test_kill():
    assert SGE.parse_kill_output(0, "carol has registered the job 4001 for deletion\n", "") is True
    assert SGE.parse_kill_output(1, "", 'denied: job "9999" does not exist\n') is False
    with pytest.raises(SchedulerError, match="not an operator"):
        SGE.parse_kill_output(1, "", "carol - you do not have the necessary privileges: not an operator\n")


def test_detailed_info_from_qacct():
    assert SGE.detailed_job_info_command("4001") == "qacct -j 4001"
    info = SGE.parse_detailed_job_info("4001", 0, data_text("sge", "qacct_finished.txt"), "")
    assert (info.job_state, info.exit_status, info.wallclock_time_seconds) == (JobState.DONE, 0, 3662)
    assert info.account == "proj1" and info.annotation is None
    assert info.finish_time == datetime(2026, 11, 25, 12, 3, 5)
    killed = SGE.parse_detailed_job_info("4004", 0, data_text("sge", "qacct_killed.txt"), "")
    assert (killed.exit_status, killed.wallclock_time_seconds, killed.account) == (137, 1200, None)
    assert killed.annotation == "100 : assumedly after job"
    with pytest.raises(SchedulerError, match="not found"):
        SGE.parse_detailed_job_info("5", 1, "", "error: job id 5 not found\n")


def test_submit_through_a_transport():
    transport = RecordingTransport(default=(0, 'Your job 4001 ("x") has been submitted\n', ""))
    assert SGE.submit(transport, "/home/carol/calc", "job.sh") == "4001"


@pytest.mark.parametrize(("state", "expected"), [
    ("qw", JobState.QUEUED), ("hqw", JobState.QUEUED_HELD), ("hRwq", JobState.QUEUED_HELD),
    ("r", JobState.RUNNING), ("t", JobState.RUNNING), ("Rr", JobState.RUNNING), ("Rt", JobState.RUNNING),
    ("s", JobState.SUSPENDED), ("ts", JobState.SUSPENDED), ("S", JobState.SUSPENDED), ("tS", JobState.SUSPENDED),
    ("T", JobState.SUSPENDED), ("tT", JobState.SUSPENDED), ("Rs", JobState.SUSPENDED),
    ("dr", JobState.DONE), ("dt", JobState.DONE), ("dRr", JobState.DONE), ("ds", JobState.DONE),
    ("Rq", JobState.QUEUED), ("Eqw", JobState.UNDETERMINED), ("Ehqw", JobState.UNDETERMINED),
    ("EhRqw", JobState.UNDETERMINED),
])
def test_every_sge_state_letter_combination(state, expected):
    assert state_from_sge(state) is expected


_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20) \
    .filter(lambda s: s == s.strip())


@given(st.lists(st.tuples(st.integers(1, 10**9), _text, st.sampled_from(["qw", "hqw", "r", "Eqw", "s", "dr"]),
                          st.integers(1, 4096)), min_size=0, max_size=8, unique_by=lambda job: job[0]))
def test_generated_qstat_xml_round_trips(jobs):
    body = "".join(f"<job_list state='x'><JB_job_number>{number}</JB_job_number><JB_name>{escape(name)}</JB_name>"
                   f"<JB_owner>u</JB_owner><state>{state}</state><queue_name>q@h</queue_name>"
                   f"<slots>{slots}</slots></job_list>" for number, name, state, slots in jobs)
    parsed = SGE.parse_joblist_output(0, f"<?xml version='1.0'?><job_info><queue_info>{body}</queue_info></job_info>",
                                      "")
    assert {(int(i.job_id), i.title, i.raw_state, i.num_mpiprocs) for i in parsed.values()} == set(jobs)
