"""A monitor stops a CalcJob run by a real Celery worker (core.local + core.direct); one that never fires doesn't."""

from __future__ import annotations

import pytest
from calcjob_support import bash_code, calcjob_fleet, local_computer
from faults_support import wait_ended

from provgraph.engine import submit
from provgraph.engine.celery.tasks import install_submitter
from provgraph.engine.examples_calcjobs import ArithmeticAddCalculation
from provgraph.orm import Dict, Int

pytestmark = [pytest.mark.requires_rabbitmq, pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, services_profile, amqp_url):
    """One worker on a fresh queue."""
    with calcjob_fleet(tmp_path_factory.mktemp("cj-monitors"), workers=1, PROVGRAPH_CALCJOB_BACKOFF="0.2") as path:
        yield path


def _monitor(marker: str) -> Dict:
    return Dict({"entry_point": "core.file_contains", "kwargs": {"filename": "marker.txt", "marker": marker},
                 "minimum_poll_interval": 0})


def test_a_monitor_stops_a_job_on_a_worker_and_one_that_never_fires_does_not(fleet, tmp_path):
    install_submitter()
    code = bash_code(local_computer(str(tmp_path / "work")))
    slow = {"options": {"prepend_text": "echo STOP-HERE > marker.txt; sleep 600"}}
    stopped = submit(ArithmeticAddCalculation, code=code, x=Int(1), y=Int(2), metadata=slow,
                     monitors={"marker": _monitor("STOP-HERE")})
    quick = submit(ArithmeticAddCalculation, code=code, x=Int(3), y=Int(4),
                   metadata={"options": {"prepend_text": "echo nothing > marker.txt; sleep 1"}},
                   monitors={"marker": _monitor("STOP-HERE")})
    stopped, quick = wait_ended([stopped.pk, quick.pk], timeout=240)  # well before the job's 600 s sleep ends
    assert stopped.exit_status == 150, stopped.exit_message
    assert stopped.base.attributes.get("monitor_result")["key"] == "marker"
    assert quick.is_finished_ok, quick.exit_message
    assert quick.outputs["sum"].value == 7
