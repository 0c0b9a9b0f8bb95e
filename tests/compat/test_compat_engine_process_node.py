"""ProcessNode properties as AiiDA 2.x users read them after running processes."""

from __future__ import annotations

import pytest
import workchains_for_compat as wc
from process_support import sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.engine import ExitCode, run_get_node
from provgraph.engine.launch import create_stored
from provgraph.exceptions import ValidationError
from provgraph.orm import CalcFunctionNode, Int, WorkChainNode, WorkflowNode, load_node


@pytest.fixture
def loop_node():
    _, node = run_get_node(wc.LoopWorkChain, n=Int(2))
    return load_node(node.pk)


def test_process_class(loop_node):
    assert loop_node.process_class is wc.LoopWorkChain


def test_process_class_of_calcfunction():
    _, node = wc.add.run_get_node(Int(1), Int(1))
    assert node.process_class is wc.add.process_class


def test_process_class_unloadable():
    node = WorkChainNode(process_type="no_such_module_xyz:Nothing")
    with pytest.raises(ValidationError, match="cannot load the process class"):
        node.process_class  # noqa: B018


def test_process_class_missing_type():
    with pytest.raises(ValidationError, match="no process type"):
        WorkChainNode().process_class  # noqa: B018


def test_process_label_and_type(loop_node):
    assert loop_node.process_label == "LoopWorkChain"
    assert loop_node.process_type == "workchains_for_compat:LoopWorkChain"


def test_is_finished_ok(loop_node):
    assert loop_node.is_finished_ok and loop_node.is_finished and not loop_node.is_failed


def test_terminal_flags(loop_node):
    assert loop_node.is_terminated and loop_node.is_sealed
    assert not loop_node.is_excepted and not loop_node.is_killed
    assert not loop_node.is_running and not loop_node.is_waiting and not loop_node.is_created


def test_exit_status_zero(loop_node):
    assert loop_node.exit_status == 0


def test_exit_code_none_without_message(loop_node):
    assert loop_node.exit_code is None or loop_node.exit_code.status == 0


def test_exit_code_of_failed():
    _, node = run_get_node(wc.FailingWorkChain, x=Int(50))
    node = load_node(node.pk)
    assert node.exit_code == ExitCode(401, "x is too big: 50")
    assert node.is_failed and not node.is_finished_ok


def test_called(loop_node):
    labels = sorted(child.process_label for child in loop_node.called)
    assert labels == ["AddWorkChain", "AddWorkChain", "add", "add_str"]


def test_called_descendants(loop_node):
    labels = sorted(node.process_label for node in loop_node.called_descendants)
    assert labels == ["AddWorkChain", "AddWorkChain", "add", "add", "add", "add_str"]


def test_called_descendants_of_leaf():
    _, node = wc.add.run_get_node(Int(1), Int(1))
    assert node.called_descendants == []


def test_caller(loop_node):
    for child in loop_node.called:
        assert child.caller.uuid == loop_node.uuid


def test_caller_of_top_level(loop_node):
    assert loop_node.caller is None


def test_grandchild_caller(loop_node):
    child = next(c for c in loop_node.called if c.process_label == "AddWorkChain")
    (grandchild,) = child.called
    assert isinstance(grandchild, CalcFunctionNode) and grandchild.caller.uuid == child.uuid


def test_created_state():
    node = create_stored(wc.AddWorkChain, {"x": Int(1), "y": Int(2)})
    assert node.is_created and not node.is_terminated and node.exit_status is None
    assert node.process_status is None and not node.paused


def test_exception_none_when_fine(loop_node):
    assert loop_node.exception is None


def test_checkpoint_cleared_at_end(loop_node):
    assert loop_node.checkpoint is None


def test_checkpoint_while_waiting():
    from provgraph.engine.step import advance

    node = create_stored(wc.LoopWorkChain, {"n": Int(1)})
    result = advance(node.pk)
    waiting = load_node(node.pk)
    assert result.is_waiting and waiting.is_waiting and waiting.checkpoint is not None
    assert waiting.process_status == "Waiting for 1 child process(es)"


def test_workchain_node_is_workflow(loop_node):
    assert isinstance(loop_node, WorkflowNode)


def test_outputs_of_node(loop_node):
    labels = {t.link_label for t in loop_node.base.links.get_outgoing()} - {"CALL"}
    assert {"total", "parity"} <= labels


def test_paused_flag():
    from provgraph.engine import pause

    node = create_stored(wc.AddWorkChain, {"x": Int(1), "y": Int(2)})
    pause(node.pk)
    assert load_node(node.pk).paused
