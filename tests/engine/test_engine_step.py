"""advance(): one process at a time, checkpoints, rebuild in a fresh interpreter, submit, pause/play/kill."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
import workflows_for_tests as wf

from provgraph.common.states import ProcessState
from provgraph.engine import StepAction, StepResult, advance, kill, pause, play, submit
from provgraph.engine.exceptions import ProcessNotImportable, StaleCheckpoint
from provgraph.engine.launch import create_stored
from provgraph.engine.processes.workchain import WorkChain
from provgraph.engine.unit import OrmCommitter, UnitOfWork
from provgraph.exceptions import ConfigurationError
from provgraph.orm import Int, load_node

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


def test_advance_until_waiting_then_rebuild_in_a_spawned_interpreter():
    node = create_stored(wf.OutlineWorkChain, {"n": Int(5), "mode": "b", "children": 2})
    assert node.process_state is ProcessState.CREATED
    first = advance(node.pk)
    assert first.action is StepAction.STEPPED and first.is_waiting and len(first.children) == 1
    assert first.awaiting == first.children and first.checkpoint_version == 3  # setup, branch_b, launch_child
    stored = load_node(node.pk)
    checkpoint = stored.base.attributes.get("checkpoint")
    assert json.loads(json.dumps(checkpoint)) == checkpoint
    assert checkpoint["cursor"] == [2, 0, 1]
    assert checkpoint["ctx"]["trace"] == ["setup", "b", "child1"]
    assert checkpoint["ctx"]["options"] == {"@dict": {"@weird": 1, "nested": {"k": [1, 2]}}}
    child = load_node(first.children[0])
    assert checkpoint["awaiting"] == [{"uuid": child.uuid, "key": "children", "append": True}]
    assert set(checkpoint["ctx"]["value"]) == {"@node"}
    assert load_node(checkpoint["ctx"]["value"]["@node"]).value == 205
    assert advance(node.pk).action is StepAction.BLOCKED  # the child has not run: nothing changes
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result = StepResult.from_dict(pool.apply(wf.continue_in_fresh_interpreter, (node.pk,)))
    assert result.state is ProcessState.FINISHED and result.exit_status == 0
    done = load_node(node.pk)
    assert done.is_finished_ok and done.outputs["value"] == 205 and done.outputs["total"] == 2 + 4 + 50
    assert advance(node.pk).action is StepAction.ENDED


def test_step_result_round_trips_through_json():
    result = StepResult(pk=3, action=StepAction.STEPPED, state=ProcessState.WAITING, checkpoint_version=2,
                        children=(4, 5), awaiting=(4,), wake=None)
    assert StepResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_child_wakes_its_caller():
    parent = create_stored(wf.ParentWorkChain, {"depth": 0})
    first = advance(parent.pk)
    (child_pk,) = first.children
    done = advance(child_pk)
    assert done.is_terminal and done.wake == parent.pk
    assert advance(parent.pk).state is ProcessState.FINISHED


def test_stale_checkpoint_writes_nothing():
    node = create_stored(wf.ChildWorkChain, {"x": 1})
    work = UnitOfWork()
    work.update(node, {"process_state": "running", "checkpoint_version": 8})
    with pytest.raises(StaleCheckpoint, match="checkpoint version 0"):
        OrmCommitter().commit(work, {node.pk: 7})
    assert load_node(node.pk).process_state is ProcessState.CREATED


def test_submit_needs_a_submitter_and_an_importable_class(submitted):
    from provgraph.engine.launch import set_submitter

    node = submit(wf.ChildWorkChain, x=2)
    assert submitted == [node.pk] and load_node(node.pk).process_state is ProcessState.CREATED
    assert advance(node.pk).state is ProcessState.FINISHED
    calc = submit(wf.add, x=1, y=2)  # functions can be submitted too
    assert advance(calc.pk).state is ProcessState.FINISHED and load_node(calc.pk).outputs["result"] == 3

    class Local(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.outline(cls.go)

        def go(self):
            pass

    with pytest.raises(ProcessNotImportable, match="local scope, so a worker cannot import it"):
        submit(Local)
    set_submitter(None)
    with pytest.raises(ConfigurationError, match="no submitter is installed"):
        submit(wf.ChildWorkChain, x=2)


def test_pause_and_play():
    node = create_stored(wf.ChildWorkChain, {"x": 3})
    assert pause(node) and not pause(node)
    assert advance(node.pk).action is StepAction.PAUSED
    assert load_node(node.pk).process_state is ProcessState.CREATED
    assert play(node.pk)
    assert advance(node.pk).state is ProcessState.FINISHED
    assert not pause(node.pk)  # ended processes are not paused


def test_kill_propagates_to_children():
    parent = create_stored(wf.ParentWorkChain, {"depth": 1})
    first = advance(parent.pk)
    nested_pk = next(pk for pk in first.children if load_node(pk).process_label == "ParentWorkChain")
    advance(nested_pk)  # the nested parent waits for its own children: three levels
    (grandchild_pk,) = [c.pk for c in load_node(nested_pk).called]
    killed = kill(parent.pk, "stop it")
    assert killed[0] == parent.pk and set(killed) == {parent.pk, *first.children, grandchild_pk}
    for pk in killed:
        node = load_node(pk)
        assert node.is_killed and node.is_sealed
    assert load_node(parent.pk).exit_message == "stop it"
    assert all(advance(pk).action is StepAction.ENDED for pk in killed)
    assert kill(parent.pk) == []


def test_rebuild_refuses_a_changed_outline():
    node = create_stored(wf.ParentWorkChain, {"depth": 0})
    advance(node.pk)
    stored = load_node(node.pk)
    checkpoint = stored.base.attributes.get("checkpoint")
    checkpoint["outline"] = "0" * 16
    stored.base.attributes.set("checkpoint", checkpoint)
    result = advance(node.pk)
    assert result.state is ProcessState.EXCEPTED and "another version" in result.error


def test_test_module_is_importable_from_the_engine_tests_dir():
    assert Path(wf.__file__).parent == Path(__file__).parent


class _KillFirst(OrmCommitter):
    """Kills the guarded process just before the first guarded commit: a kill racing with a step."""

    def __init__(self):
        self.done = False

    def commit(self, work, guards):
        if guards and not self.done:
            self.done = True
            kill(next(iter(guards)))
        return super().commit(work, guards)


def test_a_step_racing_with_a_kill_writes_nothing():
    node = create_stored(wf.ParentWorkChain, {"depth": 0})
    result = advance(node.pk, committer=_KillFirst())
    assert result.action is StepAction.STALE and result.state is ProcessState.KILLED
    assert result.children == () and load_node(node.pk).called == []


def test_entry_points_name_the_example_processes():
    from provgraph.engine import run
    from provgraph.engine.examples import AddMultiplyWorkChain, add
    from provgraph.plugins import load_plugin

    assert load_plugin("workflows", "core.arithmetic.add_multiply") is AddMultiplyWorkChain
    assert load_plugin("calculations", "core.arithmetic.add_function") is add
    assert run(load_plugin("workflows", "core.arithmetic.nested_add_multiply"), x=1, y=2, z=3)["result"] == 9
    assert load_plugin("workflows", "core.arithmetic.add_multiply_function")(1, 2, 3) == 9


def test_mark_running_commits_the_running_state_first():
    seen = []

    class Spy(OrmCommitter):
        def commit(self, work, guards):
            seen.append([values.get("process_state") for _, values in work.updates.values()])
            return super().commit(work, guards)

    calc = create_stored(wf.add.process_class, {"x": 1, "y": 2})
    result = advance(calc.pk, committer=Spy(), mark_running=True)
    assert seen == [["running"], ["finished"]] and result.checkpoint_version == 2
    assert load_node(calc.pk).outputs["result"] == 3
