"""The serverless broker (a sqlite queue file) and the fleet on it: one taker per message, leases, reconciler.

The worker here runs a calcfunction of this module (``PYTHONPATH`` points at this folder), on a
``presto`` profile in a fresh ``PROVGRAPH_HOME``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from kombu import Connection, Exchange, Queue

from provgraph.cli.main import cli
from provgraph.common.states import ProcessState
from provgraph.engine import calcfunction
from provgraph.engine.celery.app import broker_settings
from provgraph.engine.celery.broker import SqliteTransport, connection_settings
from provgraph.orm import Int

HERE = Path(__file__).resolve().parent


@calcfunction
def sleepy_add(x: Int, y: Int) -> Int:
    """``x + y`` after ``y`` seconds: an ordinary (not ``long_running``) step that takes a while."""
    time.sleep(y.value)
    return x + y


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def presto(provgraph_home, monkeypatch) -> Iterator[Path]:
    """A fresh presto profile made current; its workers stopped and profile-keyed caches dropped after."""
    from provgraph import profiles
    from provgraph.engine.celery.app import make_app
    from provgraph.engine.launch import set_submitter
    from provgraph.orm import backend as orm_backend

    previous = profiles._CURRENT.get()
    monkeypatch.setenv("PYTHONPATH", str(HERE))  # the workers import this module
    _cli("presto")
    profiles.load_profile("presto")
    try:
        yield provgraph_home / "presto"
    finally:
        try:
            _cli("-p", "presto", "worker", "stop", "--timeout", "20")
        finally:
            set_submitter(None)
            orm_backend.reset()
            make_app.cache_clear()
            profiles._CURRENT.set(previous)


def test_each_message_goes_to_exactly_one_of_several_consumers(tmp_path):
    settings = connection_settings("sqlite", {"path": str(tmp_path / "broker.sqlite")})
    exchange = Exchange("t", type="direct")
    queue = Queue("t", exchange, routing_key="t")
    with Connection(settings["broker_url"], transport=settings["broker_transport"]) as connection:
        producer = connection.Producer(serializer="json")
        for number in range(120):
            producer.publish({"n": number}, exchange=exchange, routing_key="t", declare=[queue])
    received: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        with Connection(settings["broker_url"], transport=SqliteTransport) as connection:
            bound = queue(connection.default_channel)
            while (message := bound.get(no_ack=True)) is not None:
                with lock:
                    received.append(message.payload["n"])

    threads = [threading.Thread(target=consume) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(received) == list(range(120))  # none twice, none lost
    import sqlite3

    with sqlite3.connect(tmp_path / "broker.sqlite") as db:
        assert db.execute("SELECT count(*) FROM kombu_message").fetchone()[0] == 0  # deleted on fetch


def test_the_broker_section_selects_the_transport_and_the_leases():
    sqlite = broker_settings({"backend": "sqlite"}, {"path": "/tmp/q.sqlite"}, "q")
    assert sqlite["broker_url"] == "sqlite:////tmp/q.sqlite"
    assert sqlite["broker_transport"] == "provgraph.engine.celery.broker:SqliteTransport"
    assert sqlite["provgraph_lease_steps"] is True and sqlite["accept_content"] == ["json"]
    rabbit = broker_settings({"backend": "rabbitmq"}, {"host": "h", "port": 1, "user": "u", "password": "p/w",
                                                       "vhost": "v"}, "q")
    assert rabbit["broker_url"] == "amqp://u:p%2Fw@h:1/v" and rabbit["provgraph_lease_steps"] is False
    assert "broker_transport" not in rabbit
    from provgraph.exceptions import ConfigurationError

    for section, config in (({}, {}), ({"backend": "redis"}, {}), ({"backend": "sqlite"}, {})):
        with pytest.raises(ConfigurationError):
            broker_settings(section, config, "q")


def test_the_reconciler_finds_lost_processes_on_the_sqlite_broker(presto):
    from provgraph.engine.celery.outbox import find_lost, queue_is_empty, reconcile
    from provgraph.engine.examples import AddMultiplyWorkChain
    from provgraph.engine.launch import create_stored

    lost = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})  # never published
    assert queue_is_empty()
    assert find_lost(older_than=0, only=[lost.pk]) == [lost.pk]
    assert reconcile(older_than=0, only=[lost.pk]) == [lost.pk]
    assert not queue_is_empty()  # the message waits in the queue file
    assert find_lost(older_than=0, only=[lost.pk]) == []  # a backlog is left alone


def test_a_step_of_a_killed_worker_is_resumed_by_the_reconciler(presto, monkeypatch):
    """No broker redelivery here: the step's lease expires and worker 0's reconciler re-publishes it."""
    from provgraph.cli.cmd_worker import alive
    from provgraph.engine import submit
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.orm import load_node
    from provgraph.orm.backend import get_backend

    monkeypatch.setenv("PROVGRAPH_LEASE_SECONDS", "3")
    monkeypatch.setenv("PROVGRAPH_RECONCILE_INTERVAL", "1")
    _cli("worker", "start", "--reconcile-after", "2")
    install_submitter()
    node = submit(sleepy_add, x=Int(1), y=Int(6))
    deadline = time.monotonic() + 30
    while load_node(node.pk).process_state is not ProcessState.RUNNING:
        assert time.monotonic() < deadline, "no worker took the step"
        time.sleep(0.1)
    assert [lease.key for lease in get_backend().coordination.leases(f"process:{node.pk}")] == [f"process:{node.pk}"]
    pid = int((presto / "workers" / "worker-0.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.1)
    assert load_node(node.pk).process_state is ProcessState.RUNNING  # nobody redelivers it by itself
    _cli("worker", "start", "--reconcile-after", "2")
    deadline = time.monotonic() + 60
    while not load_node(node.pk).process_state.is_terminal:
        assert time.monotonic() < deadline, (presto / "workers" / "worker-0.log").read_text()[-3000:]
        time.sleep(0.2)
    done = load_node(node.pk)
    assert done.is_finished_ok and done.outputs["result"].value == 7
    assert "reconciler re-published 1 process(es)" in (presto / "workers" / "worker-0.log").read_text()
    assert get_backend().coordination.leases(f"process:{node.pk}") == []
