"""The codec between a JSON-able dict (node attributes or extras) and flat Neo4j properties.

DESIGN §3: attributes and extras are flattened into dotted, prefixed property keys so that
every scalar leaf at any depth is a property of its own, which Cypher can filter, order and
index. :func:`flatten` writes, :func:`unflatten` reads back, and the round trip is lossless
for every value :func:`provgraph.common.json.clean_value` accepts (``1``, ``1.0`` and
``True`` come back as the types they went in as).

Scheme (``prefix`` is e.g. ``attributes`` or ``extras``):

- A *path* is the list of dict keys leading to a leaf. Each key becomes one *segment* by
  percent-escaping ``%`` (``%25``), ``.`` (``%2E``) and the characters Neo4j refuses in
  property keys (see below); every other character is kept, so ordinary keys stay readable.
  Segments are joined with ``.``: splitting on ``.`` is unambiguous and the empty key is
  the empty segment.
- A leaf Neo4j holds natively is stored under ``<prefix>.<segments>`` as itself: ``str``,
  ``bool``, ``int`` within signed 64 bits, ``float``, and non-empty lists whose items are
  all ``str``, all ``bool``, all ``float`` or all int64 (``bool`` and ``int`` never mix:
  ``[True, 1]`` is not native, and neither is ``[1, 2.0]``, which Neo4j would coerce).
- Every other leaf is stored *encoded* under ``<prefix>~json.<segments>`` as canonical
  JSON text (:func:`provgraph.common.json.dumps`): ``None`` (Neo4j drops null properties),
  ``{}``, ``[]``, mixed lists, lists holding ``None``, dicts or lists, and ints beyond
  int64. The ``~json`` head is a different first component from ``<prefix>``, so a real
  string can never be mistaken for an encoded one.
- A non-empty dict is never a leaf: it is the set of its children's keys. So an empty
  root dict gives no property at all, and ``{'a': {'b': {}}}`` gives one encoded leaf,
  ``attributes~json.a.b = '{}'``.
- Other properties (the fixed fields ``pk``, ``uuid``, ``label``..., and other prefixes)
  are ignored by :func:`unflatten`: only the first ``.``-separated component is matched.

Limits of Neo4j 5.26 Community (probed against the server; the test suite re-checks them):

- a property key may hold any character but NUL (U+0000): the server refuses NUL (and the
  empty key) with ``Neo.ClientError.Schema.TokenNameError``, so NUL is escaped as ``%00``;
  control characters, spaces, backticks and any Unicode are kept, and keys are not
  Unicode-normalised (``'é'`` and ``'e\u0301'`` are two keys);
- the record (aligned) store accepts keys far longer than any real one (100,000 characters
  were tried), and backtick-quoted Cypher reads them; but the block store format and the
  GQL standard cap identifiers at 16,383 characters, so :func:`flatten` refuses a leaf
  whose key would exceed :data:`MAX_KEY_LENGTH` with a ValidationError, and the data stay
  portable to every store format;
- a list mixing ints and floats is silently stored as floats (``[1, 2.5]`` comes back as
  ``[1.0, 2.5]``), a list mixing bools and ints is refused, and null properties are dropped:
  hence the encoded leaves;
- every distinct key becomes a property-key token that the database keeps forever, so
  keys made of data (e.g. one per uuid) are better kept in a list or one encoded leaf.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Any

from provgraph.common.json import clean_value, dumps, loads
from provgraph.exceptions import StorageError, ValidationError

__all__ = (
    "ENCODED_SUFFIX",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_KEY_LENGTH",
    "encoded_key",
    "escape_segment",
    "flatten",
    "is_native",
    "property_key",
    "subtree_prefixes",
    "unescape_segment",
    "unflatten",
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: Appended to a prefix to name the namespace of encoded leaves: ``attributes~json``.
ENCODED_SUFFIX = "~json"

#: Longest property key flatten produces, in characters: the GQL identifier limit, which
#: Neo4j's block store format enforces on token names.
MAX_KEY_LENGTH = 16_383

_SEPARATOR = "."
_PREFIX_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Characters escaped in a segment; everything else is kept as it is.
_ESCAPED = re.compile(r"[%.\x00]")
#: The escapes :func:`escape_segment` produces, and nothing else, are decoded.
_ESCAPE = re.compile(r"%(25|2E|00)|%")
_NATIVE_SCALARS = (str, bool, int, float)


def property_key(prefix: str, path: Iterable[str]) -> str:
    """Return the property key holding the *native* leaf at ``path`` under ``prefix``.

    For ``('attributes', ['energy', 'total'])`` that is ``'attributes.energy.total'``. The
    QueryBuilder compiler filters and orders on this key (quoting it with backticks). When
    the value at ``path`` is not native (``None``, an empty container, a mixed list, a big
    int...), this key is absent from the node and the value sits under
    :func:`encoded_key` instead; when it is a non-empty dict, both are absent and its
    leaves sit under the keys starting with :func:`subtree_prefixes`.

    :raises ValidationError: if ``prefix`` is not an identifier, ``path`` is empty or the
        key would exceed :data:`MAX_KEY_LENGTH`
    """
    return _key(_check_prefix(prefix), path)


def encoded_key(prefix: str, path: Iterable[str]) -> str:
    """Return the property key holding the *encoded* (JSON text) leaf at ``path``.

    For ``('attributes', ['energy', 'total'])`` that is ``'attributes~json.energy.total'``;
    its value, when present, is the canonical JSON text of the leaf (``'null'``, ``'[]'``,
    ``'[1,"a"]'``, ``'123456789012345678901234567890'``...). Comparing it to
    ``dumps(value)`` tests equality for such values; ordering on it is not meaningful.

    :raises ValidationError: as :func:`property_key`
    """
    return _key(_check_prefix(prefix) + ENCODED_SUFFIX, path)


def subtree_prefixes(prefix: str, path: Iterable[str]) -> tuple[str, str]:
    """Return the two key prefixes (native, encoded) of every leaf *below* ``path``.

    A key ``k`` lies strictly inside the dict at ``path`` when it starts with one of them,
    e.g. ``('attributes.energy.', 'attributes~json.energy.')``: what a ``has_key`` filter
    on a nested dict needs, together with :func:`property_key` and :func:`encoded_key`.
    """
    steps = list(path)
    return property_key(prefix, steps) + _SEPARATOR, encoded_key(prefix, steps) + _SEPARATOR


def escape_segment(key: str) -> str:
    """Return ``key`` as a property-key segment: ``%``, ``.`` and NUL percent-escaped."""
    return _ESCAPED.sub(lambda match: f"%{ord(match.group()):02X}", key)


def unescape_segment(segment: str) -> str:
    """Return the dict key a segment made by :func:`escape_segment` stands for.

    :raises StorageError: if ``segment`` holds an escape :func:`escape_segment` never makes
    """
    return _ESCAPE.sub(lambda match: _decode_escape(match, segment), segment)


def is_native(value: Any) -> bool:
    """Return whether Neo4j holds the (clean) ``value`` natively and gives it back unchanged."""
    if isinstance(value, list):
        return _is_native_list(value)
    return _is_native_scalar(value)


def flatten(prefix: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return the Neo4j properties that store the JSON-able dict ``data`` under ``prefix``.

    The result maps property keys to native values or to canonical JSON text (see the
    module docstring); it can be written with ``SET n += $props`` once the node's old keys
    of this prefix are removed.

    :raises ValidationError: if ``data`` is not a JSON-able dict, ``prefix`` is not an
        identifier, or a key path is too long for Neo4j
    """
    _check_prefix(prefix)
    if not isinstance(data, dict):
        raise ValidationError(f"{prefix} must be a dict, not {type(data).__name__}")
    fast = _flatten_plain(prefix, data)
    return fast if fast is not None else _flatten_full(prefix, data)


