"""The QueryBuilder's own description of a query: ``as_dict()``, ``from_dict()`` and the constructor arguments.

The dict has AiiDA's top-level keys (``path``, ``filters``, ``project``, ``order_by``, ``limit``,
``offset``, ``distinct``). Each path entry names what was appended: ``entity_type`` (the node
type string of a node class, a list of them for several classes, or ``group``/``user``/...),
``orm_base``, ``tag``, ``joining_keyword``/``joining_value`` (the relationship), ``edge_tag``,
``outerjoin``, ``subclassing`` and, for a Process class, its ``process_type``. Filters and
projections are kept as the user gave them, keyed by tag (a link's by its edge tag, or in the
path entry as ``edge_filters``/``edge_project`` when the link has no tag).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import NotExistent, QueryError, StoringError
from provgraph.query.ir import And, Edge, EntityKind

if TYPE_CHECKING:
    from provgraph.orm.querybuilder import QueryBuilder

_PATH_KEYS = frozenset({"cls", "entity_type", "tag", "filters", "project", "subclassing", "edge_tag",
                        "edge_filters", "edge_project", "outerjoin", "orm_base", "joining_keyword",
                        "joining_value", "process_type", "type"})


class QuerySpec:
    """What was appended, filtered, projected and ordered, as the user said it."""

    def __init__(self) -> None:
        self.path: list[dict[str, Any]] = []
        self.filters: dict[str, Any] = {}
        self.project: dict[str, list[Any]] = {}
        self.order: list[dict[str, list[Any]]] = []
        self._classes: list[tuple[Any, str]] = []

    def record_append(self, tag: str, original: Any, cls: Any, entity_type: str | None, kind: EntityKind,
                      subclassing: bool, process_type: str | None, relationship: dict[str, str],
                      filters: dict | None, project: Any, edge: Edge | None, edge_filters: dict | None,
                      edge_project: Any, outerjoin: bool) -> None:
        """Record one ``append`` (already validated by the QueryBuilder)."""
        (keyword, target), = relationship.items() if relationship else ((None, None),)
        entry = {
            "entity_type": _entity_type(cls, entity_type, kind), "orm_base": kind.value, "tag": tag,
            "joining_keyword": keyword, "joining_value": target, "edge_tag": edge.tag if edge else None,
            "outerjoin": bool(outerjoin), "subclassing": bool(subclassing), "process_type": process_type,
        }
        edge_items = _as_list(edge_project)
        if edge is not None and edge.tag is not None:
            if edge_filters is not None:
                self.filters[edge.tag] = copy.deepcopy(edge_filters)
            self.project[edge.tag] = edge_items
        elif edge_filters is not None:
            entry["edge_filters"] = copy.deepcopy(edge_filters)
        self.path.append(entry)
        if filters is not None:
            self.filters[tag] = copy.deepcopy(filters)
        self.project[tag] = _as_list(project)
        if original is not None:
            self._classes.append((original, tag))

    def add_filters(self, tag: str, filters: dict) -> None:
        """Record filters added to ``tag`` (AND-ed with the earlier ones)."""
        if tag in self.filters:
            self.filters[tag] = {"and": [self.filters[tag], copy.deepcopy(filters)]}
        else:
            self.filters[tag] = copy.deepcopy(filters)

    def add_projections(self, tag: str, projection: Any) -> None:
        """Record projections added to ``tag``."""
        self.project[tag] = self.project.get(tag, []) + _as_list(projection)

    def add_order(self, tag: str, items: list[Any]) -> None:
        """Record one ``{tag: [fields]}`` of ``order_by``."""
        self.order.append({tag: copy.deepcopy(items)})

    def tag_of_class(self, cls: Any) -> str:
        """The tag of the one vertex appended with ``cls``.

        :raises QueryError: when ``cls`` was appended never or more than once
        """
        tags = [tag for known, tag in self._classes if known is cls or _same(known, cls)]
        name = getattr(cls, "__name__", repr(cls))
        if not tags:
            raise QueryError(f"{name} is not a tag of this query, nor a class appended to it")
        if len(tags) > 1:
            raise QueryError(f"{name} was appended {len(tags)} times ({', '.join(tags)}): use a tag")
        return tags[0]

    def as_dict(self, limit: int | None, offset: int | None, distinct: bool) -> dict[str, Any]:
        """The JSON-shaped description (a deep copy)."""
        return copy.deepcopy({"path": self.path, "filters": self.filters, "project": self.project,
                              "order_by": self.order, "limit": limit, "offset": offset, "distinct": distinct})


def _same(known: Any, cls: Any) -> bool:
    try:
        return bool(known == cls) and type(known) is type(cls)
    except Exception:  # noqa: BLE001 - an exotic __eq__ cannot match a class
        return False


def _as_list(project: Any) -> list[Any]:
    if project is None:
        return []
    return [project] if isinstance(project, str) else list(project)


def _entity_type(cls: Any, entity_type: str | None, kind: EntityKind) -> str | list[str]:
    if kind is not EntityKind.NODE:
        return kind.value
    if cls is None:
        return str(entity_type)
    from provgraph.orm.nodes.registry import node_type_of

    classes = cls if isinstance(cls, tuple) else (cls,)
    types = [_type_or_name(node_type_of, item) for item in classes]
    return types[0] if not isinstance(cls, tuple) else types


def _type_or_name(node_type_of: Any, cls: Any) -> str:
    """The node type of ``cls``; for a class registered nowhere its name (``from_dict`` then refuses it)."""
    try:
        return node_type_of(cls)
    except StoringError:
        return f"unregistered:{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"


def _classes_of(entity_type: Any) -> Any:
    from provgraph.orm.nodes.registry import node_class

    try:
        if isinstance(entity_type, list):
            return tuple(node_class(_own_type(item)) for item in entity_type)
        return node_class(_own_type(entity_type))
    except (NotExistent, TypeError) as exc:
        raise QueryError(f"unknown entity type {entity_type!r} in the query description: {exc}") from exc


def _own_type(entity_type: str) -> str:
    """AiiDA writes ``data.core.int.Int.``; provgraph's type is ``data.core.int``."""
    if not isinstance(entity_type, str):
        raise TypeError(f"an entity type is a string, not {type(entity_type).__name__}")
    if entity_type.endswith(".") and entity_type.count(".") >= 2:
        return entity_type[:-1].rsplit(".", 1)[0]
    return entity_type


