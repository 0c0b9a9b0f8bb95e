"""The backend-neutral intermediate representation of a QueryBuilder query.

Frozen dataclasses only: the front end (``provgraph.orm.querybuilder``) builds a
:class:`Query`, and each backend compiles it (``provgraph.query.cypher``). Nothing
here is Cypher or SQL; every name in it was validated by :mod:`provgraph.query.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class EntityKind(str, Enum):
    """What a vertex of the query stands for."""

    NODE = "node"
    GROUP = "group"
    USER = "user"
    COMPUTER = "computer"
    COMMENT = "comment"
    LOG = "log"


class Relationship(str, Enum):
    """How a vertex relates to an earlier one (the QueryBuilder's ``with_*`` keywords)."""

    WITH_INCOMING = "with_incoming"
    WITH_OUTGOING = "with_outgoing"
    WITH_ANCESTORS = "with_ancestors"
    WITH_DESCENDANTS = "with_descendants"
    WITH_GROUP = "with_group"
    WITH_NODE = "with_node"
    WITH_USER = "with_user"
    WITH_COMPUTER = "with_computer"
    WITH_COMMENT = "with_comment"
    WITH_LOG = "with_log"


@dataclass(frozen=True)
class Condition:
    """``path operator value``; ``path`` is e.g. ``("pk",)`` or ``("attributes", "energy", "total")``."""

    path: tuple[str, ...]
    operator: str
    value: Any
    negated: bool = False


@dataclass(frozen=True)
class And:
    """All of ``items`` hold."""

    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    """At least one of ``items`` holds."""

    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    """``item`` does not hold."""

    item: Filter


Filter = Condition | And | Or | Not


@dataclass(frozen=True)
class Projection:
    """One projected column: ``("*",)`` for the entity itself, else a field or attribute path."""

    path: tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    """The link between a vertex and the earlier vertex ``target`` it is related to."""

    relationship: Relationship
    target: str
    tag: str | None = None
    filters: Filter | None = None
    projections: tuple[Projection, ...] = ()


@dataclass(frozen=True)
class Vertex:
    """One appended entity.

    :param labels: class-tree labels of which the node must carry at least one (subclassing); empty: any
    :param node_types: exact node types the node must have (``subclassing=False``), or None
    """

    tag: str
    kind: EntityKind
    labels: tuple[str, ...] = ()
    node_types: tuple[str, ...] | None = None
    filters: Filter | None = None
    projections: tuple[Projection, ...] = ()
    edge: Edge | None = None
    outerjoin: bool = False


@dataclass(frozen=True)
class OrderBy:
    """Sort by ``path`` of vertex ``tag``."""

    tag: str
    path: tuple[str, ...]
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A whole query: vertices in append order, ordering, paging, distinct."""

    vertices: tuple[Vertex, ...]
    order_by: tuple[OrderBy, ...] = ()
    limit: int | None = None
    offset: int | None = None
    distinct: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def columns(self) -> list[tuple[str, tuple[str, ...], bool]]:
        """Every projected column as ``(tag, path, is_edge)``, in result order."""
        cols = []
        for vertex in self.vertices:
            cols += [(vertex.tag, p.path, False) for p in vertex.projections]
            if vertex.edge and vertex.edge.tag:
                cols += [(vertex.edge.tag, p.path, True) for p in vertex.edge.projections]
        return cols
