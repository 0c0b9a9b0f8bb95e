"""CalcJobs submitted to a real Celery worker fleet (core.local + core.direct): batched polls, kill."""

from __future__ import annotations

import subprocess
import time

import pytest
from calcjob_support import bash_code, calcjob_fleet, local_computer, stats
from faults_support import wait_ended

from provgraph.common.states import ProcessState
from provgraph.engine import kill, submit
from provgraph.engine.celery.tasks import install_submitter
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_rabbitmq, pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, services_profile, amqp_url):
    """Two workers of concurrency 2 on a fresh queue, with a short backoff."""
    with calcjob_fleet(tmp_path_factory.mktemp("cj-workers"), PROVGRAPH_CALCJOB_BACKOFF="0.2") as directory:
        yield directory


@pytest.fixture
def on_fleet(fleet):
    """``submit()`` publishes to the test fleet's queue (the engine conftest removes the submitter per test)."""
    install_submitter()
    yield fleet


def test_calcjobs_finish_on_the_workers_with_batched_polls(on_fleet, tmp_path):
    computer = local_computer(str(tmp_path / "work"))
    code = bash_code(computer)
    before = stats(on_fleet)
    nodes = [submit(ArithmeticAddCalculation, code=code, x=Int(i), y=Int(10)) for i in range(8)]
    done = wait_ended([node.pk for node in nodes])
    assert [node.exit_status for node in done] == [0] * 8, [node.exit_message for node in done]
    assert [node.outputs["sum"].value for node in done] == [10 + i for i in range(8)]
    after = stats(on_fleet)
    assert after.get("submit", 0) - before.get("submit", 0) == 8  # one submission per CalcJob
    polls = after.get("poll", 0) - before.get("poll", 0)
    polled = after.get("polled_jobs", 0) - before.get("polled_jobs", 0)
    assert 1 <= polls < 8 <= polled, (polls, polled)  # each status query covered several jobs
    logs = get_backend().logs
    assert all(not logs.for_node(node.pk) for node in done)  # no failure reported


def test_killing_a_calcjob_cancels_its_scheduler_job(on_fleet, tmp_path):
    computer = local_computer(str(tmp_path / "work"))
    node = submit(ArithmeticAddCalculation, code=bash_code(computer), x=Int(1), y=Int(1),
                  metadata={"options": {"prepend_text": "sleep 120"}})
    deadline = time.monotonic() + 30
    while not load_node(node.pk).base.attributes.get("job_id", None):
        assert time.monotonic() < deadline, "the job was not submitted"
        time.sleep(0.2)
    job_id = load_node(node.pk).base.attributes.get("job_id")
    assert _alive(job_id)
    assert kill(node.pk) == [node.pk]
    assert load_node(node.pk).process_state is ProcessState.KILLED
    deadline = time.monotonic() + 10
    while _alive(job_id):
        assert time.monotonic() < deadline, f"job {job_id} still runs after the kill"
        time.sleep(0.2)
    reports = [log.message for log in get_backend().logs.for_node(node.pk)]
    assert any(f"cancelled scheduler job {job_id}" in message for message in reports), reports


def _alive(pid: str) -> bool:
    state = subprocess.run(["ps", "-o", "stat=", "-p", pid], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith(("Z", "X"))