def _flatten_full(prefix: str, data: dict[str, Any]) -> dict[str, Any]:
    """:func:`flatten` of any JSON-able dict: clean a copy, then store each leaf."""
    properties: dict[str, Any] = {}
    for path, leaf in _leaves(clean_value(data, kind=prefix), []):
        if is_native(leaf):
            properties[property_key(prefix, path)] = leaf
        else:
            properties[encoded_key(prefix, path)] = dumps(leaf)
    return properties


def _flatten_plain(prefix: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The properties of ``data`` when it holds only plain values, in one walk; None otherwise.

    The usual attributes (exact ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``,
    ASCII text, finite floats, int64 ints, shallow nesting) are already clean: checking them
    here in the same walk that flattens them gives the very properties :func:`flatten`'s full
    path would, without cleaning a deep copy first. Anything else (subclasses, tuples,
    non-ASCII text, big ints, NaN, deep nesting, cycles) returns None and takes the full
    path, which validates and reports it. Non-native leaves go through :func:`dumps`, which
    validates them.
    """
    properties: dict[str, Any] = {}
    stack: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), data)]
    while stack:
        path, tree = stack.pop()
        if len(path) > _PLAIN_DEPTH:
            return None
        for key, value in tree.items():
            if type(key) is not str or not key.isascii():
                return None
            kind = type(value)
            if kind is dict and value:
                stack.append(((*path, key), value))
                continue
            if kind in _PLAIN_SCALARS:
                if not _plain_scalar(kind, value):
                    return None
                properties[_cached_key(prefix, (*path, key))] = value
            elif kind is list and value and _plain_native_list(value):
                properties[_cached_key(prefix, (*path, key))] = value.copy()
            elif kind is list and is_native(value):  # e.g. non-ASCII text: the full path decides
                return None
            elif value is None or kind is list or kind is dict:
                try:
                    text = dumps(value)
                except ValidationError:  # the full path reports it with the value's whole path
                    return None
                properties[_cached_key(prefix + ENCODED_SUFFIX, (*path, key))] = text
            else:
                return None
    return properties


#: nesting depth above which :func:`_flatten_plain` leaves the work to the full path (cycle detection)
_PLAIN_DEPTH = 32
_PLAIN_SCALARS = frozenset({str, int, float, bool})
_KEY_CACHE: dict[tuple[str, tuple[str, ...]], str] = {}


def _plain_scalar(kind: type, value: Any) -> bool:
    if kind is str:
        return value.isascii()
    if kind is int:
        return INT64_MIN <= value <= INT64_MAX
    if kind is float:
        return math.isfinite(value)
    return True


def _plain_native_list(items: list[Any]) -> bool:
    kind = type(items[0])
    if kind not in _PLAIN_SCALARS:
        return False
    for item in items:
        if type(item) is not kind or not _plain_scalar(kind, item):
            return False
    return True


def _cached_key(head: str, path: tuple[str, ...]) -> str:
    """:func:`_key` of ``head`` and ``path``, remembered (the same keys recur on every node of a type)."""
    cache_key = (head, path)
    key = _KEY_CACHE.get(cache_key)
    if key is None:
        key = _key(head, path)
        if len(_KEY_CACHE) > 100_000:
            _KEY_CACHE.clear()
        _KEY_CACHE[cache_key] = key
    return key


def unflatten(prefix: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Return the dict stored under ``prefix`` in a node's ``properties``.

    Keys of other prefixes and the node's fixed fields are ignored; the inverse of
    :func:`flatten`.

    :raises StorageError: if the properties are not what :func:`flatten` writes (a bad
        escape, invalid JSON, or two leaves claiming the same path)
    """
    _check_prefix(prefix)
    leaves = sorted(_read_leaves(prefix, properties), key=lambda item: item[0])
    _check_no_overlap(prefix, [path for path, _ in leaves])
    result: dict[str, Any] = {}
    for path, value in leaves:
        _insert(result, path, value)
    return result


def _leaves(data: dict[str, Any], path: list[str]) -> Iterator[tuple[list[str], Any]]:
    """Yield ``(path, leaf)`` for every leaf of a clean dict; non-empty dicts are not leaves."""
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, [*path, key])
        else:
            yield [*path, key], value


