"""Turn the QueryBuilder's user-facing arguments (classes, filter dicts, projections) into IR pieces."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import QueryError
from provgraph.orm.nodes.node import Node
from provgraph.query import validate
from provgraph.query.ir import And, Condition, EntityKind, Filter, Not, Or, Projection

ENTITY_TYPES = {
    "group": EntityKind.GROUP, "user": EntityKind.USER, "computer": EntityKind.COMPUTER,
    "comment": EntityKind.COMMENT, "log": EntityKind.LOG, "node": EntityKind.NODE,
}
_COMBINATORS = ("and", "or")
_NEGATIONS = ("~", "not")
#: deepest nesting of and/or/~ accepted in filters (deeper is refused before parsing or compiling recurses)
MAX_FILTER_DEPTH = 64
#: AiiDA's names of fields, per entity kind: ``id`` is the pk; a node's ``process_type`` is an attribute
_ALIASES: dict[EntityKind, dict[str, str]] = {
    EntityKind.NODE: {"id": "pk", "process_type": "attributes.process_type"},
    EntityKind.GROUP: {"id": "pk"},
    EntityKind.COMPUTER: {"id": "pk"},
    EntityKind.COMMENT: {"id": "pk"},
    EntityKind.LOG: {"id": "pk"},
}


def field_path(kind: EntityKind, name: Any, what: str = "field") -> tuple[str, ...]:
    """Check and split a field name as :func:`provgraph.query.validate.field_path`, after AiiDA's aliases."""
    if isinstance(name, str):
        name = _ALIASES.get(kind, {}).get(name, name)
    return validate.field_path(kind, name, what)


def process_target(cls: Any) -> tuple[Any, str | None]:
    """Return ``(node class, process_type)`` for a Process class or process function, else ``(cls, None)``.

    A list of classes becomes a tuple (AiiDA accepts both).
    """
    if isinstance(cls, list):
        return tuple(cls), None
    process_class = getattr(cls, "process_class", None) if not isinstance(cls, type) else None
    if process_class is not None and callable(cls):
        cls = process_class
    node_class = getattr(cls, "_node_class", None)
    if isinstance(cls, type) and isinstance(node_class, type) and issubclass(node_class, Node) \
            and callable(getattr(cls, "process_type", None)):
        return node_class, cls.process_type()
    return cls, None


def process_type_filter(process_type: str) -> Filter:
    """The filter selecting the nodes of one process class."""
    return Condition(("attributes", "process_type"), "==", process_type)


def entity_of(cls: Any, entity_type: str | None, subclassing: bool) -> tuple[EntityKind, tuple[str, ...],
                                                                             tuple[str, ...] | None]:
    """Return (kind, labels any of which must match, exact node types or None) of what is appended."""
    if cls is None and entity_type is None:
        raise QueryError("append needs a class (e.g. Int, (Int, Float)) or entity_type='group'|'user'|...")
    if cls is None:
        kind = ENTITY_TYPES.get(str(entity_type).lower())
        if kind is None:
            raise QueryError(f"unknown entity type {entity_type!r}; known: {', '.join(ENTITY_TYPES)}")
        return kind, (), None
    classes = cls if isinstance(cls, tuple) else (cls,)
    if not classes:
        raise QueryError("append got an empty tuple of classes")
    kinds = {_kind_of(item) for item in classes}
    if len(kinds) != 1:
        raise QueryError("the classes of one append must all be nodes, or all the same entity type")
    kind = kinds.pop()
    if kind is not EntityKind.NODE:
        return kind, (), None
    if subclassing:
        return kind, tuple(item.__name__ for item in classes if item is not Node), None
    from provgraph.orm.nodes.registry import node_type_of

    return kind, (), tuple(node_type_of(item) for item in classes)


def _kind_of(item: Any) -> EntityKind:
    if isinstance(item, type) and issubclass(item, Node):
        return EntityKind.NODE
    name = getattr(item, "__name__", "")
    for prefix, kind in ENTITY_TYPES.items():
        if name.lower() in (prefix, f"{prefix}record"):
            return kind
    raise QueryError(f"cannot query {item!r}: give a Node class or an entity type")


