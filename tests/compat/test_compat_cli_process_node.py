"""``provgraph process status`` (verdi's call tree) and ``provgraph node graph generate`` (with the short
``node graph PK`` form kept)."""

from __future__ import annotations

import json
import uuid

import pytest
from compat_cli_support import error_line, invoke, sqlite_cli  # noqa: F401 - sqlite_cli is a fixture

from provgraph.orm import CalcFunctionNode, Int, LinkType, WorkChainNode

pytestmark = pytest.mark.usefixtures("sqlite_cli")


def process(cls, label: str, state: str, exit_status: int | None = None, caller=None, call_label: str = "CALL",
            inputs: dict | None = None, **attributes):
    """A stored process node in ``state``, called by ``caller`` under ``call_label``."""
    node = cls(process_label=label)
    node.base.attributes.set_many({"process_state": state, **attributes})
    if exit_status is not None:
        node.base.attributes.set("exit_status", exit_status)
    link = LinkType.INPUT_CALC if cls is CalcFunctionNode else LinkType.INPUT_WORK
    for name, value in (inputs or {}).items():
        node.base.links.add_incoming(value, link, name)
    if caller is not None:
        kind = LinkType.CALL_CALC if cls is CalcFunctionNode else LinkType.CALL_WORK
        node.base.links.add_incoming(caller, kind, call_label)
    return node.store()


@pytest.fixture
def tree():
    """top (waiting) -> [add (finished 0), inner (running) -> [mult (excepted)]], plus x -> add -> sum."""
    x = Int(2).store()
    top = process(WorkChainNode, "Top", "waiting", process_status="Waiting on inner", inputs={"x": x})
    add = process(CalcFunctionNode, "add", "finished", 0, caller=top, call_label="first_add", inputs={"x": x})
    total = Int(4)
    total.base.links.add_incoming(add, LinkType.CREATE, "sum")
    total.store()
    inner = process(WorkChainNode, "Inner", "running", caller=top, call_label="nested")
    mult = process(CalcFunctionNode, "mult", "excepted", caller=inner)
    return {"x": x, "top": top, "add": add, "sum": total, "inner": inner, "mult": mult}


def test_status_draws_the_call_tree(tree):
    result = invoke("process", "status", str(tree["top"].pk))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Top<{tree['top'].pk}> Waiting: Waiting on inner",
        f"    ├── add<{tree['add'].pk}> Finished [0]",
        f"    └── Inner<{tree['inner'].pk}> Running",
        f"        └── mult<{tree['mult'].pk}> Excepted",
    ]


def test_status_with_call_link_labels_and_depth(tree):
    result = invoke("process", "status", tree["top"].uuid, "-c", "-m", "1")
    assert result.exit_code == 0, result.output
    assert f"├── first_add add<{tree['add'].pk}>" in result.output and "nested Inner" in result.output
    assert "mult" not in result.output


def test_status_of_a_leaf_and_of_several(tree):
    result = invoke("process", "status", str(tree["add"].pk), str(tree["mult"].pk))
    assert result.output.splitlines() == [f"add<{tree['add'].pk}> Finished [0]", f"mult<{tree['mult'].pk}> Excepted"]


def test_status_most_recent(tree):
    newer = process(CalcFunctionNode, "latest", "created")
    result = invoke("process", "status", "-M")
    assert result.exit_code == 0 and result.output.startswith(f"latest<{newer.pk}> Created")


def test_status_of_a_data_node_is_refused(tree):
    result = invoke("process", "status", str(tree["x"].pk))
    assert result.exit_code == 2 and error_line(result) == f"Error: node {tree['x'].pk} is a Int, not a process"


def test_status_unknown_pk_and_nothing_given():
    unknown = invoke("process", "status", "876543210")
    assert unknown.exit_code == 2 and "no process found with pk or uuid '876543210'" in error_line(unknown)
    nothing = invoke("process", "status")
    assert nothing.exit_code == 2 and "give at least one process" in error_line(nothing)


def test_status_bad_depth(tree):
    result = invoke("process", "status", str(tree["top"].pk), "-m", "minus")
    assert result.exit_code == 2 and "Invalid value for '-m'" in result.output


