"""Errors as AiiDA 2.x users meet them: their own exceptions, excepted processes, exit codes, link rules."""

from __future__ import annotations

import pytest
import workchains_for_compat as wc
from process_support import reports, sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.engine import run, run_get_node, submit, workfunction
from provgraph.engine.exceptions import ProcessExcepted
from provgraph.engine.launch import create_stored
from provgraph.engine.step import advance
from provgraph.exceptions import LinkRuleError, ProvgraphError, StoringError, ValidationError
from provgraph.orm import Int, QueryBuilder, WorkChainNode


def _latest(label):
    qb = QueryBuilder().append(WorkChainNode, filters={"attributes.process_label": label}, tag="w")
    return qb.order_by({"w": {"ctime": "desc"}}).first()[0]


def test_link_rule_error_is_a_value_error():
    assert issubclass(LinkRuleError, ValueError) and issubclass(LinkRuleError, StoringError)
    assert issubclass(LinkRuleError, ProvgraphError)


def test_validation_error_is_a_value_error():
    assert issubclass(ValidationError, ValueError)


def test_run_raises_the_users_own_exception():
    with pytest.raises(ZeroDivisionError, match="user error 1"):
        run(wc.RaisingWorkChain, x=Int(1))


def test_run_does_not_wrap_in_process_excepted():
    try:
        run(wc.RaisingWorkChain, x=Int(2))
    except Exception as exc:  # noqa: BLE001 - the type is what is tested
        assert not isinstance(exc, ProcessExcepted) and type(exc) is ZeroDivisionError


def test_run_get_node_raises_too():
    with pytest.raises(ZeroDivisionError):
        run_get_node(wc.RaisingWorkChain, x=Int(3))


def test_excepted_node_state_and_traceback():
    with pytest.raises(ZeroDivisionError):
        run(wc.RaisingWorkChain, x=Int(4))
    node = _latest("RaisingWorkChain")
    assert node.is_excepted and node.is_terminated and node.is_sealed
    assert not node.is_finished and not node.is_finished_ok and not node.is_failed
    assert node.exit_status is None and node.exit_code is None
    assert "ZeroDivisionError: user error 4" in node.exception and "in explode" in node.exception


def test_excepted_traceback_in_report():
    with pytest.raises(ZeroDivisionError):
        run(wc.RaisingWorkChain, x=Int(5))
    messages = reports(_latest("RaisingWorkChain"))
    assert len(messages) == 1 and messages[0].startswith("Traceback") and "user error 5" in messages[0]


def test_excepted_child_wakes_its_parent():
    outputs, node = run_get_node(wc.ParentOfRaisingWorkChain)
    assert node.exit_status == 450 and node.is_failed
    (child,) = node.called
    assert child.is_excepted and child.caller.uuid == node.uuid


def test_excepted_child_through_submit():
    node = submit(wc.ParentOfRaisingWorkChain, wait=True, wait_interval=0.01)
    assert node.exit_status == 450


def test_engine_failure_checkpointing_ends_excepted():
    with pytest.raises(ValidationError, match="ctx"):
        run(wc.UnserializableContextWorkChain)
    node = _latest("UnserializableContextWorkChain")
    assert node.is_excepted and node.is_sealed and "ctx" in node.exception
    assert any("Traceback" in message for message in reports(node))


def test_engine_failure_wakes_the_parent():
    outputs = run(wc.ParentOfBrokenWorkChain)
    assert outputs["child_excepted"].value is True


def test_engine_hook_failure_ends_excepted_not_running():
    with pytest.raises(RuntimeError, match="status hook broke"):
        run(wc.BrokenHookWorkChain)
    node = _latest("BrokenHookWorkChain")
    assert node.is_excepted and node.is_sealed and "status hook broke" in node.exception
    assert any("status hook broke" in message for message in reports(node))


def test_engine_hook_failure_through_advance():
    node = create_stored(wc.BrokenHookWorkChain, {})
    result = advance(node.pk)
    assert result.is_terminal and result.state.value == "excepted" and "status hook broke" in result.error


def test_engine_hook_failure_wakes_parent():
    outputs = run(wc.ParentOfBrokenHookWorkChain)
    assert outputs["child_excepted"].value is True


def test_engine_hook_failure_wakes_parent_through_submit():
    node = submit(wc.ParentOfBrokenHookWorkChain, wait=True, wait_interval=0.01)
    assert node.is_finished_ok


def test_advance_of_excepted_process_is_ended():
    node = create_stored(wc.RaisingWorkChain, {"x": Int(9)})
    assert advance(node.pk).state.value == "excepted"
    assert advance(node.pk).action.value == "ended"


def test_failing_exit_code_does_not_raise():
    outputs, node = run_get_node(wc.FailingWorkChain, x=Int(100))
    assert outputs == {} and node.exit_status == 401


def test_workfunction_returning_created_and_unstored():
    from provgraph.engine import calcfunction

    @calcfunction
    def make(x):
        return Int(x.value + 1)

    @workfunction
    def good(x):
        return make(x)

    @workfunction
    def bad(x):
        return Int(x.value + 1)

    assert good(Int(1)).value == 2
    with pytest.raises(ValueError, match="neither stored nor created"):
        bad(Int(1))


def test_validation_error_message_names_port():
    with pytest.raises(ValidationError) as info:
        run(wc.AddWorkChain, x=Int(1), y="text")
    assert "inputs.y" in str(info.value)


@workfunction
def runs_broken_inline():
    run(wc.BrokenHookWorkChain)


def test_engine_failure_of_inline_child_is_recorded_excepted():
    with pytest.raises(RuntimeError, match="status hook broke"):
        runs_broken_inline()
    child = _latest("BrokenHookWorkChain")
    assert child.is_excepted and child.is_sealed and child.caller.process_label == "runs_broken_inline"
    assert child.caller.is_excepted
