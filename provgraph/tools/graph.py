"""Pictures of the provenance graph around a node, drawn with graphviz.

:func:`collect` walks the links of chosen types from a root node, up to
``ancestor_depth`` steps against the links and ``descendant_depth`` steps
along them, visiting each node once (cost grows with the nodes reached), and
keeps every link between the nodes it reached.  :func:`to_digraph` styles the
result — data as ellipses, calculations as boxes, workflows as rounded boxes,
process nodes coloured by their state and exit status, links labelled with
their type and label — and :func:`render` runs Debian's ``dot`` on it
(``make tools`` installs it) to write SVG, PNG or PDF; ``dot`` format writes
the graphviz source without running anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provgraph.common.links import Direction, LinkType
from provgraph.exceptions import ConfigurationError, ProvgraphError, ValidationError

if TYPE_CHECKING:
    import graphviz

    from provgraph.orm import Node

__all__ = ["FORMATS", "GraphRenderError", "ProvenanceGraph", "collect", "node_style", "render", "to_digraph"]

#: output formats of :func:`render`; ``dot`` is the graphviz source itself
FORMATS = ("svg", "png", "pdf", "dot")

#: (fill colour) of process nodes by state; finished ones depend on the exit status
STATE_COLOURS = {
    "created": "#e0e0e0", "running": "#fff2a8", "waiting": "#cfe2ff", "excepted": "#f4a3a3",
    "killed": "#b9b9b9", "finished_ok": "#9fe2a8", "finished_failed": "#f7c08a",
}
#: (colour, style) of links by type
LINK_STYLES = {
    LinkType.INPUT_CALC: ("#3465a4", "solid"), LinkType.INPUT_WORK: ("#3465a4", "dashed"),
    LinkType.CREATE: ("#4e9a06", "solid"), LinkType.RETURN: ("#4e9a06", "dashed"),
    LinkType.CALL_CALC: ("#75507b", "dotted"), LinkType.CALL_WORK: ("#75507b", "dotted"),
}
_MAX_TEXT = 60
_UNPRINTABLE = frozenset({"Cc", "Cs", "Cn"})


class GraphRenderError(ProvgraphError):
    """graphviz could not draw the graph."""


@dataclass
class ProvenanceGraph:
    """The nodes reached from ``root`` and the links between them (source pk, target pk, type, label)."""

    root: int
    nodes: dict[int, Node] = field(default_factory=dict)
    links: set[tuple[int, int, LinkType, str]] = field(default_factory=set)
    truncated: bool = False


def _walk(root: int, direction: Direction, depth: int | None, types: Sequence[LinkType], limit: int,
          reached: set[int]) -> bool:
    """Add to ``reached`` the pks within ``depth`` steps of ``root`` in ``direction``; True if ``limit`` cut it."""
    from provgraph.orm.backend import get_backend

    nodes = get_backend().nodes
    frontier, step = [root], 0
    while frontier and (depth is None or step < depth):
        step += 1
        following = []
        for pk in frontier:
            for triple in nodes.links(pk, direction, list(types)):
                if triple.node_pk in reached:
                    continue
                if len(reached) >= limit:
                    return True
                reached.add(triple.node_pk)
                following.append(triple.node_pk)
        frontier = following
    return False


def _load(pks: Iterable[int]) -> dict[int, Node]:
    from provgraph.orm import Node, QueryBuilder

    wanted = sorted(pks)
    found = {}
    for start in range(0, len(wanted), 500):
        query = QueryBuilder().append(Node, filters={"pk": {"in": wanted[start:start + 500]}}, project="*")
        found.update({node.pk: node for node in query.all(flat=True)})
    return found


def collect(root: int | str, ancestor_depth: int | None = 1, descendant_depth: int | None = 1,
            link_types: Sequence[LinkType | str] | None = None, max_nodes: int = 500) -> ProvenanceGraph:
    """The provenance neighbourhood of node ``root`` (pk or uuid).

    :param ancestor_depth: steps followed against the links (None: no limit)
    :param descendant_depth: steps followed along the links (None: no limit)
    :param link_types: the link types followed and drawn (default: all six)
    :param max_nodes: stop reaching further once this many nodes are in (``truncated`` is then True)
    :raises NotExistent: when ``root`` does not exist
    :raises ValidationError: on a negative depth, an unknown link type or ``max_nodes`` < 1
    """
    from provgraph.orm import load_node
    from provgraph.orm.backend import get_backend

    for name, depth in (("ancestor_depth", ancestor_depth), ("descendant_depth", descendant_depth)):
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
            raise ValidationError(f"{name} must be an int >= 0 or None, not {depth!r}")
    if max_nodes < 1:
        raise ValidationError(f"max_nodes must be >= 1, not {max_nodes}")
    types = parse_link_types(link_types)
    start = load_node(root)
    reached = {start.pk}
    truncated = _walk(start.pk, Direction.BACKWARD, ancestor_depth, types, max_nodes, reached)
    truncated |= _walk(start.pk, Direction.FORWARD, descendant_depth, types, max_nodes, reached)
    graph = ProvenanceGraph(start.pk, _load(reached), truncated=truncated)
    for pk in reached:
        for triple in get_backend().nodes.links(pk, Direction.FORWARD, types):
            if triple.node_pk in reached:
                graph.links.add((pk, triple.node_pk, triple.link_type, triple.label))
    return graph


def parse_link_types(values: Sequence[LinkType | str] | None) -> list[LinkType]:
    """Link types from names in any case (``create``, ``INPUT_CALC``...); all six when ``values`` is empty.

    :raises ValidationError: on an unknown name
    """
    if not values:
        return list(LinkType)
    parsed = []
    for value in values:
        name = value.value if isinstance(value, LinkType) else str(value).strip().upper()
        if name not in LinkType.__members__:
            raise ValidationError(f"unknown link type {value!r}; known: {', '.join(t.value.lower() for t in LinkType)}")
        parsed.append(LinkType[name])
    return parsed


def _text(value: Any) -> str:
    """``value`` as one line of at most 60 characters, safe inside a graphviz label.

    Control and unassigned characters are dropped, ``&`` is written as an entity
    (dot reads ``&name;`` entities in labels) and backslashes are escaped.
    """
    import graphviz

    return graphviz.escape(shorten(value).replace("&", "&amp;"))


def shorten(value: Any) -> str:
    """``value`` as the one line a graph label shows: whitespace collapsed, unprintables dropped, <= 60 chars."""
    text = "".join(" " if ch.isspace() else ch for ch in str(value) if unicodedata.category(ch) not in _UNPRINTABLE
                   or ch.isspace())
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 1] + "…"


def _summary(node: Node) -> str | None:
    """A short value shown under a data node's name (the value of Int, Str...; file names)."""
    attributes = node.base.attributes
    if "value" in attributes:
        return f"value: {attributes.get('value')}"
    if "filename" in attributes:
        return attributes.get("filename")
    if "remote_path" in attributes:
        return f"{node.computer}:{attributes.get('remote_path')}"
    if "filepath_executable" in attributes:
        return getattr(node, "full_label", node.label)
    return None


