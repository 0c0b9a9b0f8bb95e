"""Process-function inputs are stored before the body runs, also inside WorkChain steps and on workers."""

from __future__ import annotations

import pytest
import workchains_for_compat as wc
from process_support import sqlite_engine  # noqa: F401 - autouse fixture

from provgraph.engine.celery.committer import AtomicCommitter
from provgraph.engine.launch import Runner
from provgraph.orm import load_node


@pytest.mark.parametrize("committer", [None, AtomicCommitter()], ids=["orm", "atomic"])
def test_unstored_inputs_in_a_step_get_pks(committer):
    outputs, node = Runner(committer=committer).run(wc.UnstoredInputsWorkChain, {})
    assert node.is_finished_ok, node.exit_message
    assert outputs["first_pk"].value == outputs["first"].pk
    assert load_node(outputs["new_pk"].value).value == 7


@pytest.mark.parametrize("committer", [None, AtomicCommitter()], ids=["orm", "atomic"])
def test_flushed_calcfunctions_end_finished_and_sealed(committer):
    _, node = Runner(committer=committer).run(wc.UnstoredInputsWorkChain, {})
    called = load_node(node.pk).called
    assert len(called) == 3
    assert all(child.is_finished_ok and child.is_sealed for child in called)


def test_inputs_stored_step_commits_once():
    _, node = Runner().run(wc.AddWorkChain, {"x": 1, "y": 2})
    (calc,) = load_node(node.pk).called
    assert calc.is_finished_ok and calc.caller.uuid == node.uuid


class _AlwaysStale:
    """A committer that finds the process moved on (a duplicated step), writing nothing."""

    def commit(self, work, guards):
        from provgraph.engine.exceptions import StaleCheckpoint

        if guards:
            raise StaleCheckpoint("moved on")
        from provgraph.engine.unit import OrmCommitter

        return OrmCommitter().commit(work, guards)


def test_stale_step_leaves_no_process_nodes_behind():
    from provgraph.engine.launch import create_stored
    from provgraph.engine.step import StepAction, advance
    from provgraph.orm import CalcFunctionNode, QueryBuilder

    def count():
        return QueryBuilder().append(CalcFunctionNode, filters={"attributes.process_label": "pk_of"}).count()

    node = create_stored(wc.UnstoredInputsWorkChain, {})
    before = count()
    result = advance(node.pk, committer=_AlwaysStale())
    assert result.action is StepAction.STALE and count() == before
    assert load_node(node.pk).is_created
