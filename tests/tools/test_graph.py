"""Provenance neighbourhoods (``provgraph.tools.graph``): the walk on both backends, styling, real renders."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.common.links import LinkType
from provgraph.exceptions import ConfigurationError, NotExistent, ValidationError
from provgraph.orm import CalcFunctionNode, CalcJobNode, Int, Str, WorkChainNode
from provgraph.tools.graph import (
    STATE_COLOURS,
    ProvenanceGraph,
    collect,
    node_style,
    parse_link_types,
    render,
    shorten,
    to_digraph,
)

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]
SVG = "{http://www.w3.org/2000/svg}"


def process(cls, state: str = "finished", exit_status: int | None = 0, **kwargs):
    node = cls(process_label=f"{cls.__name__}Proc", **kwargs)
    node.base.attributes.set_many({"process_state": state, "exit_status": exit_status})
    return node


@pytest.fixture
def provenance(backend_profile):
    """a, b -> workflow W calls calc C (a, b) -> out; W returns out; D(out) -> out2; F(b) failed; X(b) excepted."""
    a, b = Int(1, label="a").store(), Int(2).store()
    workflow = process(WorkChainNode, exit_status=0)
    workflow.base.links.add_incoming(a, LinkType.INPUT_WORK, "x")
    workflow.store()
    calc = process(CalcFunctionNode)
    calc.base.links.add_incoming(a, LinkType.INPUT_CALC, "x")
    calc.base.links.add_incoming(b, LinkType.INPUT_CALC, "y")
    calc.base.links.add_incoming(workflow, LinkType.CALL_CALC, "add")
    calc.store()
    out = Int(3)
    out.base.links.add_incoming(calc, LinkType.CREATE, "result")
    out.store()
    workflow.base.links.add_outgoing(out, LinkType.RETURN, "sum")
    second = process(CalcFunctionNode)
    second.base.links.add_incoming(out, LinkType.INPUT_CALC, "x")
    second.store()
    out2 = Str("three")
    out2.base.links.add_incoming(second, LinkType.CREATE, "text")
    out2.store()
    failed = process(CalcJobNode, exit_status=310)
    failed.base.links.add_incoming(b, LinkType.INPUT_CALC, "y")
    failed.store()
    excepted = process(CalcFunctionNode, state="excepted", exit_status=None)
    excepted.base.links.add_incoming(b, LinkType.INPUT_CALC, "y")
    excepted.store()
    return {"a": a, "b": b, "W": workflow, "C": calc, "out": out, "D": second, "out2": out2, "F": failed,
            "X": excepted}


def pks(nodes: dict, *names: str) -> set[int]:
    return {nodes[name].pk for name in names}


def test_depth_one_reaches_neighbours_and_keeps_links_between_them(provenance):
    graph = collect(provenance["C"].pk)
    assert set(graph.nodes) == pks(provenance, "a", "b", "W", "C", "out")
    p = {name: node.pk for name, node in provenance.items()}
    assert graph.links == {
        (p["a"], p["C"], LinkType.INPUT_CALC, "x"), (p["b"], p["C"], LinkType.INPUT_CALC, "y"),
        (p["W"], p["C"], LinkType.CALL_CALC, "add"), (p["C"], p["out"], LinkType.CREATE, "result"),
        (p["a"], p["W"], LinkType.INPUT_WORK, "x"), (p["W"], p["out"], LinkType.RETURN, "sum"),
    }
    assert not graph.truncated


def test_depths_and_link_types(provenance):
    root = provenance["C"].pk
    assert set(collect(root, 0, 0).nodes) == {root}
    assert set(collect(root, 0, 2).nodes) == pks(provenance, "C", "out", "D")
    data_only = collect(root, None, None, ["input_calc", "CREATE"])
    assert set(data_only.nodes) == pks(provenance, "a", "b", "C", "out", "D", "out2")
    assert {link[2] for link in data_only.links} == {LinkType.INPUT_CALC, LinkType.CREATE}
    descendants = collect(provenance["b"].pk, None, None)  # W and a are C's ancestors, not b's descendants
    assert set(descendants.nodes) == pks(provenance, "b", "C", "out", "D", "out2", "F", "X")
    assert set(collect(provenance["out2"].pk, None, 0).nodes) == pks(provenance, "a", "b", "W", "C", "out", "D",
                                                                     "out2")


def test_max_nodes_truncates(provenance):
    graph = collect(provenance["b"].pk, None, None, max_nodes=3)
    assert len(graph.nodes) == 3 and graph.truncated
    assert all(s in graph.nodes and t in graph.nodes for s, t, _, _ in graph.links)


def test_bad_arguments(provenance):
    with pytest.raises(ValidationError, match="ancestor_depth"):
        collect(provenance["C"].pk, -1)
    with pytest.raises(ValidationError, match="unknown link type 'calls'"):
        collect(provenance["C"].pk, link_types=["calls"])
    with pytest.raises(ValidationError, match="max_nodes"):
        collect(provenance["C"].pk, max_nodes=0)
    with pytest.raises(NotExistent):
        collect(987654321987)
    assert parse_link_types(None) == list(LinkType)


def test_styles_follow_type_and_state(provenance):
    calc, workflow, failed, excepted = (provenance[k] for k in ("C", "W", "F", "X"))
    assert node_style(calc)["fillcolor"] == STATE_COLOURS["finished_ok"]
    assert node_style(calc)["shape"] == "box" and "rounded" not in node_style(calc)["style"]
    assert "rounded" in node_style(workflow)["style"]
    assert node_style(failed)["fillcolor"] == STATE_COLOURS["finished_failed"]
    assert "finished [310]" in node_style(failed)["label"]
    assert node_style(excepted)["fillcolor"] == STATE_COLOURS["excepted"]
    data = node_style(provenance["a"], root=True)
    assert data["shape"] == "ellipse" and data["penwidth"] == "3" and "value: 1" in data["label"]


def svg_texts(path) -> list[str]:
    tree = ET.parse(path)
    return ["".join(t.itertext()) for t in tree.iter(f"{SVG}text")]


def test_render_svg_png_pdf_dot(provenance, tmp_path):
    graph = collect(provenance["C"].pk)
    texts = svg_texts(render(graph, tmp_path / "g.svg", "svg"))
    assert f"CalcFunctionNode ({provenance['C'].pk})" in texts and "CalcFunctionNodeProc" in texts
    assert texts.count("CREATE") == 1 and "RETURN" in texts and "CALL_CALC" in texts and "result" in texts
    assert (render(graph, tmp_path / "g.png", "png").read_bytes()[:8]) == b"\x89PNG\r\n\x1a\n"
    assert render(graph, tmp_path / "g.pdf", "pdf").read_bytes()[:5] == b"%PDF-"
    source = render(graph, tmp_path / "g.dot", "dot").read_text()
    assert source.startswith("digraph") and STATE_COLOURS["finished_ok"] in source
    checked = subprocess.run(["dot", "-Tsvg", str(tmp_path / "g.dot")], capture_output=True)
    assert checked.returncode == 0
    with pytest.raises(ValidationError, match="unknown graph format"):
        render(graph, tmp_path / "g.jpg", "jpg")


def test_render_without_dot_says_how_to_install(provenance, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="make tools"):
        render(collect(provenance["C"].pk, 0, 0), tmp_path / "g.svg")


@pytest.mark.usefixtures("neo4j_profile")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=st.text(max_size=80), link_label=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True))
def test_any_label_renders_verbatim(tmp_path, label, link_label):
    source, target = Int(1, label=label), Str("s")
    source._record.pk, target._record.pk = 1, 2
    for fake in (source, target):  # pks made up for the picture: never re-read pk 1 and 2 of the shared store
        fake._refresh = lambda fake=fake: fake._record
    graph = ProvenanceGraph(1, {1: source, 2: target}, {(1, 2, LinkType.INPUT_CALC, link_label)})
    path = tmp_path / "any.svg"
    render(graph, path, "svg")
    texts = svg_texts(path)
    if shorten(label):
        assert shorten("“" + shorten(label) + "”") in texts
    assert link_label in texts
    assert to_digraph(graph).source.count("->") == 1
