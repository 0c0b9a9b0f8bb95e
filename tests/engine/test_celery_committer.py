"""AtomicCommitter: one guarded Neo4j transaction per step; a duplicated delivery changes nothing twice."""

from __future__ import annotations

import threading

import pytest

from provgraph.common.links import Direction
from provgraph.common.states import ProcessState
from provgraph.engine import StepAction, advance
from provgraph.engine.celery.committer import AtomicCommitter
from provgraph.engine.examples import AddMultiplyWorkChain
from provgraph.engine.exceptions import StaleCheckpoint
from provgraph.engine.launch import Runner, create_stored
from provgraph.engine.unit import UnitOfWork
from provgraph.orm import Int, load_node
from provgraph.orm.backend import get_backend

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def _outgoing(pk: int) -> int:
    return len(get_backend().nodes.links(pk, Direction.FORWARD))


def test_run_with_the_atomic_committer():
    outputs, node = Runner(committer=AtomicCommitter()).run(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2),
                                                                                  "z": Int(3)})
    assert outputs["result"] == 9 and node.is_finished_ok
    assert [log.message for log in get_backend().logs.for_node(node.pk)] == []


def test_a_stale_guard_writes_nothing():
    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})
    version = node.base.attributes.get("checkpoint_version", 0)
    before = _outgoing(node.pk)

    def unit(value: int) -> tuple[UnitOfWork, Int]:
        work, data = UnitOfWork(), Int(value)
        work.add(data)
        work.update(node, {"checkpoint_version": version + 1, "process_status": f"step {value}"})
        work.log(node, "REPORT", f"message {value}", "test")
        return work, data

    first, first_data = unit(1)
    fresh = AtomicCommitter().commit(first, {node.pk: version})
    assert fresh[node.pk]["checkpoint_version"] == version + 1 and first_data.is_stored
    second, second_data = unit(2)
    with pytest.raises(StaleCheckpoint):
        AtomicCommitter().commit(second, {node.pk: version})
    assert not second_data.is_stored
    reloaded = load_node(node.pk)
    assert reloaded.base.attributes.get("process_status") == "step 1"
    assert [log.message for log in get_backend().logs.for_node(node.pk)] == ["message 1"]
    assert _outgoing(node.pk) == before


def test_duplicated_delivery_changes_nothing_twice():
    """Two deliveries of the same task race on one process: one set of outputs, one of each child node."""
    node = create_stored(AddMultiplyWorkChain, {"x": Int(2), "y": Int(3), "z": Int(4)})
    results = []

    def deliver() -> None:
        results.append(advance(node.pk, committer=AtomicCommitter(), mark_running=True))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = advance(node.pk, committer=AtomicCommitter(), mark_running=True)
    assert again.action is StepAction.ENDED
    done = load_node(node.pk)
    assert done.process_state is ProcessState.FINISHED and done.outputs["result"] == 20
    assert len(done.called) == 2  # one add, one multiply: the duplicate wrote nothing
    assert len(get_backend().nodes.links(node.pk, Direction.FORWARD)) == _outgoing(node.pk)
    assert any(result.state is ProcessState.FINISHED for result in results)
