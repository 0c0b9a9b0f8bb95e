"""The QueryBuilder's dict form (AiiDA's ``QueryBuilder.as_dict()``) turned back into a QueryBuilder.

The form::

    {"path": [{"cls": "Int", "tag": "x"},
              {"entity_type": "process.calculation.calcfunction", "tag": "c",
               "joining_keyword": "with_incoming", "joining_value": "x", "edge_tag": "x_c"}],
     "filters": {"x": {"attributes.value": {">": 5}}, "x_c": {"label": "x"}},
     "project": {"x": ["pk", "attributes.value"], "c": "*", "x_c": ["label"]},
     "order_by": [{"x": [{"pk": {"order": "desc"}}]}], "limit": 10, "offset": 0, "distinct": false}

A path item names its entity by ``cls`` (a class name of ``provgraph.orm``, or a list of
them), by ``entity_type`` (a node type such as ``data.core.int``, AiiDA's spelling
``data.core.int.Int.`` too, or ``group``/``computer``/``user``/``comment``/``log``) or by
``orm_base``. Filters and projections keyed by an ``edge_tag`` apply to that link. Times
in filters on ``ctime``, ``mtime`` and ``time`` may be given as ISO 8601 text. Everything
then goes through :meth:`QueryBuilder.append` and friends, which check every name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from provgraph.orm.querybuilder_parse import ENTITY_TYPES
from provgraph.web.errors import ApiError

_KEYS = frozenset({"path", "filters", "project", "order_by", "limit", "offset", "distinct"})
_PATH_KEYS = frozenset({"cls", "entity_type", "orm_base", "tag", "joining_keyword", "joining_value", "edge_tag",
                        "outerjoin", "subclassing"})
_TIME_FIELDS = ("ctime", "mtime", "time")


def node_classes() -> dict[str, type]:
    """The node classes a query may name, by class name."""
    import provgraph.orm as orm
    from provgraph.orm.nodes.node import Node

    found = {}
    for name in orm.__all__:
        value = getattr(orm, name)
        if isinstance(value, type) and issubclass(value, Node):
            found[name] = value
    return found


def resolve_class(name: Any) -> type:
    """The node class called ``name``.

    :raises ApiError: 400 for an unknown name
    """
    classes = node_classes()
    if not isinstance(name, str) or name not in classes:
        raise ApiError(400, f"unknown node class {name!r}; known: {', '.join(sorted(classes))}")
    return classes[name]


def resolve_node_type(text: str) -> type:
    """The node class of a node type string (``data.core.int`` or AiiDA's ``data.core.int.Int.``)."""
    from provgraph.exceptions import NotExistent
    from provgraph.orm.nodes.registry import node_class

    candidates = [text]
    if text.endswith("."):
        candidates.append(text[:-1].rsplit(".", 1)[0])
    for candidate in candidates:
        try:
            return node_class(candidate)
        except NotExistent:
            continue
    raise ApiError(400, f"unknown node type {text!r}")


def coerce_times(filters: Any) -> Any:
    """Filters with ISO text under ``ctime``/``mtime``/``time`` turned into datetimes.

    :raises ApiError: 400 for text that is not an ISO 8601 time
    """
    if not isinstance(filters, dict):
        return filters
    result = {}
    for key, value in filters.items():
        if key in ("and", "or") and isinstance(value, list):
            result[key] = [coerce_times(item) for item in value]
        elif key in ("~", "not"):
            result[key] = coerce_times(value)
        elif key in _TIME_FIELDS:
            result[key] = _times(key, value)
        else:
            result[key] = value
    return result


def _times(field: str, value: Any) -> Any:
    if isinstance(value, str):
        return parse_time(value, field)
    if isinstance(value, list):
        return [_times(field, item) for item in value]
    if isinstance(value, dict):
        return {op: _times(field, operand) for op, operand in value.items()}
    return value


def parse_time(text: str, what: str) -> datetime:
    """An aware datetime from ISO 8601 text (UTC when no offset is given)."""
    from datetime import timezone

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{what}: {text!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00+00:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _entity(item: dict[str, Any]) -> dict[str, Any]:
    """The ``cls``/``entity_type`` arguments of ``append`` for one path item."""
    if "cls" in item:
        names = item["cls"]
        classes = tuple(resolve_class(n) for n in names) if isinstance(names, list) else resolve_class(names)
        return {"cls": classes}
    kind = item.get("entity_type", item.get("orm_base"))
    if not isinstance(kind, str) or not kind:
        raise ApiError(400, "each path item needs 'cls' (a class name) or 'entity_type' (a node type or "
                            f"one of {', '.join(ENTITY_TYPES)})")
    if kind.lower() in ENTITY_TYPES and kind.lower() != "node":
        return {"entity_type": kind.lower()}
    if kind.lower() == "node":
        return {"cls": resolve_class("Node")}
    return {"cls": resolve_node_type(kind)}


def querybuilder_from_dict(spec: Any, max_limit: int) -> Any:
    """A QueryBuilder built from the dict form; ``limit`` is capped to ``max_limit`` rows.

    :raises ApiError: 400 for a malformed dict
    :raises QueryError: for what the QueryBuilder itself refuses (unknown tag, field, operator...)
    """
    from provgraph.orm.querybuilder import QueryBuilder

    if not isinstance(spec, dict):
        raise ApiError(400, "the body must be a JSON object with 'path' (and 'filters', 'project', 'order_by'...)")
    unknown = set(spec) - _KEYS
    if unknown:
        raise ApiError(400, f"unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}")
    path, filters, project = spec.get("path"), spec.get("filters") or {}, spec.get("project") or {}
    if not isinstance(path, list) or not path:
        raise ApiError(400, "'path' must be a non-empty list of entities")
    if not isinstance(filters, dict) or not isinstance(project, dict):
        raise ApiError(400, "'filters' and 'project' must be objects keyed by tag")
    qb = QueryBuilder()
    for index, item in enumerate(path):
        qb.append(**_append_arguments(index, item, filters, project))
    known_tags = {i.get("tag") for i in path} | {i.get("edge_tag") for i in path}
    stray = set(filters) | set(project)
    if stray - known_tags:
        raise ApiError(400, f"filters or projections for unknown tags {sorted(stray - known_tags)}")
    if spec.get("order_by"):
        qb.order_by(spec["order_by"])
    limit = spec.get("limit")
    if limit is None:
        limit = max_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= max_limit:
        raise ApiError(400, f"limit must be an integer between 0 and {max_limit}, not {limit!r}")
    qb.limit(limit)
    if spec.get("offset") is not None:
        qb.offset(spec["offset"])
    qb.distinct(bool(spec.get("distinct", False)))
    return qb


def _append_arguments(index: int, item: Any, filters: dict, project: dict) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ApiError(400, f"path item {index} must be an object, not {type(item).__name__}")
    unknown = set(item) - _PATH_KEYS
    if unknown:
        raise ApiError(400, f"path item {index}: unknown keys {sorted(unknown)}; known: {sorted(_PATH_KEYS)}")
    tag = item.get("tag") or f"e{index}"
    arguments: dict[str, Any] = {**_entity(item), "tag": tag, "subclassing": bool(item.get("subclassing", True)),
                                 "outerjoin": bool(item.get("outerjoin", False))}
    if tag in filters:
        arguments["filters"] = coerce_times(filters[tag])
    if tag in project:
        arguments["project"] = project[tag]
    keyword = item.get("joining_keyword")
    if keyword is not None:
        if not isinstance(keyword, str) or not keyword.startswith("with_"):
            raise ApiError(400, f"path item {index}: joining_keyword must be a with_* relationship, not {keyword!r}")
        arguments[keyword] = item.get("joining_value")
    edge_tag = item.get("edge_tag")
    if edge_tag is not None:
        arguments["edge_tag"] = edge_tag
        if edge_tag in filters:
            arguments["edge_filters"] = filters[edge_tag]
        if edge_tag in project:
            arguments["edge_project"] = project[edge_tag]
    return arguments
