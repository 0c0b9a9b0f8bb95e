"""Node endpoints: list and search, one node, its links, files, provenance neighbourhood, archive, extras."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from provgraph.web.common import load, require_write
from provgraph.web.errors import ApiError
from provgraph.web.paging import DEFAULT_LIMIT, page
from provgraph.web.qb_dict import coerce_times, parse_time, resolve_class
from provgraph.web.serialize import SUMMARY_FIELDS, jsonable, node_detail, summary_row

router = APIRouter(tags=["nodes"])
LINK_TYPES = ("INPUT_CALC", "INPUT_WORK", "CREATE", "RETURN", "CALL_CALC", "CALL_WORK")
_ORDERS = {"pk": ("pk", "asc"), "-pk": ("pk", "desc"), "ctime": ("ctime", "asc"), "-ctime": ("ctime", "desc")}
#: the most nodes one neighbourhood request returns
MAX_GRAPH_NODES = 1000


def _append_type(qb: Any, node_type: str | None, tag: str, **kwargs: Any) -> Any:
    """Append the nodes of ``node_type`` (a class name, or a dotted type prefix) to ``qb``."""
    from provgraph.orm import Node

    if not node_type:
        return qb.append(Node, tag=tag, **kwargs)
    if "." in node_type:
        extra = {"node_type": {"like": node_type.rstrip("%") + "%"}}
        filters = kwargs.pop("filters", None)
        return qb.append(Node, tag=tag, filters={"and": [filters, extra]} if filters else extra, **kwargs)
    return qb.append(resolve_class(node_type), tag=tag, **kwargs)


def parse_json_filters(text: str | None) -> dict[str, Any] | None:
    """The ``filters`` query parameter: a JSON object in the QueryBuilder's filter syntax."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"filters is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "filters must be a JSON object such as {\"attributes.value\": {\">\": 5}}")
    return coerce_times(value)


