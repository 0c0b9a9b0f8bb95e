"""core.slurm against the real single-node SLURM, through core.ssh (as provgraph-ssh) and core.local.

Two jobs run a real executable on an input file; ONE batched ``squeue`` per
poll sees them RUNNING and then DONE; ``scontrol`` gives their exit status; a
long job is killed and seen gone.
"""

from __future__ import annotations

import pytest
from real_jobs import CountingTransport, make_workdir, open_transport, poll, upload_script

from provgraph.plugins import load_plugin
from provgraph.schedulers.datastructures import CodeRun, JobResource, JobState, JobTemplate

pytestmark = pytest.mark.requires_slurm

VIA = [pytest.param("core.ssh", marks=pytest.mark.requires_ssh), "core.local"]


@pytest.fixture(params=VIA)
def slurm_transport(request, slurm_env):
    """An open transport from which sbatch reaches the service's SLURM."""
    transport = open_transport(request.param, request, environment={"SLURM_CONF": slurm_env["SLURM_CONF"]})
    workdir = make_workdir(transport)
    yield transport, workdir
    transport.rmtree(workdir)
    transport.close()


def _template(name: str, seconds: int, text_file: str = "input.txt") -> JobTemplate:
    return JobTemplate(
        resources=JobResource(num_machines=1, num_mpiprocs_per_machine=1), job_name=name,
        max_wallclock_seconds=600, queue_name="debug", environment_variables={"PG_MESSAGE": "hello slurm"},
        prepend_text=f'sleep {seconds}\necho "$PG_MESSAGE from $SLURM_JOB_ID"',
        codes=(CodeRun(("wc", "-l"), stdin_name=text_file, stdout_name="count.txt"),),
        append_text="echo finished",
    )


def test_submit_poll_batched_and_read_exit_info(slurm_transport, tmp_path):
    transport, workdir = slurm_transport
    slurm = load_plugin("schedulers", "core.slurm")()
    counting = CountingTransport(transport)
    ids = []
    for number, lines in ((1, 3), (2, 5)):
        jobdir = f"{workdir}/job{number}"
        transport.makedirs(jobdir)
        script = upload_script(transport, slurm, _template(f"pg-real-{number}", 3), jobdir, tmp_path, "submit.sh",
                               {"input.txt": "line\n" * lines})
        ids.append(slurm.submit(counting, jobdir, script))
    assert all(job_id.isdigit() for job_id in ids) and ids[0] != ids[1]

    seen = poll(slurm, counting, ids)
    for job_id in ids:
        assert JobState.RUNNING in seen[job_id], seen
        assert seen[job_id][-1] is JobState.DONE
    assert transport.exec_command_wait("cat count.txt", workdir=f"{workdir}/job1")[1].strip() == "3"
    assert transport.exec_command_wait("cat count.txt", workdir=f"{workdir}/job2")[1].strip() == "5"
    stdout = transport.exec_command_wait("cat _scheduler-stdout.txt", workdir=f"{workdir}/job1")[1]
    assert f"hello slurm from {ids[0]}" in stdout and "finished" in stdout

    finished = slurm.get_jobs(counting, ids)
    assert {info.raw_state for info in finished.values()} == {"CD"}  # MinJobAge keeps them visible
    info = slurm.get_detailed_job_info(counting, ids[0])
    assert (info.job_id, info.job_state, info.raw_state, info.exit_status) == (ids[0], JobState.DONE, "COMPLETED", 0)
    assert info.title == "pg-real-1" and info.wallclock_time_seconds >= 3


def test_a_failing_job_reports_its_exit_status(slurm_transport, tmp_path):
    transport, workdir = slurm_transport
    slurm = load_plugin("schedulers", "core.slurm")()
    template = JobTemplate(resources=JobResource(num_machines=1, tot_num_mpiprocs=1), job_name="pg-fail",
                           codes=(CodeRun(("bash", "-c", "exit 7")),), append_text="exit 7")
    script = upload_script(transport, slurm, template, workdir, tmp_path, "fail.sh")
    counting = CountingTransport(transport)
    job_id = slurm.submit(counting, workdir, script)
    poll(slurm, counting, [job_id])
    info = slurm.get_detailed_job_info(counting, job_id)
    assert (info.raw_state, info.exit_status) == ("FAILED", 7)


def test_kill_a_long_job(slurm_transport, tmp_path):
    transport, workdir = slurm_transport
    slurm = load_plugin("schedulers", "core.slurm")()
    template = JobTemplate(resources=JobResource(num_machines=1, tot_num_mpiprocs=1), job_name="pg-long",
                           codes=(CodeRun(("sleep", "300")),))
    script = upload_script(transport, slurm, template, workdir, tmp_path, "long.sh")
    counting = CountingTransport(transport)
    job_id = slurm.submit(counting, workdir, script)
    poll(slurm, counting, [job_id], wanted=JobState.RUNNING)
    assert slurm.kill(counting, job_id) is True
    seen = poll(slurm, counting, [job_id], timeout=30)
    assert seen[job_id][-1] is JobState.DONE
    assert slurm.get_jobs(counting, [job_id]).get(job_id) is None or \
        slurm.get_jobs(counting, [job_id])[job_id].raw_state == "CA"
    assert slurm.get_detailed_job_info(counting, job_id).raw_state == "CANCELLED"
    assert slurm.kill(counting, job_id) is False  # already gone


def test_an_invalid_submission_raises_with_sbatch_stderr(slurm_transport, tmp_path):
    from provgraph.exceptions import SchedulerError

    transport, workdir = slurm_transport
    slurm = load_plugin("schedulers", "core.slurm")()
    template = JobTemplate(resources=JobResource(num_machines=1, tot_num_mpiprocs=1), queue_name="nosuchpartition",
                           codes=(CodeRun(("true",)),))
    script = upload_script(transport, slurm, template, workdir, tmp_path, "bad.sh")
    with pytest.raises(SchedulerError, match="(?i)partition"):
        slurm.submit(transport, workdir, script)
