"""core.simulated: parsers on recorded output, then the simulated cluster for real through core.local."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from real_jobs import CountingTransport, open_transport, poll, upload_script

from provgraph.exceptions import SchedulerError, ValidationError
from provgraph.plugins import load_plugin
from provgraph.schedulers.datastructures import CodeRun, JobResource, JobState, JobTemplate
from provgraph.schedulers.simulated import DEFAULT_CONFIG, SimulatedScheduler, check_config, read_log, write_config

# -- recorded output ------------------------------------------------------------------------------------


def test_the_plugin_is_registered():
    assert load_plugin("schedulers", "core.simulated") is SimulatedScheduler


def test_submit_output_gives_the_job_id_and_refusals_carry_stderr():
    scheduler = SimulatedScheduler("/state")
    assert scheduler.parse_submit_output(0, "Submitted batch job 4711\n", "") == "4711"
    with pytest.raises(SchedulerError, match="unable to open file job.sh"):
        scheduler.parse_submit_output(1, "", "simulated: error: unable to open file job.sh\n")
    with pytest.raises(SchedulerError, match="no job id"):
        scheduler.parse_submit_output(0, "Submitted batch job\n", "")


def test_status_lines_map_to_states_and_garbage_is_refused():
    scheduler = SimulatedScheduler("/state")
    jobs = scheduler.parse_joblist_output(0, "1 PD\n2 R\n\n3 CG\n", "")
    assert {job_id: info.job_state for job_id, info in jobs.items()} == {
        "1": JobState.QUEUED, "2": JobState.RUNNING, "3": JobState.RUNNING}
    with pytest.raises(SchedulerError, match="unexpected simulated status line"):
        scheduler.parse_joblist_output(0, "1 XX\n", "")
    with pytest.raises(SchedulerError, match="exit 1"):
        scheduler.parse_joblist_output(1, "", "mkdir: cannot create directory\n")


def test_kill_and_detailed_info_outputs():
    scheduler = SimulatedScheduler("/state")
    assert scheduler.parse_kill_output(0, "", "") is True
    assert scheduler.parse_kill_output(1, "", "simulated: error: Kill job error on job id 3: "
                                              "Invalid job id specified\n") is False
    with pytest.raises(SchedulerError):
        scheduler.parse_kill_output(1, "", "permission denied\n")
    info = scheduler.parse_detailed_job_info("7", 0, "NODE_FAIL 1 12 node_fail\n", "")
    assert (info.job_state, info.raw_state, info.exit_status, info.wallclock_time_seconds) == \
        (JobState.DONE, "NODE_FAIL", 1, 12)
    with pytest.raises(SchedulerError, match="malformed"):
        scheduler.parse_detailed_job_info("7", 0, "COMPLETED\n", "")


def test_job_ids_reaching_the_shell_are_checked():
    with pytest.raises(ValidationError, match="not a valid job id"):
        SimulatedScheduler("/state").joblist_command(["1; rm -rf /"])
    with pytest.raises(ValidationError, match="not a valid job id"):
        SimulatedScheduler("/state").kill_command("$(reboot)")


@pytest.mark.parametrize(("settings", "message"), [
    ({"failure_fraction": 1.5}, r"\[0, 1\]"), ({"min_runtime": -1}, "negative"),
    ({"max_runtime": "soon"}, "must be a number"), ({"colour": "blue"}, "unknown core.simulated setting"),
    ({"min_runtime": 9, "max_runtime": 3}, "max_runtime"), ({"failure_kinds": "meteor"}, "failure_kinds"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValidationError, match=message):
        check_config(settings)


@given(st.floats(0, 1), st.floats(0, 1e4), st.floats(0, 1e4))
def test_good_settings_come_back_as_text(fraction, low, extra):
    merged = check_config({"failure_fraction": fraction, "min_runtime": low, "max_runtime": low + extra})
    assert set(merged) == set(DEFAULT_CONFIG)
    assert float(merged["failure_fraction"]) == fraction and float(merged["max_runtime"]) == low + extra


# -- for real, through core.local -----------------------------------------------------------------------


@pytest.fixture
def cluster(request, tmp_path):
    """An open core.local transport, a simulated cluster's state directory and a job folder."""
    transport = open_transport("core.local", request)
    state, workdir = tmp_path / "cluster", tmp_path / "job"
    workdir.mkdir()
    (workdir / "in.txt").write_text("echo $((20 + 22))\n")
    yield transport, str(state), str(workdir)
    transport.close()


def _submit(transport, scheduler, workdir: str, tmp_path: Path, count: int) -> list[str]:
    template = JobTemplate(resources=JobResource(num_machines=1, tot_num_mpiprocs=1),
                           codes=(CodeRun(("bash",), stdin_name="in.txt", stdout_name="out.txt"),))
    script = upload_script(transport, scheduler, template, workdir, tmp_path, "job.sh")
    return [scheduler.submit(transport, workdir, script) for _ in range(count)]


