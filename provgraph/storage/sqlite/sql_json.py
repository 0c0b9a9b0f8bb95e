"""SQL for filters on attribute and extra paths, with the semantics of the Cypher compiler.

Attributes and extras are canonical JSON text (see :mod:`provgraph.storage.sqlite.records`).
The Neo4j backend keeps a leaf *natively* when Neo4j can hold it (str, bool, int64, float,
non-empty lists of one of those kinds) and *encoded* otherwise (None, empty containers, mixed
lists, ints beyond 64 bits), and its Cypher filters see one or the other. To give identical
answers, the SQL here classifies the JSON value at a path the same way (``native``) and applies
the same rules: a string never equals a number, ``1 == 1.0``, ``>`` compares numbers with numbers
and strings with strings only, ``in`` matches native scalars by value and other values by their
canonical JSON text, ``contains``/``of_length`` look at native lists, and so on.

Paths never reach the SQL text unless every key is a plain identifier (``$.energy.total``, so
expression indexes such as ``json_extract(attributes, '$.process_state')`` stay usable); other
keys travel as a bound path parameter (``$."a b"``), and keys sqlite's path syntax cannot name
(holding ``"``, ``\\`` or control characters) are looked up by a Python function registered on
the connection (:data:`JSON_AT`). Values always travel as parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from provgraph.common.json import dumps
from provgraph.exceptions import QueryError

#: the SQL function (registered per connection by the runner) returning the JSON text at a key path
JSON_AT = "provgraph_json_at"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: keys written into the SQL text (fullmatch: ``$`` would let a trailing newline through)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_UNSAFE = re.compile(r'["\\\x00-\x1f]')
_OF_TYPE = {"null": "= 'null'", "dict": "= 'object'", "int": "= 'integer'", "float": "= 'real'",
            "str": "= 'text'", "bool": "IN ('true', 'false')", "list": "= 'array'"}
_ORDER_TYPES = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
#: the kind of each element of a JSON array, or NULL for elements a native Neo4j list cannot hold
_ELEMENT_KIND = ("CASE WHEN type IN ('true', 'false') THEN 'b' WHEN type = 'text' THEN 't' "
                 "WHEN type = 'real' THEN 'r' WHEN type = 'integer' AND typeof(atom) = 'integer' THEN 'i' END")
_SAME_ELEMENT = ("((h.type = 'text' AND w.type = 'text' AND h.atom = w.atom) "
                 "OR (h.type IN ('true', 'false') AND h.type = w.type) "
                 "OR (h.type IN ('integer', 'real') AND w.type IN ('integer', 'real') AND h.atom = w.atom))")


def json_at(document: str, keys: str) -> str | None:
    """The canonical JSON text of the value at the key path ``keys`` (a JSON list) in ``document``, or None."""
    if document is None:
        return None
    value = json.loads(document)
    for key in json.loads(keys):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def is_native(value: Any) -> bool:
    """Whether the Neo4j backend stores ``value`` natively (the classification its filters depend on)."""
    if isinstance(value, list):
        if not value:
            return False
        kind = type(value[0])
        return all(type(item) is kind and _native_scalar(item) for item in value)
    return _native_scalar(value)


def _native_scalar(value: Any) -> bool:
    if isinstance(value, (bool, str, float)):
        return True
    return isinstance(value, int) and INT64_MIN <= value <= INT64_MAX


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


class JsonValue:
    """SQL expressions for the JSON value at ``keys`` inside the JSON column ``column``.

    ``T`` is its JSON type (NULL when absent), ``V`` its SQL value, ``J`` its JSON text.
    """

    def __init__(self, column: str, keys: tuple[str, ...], param: Callable[[Any], str]) -> None:
        self.uses_function = False
        if not keys:
            path = "'$'"
        elif all(_IDENTIFIER.fullmatch(key) for key in keys):
            path = "'$." + ".".join(keys) + "'"
        elif not any(_UNSAFE.search(key) for key in keys):
            path = param("$." + ".".join(f'"{key}"' for key in keys))
        else:
            self.uses_function = True
            text = f"{JSON_AT}({column}, {param(json.dumps(list(keys)))})"
            self.T, self.V, self.J = f"json_type({text})", f"json_extract({text}, '$')", text
            return
        self.T = f"json_type({column}, {path})"
        self.V = f"json_extract({column}, {path})"
        self.J = f"({column} -> {path})"

    @property
    def number(self) -> str:
        """True when the value is a number the Neo4j backend stores natively (ints beyond 64 bits are not)."""
        return f"({self.T} = 'real' OR ({self.T} = 'integer' AND typeof({self.V}) = 'integer'))"

    @property
    def native(self) -> str:
        """True when the Neo4j backend would store the value natively; false when absent or encoded."""
        array = (f"(SELECT count(*) > 0 AND sum(k IS NULL) = 0 AND count(DISTINCT k) = 1 "
                 f"FROM (SELECT {_ELEMENT_KIND} AS k FROM json_each({self.J})))")
        return (f"(CASE {self.T} WHEN 'text' THEN 1 WHEN 'true' THEN 1 WHEN 'false' THEN 1 WHEN 'real' THEN 1 "
                f"WHEN 'integer' THEN typeof({self.V}) = 'integer' WHEN 'array' THEN {array} ELSE 0 END)")

    @property
    def encoded(self) -> str:
        """True when the Neo4j backend would store the value encoded: present, not native, not a non-empty dict.

        (A non-empty dict is flattened into its keys there, so no single value stands at its path.)
        """
        return f"({self.T} IS NOT NULL AND NOT {self.native} AND NOT ({self.T} = 'object' AND {self.J} <> '{{}}'))"


class NestedConditions:
    """Builds the SQL of one condition on an ``attributes``/``extras`` path."""

    def __init__(self, param: Callable[[Any], str]) -> None:
        self.param = param
        self.uses_function = False

    def value(self, column: str, keys: tuple[str, ...]) -> JsonValue:
        """The expressions of the value at ``keys`` in ``column`` (noting whether the lookup function is needed)."""
        found = JsonValue(column, keys, self.param)
        self.uses_function = self.uses_function or found.uses_function
        return found

    def condition(self, column: str, path: tuple[str, ...], op: str, operand: Any) -> str:
        """SQL for ``path op operand``; ``path[0]`` is the section, ``column`` its SQL column."""
        section, keys = path[0], path[1:]
        if op == "has_key":
            return f"({self.value(column, (*keys, operand)).T} IS NOT NULL)"
        if not keys:
            raise QueryError(f"operator {op!r} needs a key below {section!r} (e.g. '{section}.value')")
        at = self.value(column, keys)
        if op == "==":
            return self.equal(at, operand, path)
        if op == "!=":
            test = self.equal(at, operand, path)
            if is_native(operand):
                return f"({at.native} AND NOT {test})"
            return f"({at.encoded} AND NOT {test})"
        if op in _ORDER_TYPES:
            return self.compare(at, op, operand)
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            raise QueryError(f"operator {op!r} cannot be used on {'.'.join(path)!r}")
        return handler(at, operand)

    def equal(self, at: JsonValue, value: Any, path: tuple[str, ...]) -> str:
        """Equality as the Cypher compiler tests it: natively for native values, by JSON text otherwise."""
        if isinstance(value, dict) and value:
            raise QueryError(f"'==' on {'.'.join(path)!r} with a non-empty dict: filter on its keys instead")
        if isinstance(value, bool):
            return f"({at.T} = '{'true' if value else 'false'}')"
        if is_native(value) and _number(value):
            return f"({at.V} = {self.param(value)} AND {at.number})"
        if isinstance(value, str):
            return f"({at.V} = {self.param(value)} AND {at.T} = 'text')"
        if value is None:
            return f"({at.T} = 'null')"
        return f"({at.J} = {self.param(dumps(value))})"

    def compare(self, at: JsonValue, op: str, value: Any) -> str:
        """Ordering comparisons: numbers with numbers, strings with strings, nothing else (cheap test first)."""
        if _number(value):
            bound = value if INT64_MIN <= value <= INT64_MAX or isinstance(value, float) else float(value)
            return f"({at.V} {op} {self.param(bound)} AND {at.number})"
        if isinstance(value, str):
            return f"({at.V} {op} {self.param(value)} AND {at.T} = 'text')"
        return "(0)"

    def op_in(self, at: JsonValue, values: list[Any]) -> str:
        """Membership: native scalars by value and type, every other value by its canonical JSON text."""
        strings = [v for v in values if isinstance(v, str)]
        numbers = [v for v in values if _number(v) and _native_scalar(v)]
        others = [dumps(v) for v in values if not _native_scalar(v)]
        terms = []
        if strings:
            terms.append(f"({at.T} = 'text' AND {at.V} IN (SELECT value FROM json_each({self.param(_js(strings))})))")
        if numbers:
            terms.append(f"({at.number} AND {at.V} IN (SELECT value FROM json_each({self.param(_js(numbers))})))")
        for flag in (True, False):
            if any(v is flag for v in values):
                terms.append(f"({at.T} = '{'true' if flag else 'false'}')")
        if others:
            terms.append(f"({at.encoded} AND {at.J} IN (SELECT value FROM json_each({self.param(_js(others))})))")
        return "(" + " OR ".join(terms) + ")" if terms else "(0)"

    def op_like(self, at: JsonValue, pattern: str) -> str:
        """Case-sensitive LIKE on string values."""
        return f"({at.T} = 'text' AND {at.V} GLOB {self.param(glob_pattern(pattern))})"

    def op_ilike(self, at: JsonValue, pattern: str) -> str:
        """Case-insensitive (ASCII, as Cypher's ``(?i)``) LIKE on string values."""
        return f"({at.T} = 'text' AND {at.V} LIKE {self.param(like_pattern(pattern))} ESCAPE '\\')"

    def op_contains(self, at: JsonValue, values: list[Any]) -> str:
        """A native list holding every one of ``values`` (a native scalar counts as a one-item list, as in Cypher)."""
        if not values:
            return "(1)"
        wanted = self.param(_js(values))
        in_list = (f"NOT EXISTS (SELECT 1 FROM json_each({wanted}) AS w "
                   f"WHERE NOT EXISTS (SELECT 1 FROM json_each({at.J}) AS h WHERE {_SAME_ELEMENT}))")
        same = (f"(({at.T} = 'text' AND w.type = 'text' AND w.atom = {at.V}) OR ({at.T} = w.type AND w.type IN "
                f"('true', 'false')) OR ({at.number} AND w.type IN ('integer', 'real') AND w.atom = {at.V}))")
        scalar = f"NOT EXISTS (SELECT 1 FROM json_each({wanted}) AS w WHERE NOT {same})"
        return f"(CASE WHEN {at.T} = 'array' AND {at.native} THEN {in_list} WHEN {at.native} THEN {scalar} END)"

    def _length(self, at: JsonValue, sign: str, count: int) -> str:
        p = self.param(count)
        return (f"(CASE WHEN {at.T} = 'text' THEN length({at.V}) {sign} {p} "
                f"WHEN {at.T} = 'array' AND {at.native} THEN json_array_length({at.J}) {sign} {p} "
                f"WHEN {at.J} = '[]' THEN 0 {sign} {p} END)")

    def op_of_length(self, at: JsonValue, count: int) -> str:
        """A list (or string, as Cypher's ``size``) of exactly ``count`` items."""
        return self._length(at, "=", count)

    def op_longer(self, at: JsonValue, count: int) -> str:
        """A list (or string) of more than ``count`` items."""
        return self._length(at, ">", count)

    def op_shorter(self, at: JsonValue, count: int) -> str:
        """A list (or string) of fewer than ``count`` items."""
        return self._length(at, "<", count)

    def op_of_type(self, at: JsonValue, kind: str) -> str:
        """The JSON type of the value (``int`` includes ints beyond 64 bits)."""
        return f"({at.T} {_OF_TYPE[kind]})"

    def order_terms(self, column: str, keys: tuple[str, ...]) -> tuple[str, str]:
        """(type rank, value) sorting native values as Cypher does: lists, strings, booleans, numbers, then rest."""
        at = self.value(column, keys)
        rank = (f"(CASE WHEN {at.T} = 'text' THEN 1 WHEN {at.T} IN ('true', 'false') THEN 2 WHEN {at.number} THEN 3 "
                f"WHEN {at.T} = 'array' AND {at.native} THEN 0 ELSE 4 END)")
        value = (f"(CASE WHEN {at.T} IN ('text', 'true', 'false') OR {at.number} THEN {at.V} "
                 f"WHEN {at.T} = 'array' AND {at.native} THEN {at.J} END)")
        return rank, value


def _js(values: list[Any]) -> str:
    return json.dumps(values, ensure_ascii=False)


def _tokens(pattern: str) -> list[tuple[str, str]]:
    """Split a LIKE pattern as :func:`provgraph.query.patterns.like_to_regex` reads it."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "%_\\":
            out.append(("literal", pattern[index + 1]))
            index += 2
            continue
        out.append(("any", "") if char == "%" else ("one", "") if char == "_" else ("literal", char))
        index += 1
    return out


def glob_pattern(pattern: str) -> str:
    """The GLOB pattern (case-sensitive) matching what the LIKE ``pattern`` matches."""
    parts = []
    for kind, char in _tokens(pattern):
        if kind == "any":
            parts.append("*")
        elif kind == "one":
            parts.append("?")
        else:
            parts.append(f"[{char}]" if char in "*?[" else char)
    return "".join(parts)


def like_pattern(pattern: str) -> str:
    """The pattern for ``LIKE ... ESCAPE '\\'`` matching what ``pattern`` matches (ASCII case folded)."""
    parts = []
    for kind, char in _tokens(pattern):
        if kind == "any":
            parts.append("%")
        elif kind == "one":
            parts.append("_")
        else:
            parts.append("\\" + char if char in "%_\\" else char)
    return "".join(parts)