@router.get("/nodes")
def list_nodes(type: str | None = Query(None, description="class name (Int) or node type prefix (data.core.int)"),
               label: str | None = Query(None, description="exact label, or a LIKE pattern with %"),
               ctime_after: str | None = Query(None, description="ISO 8601 time"),
               ctime_before: str | None = Query(None, description="ISO 8601 time"),
               filters: str | None = Query(None, description='QueryBuilder filters as JSON, e.g. '
                                                             '{"attributes.value": {">": 5}}'),
               order: str = Query("pk", description="pk, -pk, ctime or -ctime (ties broken by pk)"),
               limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Nodes matching every filter given, one page of them, with the total."""
    from provgraph.orm import QueryBuilder

    conditions: list[dict[str, Any]] = []
    if label is not None:
        conditions.append({"label": {"like": label} if "%" in label else label})
    if ctime_after:
        conditions.append({"ctime": {">=": parse_time(ctime_after, "ctime_after")}})
    if ctime_before:
        conditions.append({"ctime": {"<": parse_time(ctime_before, "ctime_before")}})
    parsed = parse_json_filters(filters)
    if parsed:
        conditions.append(parsed)
    if order not in _ORDERS:
        raise ApiError(400, f"order must be one of {', '.join(_ORDERS)}, not {order!r}")
    where = {"and": conditions} if len(conditions) > 1 else (conditions[0] if conditions else None)
    qb = _append_type(QueryBuilder(), type, "n", filters=where, project=list(SUMMARY_FIELDS))
    field, direction = _ORDERS[order]
    qb.order_by({"n": [{field: direction}] + ([{"pk": "asc"}] if field != "pk" else [])})
    return page(qb, limit, offset, summary_row)


@router.get("/search")
def search(q: str = Query(..., min_length=1, max_length=200), limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """Nodes by pk (``q`` all digits), uuid prefix (hex), or label, type or process label containing ``q``.

    A number is looked up as a pk (and a uuid prefix), never scanned for in labels: that stays
    an index lookup on any graph size.
    """
    from provgraph.orm import Node, QueryBuilder

    text = q.strip()
    options: list[dict[str, Any]] = []
    if text.isdigit() and len(text) < 19:
        options.append({"pk": int(text)})
    if len(text) >= 4 and all(ch in "0123456789abcdefABCDEF-" for ch in text):
        options.append({"uuid": {"like": text.lower() + "%"}})
    if not text.isdigit():
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        options += [{"label": {"ilike": pattern}}, {"node_type": {"ilike": pattern}},
                    {"attributes.process_label": {"ilike": pattern}}]
    qb = QueryBuilder().append(Node, tag="n", filters={"or": options}, project=list(SUMMARY_FIELDS))
    qb.order_by({"n": [{"pk": "desc"}]})
    return page(qb, limit, offset, summary_row)


@router.get("/nodes/{identifier}")
def get_node(identifier: str) -> dict[str, Any]:
    """One node by pk or uuid (prefix): fields, attributes, extras, repository file list."""
    return node_detail(load(identifier))


def links_query(pk: int, direction: str, link_types: list[str] | None = None) -> Any:
    """The QueryBuilder of the links into (``incoming``) or out of (``outgoing``) node ``pk``."""
    from provgraph.orm import Node, QueryBuilder

    if direction not in ("incoming", "outgoing"):
        raise ApiError(400, f"direction must be 'incoming' or 'outgoing', not {direction!r}")
    bad = [t for t in link_types or [] if t not in LINK_TYPES]
    if bad:
        raise ApiError(400, f"unknown link types {bad}; known: {', '.join(LINK_TYPES)}")
    relation = {"with_outgoing": "n"} if direction == "incoming" else {"with_incoming": "n"}
    qb = QueryBuilder().append(Node, filters={"pk": pk}, tag="n")
    qb.append(Node, tag="other", project=list(SUMMARY_FIELDS), edge_tag="link", edge_project=["type", "label"],
              edge_filters={"type": {"in": link_types}} if link_types else None, **relation)
    return qb.order_by({"other": ["pk"]})


def _link_row(row: list[Any]) -> dict[str, Any]:
    *summary, link_type, link_label = row
    return {"link_type": link_type, "link_label": link_label, "node": summary_row(summary)}


@router.get("/nodes/{identifier}/links/{direction}")
def node_links(identifier: str, direction: str, link_type: Annotated[list[str] | None, Query()] = None,
               limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """The ``incoming`` or ``outgoing`` links of a node, with the node at the other end."""
    node = load(identifier)
    return page(links_query(node.pk, direction, link_type), limit, offset, _link_row)


@router.get("/nodes/{identifier}/graph")
def node_graph(identifier: str, depth: int = Query(1, ge=1, le=5),
               max_nodes: int = Query(200, ge=1, le=MAX_GRAPH_NODES)) -> dict[str, Any]:
    """The provenance neighbourhood of a node: nodes within ``depth`` links (either way) and their links."""
    centre = load(identifier)
    return neighbourhood(centre.pk, depth, max_nodes)


def neighbourhood(pk: int, depth: int, max_nodes: int) -> dict[str, Any]:
    """Breadth-first walk over links in both directions, at most ``max_nodes`` nodes."""
    from provgraph.orm import Node, QueryBuilder

    first = QueryBuilder().append(Node, filters={"pk": pk}, project=list(SUMMARY_FIELDS)).first()
    nodes = {pk: summary_row(first)}
    links: dict[tuple[int, int, str, str], None] = {}
    frontier, truncated = [pk], False
    for _ in range(depth):
        found: list[int] = []
        for relation, outgoing in (("with_outgoing", False), ("with_incoming", True)):
            qb = QueryBuilder().append(Node, filters={"pk": {"in": frontier}}, tag="n", project=["pk"])
            qb.append(Node, tag="o", project=list(SUMMARY_FIELDS), edge_tag="l", edge_project=["type", "label"],
                      **{relation: "n"})
            qb.order_by({"o": ["pk"]})
            for here, *summary, link_type, link_label in qb.iterall():
                other = summary[0]
                if other not in nodes:
                    if len(nodes) >= max_nodes:
                        truncated = True
                        continue
                    nodes[other] = summary_row(summary)
                    found.append(other)
                source, target = (here, other) if outgoing else (other, here)
                links[(source, target, link_type, link_label)] = None
        frontier = found
        if not frontier:
            break
    return {"centre": pk, "truncated": truncated, "nodes": list(nodes.values()),
            "links": [{"source": s, "target": t, "link_type": k, "link_label": label} for s, t, k, label in links]}


@router.get("/nodes/{identifier}/files")
def node_files(identifier: str) -> dict[str, Any]:
    """The file paths of a node's repository."""
    node = load(identifier)
    return {"pk": node.pk, "files": node.base.repository.walk_files()}


@router.get("/nodes/{identifier}/download")
def download_query(request: Request, identifier: str, path: str = Query(..., min_length=1)) -> StreamingResponse:
    """Stream one file of a node's repository (``?path=dir/file``)."""
    return _stream(request, identifier, path)


@router.get("/nodes/{identifier}/files/{path:path}")
def download(request: Request, identifier: str, path: str) -> StreamingResponse:
    """Stream one file of a node's repository; paths leaving the repository are refused."""
    return _stream(request, identifier, path)


def _stream(request: Request, identifier: str, path: str) -> StreamingResponse:
    from provgraph.orm.backend import get_repository
    from provgraph.orm.nodes.repository import clean_path

    node = load(identifier)
    path = clean_path(path)
    key = node.base.repository.object_key(path)
    repository = get_repository(request.app.state.profile)

    def chunks() -> Any:
        with repository.open(key) as handle:
            while chunk := handle.read(1 << 16):
                yield chunk

    name = path.rsplit("/", 1)[-1]
    plain = "".join(ch for ch in name if ch.isascii() and ch.isprintable() and ch not in '"\\') or "file"
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
    return StreamingResponse(chunks(), media_type="application/octet-stream",
                             headers={"Content-Disposition": disposition})


@router.get("/nodes/{identifier}/archive")
def node_archive(identifier: str) -> FileResponse:
    """A portable archive (zip) of the node's provenance closure, by the export rules."""
    from provgraph.archive.create import create_archive

    node = load(identifier)
    workdir = Path(tempfile.mkdtemp(prefix="provgraph-web-"))
    target = workdir / f"node-{node.pk}.zip"
    try:
        create_archive(target, nodes=[node.pk])
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(str(target), media_type="application/zip", filename=target.name,
                        background=BackgroundTask(shutil.rmtree, workdir, True))


@router.patch("/nodes/{identifier}/extras", dependencies=[Depends(require_write)], tags=["write"])
def set_extras(identifier: str,
               extras: Annotated[dict[str, Any], Body(examples=[{"reviewed": True}])]) -> dict[str, Any]:
    """Set (merge) extras of a node; needs a read-write server and its bearer token."""
    node = load(identifier)
    if not extras:
        raise ApiError(400, "give at least one extra to set")
    node.base.extras.set_many(extras)
    return {"pk": node.pk, "extras": jsonable(node.base.extras.all)}
