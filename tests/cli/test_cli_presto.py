"""``provgraph presto`` end to end: a fresh PROVGRAPH_HOME, no server, a worker on the sqlite broker.

The workers run as real ``provgraph worker start`` processes; the test stops them whatever happens.
Profile-keyed caches (opened backends, Celery apps) are cleared after each test, because every
test's ``presto`` profile lives in another temporary home.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.common.states import ProcessState
from provgraph.profiles import Config, Profile


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def presto(provgraph_home) -> Iterator[Profile]:
    """``provgraph presto`` in a fresh home, made current; workers stopped and caches dropped after."""
    from provgraph import profiles
    from provgraph.engine.celery.app import make_app
    from provgraph.engine.launch import set_submitter
    from provgraph.orm import backend as orm_backend

    previous = profiles._CURRENT.get()
    output = _cli("presto")
    assert "'presto' is the default profile" in output
    profile = profiles.load_profile()
    try:
        yield profile
    finally:
        try:
            _cli("worker", "stop", "--timeout", "20")
        finally:
            set_submitter(None)
            orm_backend.reset()
            make_app.cache_clear()
            profiles._CURRENT.set(previous)


def test_presto_makes_a_ready_default_profile(presto, provgraph_home):
    assert presto.name == "presto" and Config().default_profile_name() == "presto"
    assert {section: presto.public_dict()[section]["backend"] for section in ("storage", "repository", "broker")} \
        == {"storage": "sqlite", "repository": "local", "broker": "sqlite"}
    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 0, status.output
    assert "schema version" in status.output and "sqlite queue file" in status.output
    second = _cli("presto")  # another one next to it, not the default
    assert "created profile 'presto-1'" in second and "the default profile is still 'presto'" in second
    taken = CliRunner().invoke(cli, ["presto", "--profile-name", "presto"])
    assert taken.exit_code == 1 and "exists" in taken.output
    assert Config().profile_names() == ["presto", "presto-1"]


def test_submit_and_worker_on_a_fresh_presto_profile(presto, provgraph_home):
    from provgraph.engine import submit
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.engine.examples import AddMultiplyWorkChain, NestedAddMultiplyWorkChain
    from provgraph.orm import Int, load_node

    assert "started worker 0" in _cli("worker", "start", "--concurrency", "2")
    install_submitter()
    nodes = [submit(AddMultiplyWorkChain, x=Int(1), y=Int(2), z=Int(3)),
             submit(NestedAddMultiplyWorkChain, x=Int(2), y=Int(2), z=Int(5))]
    done = _wait_ended([node.pk for node in nodes], timeout=60, home=provgraph_home)
    assert [node.process_state for node in done] == [ProcessState.FINISHED] * 2
    assert [node.outputs["result"].value for node in done] == [9, 20]
    assert len(done[1].called) == 1 and done[1].called[0].is_finished_ok
    assert "✔ workers     1 worker(s) running" in _cli("status")
    assert "stopped worker 0" in _cli("worker", "stop", "--timeout", "20")
    log = (provgraph_home / "presto" / "workers" / "worker-0.log").read_text()
    assert "sqlite:///" in log and f"process {nodes[0].pk}: stepped -> finished" in log
    assert load_node(nodes[0].pk).process_state is ProcessState.FINISHED


def _wait_ended(pks: list[int], timeout: float, home: Path) -> list:
    from provgraph.orm import load_node

    deadline = time.monotonic() + timeout
    while True:
        nodes = [load_node(pk) for pk in pks]
        if all(node.process_state.is_terminal for node in nodes):
            return nodes
        if time.monotonic() > deadline:
            logs = "".join(path.read_text()[-3000:] for path in (home / "presto" / "workers").glob("*.log"))
            pytest.fail(f"not ended after {timeout} s: {[n.process_state.value for n in nodes]}\n{logs}")
        time.sleep(0.2)
