"""Compile the QueryBuilder IR (``provgraph.query.ir``) into one parameterised Cypher statement.

Vertices become variables ``v0, v1...`` and links ``e0, e1...``: the user's tags
never appear in the text. Values always go to parameters ``$p0, $p1...``.
Labels come from validated names and are backtick-quoted; a property key is written
into the text only when it is plain (see :mod:`provgraph.storage.neo4j.cypher_names`),
otherwise it is read as ``v0[$pN]`` with the key as a parameter.
Ancestor/descendant relationships are variable-length expansions over
INPUT_CALC and CREATE inside a ``CALL`` subquery returning DISTINCT end nodes,
which Neo4j runs as a pruning breadth-first search: each node is visited once,
however many paths lead to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provgraph.common.json import dumps
from provgraph.common.links import PROVENANCE_LINKS, LinkType
from provgraph.exceptions import QueryError
from provgraph.query.ir import And, Condition, EntityKind, Not, Or, Query, Relationship, Vertex
from provgraph.query.patterns import like_to_regex
from provgraph.storage.neo4j.cypher_names import label as quote_label
from provgraph.storage.neo4j.cypher_names import property_access
from provgraph.storage.neo4j.properties import (
    INT64_MAX,
    INT64_MIN,
    encoded_key,
    is_native,
    property_key,
    subtree_prefixes,
)

KIND_LABELS = {EntityKind.NODE: "Node", EntityKind.GROUP: "Group", EntityKind.USER: "User",
               EntityKind.COMPUTER: "Computer", EntityKind.COMMENT: "Comment", EntityKind.LOG: "Log"}
ALL_LINKS = "|".join(t.value for t in LinkType)
PROVENANCE = "|".join(t.value for t in PROVENANCE_LINKS)
OF_TYPE_PREFIX = {"int": "INTEGER", "float": "FLOAT", "str": "STRING", "bool": "BOOLEAN", "list": "LIST"}


@dataclass
class Compiled:
    """Cypher text, its parameters, and how to read each returned column."""

    text: str
    params: dict[str, Any]
    columns: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)


class _Compiler:
    def __init__(self, query: Query) -> None:
        self.query = query
        self.params: dict[str, Any] = {}
        self.var = {v.tag: f"v{i}" for i, v in enumerate(query.vertices)}
        self.kind = {v.tag: v.kind for v in query.vertices}
        for i, vertex in enumerate(query.vertices):
            if vertex.edge and vertex.edge.tag:
                self.var[vertex.edge.tag] = f"e{i}"

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def prop(self, var: str, key: str) -> str:
        """Read property ``key`` of ``var``; keys that are not plain travel as parameters."""
        return property_access(var, key, self.param)

    # -- MATCH clauses -------------------------------------------------------------------
    def match_clauses(self) -> list[str]:
        clauses = []
        for index, vertex in enumerate(self.query.vertices):
            var = self.var[vertex.tag]
            where = [w for w in (self.type_condition(vertex, var), self.filter_text(vertex.filters, vertex.tag)) if w]
            if vertex.edge is None:
                if index:
                    raise QueryError(f"vertex {vertex.tag!r} must be related to an earlier one (e.g. with_incoming=)")
                clauses.append(f"MATCH ({var}{self.label_expr(vertex)})" + _where(where))
                continue
            clauses.append(self.related(vertex, var, where, index))
        return clauses

    def type_condition(self, vertex: Vertex, var: str) -> str:
        if vertex.node_types is not None:
            return f"{var}.node_type IN {self.param(list(vertex.node_types))}"
        return ""

    def label_expr(self, vertex: Vertex) -> str:
        """``:`Int`|`Float``` for the classes asked for (any of them), else the entity's own label."""
        own = quote_label(KIND_LABELS[vertex.kind])
        if not vertex.labels:
            return f":{own}"
        # the kind's own label keeps its pk/uuid indexes usable next to the class labels
        return f":{own}&(" + "|".join(quote_label(name) for name in vertex.labels) + ")"

    def related(self, vertex: Vertex, var: str, where: list[str], index: int) -> str:
        edge = vertex.edge
        target = self.var[edge.target]
        own = self.label_expr(vertex)[1:]
        evar = f"e{index}"
        if edge.filters is not None:
            where = where + [self.filter_text(edge.filters, edge.tag or evar, edge=evar)]
        match = "OPTIONAL MATCH" if vertex.outerjoin else "MATCH"
        rel = edge.relationship
        if rel is Relationship.WITH_INCOMING:
            return f"{match} ({target})-[{evar}:{ALL_LINKS}]->({var}:{own})" + _where(where)
        if rel is Relationship.WITH_OUTGOING:
            return f"{match} ({var}:{own})-[{evar}:{ALL_LINKS}]->({target})" + _where(where)
        if rel in (Relationship.WITH_ANCESTORS, Relationship.WITH_DESCENDANTS):
            if vertex.outerjoin:
                raise QueryError(f"outerjoin is not available with {rel.value}")
            arrow = f"-[:{PROVENANCE}*1..]->"
            if rel is Relationship.WITH_ANCESTORS:
                pattern = f"({target}){arrow}(x:Node)"
            else:
                pattern = f"(x:Node){arrow}({target})"
            if vertex.labels:
                where = [f"{var}:{own}", *where]
            return (f"CALL ({target}) {{ MATCH {pattern} RETURN DISTINCT x AS {var} }}"
                    + (f" WITH * WHERE {' AND '.join(where)}" if where else ""))
        return self.entity_relation(vertex, var, target, own, where, match)

    def entity_relation(self, vertex: Vertex, var: str, target: str, own: str, where: list[str], match: str) -> str:
        rel, kind = vertex.edge.relationship, vertex.kind
        if rel is Relationship.WITH_GROUP:
            return f"{match} ({target})-[:MEMBER]->({var}:{own})" + _where(where)
        if rel is Relationship.WITH_COMMENT:
            return f"{match} ({target})-[:ON]->({var}:{own})" + _where(where)
        if rel is Relationship.WITH_LOG:
            return f"{match} ({target})-[:OF]->({var}:{own})" + _where(where)
        if rel is Relationship.WITH_USER:
            return f"{match} ({var}:{own})" + _where([f"{var}.user = {target}.email", *where])
        if rel is Relationship.WITH_COMPUTER:
            return f"{match} ({var}:{own})" + _where([f"{var}.computer = {target}.label", *where])
        # WITH_NODE: the entity attached to node `target`
        if kind is EntityKind.GROUP:
            return f"{match} ({var}:{own})-[:MEMBER]->({target})" + _where(where)
        if kind is EntityKind.COMMENT:
            return f"{match} ({var}:{own})-[:ON]->({target})" + _where(where)
        if kind is EntityKind.LOG:
            return f"{match} ({var}:{own})-[:OF]->({target})" + _where(where)
        if kind is EntityKind.USER:
            return f"{match} ({var}:{own})" + _where([f"{var}.email = {target}.user", *where])
        return f"{match} ({var}:{own})" + _where([f"{var}.label = {target}.computer", *where])

    # -- filters ---------------------------------------------------------------------------
    def filter_text(self, node: Any, tag: str, edge: str | None = None) -> str:
        if node is None:
            return ""
        if isinstance(node, (And, Or)):
            joiner = " AND " if isinstance(node, And) else " OR "
            if not node.items:
                return "true" if isinstance(node, And) else "false"
            return "(" + joiner.join(self.filter_text(i, tag, edge) for i in node.items) + ")"
        # a missing property makes a comparison null, which WHERE drops like false; only under
        # a negation must null become false explicitly, and plain predicates keep indexes usable
        if isinstance(node, Not):
            return f"(NOT coalesce({self.filter_text(node.item, tag, edge)}, false))"
        text = self.condition(node, edge or self.var[tag])
        return f"(NOT coalesce({text}, false))" if node.negated else f"({text})"

    def condition(self, cond: Condition, var: str) -> str:
        op, value, path = cond.operator, cond.value, cond.path
        if var.startswith("e"):
            subject = f"type({var})" if path == ("type",) else f"{var}.label"
            return self.scalar_condition(subject, op, value)
        if len(path) == 1 and path[0] not in ("attributes", "extras"):
            return self.scalar_condition(self.prop(var, path[0]), op, value)
        return self.nested_condition(var, path, op, value)

    def scalar_condition(self, subject: str, op: str, value: Any) -> str:
        if op == "==":
            return f"{subject} = {self.param(value)}"
        if op == "!=":
            return f"{subject} <> {self.param(value)}"
        if op in (">", ">=", "<", "<="):
            return f"{subject} {op} {self.param(value)}"
        if op == "in":
            return f"{subject} IN {self.param(list(value))}"
        if op in ("like", "ilike"):
            return f"{subject} =~ {self.param(like_to_regex(value, op == 'ilike'))}"
        raise QueryError(f"operator {op!r} cannot be used on this field")

    def nested_condition(self, var: str, path: tuple[str, ...], op: str, value: Any) -> str:
        section, keys = path[0], list(path[1:])
        if op == "has_key":
            return self.has_key(var, section, keys + [value])
        if not keys:
            raise QueryError(f"operator {op!r} needs a key below {section!r} (e.g. '{section}.value')")
        native = self.prop(var, property_key(section, keys))
        encoded = self.prop(var, encoded_key(section, keys))
        if op in ("==", "!="):
            test = self.equality(native, encoded, value, path)
            return test if op == "==" else f"NOT ({test})"
        if op == "in":
            natives = [v for v in value if _native_scalar(v)]
            others = [dumps(v) for v in value if not _native_scalar(v)]
            return f"({native} IN {self.param(natives)} OR {encoded} IN {self.param(others)})"
        if op == "contains":
            return f"all(item IN {self.param(list(value))} WHERE item IN {native})"
        if op in ("of_length", "longer", "shorter"):
            sign = {"of_length": "=", "longer": ">", "shorter": "<"}[op]
            empty = f" OR ({encoded} = '[]' AND 0 {sign} {self.param(value)})"
            return f"(size({native}) {sign} {self.param(value)}{empty})"
        if op == "of_type":
            return self.of_type(var, section, keys, native, encoded, value)
        return self.scalar_condition(native, op, value)

    def equality(self, native: str, encoded: str, value: Any, path: tuple[str, ...]) -> str:
        if isinstance(value, dict) and value:
            raise QueryError(f"'==' on {'.'.join(path)!r} with a non-empty dict: filter on its keys instead")
        if is_native(value):
            return f"{native} = {self.param(value)}"
        return f"{encoded} = {self.param(dumps(value))}"

    def has_key(self, var: str, section: str, keys: list[str]) -> str:
        leaf, enc = property_key(section, keys), encoded_key(section, keys)
        below, enc_below = subtree_prefixes(section, keys)
        return (f"any(k IN keys({var}) WHERE k IN {self.param([leaf, enc])} OR k STARTS WITH {self.param(below)} "
                f"OR k STARTS WITH {self.param(enc_below)})")

    def of_type(self, var: str, section: str, keys: list[str], native: str, encoded: str, kind: str) -> str:
        if kind == "null":
            return f"{encoded} = 'null'"
        if kind == "dict":
            below, enc_below = subtree_prefixes(section, keys)
            return (f"({encoded} STARTS WITH '{{' OR any(k IN keys({var}) WHERE k STARTS WITH {self.param(below)} "
                    f"OR k STARTS WITH {self.param(enc_below)}))")
        test = f"valueType({native}) STARTS WITH '{OF_TYPE_PREFIX[kind]}'"
        if kind == "list":
            return f"({test} OR {encoded} STARTS WITH '[')"
        if kind == "int":
            return f"({test} OR {encoded} =~ '-?[0-9]+')"
        return test

    # -- projections, ordering -------------------------------------------------------------
    def column(self, tag: str, path: tuple[str, ...], is_edge: bool) -> str:
        var = self.var[tag]
        if is_edge:
            return f"type({var})" if path == ("type",) else f"{var}.label"
        if path == ("*",):
            return var
        if path[0] in ("attributes", "extras"):
            prefixes = ([path[0], f"{path[0]}~json"] if len(path) == 1
                        else [property_key(path[0], path[1:]), encoded_key(path[0], path[1:])])
            p = self.param(prefixes)
            pairs = f"[k IN keys({var}) WHERE any(pre IN {p} WHERE k = pre OR k STARTS WITH pre + '.') | [k, {var}[k]]]"
            if len(path) == 1:
                return pairs
            # a leaf held natively comes back as it is, as [value, null]: no key scan, no decoding
            native = self.prop(var, property_key(path[0], path[1:]))
            return f"CASE WHEN {native} IS NULL THEN [null, {pairs}] ELSE [{native}, null] END"
        return self.prop(var, path[0])

    def order_expr(self, tag: str, path: tuple[str, ...]) -> str:
        var = self.var[tag]
        if path[0] in ("attributes", "extras"):
            if len(path) == 1:
                raise QueryError(f"cannot order by the whole {path[0]}; give a key, e.g. '{path[0]}.value'")
            return self.prop(var, property_key(path[0], path[1:]))
        return self.prop(var, path[0])