def _read_leaves(prefix: str, properties: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield ``(path, value)`` for every property of ``prefix``, decoding encoded leaves."""
    encoded_head = prefix + ENCODED_SUFFIX
    for key, value in properties.items():
        parsed = _PARSED.get(key)
        if parsed is None:
            parsed = _parse_key(key)
        head, path = parsed
        if head == prefix:
            yield path, _native(key, value)
        elif head == encoded_head:
            yield path, _decode(key, value)


#: property key -> (head, unescaped path): the same keys recur on every node read
_PARSED: dict[str, tuple[str, tuple[str, ...]]] = {}


def _parse_key(key: str) -> tuple[str, tuple[str, ...]]:
    head, separator, rest = key.partition(_SEPARATOR)
    if not separator:
        parsed: tuple[str, tuple[str, ...]] = ("", ())
    else:
        segments = rest.split(_SEPARATOR)
        path = tuple(unescape_segment(s) for s in segments) if "%" in rest else tuple(segments)
        parsed = (head, path)
    if len(_PARSED) > 100_000:
        _PARSED.clear()
    _PARSED[key] = parsed
    return parsed


def _decode(key: str, text: Any) -> Any:
    if not isinstance(text, str):
        raise StorageError(f"property {key!r} should hold JSON text, not a {type(text).__name__}")
    try:
        return loads(text)
    except ValidationError as exc:
        raise StorageError(f"property {key!r} holds invalid encoded JSON: {exc}") from exc


def _native(key: str, value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or kind is float:  # the usual leaves: nothing to check
        return value
    if isinstance(value, tuple):  # some drivers give arrays back as tuples
        value = list(value)
    if not is_native(value):
        raise StorageError(f"property {key!r} holds a value flatten never writes natively: {value!r}")
    return value


def _check_no_overlap(prefix: str, paths: list[tuple[str, ...]]) -> None:
    """Refuse sorted ``paths`` where one equals or lies inside another.

    In sorted order, a path and any path inside it are separated only by other paths inside
    it, so comparing neighbours is enough.
    """
    for before, after in pairwise(paths):
        if after[: len(before)] == before:
            raise StorageError(
                f"{prefix} properties are inconsistent: {_dotted(before)!r} is stored as a leaf "
                f"and also as {'a leaf again' if after == before else f'the parent of {_dotted(after)!r}'}"
            )


def _insert(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _is_native_scalar(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64_MIN <= value <= INT64_MAX
    return isinstance(value, _NATIVE_SCALARS)


def _is_native_list(items: list[Any]) -> bool:
    if not items:
        return False
    kind = type(items[0])
    return kind in _NATIVE_SCALARS and all(type(item) is kind and _is_native_scalar(item) for item in items)


def _key(head: str, path: Iterable[str]) -> str:
    steps = list(path)
    if not steps:
        raise ValidationError("a property key path needs at least one key")
    if not all(isinstance(step, str) for step in steps):
        raise ValidationError(f"property key path {steps!r} must be made of str keys")
    key = _SEPARATOR.join([head, *(escape_segment(step) for step in steps)])
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            f"key path {_dotted(steps)[:80]!r}... is too long: it needs a Neo4j property key of "
            f"{len(key)} characters and the limit is {MAX_KEY_LENGTH}"
        )
    return key


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not _PREFIX_PATTERN.fullmatch(prefix):
        raise ValidationError(f"property prefix {prefix!r} must be an identifier such as 'attributes'")
    return prefix


def _decode_escape(match: re.Match[str], segment: str) -> str:
    if match.group(1) is None:
        raise StorageError(f"property key segment {segment!r} holds a '%' that is not an escape")
    return chr(int(match.group(1), 16))


def _dotted(path: Iterable[str]) -> str:
    return _SEPARATOR.join(path)
