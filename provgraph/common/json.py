"""JSON-able values: validation, normalisation and canonical JSON text.

Node attributes and extras must be *JSON-able*: built of ``dict`` (``str`` keys), ``list``,
``str``, ``bool``, ``int`` (any size), ``float`` and ``None``. :func:`clean_value` checks a
value and returns a normalised deep copy of it:

- tuples become lists; subclasses of ``dict``/``list``/``str``/``int``/``float`` become their
  base type (an ``IntEnum`` member becomes its ``int``, a ``numpy.float64`` -- a ``float``
  subclass -- becomes a ``float``); ``bool`` stays ``bool`` and never turns into ``int``;
- everything else is refused with :class:`~provgraph.exceptions.ValidationError`, naming the
  path of the offending item (``attribute 'a.b[2]': value of type set is not JSON-able``):
  sets, bytes, arbitrary objects, numpy arrays and non-float numpy scalars (converting those
  is the job of the data types that accept them, e.g. ``ArrayData``), non-``str`` dict keys,
  reference cycles, and strings holding lone UTF-16 surrogates (not valid Unicode, so they
  cannot be written as UTF-8 to Neo4j, SQLite or an archive).

Policy on non-finite floats: ``NaN``, ``+Inf`` and ``-Inf`` are **refused**. JSON cannot
represent them, and every stored value must survive a lossless round trip through the
Neo4j backend, the SQLite backend and archives (whose JSON columns and files follow the
JSON standard). Ints are limited to :data:`MAX_INT_BITS` bits (about 4200 decimal digits), so
they stay under Python's default int/str conversion limit (4300 digits) and can always be
written and read back as JSON text.

:func:`dumps` writes *canonical* JSON text (sorted keys, compact separators, non-ASCII kept
as is, no NaN): equal values give equal text, so it serves both for hashing and for the
encoded leaves of the Neo4j property codec. :func:`loads` reads JSON text back, refusing
the non-standard ``NaN``/``Infinity`` tokens and duplicate keys.
"""

from __future__ import annotations

import json
import math
from typing import Any

from provgraph.exceptions import ValidationError

__all__ = ("MAX_INT_BITS", "clean_value", "dumps", "loads")

#: Largest accepted ``int.bit_length()``: 2**14000 has 4215 decimal digits, below Python's
#: default ``sys.get_int_max_str_digits()`` of 4300.
MAX_INT_BITS = 14_000


def clean_value(value: Any, *, kind: str = "attribute") -> Any:
    """Return a normalised deep copy of a JSON-able ``value``, ready to be stored.

    :param value: the value to check and copy
    :param kind: what the value is, used in error messages (``attribute``, ``extra``...)
    :raises ValidationError: if any part of ``value`` is not JSON-able; the message names
        the path of the offending item
    """
    try:
        return _clean(value, [], set(), kind)
    except RecursionError as exc:
        raise ValidationError(f"{kind} value is nested too deeply to be stored") from exc


def dumps(value: Any) -> str:
    """Return the canonical JSON text of a JSON-able value (for hashing and encoded storage).

    Keys are sorted, separators are compact (``,`` and ``:``), non-ASCII characters are kept
    as they are, and ``1``, ``1.0`` and ``true`` stay distinct. The value is validated with
    :func:`clean_value` first.

    :raises ValidationError: if ``value`` is not JSON-able
    """
    return json.dumps(
        clean_value(value, kind="value"),
        sort_keys=True,
        allow_nan=False,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def loads(text: str) -> Any:
    """Return the value held by JSON ``text`` (as written by :func:`dumps`).

    :raises ValidationError: if ``text`` is not standard JSON, uses ``NaN``/``Infinity``,
        repeats a key in an object, or holds a value :func:`clean_value` refuses
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except ValidationError:
        raise
    except ValueError as exc:  # JSONDecodeError, and ints over the digit limit
        raise ValidationError(f"invalid JSON text: {exc}") from exc
    except RecursionError as exc:
        raise ValidationError("JSON text is nested too deeply") from exc
    return clean_value(value, kind="value")


def _refuse_constant(name: str) -> Any:
    raise ValidationError(f"invalid JSON text: {name} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValidationError(f"invalid JSON text: key {key!r} appears twice in an object")
        result[key] = value
    return result


def _clean(value: Any, path: list[str | int], active: set[int], kind: str) -> Any:
    """Return the cleaned copy of ``value`` found at ``path``; ``active`` holds the ids of the
    containers being walked, to detect reference cycles."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return _clean_str(value, path, kind)
    if isinstance(value, int):
        return _clean_int(value, path, kind)
    if isinstance(value, float):
        return _clean_float(value, path, kind)
    if isinstance(value, (dict, list, tuple)):
        return _clean_container(value, path, active, kind)
    raise ValidationError(_message(kind, path, f"value of type {_type_name(value)} is not JSON-able"))


def _clean_container(value: dict | list | tuple, path: list[str | int], active: set[int], kind: str) -> Any:
    if id(value) in active:
        raise ValidationError(_message(kind, path, "value contains a reference to itself (a cycle)"))
    active.add(id(value))
    try:
        if isinstance(value, dict):
            return {
                _clean_key(key, path, kind): _clean(item, [*path, key], active, kind)
                for key, item in value.items()
            }
        return [_clean(item, [*path, index], active, kind) for index, item in enumerate(value)]
    finally:
        active.discard(id(value))


def _clean_key(key: Any, path: list[str | int], kind: str) -> str:
    if not isinstance(key, str):
        problem = f"key {key!r} of type {_type_name(key)} is not a string (JSON keys must be str)"
        raise ValidationError(_message(kind, path, problem))
    return _clean_str(key, path, kind, what="key")


def _clean_str(value: str, path: list[str | int], kind: str, what: str = "string") -> str:
    text = str.__str__(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            _message(kind, path, f"{what} {value!r} holds a lone surrogate and is not valid Unicode")
        ) from exc
    return text


def _clean_int(value: int, path: list[str | int], kind: str) -> int:
    number = int.__int__(value)
    if number.bit_length() > MAX_INT_BITS:
        problem = f"int of {number.bit_length()} bits is too large (the limit is {MAX_INT_BITS} bits)"
        raise ValidationError(_message(kind, path, problem))
    return number


def _clean_float(value: float, path: list[str | int], kind: str) -> float:
    number = float.__float__(value)
    if not math.isfinite(number):
        raise ValidationError(
            _message(kind, path, f"float {number!r} is refused: JSON cannot hold NaN or infinities")
        )
    return number


def _message(kind: str, path: list[str | int], problem: str) -> str:
    """Return an error message naming the path, e.g. ``attribute 'a.b[2]': <problem>``."""
    if not path:
        return f"{kind}: {problem}"
    return f"{kind} '{_render_path(path)}': {problem}"


def _render_path(path: list[str | int]) -> str:
    rendered = ""
    for step in path:
        if isinstance(step, int):
            rendered += f"[{step}]"
        else:
            rendered += f".{step}" if rendered else step
    return rendered


def _type_name(value: Any) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
