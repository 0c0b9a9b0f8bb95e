"""Issue 5's fault test (b): restart RabbitMQ while workflows are in flight on two real workers.

(a) SIGKILL of a worker and (c) duplicated delivery are in ``test_worker_fleet.py``.

The fleet here is two ``provgraph worker start`` workers on a queue of their own, started with
``--no-reconcile``: the worker's periodic reconciler would re-publish every lost process of the shared
database to this test's queue (``--reconcile-after`` only sets how idle they must be), so the test runs
the same reconcile pass itself
(``outbox.reconcile`` limited to its own processes, ``older_than`` a few seconds) while it waits —
what an operator or a cron ``provgraph worker reconcile`` does after a broker outage. Limiting the
pass to its own pks keeps it from publishing other sessions' processes to the test queue.

Teardown always stops the workers, starts RabbitMQ again if it is down, and deletes the queue.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_support import (
    delete_queue,
    ensure_rabbitmq_up,
    rabbitmq,
    restore_env,
    run_cli,
    wait_started,
    wait_with_reconcile,
    worker_logs,
)

from provgraph.common.links import Direction, LinkType
from provgraph.common.states import ProcessState
from provgraph.engine import submit
from provgraph.engine.celery.app import QUEUE_ENV
from provgraph.engine.celery.tasks import install_submitter
from provgraph.engine.examples import AddMultiplyWorkChain, NestedAddMultiplyWorkChain
from provgraph.engine.launch import set_submitter
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_rabbitmq, pytest.mark.requires_neo4j, pytest.mark.requires_s3]

#: workflows of each kind submitted before the broker restart
EACH = 10


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, services_profile, amqp_url) -> Iterator[Path]:
    """Two workers (concurrency 2, no reconciler) on a fresh queue; stopped, broker up, queue deleted after."""
    saved = {name: os.environ.get(name) for name in (QUEUE_ENV, "PROVGRAPH_WORKERS_DIR")}
    directory = tmp_path_factory.mktemp("fault-workers")
    queue = f"provgraph-faults-{uuid.uuid4().hex[:12]}"
    os.environ.update({QUEUE_ENV: queue, "PROVGRAPH_WORKERS_DIR": str(directory)})
    try:
        assert "started worker 1" in run_cli("worker", "start", "--workers", "2", "--concurrency", "2",
                                             "--no-reconcile")
        yield directory
    finally:
        try:
            run_cli("worker", "stop", "--timeout", "20")
        finally:
            try:
                ensure_rabbitmq_up()
                delete_queue(queue)
            finally:
                restore_env(saved)


@pytest.fixture
def celery_submit(fleet) -> Iterator[Path]:
    """``submit()`` publishes to the fleet's queue."""
    install_submitter()
    yield fleet
    set_submitter(None)


def _returns(pk: int) -> list[str]:
    """The labels of the RETURN links of process ``pk``."""
    return [t.label for t in get_backend().nodes.links(pk, Direction.FORWARD, [LinkType.RETURN])]


def _submit_batch() -> list[int]:
    """EACH AddMultiplyWorkChains and EACH nested ones, all computing ``(i + 1) * 2``."""
    kinds = (AddMultiplyWorkChain, NestedAddMultiplyWorkChain)
    return [submit(kind, x=Int(i), y=Int(1), z=Int(2)).pk for i in range(EACH) for kind in kinds]


def _check_outputs(pks: list[int]) -> None:
    """Every workflow finished once with the right result: one RETURN, one set of calls, no duplicates."""
    for index, pk in enumerate(pks):
        node = load_node(pk)
        expected = (index // 2 + 1) * 2
        assert node.process_state is ProcessState.FINISHED and node.exit_status == 0, (pk, node.process_state)
        assert node.outputs["result"].value == expected and _returns(pk) == ["result"], pk
        chain = node if node.process_label == "AddMultiplyWorkChain" else _only_child(node)
        assert sorted(calc.process_label for calc in chain.called) == ["add", "multiply"], chain.pk


def _only_child(node):
    """The one child of a nested workflow, checked to have finished with one result."""
    (child,) = node.called
    assert child.process_state is ProcessState.FINISHED and _returns(child.pk) == ["result"], child.pk
    return child


def test_rabbitmq_restart_mid_flight(celery_submit):
    """Stop and start RabbitMQ while 20 workflows run: the workers reconnect and everything finishes once."""
    pks = _submit_batch()
    wait_started(pks, count=2)
    unfinished = [pk for pk in pks if not load_node(pk).process_state.is_terminal]
    assert unfinished, "every workflow ended before the broker went down: the batch is too small to test this"
    began = time.monotonic()
    try:
        down = rabbitmq("down")
    finally:
        up = rabbitmq("up")  # never leave the broker down, even if stopping failed half-way
    print(f"broker down {down:.1f} s, up {up:.1f} s; {len(unfinished)} of {len(pks)} workflows were in flight")
    republished = wait_with_reconcile(pks, timeout=60)
    print(f"all ended {time.monotonic() - began:.1f} s after the stop; reconcile re-published {republished}")
    _check_outputs(pks)
    for log in sorted(celery_submit.glob("worker-*.log")):  # each worker saw the outage and reconnected
        text = log.read_text(errors="replace")
        assert "Connection to broker lost" in text and text.count("Connected to amqp") >= 2, \
            f"{log.name} shows no reconnect:\n{worker_logs(celery_submit)[-3000:]}"