def parse_projections(kind: EntityKind | None, project: Any) -> tuple[tuple[Projection, ...], list[str]]:
    """Return the projections of one append (``kind`` None: of a link) and their names for ``dict()``."""
    if project is None:
        return (), []
    items = [project] if isinstance(project, str) else project
    if not isinstance(items, (list, tuple)):
        raise QueryError(f"project takes a string or a list of strings, not {project!r}")
    projections = []
    for item in items:
        if item == "*":
            path: tuple[str, ...] = ("*",)
        elif kind is None:
            path = validate.edge_field(item)
        else:
            path = field_path(kind, item, "projection")
        projections.append(Projection(path))
    return tuple(projections), [str(item) for item in items]


def parse_filters(kind: EntityKind, spec: dict | None) -> Filter | None:
    """Parse ``{field: value | {operator: value}, 'or': [...], 'and': [...], '~': {...}}``."""
    if spec is None:
        return None
    return _parse(spec, lambda name: field_path(kind, name, "filter field"))


def parse_edge_filters(spec: dict | None) -> Filter | None:
    """Parse filters on a link's ``label`` and ``type``."""
    if spec is None:
        return None
    return _parse(spec, validate.edge_field)


def _parse(spec: Any, field: Any, depth: int = 0) -> Filter:
    _check_depth(depth)
    if not isinstance(spec, dict):
        raise QueryError(f"filters must be a dict, not {type(spec).__name__}")
    items: list[Filter] = []
    for key, value in spec.items():
        if key in _COMBINATORS:
            items.append(_combine(key, value, lambda sub: _parse(sub, field, depth + 1)))
        elif key in _NEGATIONS:
            items.append(Not(_parse(value, field, depth + 1)))
        else:
            items.append(_field_filter(field(key), value, depth + 1))
    return items[0] if len(items) == 1 else And(tuple(items))


def _check_depth(depth: int) -> None:
    """Refuse filters nested deeper than :data:`MAX_FILTER_DEPTH` (parsing and compiling them recurse)."""
    if depth > MAX_FILTER_DEPTH:
        raise QueryError(f"filters are nested more than {MAX_FILTER_DEPTH} levels deep ('and', 'or', '~'); "
                         "flatten them (a list under one 'or' takes any number of alternatives)")


def _combine(key: str, value: Any, parse: Any) -> Filter:
    if not isinstance(value, (list, tuple)):
        raise QueryError(f"{key!r} takes a list of filters, not {type(value).__name__}")
    parts = tuple(parse(item) for item in value)
    return And(parts) if key == "and" else Or(parts)


def _field_filter(path: tuple[str, ...], value: Any, depth: int = 0) -> Filter:
    _check_depth(depth)
    if not (isinstance(value, dict) and value and all(isinstance(k, str) for k in value)):
        validate.value(value, path)
        return Condition(path, "==", value)
    looks_like_operators = all(_is_operator_key(k) for k in value)
    if not looks_like_operators:
        bad = next(k for k in value if not _is_operator_key(k))
        raise QueryError(f"unknown operator {bad!r} in the filter on {'.'.join(path)!r} "
                         f"(to compare with a dict, use {{'==': {{...}}}})")
    items: list[Filter] = []
    for key, operand in value.items():
        if key in _COMBINATORS:
            items.append(_combine(key, operand, lambda sub: _field_filter(path, sub, depth + 1)))
        elif key in _NEGATIONS:
            items.append(Not(_field_filter(path, operand, depth + 1)))
        else:
            op, negated = validate.operator("!" + key[1:] if key.startswith("~") else key)
            validate.operand(op, operand, path)
            validate.value(operand, path)
            items.append(Condition(path, op, list(operand) if isinstance(operand, tuple) else operand, negated))
    return items[0] if len(items) == 1 else And(tuple(items))


def _is_operator_key(key: str) -> bool:
    bare = key[1:] if key[:1] in "!~" and key != "!=" else key
    return bare in validate.OPERATORS or key in _COMBINATORS or key in _NEGATIONS
