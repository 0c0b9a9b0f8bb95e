"""The worker fleet on the real services: ``provgraph worker start`` workers, RabbitMQ, Neo4j, MinIO.

Every test module run uses a queue of its own (``$PROVGRAPH_CELERY_QUEUE``), deleted at the end,
and the workers started here are stopped in the fixture's teardown whatever happens.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_support import run_cli, wait_ended

from provgraph.cli.cmd_worker import alive
from provgraph.common.links import Direction, LinkType, TraversalRule
from provgraph.common.states import ProcessState
from provgraph.engine import advance, calcfunction, run_get_node, submit
from provgraph.engine.celery.app import QUEUE_ENV, current_app
from provgraph.engine.celery.tasks import TASK, install_submitter, publish
from provgraph.engine.examples import AddMultiplyWorkChain, NestedAddMultiplyWorkChain, add
from provgraph.engine.launch import create_stored, set_submitter
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_rabbitmq, pytest.mark.requires_neo4j, pytest.mark.requires_s3]

HERE = Path(__file__).resolve().parent
#: lease lifetime of the test workers, in seconds
LEASE = 3


@calcfunction
def slow_add(x: Int, y: Int) -> Int:
    """``x + y`` after ``y`` seconds: a step that computes for long."""
    time.sleep(y.value)
    return x + y


slow_add.process_class.long_running = True  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, services_profile, amqp_url) -> Iterator[Path]:
    """Two workers (concurrency 2) started with ``provgraph worker start`` on a fresh queue; stopped after."""
    names = (QUEUE_ENV, "PROVGRAPH_WORKERS_DIR", "PROVGRAPH_LEASE_SECONDS", "PYTHONPATH")
    saved = {name: os.environ.get(name) for name in names}
    directory = tmp_path_factory.mktemp("workers")
    os.environ.update({QUEUE_ENV: f"provgraph-test-{uuid.uuid4().hex[:12]}", "PROVGRAPH_WORKERS_DIR": str(directory),
                       "PROVGRAPH_LEASE_SECONDS": str(LEASE), "PYTHONPATH": str(HERE)})  # workers import this module
    try:
        assert "started worker 1" in run_cli("worker", "start", "--workers", "2", "--concurrency", "2",
                                          "--no-reconcile")
        yield directory
    finally:
        try:
            run_cli("worker", "stop", "--timeout", "20")
        finally:
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(os.environ[QUEUE_ENV])
            for name, value in saved.items():
                os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


@pytest.fixture
def celery_submit(fleet) -> Iterator[Path]:
    """``submit()`` publishes to the test fleet's queue."""
    install_submitter()
    yield fleet
    set_submitter(None)


def _returns(pk: int) -> list[str]:
    return [t.label for t in get_backend().nodes.links(pk, Direction.FORWARD, [LinkType.RETURN])]


def test_status_and_logs(fleet):
    status = run_cli("worker", "status")
    assert "worker-0.log" in status and "worker-1.log" in status
    assert "==> " in run_cli("worker", "logs", "-n", "5")


def test_workchain_and_calcfunction_finish_on_the_workers(celery_submit):
    chains = [submit(AddMultiplyWorkChain, x=Int(1), y=Int(2), z=Int(i)) for i in range(3)]
    nested = submit(NestedAddMultiplyWorkChain, x=Int(2), y=Int(2), z=Int(5))
    calc = submit(add, x=Int(3), y=Int(4))
    nodes = wait_ended([node.pk for node in [*chains, nested, calc]])
    assert all(node.process_state is ProcessState.FINISHED and node.exit_status == 0 for node in nodes)
    assert [node.outputs["result"].value for node in nodes[:3]] == [0, 3, 6]
    assert nodes[3].outputs["result"].value == 20 and len(nodes[3].called) == 1
    assert nodes[4].outputs["result"].value == 7


def test_pickled_message_is_rejected(celery_submit):
    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(1), "z": Int(1)})
    current_app().send_task(TASK, args=[node.pk], queue=os.environ[QUEUE_ENV], serializer="pickle")
    time.sleep(3)
    assert load_node(node.pk).process_state is ProcessState.CREATED
    logs = "".join(path.read_text() for path in celery_submit.glob("worker-*.log"))
    assert "pickle" in logs and ("untrusted" in logs.lower() or "ContentDisallowed" in logs)
    publish(node.pk)  # the same process sent as JSON runs
    (done,) = wait_ended([node.pk])
    assert done.outputs["result"].value == 2