def _where(conditions: list[str]) -> str:
    conditions = [c for c in conditions if c]
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _native_scalar(value: Any) -> bool:
    if isinstance(value, bool) or isinstance(value, (str, float)):
        return True
    return isinstance(value, int) and INT64_MIN <= value <= INT64_MAX


def compile_query(query: Query, count: bool = False) -> Compiled:
    """Return the Cypher statement for ``query`` (or for counting its rows)."""
    compiler = _Compiler(query)
    clauses = compiler.match_clauses()
    columns = query.columns()
    exprs = [compiler.column(tag, path, is_edge) for tag, path, is_edge in columns]
    names = [f"c{i}" for i in range(len(exprs))]
    projection = ", ".join(f"{e} AS {n}" for e, n in zip(exprs, names, strict=True))
    distinct = "DISTINCT " if query.distinct else ""
    if count:
        counting = [f"WITH {distinct}{projection}"] if projection else []
        text = "\n".join(clauses + counting + ["RETURN count(*) AS n"])
        return Compiled(text, compiler.params)
    orders = [(compiler.order_expr(o.tag, o.path), o.descending) for o in query.order_by]
    order_names = [f"o{i}" for i in range(len(orders))]
    hidden = "".join(f", {expr} AS {name}" for (expr, _), name in zip(orders, order_names, strict=True))
    tail = [f"WITH {distinct}{projection}{hidden}"]
    if orders:
        tail.append("ORDER BY " + ", ".join(f"{n}{' DESC' if d else ''}"
                                            for n, (_, d) in zip(order_names, orders, strict=True)))
    if query.offset:
        tail.append(f"SKIP {compiler.param(int(query.offset))}")
    if query.limit is not None:
        tail.append(f"LIMIT {compiler.param(int(query.limit))}")
    tail.append("RETURN " + ", ".join(names))
    return Compiled("\n".join(clauses + tail), compiler.params, columns)