def node_style(node: Node, root: bool = False) -> dict[str, str]:
    """The graphviz attributes (shape, colours, label lines) of ``node``."""
    from provgraph.orm import CalculationNode, Data, ProcessNode

    lines = [f"{type(node).__name__} ({node.pk})"]
    style: dict[str, str] = {"style": "filled", "penwidth": "3" if root else "1", "fontname": "Helvetica"}
    if isinstance(node, ProcessNode):
        state = node.process_state.value
        status = f"{state} [{node.exit_status}]" if node.exit_status is not None else state
        lines += [node.process_label, status]
        key = state if state != "finished" else ("finished_ok" if node.exit_status in (0, None) else "finished_failed")
        style.update(shape="box", fillcolor=STATE_COLOURS[key])
        if not isinstance(node, CalculationNode):
            style["style"] = "filled,rounded"
    else:
        summary = _summary(node) if isinstance(node, Data) else None
        if summary:
            lines.append(summary)
        style.update(shape="ellipse", fillcolor="#f5f5f5" if isinstance(node, Data) else "#ffffff")
    if shorten(node.label):
        lines.append(f"“{shorten(node.label)}”")
    style["label"] = "\\n".join(_text(line) for line in lines)
    return style


def to_digraph(graph: ProvenanceGraph) -> graphviz.Digraph:
    """The styled graphviz graph of ``graph`` (nothing is run yet)."""
    import graphviz

    digraph = graphviz.Digraph(name=f"provenance_{graph.root}", graph_attr={"rankdir": "TB"})
    for pk in sorted(graph.nodes):
        digraph.node(f"N{pk}", **node_style(graph.nodes[pk], root=pk == graph.root))
    for source, target, link_type, label in sorted(graph.links, key=lambda link: (link[0], link[1], link[3])):
        colour, line = LINK_STYLES[link_type]
        digraph.edge(f"N{source}", f"N{target}", label=f"{_text(link_type.value)}\\n{_text(label)}",
                     color=colour, fontcolor=colour, style=line, fontname="Helvetica", fontsize="10")
    if graph.truncated:
        digraph.attr(label="(truncated: more nodes are linked than were drawn)", labelloc="b")
    return digraph


def render(graph: ProvenanceGraph, output: str | Path, fmt: str = "svg") -> Path:
    """Write ``graph`` to ``output`` in ``fmt`` (svg, png, pdf, or dot source); return the path.

    :raises ValidationError: on an unknown format
    :raises ConfigurationError: when graphviz's ``dot`` program is not installed
    :raises GraphRenderError: when ``dot`` fails
    """
    import graphviz

    if fmt not in FORMATS:
        raise ValidationError(f"unknown graph format {fmt!r}; choose one of {', '.join(FORMATS)}")
    digraph = to_digraph(graph)
    path = Path(output)
    if fmt == "dot":
        path.write_text(digraph.source)
        return path
    try:
        content = digraph.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise ConfigurationError("graphviz's `dot` program is not installed: run `make tools` "
                                 "(or `apt-get install graphviz`)") from exc
    except graphviz.CalledProcessError as exc:
        raise GraphRenderError(f"dot failed (exit {exc.returncode}): {exc.stderr!r}") from exc
    path.write_bytes(content)
    return path