def test_duplicated_messages_change_nothing_twice(celery_submit):
    node = submit(AddMultiplyWorkChain, x=Int(2), y=Int(3), z=Int(4))
    for _ in range(3):
        publish(node.pk)
    (done,) = wait_ended([node.pk])
    time.sleep(1)  # let the duplicates land
    done = load_node(node.pk)
    assert done.outputs["result"].value == 20 and len(done.called) == 2
    assert _returns(node.pk) == ["result"]
    assert done.base.attributes.get("checkpoint_version") == 5


def test_reconciler_publishes_lost_processes(celery_submit):
    from provgraph.engine.celery.outbox import find_lost, queue_is_empty, reconcile

    lost = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(2)})  # never published
    parent = create_stored(NestedAddMultiplyWorkChain, {"x": Int(1), "y": Int(1), "z": Int(3)})
    (child,) = advance(parent.pk).children
    assert advance(child).is_terminal  # the child ended, but nobody woke the parent
    only = [lost.pk, parent.pk]
    deadline = time.monotonic() + 20
    while not queue_is_empty():  # the reconciler leaves a backlog alone
        assert time.monotonic() < deadline, "the test queue does not drain"
        time.sleep(0.2)
    assert find_lost(older_than=0, only=only, check_queue=lambda: False) == []
    assert sorted(find_lost(older_than=0, only=only, check_queue=lambda: True)) == sorted(only)
    assert sorted(reconcile(older_than=0, only=[lost.pk])) == [lost.pk]
    assert f"re-published 1 process(es): {parent.pk}" in run_cli("worker", "reconcile", "--older-than", "0",
                                                             "--pk", str(parent.pk))
    nodes = wait_ended(only)
    assert [node.outputs["result"].value for node in nodes] == [6, 6]


def test_expired_lease_is_reconciled(fleet):
    from provgraph.engine.celery.outbox import find_lost
    from provgraph.engine.celery.tasks import Lease

    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(2)})
    lease = Lease(node.pk, seconds=0)
    lease.renew()
    try:
        time.sleep(0.1)
        assert find_lost(older_than=3600, only=[node.pk], check_queue=lambda: False) == [node.pk]
    finally:
        lease.release()
    assert find_lost(older_than=3600, only=[node.pk], check_queue=lambda: False) == []


#: issue 5's fault test (a): this many WorkChains in flight when a worker is killed
FAULT_WORKCHAINS = int(os.environ.get("PROVGRAPH_FAULT_WORKCHAINS", 200))


