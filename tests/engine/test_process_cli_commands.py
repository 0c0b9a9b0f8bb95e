"""``provgraph process list|show|report|watch|kill|pause|play`` on processes run in this interpreter."""

from __future__ import annotations

import pytest
import workflows_for_tests as wf
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.common.states import ProcessState
from provgraph.engine import StepAction, advance
from provgraph.engine.celery.committer import AtomicCommitter
from provgraph.engine.examples import AddMultiplyWorkChain, NestedAddMultiplyWorkChain
from provgraph.engine.launch import Runner, create_stored
from provgraph.orm import Int, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, ["-p", "services", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_filters_by_state_type_and_age():
    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})
    listed = _cli("process", "list", "-T", "AddMultiplyWorkChain", "-p", "1", "-l", "5000")
    assert str(node.pk) in listed and "created" in listed
    assert str(node.pk) not in _cli("process", "list", "-S", "finished", "-T", "AddMultiplyWorkChain", "-l", "50")
    assert str(node.pk) not in _cli("process", "list", "-T", "NoSuchWorkChain")


def test_show_and_report():
    _, node = Runner(committer=AtomicCommitter()).run(wf.FailingWorkChain, {})
    shown = _cli("process", "show", str(node.pk))
    assert "FailingWorkChain" in shown and "state: finished" in shown and "exit status: 410" in shown
    assert "about to fail" in _cli("process", "report", str(node.pk))
    assert '"state": "finished"' in _cli("process", "watch", str(node.pk), "--timeout", "5")


def test_pause_and_kill():
    parent = create_stored(NestedAddMultiplyWorkChain, {"x": Int(1), "y": Int(1), "z": Int(1)})
    (child,) = advance(parent.pk).children
    assert f"paused {parent.pk}" in _cli("process", "pause", str(parent.pk))
    assert "(paused)" in _cli("process", "list", "-T", "NestedAddMultiplyWorkChain", "-p", "1", "-l", "5000")
    assert load_node(parent.pk).base.attributes.get("paused") is True
    assert "nothing to pause" in _cli("process", "pause", str(parent.pk))
    assert advance(parent.pk).action is StepAction.PAUSED
    assert advance(child).is_terminal
    killed = _cli("process", "kill", str(parent.pk))
    assert str(parent.pk) in killed and load_node(parent.pk).process_state is ProcessState.KILLED
    assert "nothing to play" in _cli("process", "play", str(parent.pk))


def test_kill_propagates_to_children():
    parent = create_stored(NestedAddMultiplyWorkChain, {"x": Int(1), "y": Int(1), "z": Int(1)})
    (child,) = advance(parent.pk).children
    killed = _cli("process", "kill", str(parent.pk))
    assert str(parent.pk) in killed and str(child) in killed
    assert load_node(child).process_state is ProcessState.KILLED


def test_set_paused_is_a_guarded_merge():
    """``set_paused`` writes the one flag under the lock (no read-modify-write of all attributes)."""
    from provgraph.engine.celery.committer import set_paused

    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})
    assert set_paused(node.pk, True) and not set_paused(node.pk, True)
    assert advance(node.pk, committer=AtomicCommitter()).action is StepAction.PAUSED
    assert set_paused(node.pk, False)
    done = advance(node.pk, committer=AtomicCommitter())
    assert done.is_terminal and load_node(node.pk).outputs["result"] == 9
    assert not set_paused(node.pk, True)  # ended: left alone
