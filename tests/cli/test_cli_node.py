"""``provgraph node graph`` and ``provgraph node show`` on the services profile."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.orm import CalcFunctionNode, Int, LinkType, WorkChainNode

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough that no cell wraps, whatever the terminal."""
    from provgraph.cli import echo

    monkeypatch.setattr(echo.console, "width", 300)


def run(*args: str):
    """Invoke ``provgraph -p services ARGS``."""
    return CliRunner().invoke(cli, ["-p", "services", *args])


@pytest.fixture
def chain(neo4j_profile):
    """top workflow -> inner workflow -> calc(x, y) -> sum; the inner workflow returns sum."""
    from provgraph.profiles import load_profile

    load_profile("services")  # the commands below read `-p services`: store there whatever ran before
    x, y = Int(4).store(), Int(5).store()
    top = WorkChainNode(process_label="Top")
    top.base.attributes.set("process_state", "running")
    top.base.links.add_incoming(x, LinkType.INPUT_WORK, "x")
    top.store()
    inner = WorkChainNode(process_label="Inner")
    inner.base.attributes.set("process_state", "waiting")
    inner.base.links.add_incoming(top, LinkType.CALL_WORK, "inner")
    inner.store()
    calc = CalcFunctionNode(process_label="add")
    calc.base.attributes.set_many({"process_state": "finished", "exit_status": 0})
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.base.links.add_incoming(y, LinkType.INPUT_CALC, "y")
    calc.base.links.add_incoming(inner, LinkType.CALL_CALC, "add")
    calc.store()
    total = Int(9)
    total.base.links.add_incoming(calc, LinkType.CREATE, "sum")
    total.store()
    inner.base.links.add_outgoing(total, LinkType.RETURN, "result")
    return {"x": x, "y": y, "top": top, "inner": inner, "calc": calc, "sum": total}


def test_show_lists_inputs_outputs_and_callers(chain):
    result = run("node", "show", str(chain["calc"].pk))
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"CalcFunctionNode pk {chain['calc'].pk}" in out and "state: finished  exit status: 0" in out
    for title in ("inputs", "outputs", "caller", "callers (up to the top-level workflow)"):
        assert title in out
    assert f"│ x     │ INPUT_CALC │ {chain['x'].pk}" in out and f"│ sum   │ CREATE    │ {chain['sum'].pk}" in out
    assert f"│ 1     │ {chain['inner'].pk} │ WorkChainNode Inner (waiting)" in out
    assert f"│ 2     │ {chain['top'].pk} │ WorkChainNode Top (running)" in out


def test_show_data_node_sections(chain):
    result = run("node", "show", str(chain["sum"].pk))
    assert result.exit_code == 0, result.output
    assert "created by" in result.output and "returned by" in result.output and "callers" not in result.output
    used = run("node", "show", chain["x"].uuid)
    assert "used as input by" in used.output and "add (finished [0])" in used.output


def test_graph_writes_svg_with_the_neighbourhood(chain, tmp_path):
    output = tmp_path / "calc.svg"
    result = run("node", "graph", str(chain["calc"].pk), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert f"wrote {output}: 5 nodes, 5 links" in result.output  # x, y, inner, calc, sum
    texts = ["".join(t.itertext()) for t in ET.parse(output).iter("{http://www.w3.org/2000/svg}text")]
    assert f"CalcFunctionNode ({chain['calc'].pk})" in texts and "CALL_CALC" in texts and "RETURN" in texts


def test_graph_options(chain, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("node", "graph", str(chain["sum"].pk), "--ancestor-depth", "all", "--descendant-depth", "0",
                 "--link-types", "input_calc,create", "-l", "input_work", "--format", "dot")
    assert result.exit_code == 0, result.output
    source = (tmp_path / f"{chain['sum'].pk}.dot").read_text()
    assert "CALL_CALC" not in source and "RETURN" not in source and "INPUT_WORK" not in source
    assert source.count("->") == 3  # x -> calc, y -> calc, calc -> sum
    png = run("node", "graph", str(chain["calc"].pk), "-f", "png", "-a", "0", "-d", "0")
    assert png.exit_code == 0 and (tmp_path / f"{chain['calc'].pk}.png").read_bytes()[:4] == b"\x89PNG"
    capped = run("node", "graph", str(chain["calc"].pk), "-a", "all", "-d", "all", "--max-nodes", "2", "-f", "pdf")
    assert capped.exit_code == 0 and "truncated at --max-nodes" in capped.output


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--link-types", "calls"], 1, "unknown link type 'calls'"),
    (["--ancestor-depth", "-1"], 2, "neither an integer >= 0 nor 'all'"),
    (["--format", "jpg"], 2, "'jpg' is not one of"),
])
def test_graph_refuses_bad_options(chain, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    result = run("node", "graph", str(chain["calc"].pk), *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_graph_unknown_node(neo4j_profile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("node", "graph", "987654321987")
    assert result.exit_code == 1 and "NotExistent" in result.output


def test_help_does_not_import_graphviz_or_drivers():
    code = (
        "import sys; from click.testing import CliRunner; from provgraph.cli.main import cli;"
        "[CliRunner().invoke(cli, args) for args in (['--help'], ['node', '--help'], ['computer', '--help'],"
        " ['code', '--help'], ['calcjob', '--help'], ['node', 'graph', '--help'])];"
        "print(','.join(m for m in ('graphviz', 'neo4j', 'fabric', 'paramiko', 'celery', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_repo_ls_and_cat(neo4j_profile):
    from provgraph.orm import FolderData

    folder = FolderData()
    folder.base.repository.put_object_from_bytes(b"top\n", "a.txt")
    folder.base.repository.put_object_from_bytes(b"\x00\x01deep", "sub/dir/b.bin")
    folder.store()
    assert run("node", "repo", "ls", str(folder.pk)).output.split() == ["a.txt", "sub"]
    assert run("node", "repo", "ls", str(folder.pk), "sub").output.split() == ["dir"]
    assert run("node", "repo", "cat", str(folder.pk), "a.txt").output == "top\n"
    assert run("node", "repo", "cat", folder.uuid, "sub/dir/b.bin").stdout_bytes == b"\x00\x01deep"
    missing = run("node", "repo", "cat", str(folder.pk), "nope")
    assert missing.exit_code == 1 and "NotExistent" in missing.output and "nope" in missing.output
    assert run("node", "repo", "ls", str(folder.pk), "nodir").exit_code == 1


def test_show_and_graph_on_both_backends(backend_profile, tmp_path):
    x = Int(2).store()
    calc = CalcFunctionNode(process_label="double")
    calc.base.attributes.set_many({"process_state": "finished", "exit_status": 0})
    calc.base.links.add_incoming(x, LinkType.INPUT_CALC, "x")
    calc.store()
    doubled = Int(4)
    doubled.base.links.add_incoming(calc, LinkType.CREATE, "result")
    doubled.store()
    base = ["-p", backend_profile.name, "node"]
    shown = CliRunner().invoke(cli, [*base, "show", str(calc.pk)])
    assert shown.exit_code == 0, shown.output
    assert f"│ x     │ INPUT_CALC │ {x.pk}" in shown.output and f"│ result │ CREATE    │ {doubled.pk}" in shown.output
    drawn = CliRunner().invoke(cli, [*base, "graph", str(doubled.pk), "-a", "all", "-o", str(tmp_path / "g.svg")])
    assert drawn.exit_code == 0 and "3 nodes, 2 links" in drawn.output
