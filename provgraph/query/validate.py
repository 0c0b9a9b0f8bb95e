"""Allow-lists for everything a user names in a query: tags, fields, operators, paths.

Nothing a user types reaches query text unchecked: tags never appear in it at
all (the compilers use generated variable names), fields and operators come
from the tables below, and attribute/extra keys are checked here and quoted by
the compiler. Errors speak the user's terms (unknown tag, unknown field...).
"""

from __future__ import annotations

import re
from typing import Any

from provgraph.exceptions import QueryError
from provgraph.query.ir import EntityKind, Relationship

_TAG = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

#: plain fields of each entity kind; attribute/extra paths are allowed on nodes in addition
FIELDS: dict[EntityKind, frozenset[str]] = {
    EntityKind.NODE: frozenset({"pk", "uuid", "node_type", "label", "description", "ctime", "mtime", "user",
                                "hash", "computer"}),
    EntityKind.GROUP: frozenset({"pk", "uuid", "label", "type_string", "description", "user", "time"}),
    EntityKind.USER: frozenset({"email", "first_name", "last_name", "institution"}),
    EntityKind.COMPUTER: frozenset({"pk", "uuid", "label", "hostname", "transport_type", "scheduler_type",
                                    "description", "workdir"}),
    EntityKind.COMMENT: frozenset({"pk", "uuid", "content", "user", "ctime", "mtime", "node_pk"}),
    EntityKind.LOG: frozenset({"pk", "uuid", "message", "levelname", "loggername", "time", "node_pk"}),
}
EDGE_FIELDS = frozenset({"label", "type"})
NESTED_SECTIONS = ("attributes", "extras")

OPERATORS = frozenset({"==", "!=", ">", ">=", "<", "<=", "in", "like", "ilike", "has_key", "contains",
                       "of_length", "longer", "shorter", "of_type"})
OF_TYPES = frozenset({"int", "float", "str", "bool", "list", "dict", "null"})

#: which relationships each vertex kind may use, and the kind of vertex they point at
RELATIONSHIPS: dict[Relationship, dict[EntityKind, EntityKind]] = {
    Relationship.WITH_INCOMING: {EntityKind.NODE: EntityKind.NODE},
    Relationship.WITH_OUTGOING: {EntityKind.NODE: EntityKind.NODE},
    Relationship.WITH_ANCESTORS: {EntityKind.NODE: EntityKind.NODE},
    Relationship.WITH_DESCENDANTS: {EntityKind.NODE: EntityKind.NODE},
    Relationship.WITH_GROUP: {EntityKind.NODE: EntityKind.GROUP},
    Relationship.WITH_USER: {EntityKind.NODE: EntityKind.USER, EntityKind.GROUP: EntityKind.USER},
    Relationship.WITH_COMPUTER: {EntityKind.NODE: EntityKind.COMPUTER},
    Relationship.WITH_COMMENT: {EntityKind.NODE: EntityKind.COMMENT},
    Relationship.WITH_LOG: {EntityKind.NODE: EntityKind.LOG},
    Relationship.WITH_NODE: {kind: EntityKind.NODE for kind in (EntityKind.GROUP, EntityKind.USER,
                                                                EntityKind.COMPUTER, EntityKind.COMMENT,
                                                                EntityKind.LOG)},
}


def tag(value: Any) -> str:
    """Return ``value`` if it is a valid tag (an identifier of at most 64 characters)."""
    if not isinstance(value, str) or not _TAG.fullmatch(value):
        raise QueryError(f"invalid tag {value!r}: use letters, digits and '_', not starting with a digit")
    return value


def field_path(kind: EntityKind, path: Any, what: str = "field") -> tuple[str, ...]:
    """Split and check a projection/filter/order path such as ``attributes.energy.total``."""
    if not isinstance(path, str) or not path:
        raise QueryError(f"a {what} must be a non-empty string, not {path!r}")
    head, _, rest = path.partition(".")
    if head in NESTED_SECTIONS and kind is EntityKind.NODE:
        if not rest:
            return (head,)
        parts = tuple(rest.split("."))
        if any(part == "" or "\x00" in part for part in parts):
            raise QueryError(f"invalid {what} {path!r}: empty or NUL key in the path")
        return (head, *parts)
    if path not in FIELDS[kind]:
        known = ", ".join(sorted(FIELDS[kind]) + ([f"{s}.<key>" for s in NESTED_SECTIONS]
                                                  if kind is EntityKind.NODE else []))
        raise QueryError(f"unknown {what} {path!r} for a {kind.value}; known: {known}")
    return (path,)


def edge_field(path: Any) -> tuple[str, ...]:
    """Check a field of a link (``label`` or ``type``)."""
    if path not in EDGE_FIELDS:
        raise QueryError(f"unknown link field {path!r}; known: {', '.join(sorted(EDGE_FIELDS))}")
    return (path,)


def operator(name: Any) -> tuple[str, bool]:
    """Return ``(operator, negated)`` for ``name``; a leading ``!`` negates (``!in``, ``!==``)."""
    if not isinstance(name, str):
        raise QueryError(f"an operator must be a string, not {name!r}")
    negated = name.startswith("!") and name != "!="
    bare = name[1:] if negated else name
    if bare not in OPERATORS:
        raise QueryError(f"unknown operator {name!r}; known: {', '.join(sorted(OPERATORS))} (prefix '!' negates)")
    return bare, negated


def operand(op: str, value: Any, path: tuple[str, ...]) -> None:
    """Refuse a value that makes no sense for ``op`` (in the user's terms)."""
    shown = ".".join(path)
    if op in ("in",) and not isinstance(value, (list, tuple)):
        raise QueryError(f"operator 'in' on {shown!r} needs a list of values, not {type(value).__name__}")
    if op in ("like", "ilike") and not isinstance(value, str):
        raise QueryError(f"operator {op!r} on {shown!r} needs a string pattern, not {type(value).__name__}")
    if op in (">", ">=", "<", "<=") and (isinstance(value, (dict, list, tuple, bool)) or value is None):
        raise QueryError(f"operator {op!r} on {shown!r} compares numbers, strings or dates, not {value!r}")
    if op in ("of_length", "longer", "shorter") and (isinstance(value, bool) or not isinstance(value, int)):
        raise QueryError(f"operator {op!r} on {shown!r} needs an integer length, not {value!r}")
    if op == "has_key" and not isinstance(value, str):
        raise QueryError(f"operator 'has_key' on {shown!r} needs a key string, not {value!r}")
    if op == "of_type" and value not in OF_TYPES:
        raise QueryError(f"operator 'of_type' on {shown!r} takes one of {sorted(OF_TYPES)}, not {value!r}")
    if op == "contains" and not isinstance(value, (list, tuple)):
        raise QueryError(f"operator 'contains' on {shown!r} needs a list of values, not {type(value).__name__}")
    nested_only = op in ("has_key", "contains", "of_length", "longer", "shorter", "of_type")
    if nested_only and path[0] not in NESTED_SECTIONS:
        raise QueryError(f"operator {op!r} applies to attributes or extras, not to the field {shown!r}")
