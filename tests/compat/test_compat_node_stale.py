"""The stale-node rule with real workers: a node object from submit() or load_node follows its process.

AiiDA's standard wait loop (``while not node.is_terminated: time.sleep(...)``) must end, and the
same object must then report the final state, exit status, outputs and extras changed elsewhere.
A worker started with ``provgraph worker start`` advances the process: on the embedded default
(presto: sqlite storage, sqlite queue file), and once on the services stack (Neo4j + RabbitMQ).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.common.states import ProcessState
from provgraph.engine import calcfunction
from provgraph.orm import Int, load_node

HERE = Path(__file__).resolve().parent
#: how long a wait loop may take before the test fails (a worker start included)
PATIENCE = 90


@calcfunction
def slow_double(x: Int, seconds: Int) -> Int:
    """``2 * x`` after ``seconds`` seconds, so that a waiting caller sees it running first."""
    time.sleep(seconds.value)
    return x * 2


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def presto(provgraph_home, monkeypatch) -> Iterator[Path]:
    """A fresh presto profile with one worker; everything stopped and reset after."""
    from provgraph import profiles
    from provgraph.engine.celery.app import make_app
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.engine.launch import set_submitter
    from provgraph.orm import backend as orm_backend

    previous = profiles._CURRENT.get()
    monkeypatch.setenv("PYTHONPATH", str(HERE))  # the worker imports this module
    _cli("presto")
    profiles.load_profile("presto")
    try:
        _cli("worker", "start")
        install_submitter()
        yield provgraph_home / "presto"
    finally:
        try:
            _cli("-p", "presto", "worker", "stop", "--timeout", "20")
        finally:
            set_submitter(None)
            orm_backend.reset()
            make_app.cache_clear()
            profiles._CURRENT.set(previous)


def _wait_loop(node) -> list[ProcessState]:
    """AiiDA's wait loop on ``node`` itself; returns the states it saw, in order."""
    seen = [node.process_state]
    deadline = time.monotonic() + PATIENCE
    while not node.is_terminated:
        assert time.monotonic() < deadline, f"the wait loop never ended: node still says {node.process_state}"
        time.sleep(0.2)
        if node.process_state is not seen[-1]:
            seen.append(node.process_state)
    return seen


def _set_extra_elsewhere(pk: int, key: str, value: str) -> None:
    """Set an extra from another interpreter (another process, as a user's second shell would)."""
    code = ("import sys, provgraph; from provgraph.orm import load_node; provgraph.load_profile(sys.argv[1]); "
            "load_node(int(sys.argv[2])).base.extras.set(sys.argv[3], sys.argv[4])")
    from provgraph.profiles import get_profile

    subprocess.run([sys.executable, "-c", code, get_profile().name, str(pk), key, value], check=True,
                   env=dict(os.environ), timeout=240)  # a loaded CI machine imports slowly


def _assert_followed(node, seen: list[ProcessState]) -> None:
    assert seen[-1] is ProcessState.FINISHED and node.is_finished_ok and node.exit_status == 0
    order = [ProcessState.CREATED, ProcessState.RUNNING, ProcessState.FINISHED]
    assert [order.index(state) for state in seen] == sorted(order.index(state) for state in seen)
    assert node.outputs.result.value == 2 * node.inputs.x.value
    assert "result" in node.outputs and node.is_sealed


def test_the_submitted_node_follows_its_process_on_the_embedded_default(presto):
    from provgraph.engine import submit

    node = submit(slow_double, x=Int(21), seconds=Int(1))
    loaded = load_node(node.pk)  # a second object, read before the worker moved
    assert "result" not in node.outputs
    seen = _wait_loop(node)
    _assert_followed(node, seen)
    assert node.outputs.result.value == 42 and loaded.outputs["result"].value == 42
    assert loaded.is_terminated and loaded.process_state is ProcessState.FINISHED  # the older object too
    _set_extra_elsewhere(node.pk, "checked_by", "someone else")
    assert node.base.extras.get("checked_by") == "someone else"
    assert loaded.base.extras.all == {"checked_by": "someone else"}
    assert node.mtime == load_node(node.pk).mtime


@pytest.fixture
def services_fleet(services_profile, amqp_url, neo4j_profile, monkeypatch, tmp_path) -> Iterator[Path]:
    """One worker on the services profile, on a queue of its own (deleted after)."""
    from provgraph.engine.celery.app import QUEUE_ENV, current_app
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.engine.launch import set_submitter
    from provgraph.profiles import load_profile

    load_profile("services")
    monkeypatch.setenv(QUEUE_ENV, f"provgraph-test-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("PROVGRAPH_WORKERS_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(HERE))
    try:
        _cli("worker", "start", "--no-reconcile")
        install_submitter()
        yield tmp_path
    finally:
        try:
            _cli("worker", "stop", "--timeout", "20")
        finally:
            set_submitter(None)
            with current_app().connection_for_write() as connection:
                connection.default_channel.queue_delete(os.environ[QUEUE_ENV])


@pytest.mark.requires_neo4j
@pytest.mark.requires_rabbitmq
@pytest.mark.requires_s3
def test_the_submitted_node_follows_its_process_on_neo4j(services_fleet):
    from provgraph.engine import submit

    node = submit(slow_double, x=Int(5), seconds=Int(1))
    seen = _wait_loop(node)
    _assert_followed(node, seen)
    assert node.outputs.result.value == 10
    _set_extra_elsewhere(node.pk, "checked_by", "someone else")
    assert node.base.extras.get("checked_by") == "someone else"
