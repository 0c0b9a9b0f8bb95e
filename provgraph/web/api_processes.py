"""Process endpoints: list, one process (state, exit status, report, call tree); submit and control (write)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from provgraph.web.common import load_process, require_write
from provgraph.web.errors import ApiError
from provgraph.web.paging import DEFAULT_LIMIT, page
from provgraph.web.serialize import SUMMARY_FIELDS, jsonable, node_summary, summary_row

router = APIRouter(tags=["processes"])
STATES = ("created", "running", "waiting", "finished", "excepted", "killed")
#: the most processes a call tree holds
MAX_TREE = 2000
SUBMIT_EXAMPLE = {"process": "core.arithmetic.add_multiply", "inputs": {"x": 1, "y": 2, "z": {"pk": 12}}}
_DETAIL_ATTRIBUTES = ("process_type", "process_status", "exit_message", "paused", "sealed", "exception",
                      "checkpoint_version")


@router.get("/processes")
def list_processes(state: Annotated[list[str] | None, Query(description="only these states")] = None,
                   process_label: str | None = Query(None, description="only this process class name"),
                   limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Processes, newest first (ties by pk)."""
    from provgraph.orm import ProcessNode, QueryBuilder

    bad = [s for s in state or [] if s not in STATES]
    if bad:
        raise ApiError(400, f"unknown states {bad}; known: {', '.join(STATES)}")
    filters: dict[str, Any] = {}
    if state:
        filters["attributes.process_state"] = {"in": list(state)}
    if process_label:
        filters["attributes.process_label"] = process_label
    qb = QueryBuilder().append(ProcessNode, tag="p", filters=filters or None, project=list(SUMMARY_FIELDS))
    qb.order_by({"p": [{"ctime": "desc"}, {"pk": "desc"}]})
    return page(qb, limit, offset, summary_row)


@router.get("/processes/{identifier}")
def get_process(identifier: str) -> dict[str, Any]:
    """A process: state, exit status and message, caller, call tree and report."""
    node = load_process(identifier)
    attributes = node.base.attributes
    data = node_summary(node)
    data.update({name: jsonable(attributes.get(name, None)) for name in _DETAIL_ATTRIBUTES})
    caller = node.caller
    data["caller"] = node_summary(caller) if caller is not None else None
    data["call_tree"] = call_tree(node.pk)
    data["report"] = report(node.pk, data["call_tree"])
    return data


@router.get("/processes/{identifier}/report")
def get_report(identifier: str) -> dict[str, Any]:
    """The log records of a process and of the processes it called, oldest first."""
    node = load_process(identifier)
    return {"pk": node.pk, "report": report(node.pk)}


@router.get("/processes/{identifier}/calltree")
def get_call_tree(identifier: str) -> dict[str, Any]:
    """The tree of processes called by this one, nested."""
    return call_tree(load_process(identifier).pk)


def call_tree(pk: int) -> dict[str, Any]:
    """The process ``pk`` and, nested under ``children``, what it called (breadth first, capped)."""
    from provgraph.orm import ProcessNode, QueryBuilder

    root = QueryBuilder().append(ProcessNode, filters={"pk": pk}, project=list(SUMMARY_FIELDS)).first()
    entries = {pk: {**summary_row(root), "link_label": None, "children": []}}
    frontier = [pk]
    while frontier and len(entries) < MAX_TREE:
        qb = QueryBuilder().append(ProcessNode, filters={"pk": {"in": frontier}}, tag="p", project=["pk"])
        qb.append(ProcessNode, with_incoming="p", tag="c", project=list(SUMMARY_FIELDS), edge_project=["label"],
                  edge_filters={"type": {"in": ["CALL_CALC", "CALL_WORK"]}})
        qb.order_by({"c": [{"ctime": "asc"}, {"pk": "asc"}]})
        frontier = []
        for parent, *summary, label in qb.iterall():
            child = summary[0]
            if child in entries or len(entries) >= MAX_TREE:
                continue
            entries[child] = {**summary_row(summary), "link_label": label, "children": []}
            entries[parent]["children"].append(entries[child])
            frontier.append(child)
    return entries[pk]