def test_sigkill_a_worker_mid_flight(celery_submit):
    """Issue 5's fault test (a): SIGKILL one of two workers while 200 WorkChains (each calling calcfunctions
    and a child WorkChain) are in flight, restart it: all finish, and every one's provenance has exactly the
    nodes and links of an undisturbed run (nothing lost, nothing done twice).
    """
    from workflows_for_tests import CalcThenChildWorkChain

    set_submitter(None)
    _, reference = run_get_node(CalcThenChildWorkChain, x=Int(-1), y=Int(1), z=Int(2))
    install_submitter()
    expected = _provenance_size(reference.pk)
    count = FAULT_WORKCHAINS
    nodes = [submit(CalcThenChildWorkChain, x=Int(i), y=Int(1), z=Int(2)) for i in range(count)]
    deadline = time.monotonic() + 60
    while sum(load_node(node.pk).process_state.is_terminal for node in nodes) < 2:
        assert time.monotonic() < deadline, "the workers never finished a workchain"
        time.sleep(0.2)
    assert not all(load_node(node.pk).process_state.is_terminal for node in nodes)  # still in flight
    pid = int((celery_submit / "worker-0.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "started worker 0" in run_cli("worker", "start", "--workers", "2", "--concurrency", "2", "--no-reconcile")
    done = wait_ended([node.pk for node in nodes], timeout=60 + 2.0 * count)
    assert [node.process_state for node in done] == [ProcessState.FINISHED] * count
    assert [node.outputs["result"].value for node in done] == [(i + 2) * 2 + 2 for i in range(count)]
    sizes = {node.pk: _provenance_size(node.pk) for node in done}
    assert {pk: size for pk, size in sizes.items() if size != expected} == {}, f"undisturbed run: {expected}"


def _provenance_size(pk: int) -> tuple[int, int]:
    """(nodes, links) of the provenance of workflow ``pk``: its call tree, their inputs and outputs."""
    rules = [TraversalRule(link_type, Direction.FORWARD, True, False, link_type.value)
             for link_type in (LinkType.CALL_CALC, LinkType.CALL_WORK)]
    processes = get_backend().nodes.traverse([pk], rules)
    nodes, links = set(processes), set()
    for process in processes:
        for direction in (Direction.FORWARD, Direction.BACKWARD):
            for triple in get_backend().nodes.links(process, direction):
                nodes.add(triple.node_pk)
                ends = (process, triple.node_pk) if direction is Direction.FORWARD else (triple.node_pk, process)
                links.add((*ends, triple.link_type, triple.label))
    return len(nodes), len(links)


def _lease_owner(pk: int) -> str | None:
    key = f"process:{pk}"
    owners = [lease.owner for lease in get_backend().coordination.leases(key) if lease.key == key]
    return owners[0] if owners else None


def _lease_released(pk: int, timeout: float = 10.0) -> bool:
    """Whether the lease on ``pk`` is gone within ``timeout`` s (the worker drops it just after the last commit)."""
    deadline = time.monotonic() + timeout
    while _lease_owner(pk) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _restart_all(directory: Path) -> None:
    for pid_file in directory.glob("worker-*.pid"):
        pid = int(pid_file.read_text())
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert "started worker 1" in run_cli("worker", "start", "--workers", "2", "--concurrency", "2", "--no-reconcile")


def test_long_step_is_acked_early_and_leased(celery_submit):
    node = submit(slow_add, x=Int(1), y=Int(2))
    (done,) = wait_ended([node.pk])
    assert done.outputs["result"].value == 3 and _lease_released(node.pk)
    logs = "".join(path.read_text() for path in celery_submit.glob("worker-*.log"))
    assert "provgraph.advance_long_process" in logs


def test_long_step_of_a_dead_worker_is_recovered_by_the_reconciler(celery_submit):
    """Acked on receipt, so RabbitMQ does not redeliver it: the expired lease makes the reconciler do it."""
    from provgraph.engine.celery.outbox import reconcile

    node = submit(slow_add, x=Int(1), y=Int(8))
    deadline = time.monotonic() + 20
    while _lease_owner(node.pk) is None or load_node(node.pk).process_state is not ProcessState.RUNNING:
        assert time.monotonic() < deadline, "no worker took the long step"
        time.sleep(0.1)
    _restart_all(celery_submit)
    time.sleep(LEASE + 1)
    assert load_node(node.pk).process_state is ProcessState.RUNNING  # nobody redelivers it by itself
    assert reconcile(older_than=0, only=[node.pk]) == [node.pk]
    (done,) = wait_ended([node.pk], timeout=40)
    assert done.outputs["result"].value == 9 and _lease_released(node.pk)


def test_foreground_worker_runs_until_terminated(fleet):
    """``provgraph worker start --foreground`` (the container entry point) is a worker in this process."""
    import subprocess
    import sys

    command = [sys.executable, "-c", "from provgraph.cli.main import cli; cli()", "-p", "services", "worker", "start",
               "--foreground", "--no-reconcile", "--loglevel", "info"]
    fleet_queue = os.environ[QUEUE_ENV]
    os.environ[QUEUE_ENV] = f"{fleet_queue}-fg"  # a queue of its own: only the foreground worker consumes it
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        node = submit_json(AddMultiplyWorkChain, x=Int(1), y=Int(1), z=Int(7))
        (done,) = wait_ended([node.pk])
        assert done.outputs["result"].value == 14
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
        with current_app().connection_for_write() as connection:
            connection.default_channel.queue_delete(os.environ[QUEUE_ENV])
        os.environ[QUEUE_ENV] = fleet_queue
    assert "ready" in output and f"process {node.pk}: stepped -> finished" in output and worker.returncode == 0


def submit_json(process, **inputs):
    """``submit()`` with the publishing submitter installed for the call."""
    previous = set_submitter(publish)
    try:
        return submit(process, **inputs)
    finally:
        set_submitter(previous)