def apply_constructor(qb: QueryBuilder, path: list | None, filters: dict | None, project: dict | None,
                      order_by: Any) -> None:
    """Apply the ``path``/``filters``/``project``/``order_by`` arguments of ``QueryBuilder(...)``."""
    if path is not None:
        if not isinstance(path, (list, tuple)):
            raise QueryError(f"path must be a list of classes or dicts, not {type(path).__name__}")
        for item in path:
            _append_item(qb, item, {})
    for name, value in (("filters", filters), ("project", project)):
        if value is not None and not isinstance(value, dict):
            raise QueryError(f"{name} must be a dict keyed by tag, not {type(value).__name__}")
    for key, value in (filters or {}).items():
        qb.add_filter(key, value)
    for key, value in (project or {}).items():
        qb.add_projection(key, value)
    if order_by:
        qb.order_by(order_by)


def _append_item(qb: QueryBuilder, item: Any, edge_specs: dict[str, tuple[Any, Any]]) -> None:
    if not isinstance(item, dict):
        qb.append(item)
        return
    unknown = set(item) - _PATH_KEYS - {name for name in item if name.startswith("with_")}
    if unknown:
        raise QueryError(f"unknown keys in a path entry: {', '.join(sorted(unknown))}")
    kwargs = {k: v for k, v in item.items() if k not in ("cls", "orm_base", "joining_keyword", "joining_value",
                                                         "process_type", "type", "entity_type")}
    cls = item.get("cls")
    orm_base = item.get("orm_base", "node")
    if cls is None and "entity_type" in item:
        if orm_base == "node":
            cls = _classes_of(item["entity_type"])
        else:
            kwargs["entity_type"] = item["entity_type"]
    if item.get("joining_keyword"):
        kwargs[item["joining_keyword"]] = item["joining_value"]
    edge_tag = item.get("edge_tag")
    if edge_tag in edge_specs:
        edge_filters, edge_project = edge_specs[edge_tag]
        kwargs.setdefault("edge_filters", edge_filters)
        kwargs.setdefault("edge_project", edge_project or None)
    qb.append(cls, **kwargs)
    process_type = item.get("process_type")
    if process_type:
        from provgraph.orm.querybuilder_parse import process_type_filter

        vertex = qb._vertices[-1]
        combined = process_type_filter(process_type) if vertex.filters is None else And(
            (vertex.filters, process_type_filter(process_type)))
        qb._vertices[-1] = dataclasses.replace(vertex, filters=combined)
        qb._spec.path[-1]["process_type"] = process_type


def from_dict(cls: type[QueryBuilder], data: dict[str, Any]) -> QueryBuilder:
    """Build the query that ``data`` (an ``as_dict()`` result) describes.

    :raises QueryError: when ``data`` is not a query description
    """
    if not isinstance(data, dict) or not isinstance(data.get("path"), list):
        raise QueryError("a query description is a dict with a 'path' list (as QueryBuilder.as_dict() returns)")
    filters, project = dict(data.get("filters") or {}), dict(data.get("project") or {})
    edge_tags = {entry.get("edge_tag") for entry in data["path"] if isinstance(entry, dict)} - {None}
    edges = {tag: (filters.pop(tag, None), project.pop(tag, None)) for tag in edge_tags}
    qb = cls(limit=data.get("limit"), offset=data.get("offset"), distinct=bool(data.get("distinct", False)))
    for entry in data["path"]:
        if not isinstance(entry, dict):
            raise QueryError(f"a path entry of a query description is a dict, not {type(entry).__name__}")
        _append_item(qb, entry, edges)
    for key, value in filters.items():
        if value:
            qb.add_filter(key, value)
    for key, value in project.items():
        if value:
            qb.add_projection(key, value)
    if data.get("order_by"):
        qb.order_by(data["order_by"])
    return qb
