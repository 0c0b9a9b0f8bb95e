"""QueryBuilder: AiiDA's query front end, building the backend-neutral IR of ``provgraph.query.ir``.

Example::

    qb = QueryBuilder()
    qb.append(Int, tag="x", filters={"attributes.value": {">": 5}}, project=["pk", "attributes.value"])
    qb.append(CalcFunctionNode, with_incoming="x", tag="c", edge_filters={"label": "x"}, project="*")
    qb.order_by({"c": {"ctime": "desc"}}).limit(10)
    qb.all()

The backend of the current profile compiles and runs the query; ``as_cypher()``
shows the statement and its parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from provgraph.exceptions import MultipleObjectsError, NotExistent, QueryError
from provgraph.orm.backend import get_backend
from provgraph.orm.querybuilder_parse import (
    entity_of,
    field_path,
    parse_edge_filters,
    parse_filters,
    parse_projections,
    process_target,
    process_type_filter,
)
from provgraph.orm.querybuilder_spec import QuerySpec, apply_constructor, from_dict
from provgraph.orm.utils import node_from_record
from provgraph.query import validate
from provgraph.query.ir import And, Edge, EntityKind, OrderBy, Query, Relationship, Vertex
from provgraph.storage.base import NodeRecord


@dataclass(frozen=True)
class CompiledQuery:
    """A query as the backend will run it: statement text and parameters."""

    text: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.text}\n-- params: {self.params}"


class QueryBuilder:
    """Query nodes, links, groups, users, computers, comments and logs.

    As in AiiDA, the whole query can also be given to the constructor:
    ``QueryBuilder(path=[Int, {'cls': CalcFunctionNode, 'with_incoming': 'Int_1'}],
    filters={'Int_1': {...}}, project={...}, order_by=..., limit=..., offset=..., distinct=...)``.
    Wherever a tag is expected, the class appended once under it works too
    (``order_by={Int: 'id'}``, ``with_incoming=Int``); ``'id'`` is ``'pk'``.
    """

    def __init__(self, *, path: list | None = None, filters: dict | None = None, project: dict | None = None,
                 order_by: Any = None, limit: int | None = None, offset: int | None = None,
                 distinct: bool = False, **unknown: Any) -> None:
        if unknown:
            raise QueryError(f"QueryBuilder got unexpected arguments: {', '.join(sorted(unknown))}")
        self._vertices: list[Vertex] = []
        self._names: dict[str, list[str]] = {}
        self._order: list[OrderBy] = []
        self._limit, self._offset, self._distinct = None, None, bool(distinct)
        self._spec = QuerySpec()
        if limit is not None:
            self.limit(limit)
        if offset is not None:
            self.offset(offset)
        apply_constructor(self, path, filters, project, order_by)

    # -- building --------------------------------------------------------------------------
    def append(self, cls: Any = None, *, entity_type: str | None = None, tag: str | None = None,
               filters: dict | None = None, project: Any = None, subclassing: bool = True,
               edge_tag: str | None = None, edge_filters: dict | None = None, edge_project: Any = None,
               outerjoin: bool = False, **relationship: Any) -> QueryBuilder:
        """Add an entity to the query path.

        ``cls`` is a node class, a tuple or list of them, a Process class (its process nodes,
        e.g. a WorkChain or a calcfunction), or ``entity_type='group'|'user'|...``.

        :raises QueryError: unknown tag, relationship, field or operator, or a value an operator cannot take
        """
        original = cls
        cls, process_type = process_target(cls)
        kind, labels, node_types = entity_of(cls, entity_type, subclassing)
        tag = validate.tag(tag) if tag is not None else self._fresh_tag(cls, entity_type)
        known = {v.tag for v in self._vertices} | {v.edge.tag for v in self._vertices if v.edge and v.edge.tag}
        if tag in known:
            raise QueryError(f"tag {tag!r} is already used in this query")
        relationship = {name: self._tag_of(target) for name, target in relationship.items()}
        edge = self._edge(kind, relationship, edge_tag, edge_filters, edge_project)
        if edge is not None and edge.tag is not None and (edge.tag in known or edge.tag == tag):
            raise QueryError(f"edge tag {edge.tag!r} is already used in this query")
        projections, names = parse_projections(kind, project)
        parsed = parse_filters(kind, filters)
        if process_type is not None:
            parsed = And(tuple(f for f in (parsed, process_type_filter(process_type)) if f is not None))
        vertex = Vertex(tag=tag, kind=kind, labels=labels, node_types=node_types,
                        filters=parsed, projections=projections, edge=edge,
                        outerjoin=bool(outerjoin))
        self._vertices.append(vertex)
        self._names[tag] = names
        self._spec.record_append(tag, original, cls, entity_type, kind, subclassing, process_type, relationship,
                                 filters, project, edge, edge_filters, edge_project, outerjoin)
        return self

    def _tag_of(self, key: Any) -> str:
        """The tag of ``key``: a tag string, or a class appended exactly once."""
        if isinstance(key, str):
            return key
        return self._spec.tag_of_class(key)

    def _fresh_tag(self, cls: Any, entity_type: str | None) -> str:
        """AiiDA's default tag: the class name and a number from 1 (``Int_1``, ``Int_2``...)."""
        if isinstance(cls, tuple):
            cls = cls[0] if len(cls) == 1 else None
        base = getattr(cls, "__name__", None) or entity_type or "entity"
        base = "".join(ch for ch in str(base) if ch.isalnum() or ch == "_") or "entity"
        base = base if base[0].isalpha() else f"e_{base}"
        used = {v.tag for v in self._vertices} | {v.edge.tag for v in self._vertices if v.edge and v.edge.tag}
        number = 1
        while f"{base}_{number}" in used:
            number += 1
        return validate.tag(f"{base}_{number}"[:64])

    def _edge(self, kind: EntityKind, relationship: dict[str, str], edge_tag: str | None,
              edge_filters: dict | None, edge_project: Any) -> Edge | None:
        if len(relationship) > 1:
            raise QueryError(f"give one relationship per append, not {', '.join(sorted(relationship))}")
        if not relationship:
            if self._vertices:
                raise QueryError("say how this entity relates to an earlier one, e.g. with_incoming='tag'")
            if edge_tag or edge_filters or edge_project:
                raise QueryError("the first appended entity has no link to filter or project")
            return None
        (name, target), = relationship.items()
        try:
            rel = Relationship(name)
        except ValueError:
            raise QueryError(f"unknown relationship {name!r}; known: "
                             f"{', '.join(r.value for r in Relationship)}") from None
        vertices = {v.tag: v for v in self._vertices}
        if target not in vertices:
            raise QueryError(f"{name}={target!r}: unknown tag; tags so far: {', '.join(vertices) or 'none'}")
        expected = validate.RELATIONSHIPS[rel].get(kind)
        if expected is None or vertices[target].kind is not expected:
            raise QueryError(f"{name} cannot relate a {kind.value} to the {vertices[target].kind.value} {target!r}")
        is_link = rel in (Relationship.WITH_INCOMING, Relationship.WITH_OUTGOING)
        if (edge_tag or edge_filters or edge_project) and not is_link:
            raise QueryError(f"edge tags, filters and projections need with_incoming/with_outgoing, not {name}")
        edge_projections, edge_names = parse_projections(None, edge_project)
        if edge_projections and not edge_tag:
            edge_tag = f"{target}__edge_{len(self._vertices)}"
        if edge_tag is not None:
            validate.tag(edge_tag)
            self._names[edge_tag] = edge_names
        return Edge(rel, target, edge_tag, parse_edge_filters(edge_filters), edge_projections)

    def add_filter(self, tag: Any, filters: dict) -> QueryBuilder:
        """Add filters to the entity ``tag`` (or its class), combined with its existing ones by AND."""
        tag = self._tag_of(tag)
        index = self._index(tag)
        vertex = self._vertices[index]
        extra = parse_filters(vertex.kind, filters)
        combined = extra if vertex.filters is None else And((vertex.filters, extra))
        self._vertices[index] = dataclasses.replace(vertex, filters=combined)
        self._spec.add_filters(tag, filters)
        return self

    def add_projection(self, tag: Any, projection: Any) -> QueryBuilder:
        """Add projections to the entity ``tag`` (or its class)."""
        tag = self._tag_of(tag)
        index = self._index(tag)
        vertex = self._vertices[index]
        projections, names = parse_projections(vertex.kind, projection)
        self._vertices[index] = dataclasses.replace(vertex, projections=vertex.projections + projections)
        self._names[tag] = self._names[tag] + names
        self._spec.add_projections(tag, projection)
        return self

    def _index(self, tag: Any) -> int:
        tag = self._tag_of(tag)
        for index, vertex in enumerate(self._vertices):
            if vertex.tag == tag:
                return index
        raise QueryError(f"unknown tag {tag!r}; tags: {', '.join(v.tag for v in self._vertices) or 'none'}")

    def order_by(self, order: dict | list) -> QueryBuilder:
        """Sort by ``{tag: field}``, ``{tag: {field: 'asc'|'desc'}}`` or ``{tag: [..]}`` (a list of such dicts).

        A class appended once can stand for its tag (``{Int: {'id': 'desc'}}``).
        """
        for spec in order if isinstance(order, list) else [order]:
            if not isinstance(spec, dict):
                raise QueryError(f"order_by takes {{tag: field}} dicts, not {spec!r}")
            for key, fields in spec.items():
                tag = self._tag_of(key)
                kind = self._vertices[self._index(tag)].kind
                items = fields if isinstance(fields, list) else [fields]
                for item in items:
                    self._order.append(_order_item(tag, kind, item))
                self._spec.add_order(tag, items)
        return self

    def limit(self, count: int) -> QueryBuilder:
        """Return at most ``count`` rows."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise QueryError(f"limit must be a non-negative integer, not {count!r}")
        self._limit = count
        return self

    def offset(self, count: int) -> QueryBuilder:
        """Skip the first ``count`` rows."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise QueryError(f"offset must be a non-negative integer, not {count!r}")
        self._offset = count
        return self

    def distinct(self, value: bool = True) -> QueryBuilder:
        """Return each distinct row once."""
        self._distinct = bool(value)
        return self

    # -- serialising -----------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """The query as a dict (``path``, ``filters``, ``project``, ``order_by``, ``limit``, ``offset``,
        ``distinct``), from which :meth:`from_dict` builds the same query again."""
        return self._spec.as_dict(self._limit, self._offset, self._distinct)

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> QueryBuilder:
        """The query described by ``dictionary`` (as :meth:`as_dict` returns it).

        :raises QueryError: when the dict is not a query description
        """
        return from_dict(cls, dictionary)

    # -- the IR ----------------------------------------------------------------------------
    def as_ir(self) -> Query:
        """The intermediate representation of the query as built so far."""
        if not self._vertices:
            raise QueryError("the query is empty: append an entity first")
        vertices = list(self._vertices)
        if not any(v.projections or (v.edge and v.edge.projections) for v in vertices):
            vertices[-1] = dataclasses.replace(vertices[-1], projections=parse_projections(vertices[-1].kind, "*")[0])
            self._names[vertices[-1].tag] = ["*"]
        return Query(tuple(vertices), tuple(self._order), self._limit, self._offset, self._distinct)

    def as_cypher(self) -> CompiledQuery:
        """The statement and parameters the backend runs (Cypher on a neo4j profile)."""
        text, params = get_backend().queries.compile(self.as_ir())
        return CompiledQuery(text, params)

    # -- results ---------------------------------------------------------------------------
    def iterall(self, batch_size: int = 1000) -> Iterator[list[Any]]:
        """Yield rows, streaming ``batch_size`` at a time from the server."""
        for row in get_backend().queries.iterate(self.as_ir(), batch_size):
            yield [_front(value) for value in row]

    def all(self, batch_size: int = 1000, flat: bool = False) -> list[Any]:
        """Every row (a list of projected values); ``flat`` chains the rows into one list."""
        rows = list(self.iterall(batch_size))
        return [value for row in rows for value in row] if flat else rows

    def first(self, flat: bool = False) -> Any:
        """The first row, or None when there are no rows."""
        saved = self._limit
        self._limit = 1 if saved is None else min(saved, 1)
        try:
            rows = self.all()
        finally:
            self._limit = saved
        if not rows:
            return None
        return rows[0][0] if flat and len(rows[0]) == 1 else rows[0]

    def one(self) -> list[Any]:
        """The only row.

        :raises NotExistent: when there is no row
        :raises MultipleObjectsError: when there is more than one
        """
        saved = self._limit
        self._limit = 2 if saved is None else min(saved, 2)
        try:
            rows = self.all()
        finally:
            self._limit = saved
        if not rows:
            raise NotExistent("the query returned no row, expected exactly one")
        if len(rows) > 1:
            raise MultipleObjectsError("the query returned more than one row, expected exactly one")
        return rows[0]

    def count(self) -> int:
        """The number of rows (ignoring limit and offset)."""
        return get_backend().queries.count(self.as_ir())

    def iterdict(self, batch_size: int = 1000) -> Iterator[dict[str, dict[str, Any]]]:
        """Yield rows as ``{tag: {projection: value}}``."""
        ir = self.as_ir()
        keys = [(tag, name) for tag in _tags_in_order(ir) for name in self._names.get(tag, [])]
        for row in self.iterall(batch_size):
            result: dict[str, dict[str, Any]] = {}
            for (tag, name), value in zip(keys, row, strict=True):
                result.setdefault(tag, {})[name] = value
            yield result

    def dict(self, batch_size: int = 1000) -> list[dict[str, dict[str, Any]]]:
        """Every row as ``{tag: {projection: value}}``."""
        return list(self.iterdict(batch_size))


def _tags_in_order(query: Query) -> list[str]:
    tags = []
    for vertex in query.vertices:
        if vertex.projections:
            tags.append(vertex.tag)
        if vertex.edge and vertex.edge.tag and vertex.edge.projections:
            tags.append(vertex.edge.tag)
    return tags


def _order_item(tag: str, kind: EntityKind, item: Any) -> OrderBy:
    if isinstance(item, str):
        return OrderBy(tag, field_path(kind, item, "order field"))
    if isinstance(item, dict) and len(item) == 1:
        (name, direction), = item.items()
        if isinstance(direction, dict):
            direction = direction.get("order", "asc")
        if direction not in ("asc", "desc"):
            raise QueryError(f"order direction must be 'asc' or 'desc', not {direction!r}")
        return OrderBy(tag, field_path(kind, name, "order field"), direction == "desc")
    raise QueryError(f"cannot order by {item!r}")


def _front(value: Any) -> Any:
    """Wrap records of ``*`` projections into ORM objects (nodes, groups, users, computers)."""
    from provgraph.orm.computers import Computer, User
    from provgraph.orm.groups import Group
    from provgraph.storage.entities import ComputerRecord, GroupRecord, UserRecord

    if isinstance(value, NodeRecord):
        return node_from_record(value)
    if isinstance(value, GroupRecord):
        return Group._from_record(value)
    if isinstance(value, ComputerRecord):
        return Computer._from_record(value)
    if isinstance(value, UserRecord):
        return User(value)
    return value
