"""Compile the QueryBuilder IR (``provgraph.query.ir``) into one parameterised SQL statement for sqlite.

The answers are those of the Cypher compiler (:mod:`provgraph.storage.neo4j.compiler`), row for row.
Vertices become table aliases ``v0, v1...``, links ``e0, e1...``: the user's tags never appear in
the text. Values always go to named parameters ``:p0, :p1...``; column names come from the
allow-lists of :mod:`provgraph.query.validate` and are double-quoted; class labels are checked
as identifiers and still travel as parameters. Attribute and extra paths are handled by
:mod:`provgraph.storage.sqlite.sql_json`.

``with_ancestors``/``with_descendants`` are recursive CTEs over INPUT_CALC and CREATE links,
seeded with the start nodes the rest of the query allows and joined with UNION (not UNION ALL):
each ``(start, node)`` pair enters the work queue once, so the cost grows with the nodes reached,
never with the number of paths. A sub-query in the WHERE of an outer-joined vertex behaves as
Cypher's OPTIONAL MATCH ... WHERE: the vertex's own conditions sit in the join's ON clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provgraph.common.links import PROVENANCE_LINKS
from provgraph.exceptions import QueryError, ValidationError
from provgraph.query.ir import And, Condition, EntityKind, Not, Or, Query, Relationship, Vertex
from provgraph.query.validate import NESTED_SECTIONS
from provgraph.storage.sqlite import schema
from provgraph.storage.sqlite.sql_json import INT64_MAX, INT64_MIN, NestedConditions, glob_pattern, like_pattern

KIND_TABLE = {EntityKind.NODE: schema.nodes, EntityKind.GROUP: schema.groups, EntityKind.USER: schema.users,
              EntityKind.COMPUTER: schema.computers, EntityKind.COMMENT: schema.comments,
              EntityKind.LOG: schema.logs}
#: the column identifying one entity (what DISTINCT needs of a ``*`` projection)
IDENTITY = {kind: ("email" if kind is EntityKind.USER else "pk") for kind in EntityKind}
INT_FIELDS = frozenset({"pk", "node_pk"})
TIME_FIELDS = frozenset({"ctime", "mtime", "time"})
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_LINK_TYPE = re.compile(r"[A-Z_]+")
PROVENANCE = ", ".join(f"'{t.value}'" for t in PROVENANCE_LINKS if _LINK_TYPE.fullmatch(t.value))
_COMPARISONS = {"==": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


@dataclass
class ColumnSpec:
    """One projected value: which entity kind (None for a link field), its path, and how many SQL columns it spans."""

    kind: EntityKind | None
    path: tuple[str, ...]
    width: int = 1


@dataclass
class Compiled:
    """SQL text, its parameters, how to read each returned column, and how many sort columns trail them."""

    text: str
    params: dict[str, Any]
    columns: list[ColumnSpec] = field(default_factory=list)
    hidden: int = 0
    uses_function: bool = False


def quote(column: str) -> str:
    """Double-quote a column name taken from the schema or the validated field lists."""
    if not isinstance(column, str) or not re.fullmatch(r"[a-z_]+", column):
        raise QueryError(f"unknown field {column!r}")
    return f'"{column}"'


def check_label(name: str) -> str:
    """Return ``name`` if it is a plain class name, else refuse it (as the Cypher side does)."""
    if not isinstance(name, str) or not _LABEL.fullmatch(name):
        raise ValidationError(f"{name!r} is not a valid class or label name (letters, digits, '_')")
    return name


class _Compiler:
    def __init__(self, query: Query) -> None:
        self.query = query
        self.params: dict[str, Any] = {}
        self.alias = {v.tag: f"v{i}" for i, v in enumerate(query.vertices)}
        self.kind = {v.tag: v.kind for v in query.vertices}
        self.outer = {v.tag: v.outerjoin for v in query.vertices}
        for i, vertex in enumerate(query.vertices):
            if vertex.edge and vertex.edge.tag:
                self.alias[vertex.edge.tag] = f"e{i}"
        self.nested = NestedConditions(self.param)
        self.ctes: list[str] = []
        self.joins: list[str] = []
        self.wheres: list[list[str]] = []

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    # -- FROM / JOIN -----------------------------------------------------------------------
    def compile_vertices(self) -> None:
        for index, vertex in enumerate(self.query.vertices):
            alias = f"v{index}"
            # filters first: they usually reject more rows than the class test
            conds = [c for c in (self.filter_sql(vertex.filters, alias, vertex.kind),
                                 self.type_condition(vertex, alias)) if c]
            table = KIND_TABLE[vertex.kind].name
            if vertex.edge is None:
                if index:
                    raise QueryError(f"vertex {vertex.tag!r} must be related to an earlier one (e.g. with_incoming=)")
                self.joins.append(f"FROM {table} AS {alias}")
                self.wheres.append(conds)
                continue
            if vertex.edge.filters is not None:
                conds.append(self.filter_sql(vertex.edge.filters, f"e{index}", None))
            self.joins.append(self.related(index, vertex, alias, table, conds))

    def type_condition(self, vertex: Vertex, alias: str) -> str:
        if vertex.node_types is not None:
            return f"{alias}.node_type IN (SELECT value FROM json_each({self.param(_json(list(vertex.node_types)))}))"
        if vertex.labels:
            tests = [f"instr({alias}.labels, {self.param('|' + check_label(name) + '|')}) > 0"
                     for name in vertex.labels]
            return "(" + " OR ".join(tests) + ")"
        return ""

    def related(self, index: int, vertex: Vertex, alias: str, table: str, conds: list[str]) -> str:
        edge = vertex.edge
        target = self.alias[edge.target]
        rel = edge.relationship
        middle = own = ""
        if rel in (Relationship.WITH_INCOMING, Relationship.WITH_OUTGOING):
            near, far = ("source", "target") if rel is Relationship.WITH_INCOMING else ("target", "source")
            middle = f"links AS e{index} ON e{index}.{near} = {target}.pk"
            own = f"{alias}.pk = e{index}.{far}"
        elif rel in (Relationship.WITH_ANCESTORS, Relationship.WITH_DESCENDANTS):
            if vertex.outerjoin:
                raise QueryError(f"outerjoin is not available with {rel.value}")
            self.closure(index, rel, target)
            middle = f"c{index} AS r{index} ON r{index}.start = {target}.pk"
            own = f"{alias}.pk = r{index}.pk"
        elif rel is Relationship.WITH_GROUP or (rel is Relationship.WITH_NODE and vertex.kind is EntityKind.GROUP):
            near, far = ("group_pk", "node_pk") if rel is Relationship.WITH_GROUP else ("node_pk", "group_pk")
            middle = f"group_nodes AS m{index} ON m{index}.{near} = {target}.pk"
            own = f"{alias}.pk = m{index}.{far}"
        else:
            own = self.direct(rel, vertex.kind, alias, target)
        if vertex.outerjoin:
            inside = " AND ".join([own, *conds])
            if middle:
                table_part, on = middle.split(" ON ", 1)
                self.wheres.append([])
                return f"LEFT JOIN ({table_part} JOIN {table} AS {alias} ON {inside}) ON {on}"
            self.wheres.append([])
            return f"LEFT JOIN {table} AS {alias} ON {inside}"
        self.wheres.append(conds)
        prefix = f"JOIN {middle} " if middle else ""
        return f"{prefix}JOIN {table} AS {alias} ON {own}"

    @staticmethod
    def direct(rel: Relationship, kind: EntityKind, alias: str, target: str) -> str:
        if rel in (Relationship.WITH_COMMENT, Relationship.WITH_LOG):
            return f"{alias}.pk = {target}.node_pk"
        if rel is Relationship.WITH_USER:
            return f'{alias}."user" = {target}.email'
        if rel is Relationship.WITH_COMPUTER:
            return f"{alias}.computer = {target}.label"
        if kind in (EntityKind.COMMENT, EntityKind.LOG):
            return f"{alias}.node_pk = {target}.pk"
        if kind is EntityKind.USER:
            return f'{alias}.email = {target}."user"'
        return f"{alias}.label = {target}.computer"

    def closure(self, index: int, rel: Relationship, target: str) -> None:
        """Add the recursive CTE ``c<index>(start, pk)`` of the nodes reached from each allowed start."""
        near, far = ("source", "target") if rel is Relationship.WITH_ANCESTORS else ("target", "source")
        seed = f"SELECT {target}.pk {self.body(index)}"
        self.ctes.append(
            f"c{index}(start, pk) AS (SELECT l.{near}, l.{far} FROM links AS l "
            f"WHERE l.type IN ({PROVENANCE}) AND l.{near} IN ({seed}) "
            f"UNION SELECT c.start, l.{far} FROM c{index} AS c JOIN links AS l ON l.{near} = c.pk "
            f"WHERE l.type IN ({PROVENANCE}))"
        )

    def body(self, upto: int | None = None) -> str:
        """FROM, JOINs and WHERE of the vertices before ``upto`` (all by default)."""
        upto = len(self.joins) if upto is None else upto
        conds = [c for where in self.wheres[:upto] for c in where]
        return " ".join(self.joins[:upto]) + (f" WHERE {' AND '.join(conds)}" if conds else "")

    # -- filters ---------------------------------------------------------------------------
    def filter_sql(self, node: Any, alias: str, kind: EntityKind | None) -> str:
        if node is None:
            return ""
        if isinstance(node, (And, Or)):
            if not node.items:
                return "(1)" if isinstance(node, And) else "(0)"
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(self.filter_sql(item, alias, kind) for item in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT coalesce({self.filter_sql(node.item, alias, kind)}, 0))"
        text = self.condition(node, alias, kind)
        return f"(NOT coalesce({text}, 0))" if node.negated else text

    def condition(self, cond: Condition, alias: str, kind: EntityKind | None) -> str:
        path = cond.path
        if kind is None:
            return self.field_condition(f"{alias}.{quote(path[0])}", "text", cond.operator, cond.value)
        if path[0] in NESTED_SECTIONS and kind is EntityKind.NODE:
            return self.nested.condition(f"{alias}.{quote(path[0])}", path, cond.operator, cond.value)
        return self.field_condition(f"{alias}.{quote(path[0])}", _field_type(path[0]), cond.operator, cond.value)

    def field_condition(self, subject: str, ftype: str, op: str, value: Any) -> str:
        """A condition on a plain column; values of another type never match (Cypher compares types)."""
        if op in _COMPARISONS:
            ok, bound = _field_value(ftype, value)
            if not ok:
                return f"({subject} IS NOT NULL)" if op == "!=" and value is not None else "(0)"
            return f"({subject} {_COMPARISONS[op]} {self.param(bound)})"
        if op == "in":
            kept = [bound for ok, bound in (_field_value(ftype, v) for v in value) if ok]
            return f"({subject} IN (SELECT value FROM json_each({self.param(_json(kept))})))"
        if op in ("like", "ilike"):
            if ftype != "text":
                return "(0)"
            if op == "like":
                return f"({subject} GLOB {self.param(glob_pattern(value))})"
            return f"({subject} LIKE {self.param(like_pattern(value))} ESCAPE '\\')"
        raise QueryError(f"operator {op!r} cannot be used on this field")

    # -- projections, ordering -------------------------------------------------------------
    def column(self, tag: str, path: tuple[str, ...], is_edge: bool) -> tuple[list[str], list[str], ColumnSpec]:
        """(select expressions, identity expressions for DISTINCT counts, spec) of one projection."""
        alias = self.alias[tag]
        if is_edge:
            expr = f"{alias}.{quote(path[0])}"
            return [expr], [expr], ColumnSpec(None, path)
        kind = self.kind[tag]
        if path == ("*",):
            exprs = [f"{alias}.{quote(c.name)}" for c in KIND_TABLE[kind].columns]
            return exprs, [f"{alias}.{quote(IDENTITY[kind])}"], ColumnSpec(kind, path, len(exprs))
        if path[0] in NESTED_SECTIONS and kind is EntityKind.NODE:
            expr = (f"{alias}.{quote(path[0])}" if len(path) == 1
                    else self.nested.value(f"{alias}.{quote(path[0])}", path[1:]).J)
            return [expr], [expr], ColumnSpec(kind, path)
        expr = f"{alias}.{quote(path[0])}"
        return [expr], [expr], ColumnSpec(kind, path)

    def order_terms(self, tag: str, path: tuple[str, ...]) -> tuple[str | None, str]:
        """(null/type rank or None, value) sorting like Cypher's ORDER BY (nulls last)."""
        alias, kind = self.alias[tag], self.kind[tag]
        if path[0] in NESTED_SECTIONS and kind is EntityKind.NODE:
            if len(path) == 1:
                raise QueryError(f"cannot order by the whole {path[0]}; give a key, e.g. '{path[0]}.value'")
            return self.nested.order_terms(f"{alias}.{quote(path[0])}", path[1:])
        expr = f"{alias}.{quote(path[0])}"
        column = KIND_TABLE[kind].columns[path[0]]
        if column.nullable or self.outer[tag]:
            return f"({expr} IS NULL)", expr
        return None, expr


