"""core.direct for real, through core.local and core.ssh: submit, batched polling, kill of the whole job."""

from __future__ import annotations

import pytest
from real_jobs import CountingTransport, make_workdir, open_transport, poll, upload_script

from provgraph.plugins import load_plugin
from provgraph.schedulers.datastructures import CodeRun, JobResource, JobState, JobTemplate

VIA = ["core.local", pytest.param("core.ssh", marks=pytest.mark.requires_ssh)]


@pytest.fixture(params=VIA)
def direct_transport(request):
    """An open transport and a scratch folder on its side."""
    transport = open_transport(request.param, request)
    workdir = make_workdir(transport)
    yield transport, workdir
    transport.rmtree(workdir)
    transport.close()


def _template(seconds: float, output: str) -> JobTemplate:
    return JobTemplate(resources=JobResource(num_machines=1, tot_num_mpiprocs=1),
                       prepend_text=f"sleep {seconds}", environment_variables={"WHO": "direct job"},
                       codes=(CodeRun(("bash", "-c", 'echo "$WHO"; cat'), stdin_name="in.txt", stdout_name=output),))


def test_submit_two_jobs_and_poll_them_in_one_call(direct_transport, tmp_path):
    transport, workdir = direct_transport
    direct = load_plugin("schedulers", "core.direct")()
    counting = CountingTransport(transport)
    ids = []
    for number in (1, 2):
        script = upload_script(transport, direct, _template(1.5, f"out{number}.txt"), workdir, tmp_path,
                               f"job {number}.sh", {"in.txt": "payload\n"})
        ids.append(direct.submit(counting, workdir, script))
    seen = poll(direct, counting, ids, timeout=30)
    for job_id in ids:
        assert seen[job_id][0] is JobState.RUNNING and seen[job_id][-1] is JobState.DONE
    for number in (1, 2):
        assert transport.exec_command_wait(f"cat out{number}.txt", workdir=workdir)[1] == "direct job\npayload\n"
    assert direct.get_detailed_job_info(counting, ids[0]) is None


def test_kill_stops_the_job_and_what_it_started(direct_transport, tmp_path):
    transport, workdir = direct_transport
    direct = load_plugin("schedulers", "core.direct")()
    template = JobTemplate(resources=JobResource(num_machines=1, tot_num_mpiprocs=1),
                           codes=(CodeRun(("sleep", "300")),))
    script = upload_script(transport, direct, template, workdir, tmp_path, "long.sh")
    counting = CountingTransport(transport)
    job_id = direct.submit(counting, workdir, script)
    assert direct.get_jobs(counting, [job_id])[job_id].job_state is JobState.RUNNING
    assert direct.kill(counting, job_id) is True
    poll(direct, counting, [job_id], timeout=15)
    code, stdout, _ = transport.exec_command_wait(f"ps -o pid=,args= -s {job_id}")
    assert "sleep 300" not in stdout, stdout  # the child died with the job's process group
    assert direct.kill(counting, job_id) is False