def test_jobs_queue_run_and_complete_lazily_one_query_per_poll(cluster, tmp_path):
    transport, state, workdir = cluster
    write_config(transport, state, min_runtime=1, max_runtime=1.5, max_queue_time=1, failure_fraction=0)
    scheduler = SimulatedScheduler(state)
    ids = _submit(transport, scheduler, workdir, tmp_path, 3)
    assert len(set(ids)) == 3 and all(job_id.isdigit() for job_id in ids)
    assert not Path(workdir, "out.txt").exists()  # nothing runs until a query sees the end time passed
    counting = CountingTransport(transport)
    seen = poll(scheduler, counting, ids, timeout=30)
    for job_id in ids:
        assert JobState.RUNNING in seen[job_id] and seen[job_id][-1] is JobState.DONE
        info = scheduler.get_detailed_job_info(transport, job_id)
        assert (info.raw_state, info.exit_status) == ("COMPLETED", 0)
    rounds = len(counting.commands)  # every poll asked about all the jobs still waiting in one command
    assert rounds >= 2 and all("for id in" in command for command in counting.commands)
    assert Path(workdir, "out.txt").read_text() == "42\n"
    log = read_log(transport, state)
    assert [event.detail.split()[0] for event in log if event.kind == "submit"] == ids
    assert sum(event.kind == "query" for event in log) == rounds


@pytest.mark.parametrize("kind", ["node_fail", "truncated"])
def test_failing_jobs_fail_as_their_kind_says(cluster, tmp_path, kind):
    transport, state, workdir = cluster
    write_config(transport, state, min_runtime=0, max_runtime=0, max_queue_time=0, failure_fraction=1,
                 failure_kinds=kind)
    scheduler = SimulatedScheduler(state)
    [job_id] = _submit(transport, scheduler, workdir, tmp_path, 1)
    assert scheduler.get_jobs(transport, [job_id]) == {}
    info = scheduler.get_detailed_job_info(transport, job_id)
    if kind == "node_fail":  # the scheduler says so; the job never ran
        assert (info.raw_state, info.exit_status) == ("NODE_FAIL", 1)
        assert not Path(workdir, "out.txt").exists()
    else:  # the scheduler says all is well; only the emptied output tells
        assert (info.raw_state, info.exit_status) == ("COMPLETED", 0)
        assert Path(workdir, "out.txt").read_text() == ""


def test_a_fraction_of_the_jobs_fails(cluster, tmp_path):
    transport, state, workdir = cluster
    write_config(transport, state, min_runtime=0, max_runtime=0, max_queue_time=0, failure_fraction=0.5,
                 failure_kinds="node_fail")
    scheduler = SimulatedScheduler(state)
    ids = _submit(transport, scheduler, workdir, tmp_path, 40)
    assert scheduler.get_jobs(transport, ids) == {}
    states = {scheduler.get_detailed_job_info(transport, job_id).raw_state for job_id in ids}
    assert states == {"COMPLETED", "NODE_FAIL"}  # all alike has probability 2**-39


def test_kill_cancels_a_queued_job_and_refuses_an_ended_one(cluster, tmp_path):
    transport, state, workdir = cluster
    write_config(transport, state, min_runtime=300, max_runtime=300, max_queue_time=0, failure_fraction=0)
    scheduler = SimulatedScheduler(state)
    [job_id] = _submit(transport, scheduler, workdir, tmp_path, 1)
    assert scheduler.get_jobs(transport, [job_id])[job_id].job_state is JobState.RUNNING
    assert scheduler.kill(transport, job_id) is True
    assert scheduler.get_jobs(transport, [job_id]) == {}
    assert scheduler.get_detailed_job_info(transport, job_id).raw_state == "CANCELLED"
    assert scheduler.kill(transport, job_id) is False
    assert not Path(workdir, "out.txt").exists()


def test_the_first_submission_writes_the_default_config_and_bad_config_writes_nothing(cluster, tmp_path):
    transport, state, workdir = cluster
    with pytest.raises(ValidationError):
        write_config(transport, state, failure_fraction=2)
    assert not Path(state, "config").exists()
    _submit(transport, SimulatedScheduler(state), workdir, tmp_path, 1)
    text = Path(state, "config").read_text()
    assert "failure_fraction=0.14" in text and "min_runtime=5" in text


def test_the_state_directory_comes_from_the_worker_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PROVGRAPH_SIMULATED_DIR", str(tmp_path / "env-cluster"))
    assert SimulatedScheduler().state_dir == str(tmp_path / "env-cluster")
    monkeypatch.delenv("PROVGRAPH_SIMULATED_DIR")
    assert '"$HOME/.provgraph-simulated"' in SimulatedScheduler().joblist_command(["1"])


def test_a_status_query_over_many_jobs_is_one_command(cluster, tmp_path):
    transport, state, workdir = cluster
    write_config(transport, state, min_runtime=300, max_runtime=300, max_queue_time=0, failure_fraction=0)
    scheduler = SimulatedScheduler(state)
    ids = _submit(transport, scheduler, workdir, tmp_path, 5)
    counting = CountingTransport(transport)
    jobs = scheduler.get_jobs(counting, ids + [str(10**9)])  # an unknown id is simply not listed
    assert len(counting.commands) == 1 and set(jobs) == set(ids), jobs