def _field_type(name: str) -> str:
    if name in INT_FIELDS:
        return "int"
    return "time" if name in TIME_FIELDS else "text"


def _field_value(ftype: str, value: Any) -> tuple[bool, Any]:
    """Whether ``value`` can equal a column of type ``ftype``, and the value to bind."""
    if ftype == "int":
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)
                                        and INT64_MIN <= value <= INT64_MAX):
            return True, value
        return False, None
    if ftype == "time":
        if isinstance(value, datetime) and value.utcoffset() is not None:
            from provgraph.storage.sqlite.db import to_text

            return True, to_text(value)
        return False, None
    return (True, value) if isinstance(value, str) else (False, None)


def _json(values: list[Any]) -> str:
    import json

    return json.dumps(values, ensure_ascii=False)


def _clamp(count: int) -> int:
    return min(int(count), INT64_MAX)


def compile_query(query: Query, count: bool = False) -> Compiled:
    """Return the SQL statement for ``query`` (or for counting its rows)."""
    compiler = _Compiler(query)
    compiler.compile_vertices()
    selected, identities, specs = [], [], []
    for tag, path, is_edge in query.columns():
        exprs, identity, spec = compiler.column(tag, path, is_edge)
        selected += exprs
        identities += identity
        specs.append(spec)
    with_ = f"WITH RECURSIVE {', '.join(compiler.ctes)} " if compiler.ctes else ""
    distinct = "DISTINCT " if query.distinct else ""
    if count:
        if query.distinct:
            text = f"{with_}SELECT count(*) FROM (SELECT DISTINCT {', '.join(identities)} {compiler.body()})"
        else:
            text = f"{with_}SELECT count(*) {compiler.body()}"
        return Compiled(text, compiler.params, uses_function=compiler.nested.uses_function)
    hidden, order = [], []
    for order_by in query.order_by:
        rank, value = compiler.order_terms(order_by.tag, order_by.path)
        for expr in ([rank] if rank else []) + [value]:
            name = f"o{len(hidden)}"
            hidden.append(f"{expr} AS {name}")
            order.append(f"{name}{' DESC' if order_by.descending else ''}")
    text = f"{with_}SELECT {distinct}{', '.join(selected + hidden)} {compiler.body()}"
    if order:
        text += " ORDER BY " + ", ".join(order)
    if query.limit is not None or query.offset:
        limit = compiler.param(_clamp(query.limit)) if query.limit is not None else "-1"
        text += f" LIMIT {limit}"
        if query.offset:
            text += f" OFFSET {compiler.param(_clamp(query.offset))}"
    return Compiled(text, compiler.params, specs, len(hidden), compiler.nested.uses_function)