def report(pk: int, tree: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The log records of process ``pk`` and of every process below it in its call tree (``tree`` if known)."""
    from provgraph.orm import Node, QueryBuilder

    pks, stack = [], [tree or call_tree(pk)]
    while stack:
        entry = stack.pop()
        pks.append(entry["pk"])
        stack.extend(entry["children"])
    qb = QueryBuilder().append(Node, filters={"pk": {"in": pks}}, tag="n", project=["pk"])
    qb.append(entity_type="log", with_node="n", tag="log", project=["time", "levelname", "message", "pk"])
    qb.order_by({"log": [{"time": "asc"}, {"pk": "asc"}]})
    return [jsonable({"pk": node_pk, "time": time, "level": level, "message": message})
            for node_pk, time, level, message, _ in qb.iterall()]


def json_inputs(value: Any, path: str = "") -> Any:
    """Process inputs from JSON: ``{"pk": N}``/``{"uuid": ...}`` load a node, scalars, lists and
    ``{"@type": "Dict", "value": {...}}`` become new Data nodes, other objects are namespaces;
    the ``metadata`` namespace is passed as given.
    """
    from provgraph.orm import Bool, Dict, Float, Int, List, Str, load_node

    if isinstance(value, dict):
        if set(value) == {"pk"} and isinstance(value["pk"], int) and not isinstance(value["pk"], bool):
            return load_node(pk=value["pk"])
        if set(value) == {"uuid"} and isinstance(value["uuid"], str) and value["uuid"]:
            return load_node(uuid=value["uuid"])
        if set(value) in ({"pk"}, {"uuid"}):
            raise ApiError(400, f"input {path}: a node is given as {{\"pk\": <int>}} or {{\"uuid\": <text>}}")
        if set(value) == {"@type", "value"}:
            kinds = {"Dict": Dict, "List": List, "Int": Int, "Float": Float, "Str": Str, "Bool": Bool}
            if value["@type"] not in kinds:
                raise ApiError(400, f"input {path}: @type must be one of {', '.join(kinds)}")
            return kinds[value["@type"]](value["value"])
        return {key: (item if key == "metadata" and not path else json_inputs(item, f"{path}.{key}".strip(".")))
                for key, item in value.items()}
    for kind, node_class in ((bool, Bool), (int, Int), (float, Float), (str, Str)):
        if isinstance(value, kind):
            return node_class(value)
    if isinstance(value, list):
        return List(value)
    raise ApiError(400, f"input {path}: cannot make a node of {value!r}")


@router.post("/processes", status_code=201, dependencies=[Depends(require_write)], tags=["write"])
def submit_process(body: Annotated[dict[str, Any], Body(examples=[SUBMIT_EXAMPLE])]) -> dict[str, Any]:
    """Submit a process registered as an entry point (``provgraph.workflows`` or ``provgraph.calculations``)."""
    from provgraph.engine import submit
    from provgraph.exceptions import NotExistent
    from provgraph.plugins import load_plugin

    name, inputs = body.get("process"), body.get("inputs", {})
    if not isinstance(name, str) or not isinstance(inputs, dict):
        raise ApiError(400, "give 'process' (an entry-point name) and 'inputs' (an object)")
    process_class = None
    for kind in ("workflows", "calculations"):
        try:
            process_class = load_plugin(kind, name)
            break
        except NotExistent:
            continue
    if process_class is None:
        raise ApiError(404, f"no workflow or calculation entry point named {name!r}")
    node = submit(process_class, **json_inputs(inputs))
    return node_summary(node)


@router.post("/processes/{identifier}/{action}", dependencies=[Depends(require_write)], tags=["write"])
def control_process(identifier: str, action: str) -> dict[str, Any]:
    """``pause``, ``play`` or ``kill`` a process (kill reaches the children it called)."""
    from provgraph.engine import control

    if action not in ("pause", "play", "kill"):
        raise ApiError(404, f"unknown action {action!r}: use pause, play or kill")
    node = load_process(identifier)
    if action == "kill":
        from provgraph.engine.celery.committer import AtomicCommitter

        killed = control.kill(node.pk, "Killed through the REST API", committer=AtomicCommitter())
        return {"pk": node.pk, "action": action, "changed": bool(killed), "killed": killed}
    changed = control.pause(node.pk) if action == "pause" else control.play(node.pk)
    return {"pk": node.pk, "action": action, "changed": changed}