def test_graph_generate_writes_dot_with_verdi_naming(tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("node", "graph", "generate", str(tree["add"].pk), "-f", "dot")
    assert result.exit_code == 0, result.output
    written = tmp_path / f"{tree['add'].pk}.dot.dot"
    source = written.read_text()
    for key in ("x", "add", "sum", "top"):
        assert f"N{tree[key].pk}" in source
    assert "Success: Output written to" in result.output


def test_graph_generate_data_links_only_and_depth(tree, tmp_path):
    output = tmp_path / "data.dot"
    result = invoke("node", "graph", "generate", str(tree["add"].pk), "-l", "data", "-a", "1", "-d", "0",
                    "-f", "dot", "-O", str(output))
    assert result.exit_code == 0, result.output
    source = output.read_text()
    assert f"N{tree['x'].pk}" in source and f"N{tree['sum'].pk}" not in source and f"N{tree['top'].pk}" not in source


def test_graph_generate_process_in_adds_inputs(tree, tmp_path):
    output = tmp_path / "in.dot"
    result = invoke("node", "graph", "generate", str(tree["inner"].pk), "-l", "logic", "-a", "0", "-d", "0",
                    "-i", "-f", "dot", "-O", str(output))
    assert result.exit_code == 0, result.output
    assert "1 nodes" in result.output  # Inner has no logical inputs
    top = tmp_path / "top.dot"
    invoke("node", "graph", "generate", str(tree["top"].pk), "-l", "logic", "-a", "0", "-d", "0", "-i",
           "-f", "dot", "-O", str(top))
    assert f"N{tree['x'].pk}" in top.read_text()


def test_graph_generate_several_roots_svg(tree, tmp_path):
    output = tmp_path / "two.svg"
    result = invoke("node", "graph", "generate", str(tree["x"].pk), str(tree["mult"].pk), "-a", "0", "-d", "0",
                    "-f", "svg", "-O", str(output))
    assert result.exit_code == 0, result.output
    assert output.read_text().lstrip().startswith(("<?xml", "<svg")) and "2 nodes" in result.output


def test_graph_generate_unknown_root():
    result = invoke("node", "graph", "generate", "765432109")
    assert result.exit_code == 2 and "no node found" in error_line(result)


def test_graph_short_form_still_works(tree, tmp_path):
    output = tmp_path / "short.dot"
    result = invoke("node", "graph", str(tree["add"].pk), "-f", "dot", "-o", str(output))
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.output and f"N{tree['sum'].pk}" in output.read_text()


def test_graph_help_lists_generate():
    result = invoke("node", "graph", "--help")
    assert result.exit_code == 0 and "generate" in result.output


def test_node_attributes_and_keys(tree):
    result = invoke("node", "attributes", str(tree["add"].pk), "-k", "process_state", "-k", "exit_status")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"PK: {tree['add'].pk}\n")
    assert json.loads(result.output.split("\n", 1)[1]) == {"process_state": "finished", "exit_status": 0}


def test_node_extras_raw(tree):
    tree["x"].base.extras.set("tag", "mine")
    result = invoke("node", "extras", str(tree["x"].pk), "-r")
    assert result.exit_code == 0 and json.loads(result.output) == {str(tree["x"].pk): {"tag": "mine"}}


def test_node_label_view_and_set(tree):
    pk = str(tree["sum"].pk)
    result = invoke("node", "label", pk, "-L", "the sum", "-f")
    assert result.exit_code == 0 and "Success" in result.output
    assert invoke("node", "label", pk, "-r").output.strip() == "the sum"
    refused = invoke("node", "label", pk, "-L", "other", input="n\n")
    assert refused.exit_code == 1 and invoke("node", "label", pk, "-r").output.strip() == "the sum"


def test_node_description_table(tree):
    pk = str(tree["x"].pk)
    invoke("node", "description", pk, "-D", "an input", "-f")
    result = invoke("node", "description", pk)
    assert result.exit_code == 0 and "an input" in result.output and "Description" in result.output


def test_node_attributes_unknown_node():
    result = invoke("node", "attributes", "654321098")
    assert result.exit_code == 2 and "no node found" in error_line(result)


@pytest.fixture
def labelled():
    """Four processes of one unique label: finished 0, finished 3, excepted, waiting (paused)."""
    label = f"Listed{uuid.uuid4().hex[:8]}"
    return {"label": label,
            "ok": process(CalcFunctionNode, label, "finished", 0),
            "failed": process(CalcFunctionNode, label, "finished", 3),
            "excepted": process(CalcFunctionNode, label, "excepted"),
            "paused": process(WorkChainNode, label, "waiting", paused=True)}


def _listed(*args: str) -> list[str]:
    result = invoke("process", "list", "-r", *args)
    assert result.exit_code == 0, result.output
    return [line.split("\t")[0] for line in result.output.splitlines()]


def test_process_list_default_shows_active_only(labelled):
    assert _listed("-L", labelled["label"]) == [str(labelled["paused"].pk)]


def test_process_list_all_and_order(labelled):
    pks = [str(labelled[key].pk) for key in ("ok", "failed", "excepted", "paused")]
    assert _listed("-L", labelled["label"], "-a", "-O", "id", "-D", "asc") == pks
    assert _listed("-L", labelled["label"], "-a") == pks[::-1]


def test_process_list_failed_exit_status_state_paused(labelled):
    assert _listed("-L", labelled["label"], "-X") == [str(labelled["failed"].pk)]
    assert _listed("-L", labelled["label"], "-E", "0") == [str(labelled["ok"].pk)]
    assert _listed("-L", labelled["label"], "--process-state", "excepted") == [str(labelled["excepted"].pk)]
    assert _listed("-L", labelled["label"], "-a", "--paused") == [str(labelled["paused"].pk)]


def test_process_list_group_and_table(labelled):
    from provgraph.orm import Group

    group = Group(label=f"procs-{uuid.uuid4().hex[:8]}").store()
    group.add_nodes(labelled["ok"])
    assert _listed("-a", "-G", group.label) == [str(labelled["ok"].pk)]
    table = invoke("process", "list", "-a", "-L", labelled["label"])
    assert "4 process(es)" in table.output and "waiting (paused)" in table.output


def test_process_list_bad_options():
    bad_state = invoke("process", "list", "-S", "sleeping")
    assert bad_state.exit_code == 2 and "Invalid value for '--state'" in bad_state.output
    bad_group = invoke("process", "list", "-G", f"ghost-{uuid.uuid4().hex[:6]}")
    assert bad_group.exit_code == 2 and "no group found" in error_line(bad_group)
