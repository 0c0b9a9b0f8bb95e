"""``node comment add|show|update|remove``, ``process call-root`` and ``calcjob res``, as verdi's."""

from __future__ import annotations

import json

import pytest
from compat_cli_support import error_line, invoke, sqlite_cli  # noqa: F401 - sqlite_cli is a fixture

from provgraph.orm import CalcFunctionNode, CalcJobNode, Dict, Int, LinkType, WorkChainNode

pytestmark = pytest.mark.usefixtures("sqlite_cli")


def test_comment_add_show_update_remove():
    node = Int(1).store()
    added = invoke("node", "comment", "add", "-N", str(node.pk), "looks right")
    assert added.exit_code == 0, added.output
    (record,) = node.base.comments.all()
    shown = invoke("node", "comment", "show", str(node.pk))
    assert "1 comment(s)" in shown.output and f"##### {record.pk} by" in shown.output and "looks right" in shown.output
    assert invoke("node", "comment", "update", str(record.pk), "checked twice").exit_code == 0
    assert node.base.comments.all()[0].content == "checked twice"
    assert invoke("node", "comment", "remove", str(record.pk), "-f").exit_code == 0
    assert node.base.comments.all() == []


def test_comment_add_to_several_nodes_and_prompt():
    one, two = Int(1).store(), Int(2).store()
    result = invoke("node", "comment", "add", "-N", str(one.pk), "-N", two.uuid, input="typed in\n")
    assert result.exit_code == 0, result.output
    assert [c.content for c in one.base.comments.all()] == ["typed in"] == [c.content for c in
                                                                            two.base.comments.all()]


def test_comment_show_by_user():
    node = Int(1).store()
    node.base.comments.add("mine")
    node.base.comments.add("theirs", user="someone@example.org")
    result = invoke("node", "comment", "show", str(node.pk), "-u", "someone@example.org")
    assert "1 comment(s)" in result.output and "theirs" in result.output and "mine" not in result.output


def test_comment_errors():
    node = Int(1).store()
    empty = invoke("node", "comment", "add", "-N", str(node.pk), "  ")
    assert empty.exit_code == 2 and "non-empty" in error_line(empty)
    missing = invoke("node", "comment", "remove", "999999", "-f")
    assert missing.exit_code == 2 and error_line(missing) == "Error: no comment with id 999999"
    not_int = invoke("node", "comment", "update", "abc", "x")
    assert not_int.exit_code == 2 and "'abc' is not a pk" in not_int.output
    no_node = invoke("node", "comment", "add", "text")
    assert no_node.exit_code == 2 and "Missing option '-N'" in no_node.output


def test_call_root():
    top = WorkChainNode(process_label="Top")
    top.base.attributes.set("process_state", "finished")
    top.store()
    middle = WorkChainNode(process_label="Middle")
    middle.base.links.add_incoming(top, LinkType.CALL_WORK, "CALL")
    middle.store()
    leaf = CalcFunctionNode(process_label="leaf")
    leaf.base.links.add_incoming(middle, LinkType.CALL_CALC, "CALL")
    leaf.store()
    result = invoke("process", "call-root", str(leaf.pk), str(middle.pk), str(top.pk))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(top.pk), str(top.pk), f"No callers found for Top<{top.pk}>"]


def test_call_root_of_data_is_refused():
    node = Int(1).store()
    result = invoke("process", "call-root", str(node.pk))
    assert result.exit_code == 2 and "not a process" in error_line(result)


@pytest.fixture
def calcjob():
    job = CalcJobNode(process_label="ArithmeticAdd")
    job.base.attributes.set("process_state", "finished")
    job.store()
    results = Dict({"energy": -1.5, "steps": 3})
    results.base.links.add_incoming(job, LinkType.CREATE, "output_parameters")
    results.store()
    return job


def test_calcjob_res(calcjob):
    result = invoke("calcjob", "res", str(calcjob.pk))
    assert result.exit_code == 0 and json.loads(result.output) == {"energy": -1.5, "steps": 3}
    only = invoke("calcjob", "res", str(calcjob.pk), "-k", "steps")
    assert json.loads(only.output) == {"steps": 3}


def test_calcjob_res_errors(calcjob):
    unknown_key = invoke("calcjob", "res", str(calcjob.pk), "-k", "nothing")
    assert unknown_key.exit_code == 1 and "no key(s) 'nothing'" in error_line(unknown_key)
    bare = CalcJobNode(process_label="Bare")
    bare.store()
    none = invoke("calcjob", "res", str(bare.pk))
    assert none.exit_code == 1 and "has no output_parameters output" in error_line(none)
