"""Conversion between the backend records and the rows of the sqlite tables.

JSON columns hold canonical JSON text (sorted keys, compact, non-ASCII kept) of values
:func:`provgraph.common.json.clean_value` accepts: ``1``, ``1.0`` and ``true`` stay distinct,
ints of any accepted size are kept exactly (sqlite's JSON functions see the text, Python
reads it back losslessly), and NaN or infinities are refused before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from provgraph.common.json import clean_value
from provgraph.exceptions import ValidationError
from provgraph.storage.base import NodeRecord
from provgraph.storage.sqlite.db import from_text, to_text


def to_json(value: Any, kind: str) -> str:
    """Return the canonical JSON text of a JSON-able ``value``.

    :param kind: what the value is, for error messages (``attribute``, ``extra``...)
    :raises ValidationError: when ``value`` is not JSON-able (the message names the offending path)
    """
    if type(value) is dict and not value:
        return "{}"  # most extras and file trees: skip the walk
    if not _plain(value):
        value = clean_value(value, kind=kind)  # validates, and names the offending path
    return json.dumps(value, sort_keys=True, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


#: int bounds within which an int is certainly accepted by clean_value (far below its bit limit)
_PLAIN_INT = 2**63


def _plain(value: Any) -> bool:
    """Whether ``value`` is already what clean_value would return: exact builtin JSON types only.

    ASCII text, finite floats, ints within 64 bits, str keys, no nesting deeper than 32 levels
    (so no cycle). The values the ORM stores are already clean, so this usually holds and the
    deep copy of :func:`clean_value` is skipped; anything else takes the full check.
    """
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():
                return False
        elif kind is int:
            if not -_PLAIN_INT <= item < _PLAIN_INT:
                return False
        elif kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
        elif kind is dict:
            if depth >= 32:
                return False
            for key, child in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                stack.append((child, depth + 1))
        elif kind is list:
            if depth >= 32:
                return False
            stack.extend((child, depth + 1) for child in item)
        elif item is not None and kind is not bool:
            return False
    return True


def from_json(text: str) -> Any:
    """Return the value of JSON text written by :func:`to_json`."""
    return json.loads(text)


def json_list(values: Iterable[Any]) -> str:
    """Return a JSON array of ``values``, for ``json_each(:param)`` in SQL (lists travel as one parameter)."""
    return json.dumps(list(values))


def labels_text(labels: Sequence[str]) -> str:
    """Return the stored form of a class tree, ``"|Node|Data|Int|"``.

    :raises ValidationError: when the tree does not start at ``Node`` or a label is not a plain name
    """
    if not labels or labels[0] != "Node":
        raise ValidationError(f"node class tree {tuple(labels)!r} does not start at Node")
    for label in labels:
        if not isinstance(label, str) or not label or "|" in label:
            raise ValidationError(f"node class tree {tuple(labels)!r} holds an invalid label {label!r}")
    return "|" + "|".join(labels) + "|"


def labels_of(text: str) -> tuple[str, ...]:
    """Return the class tree of a stored ``labels`` text."""
    return tuple(part for part in text.split("|") if part)


def _optional_text(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"a node's {what} must be a string or None, not {value!r}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"a node's {what} must be a string, not {value!r}")
    return value


def node_row(record: NodeRecord) -> dict[str, Any]:
    """Return the ``nodes`` row of a record (without its pk).

    :raises ValidationError: when a field has the wrong type or a dict is not JSON-able
    """
    repository = record.repository
    if not isinstance(repository, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in repository.items()):
        raise ValidationError(f"a node's repository must map paths to object keys, not {repository!r}")
    return {
        "uuid": _text(record.uuid, "uuid"), "node_type": _text(record.node_type, "node_type"),
        "labels": labels_text(record.labels),
        "ctime": to_text(record.ctime, "a node's ctime"), "mtime": to_text(record.mtime, "a node's mtime"),
        "user": _text(record.user, "user"), "label": _text(record.label, "label"),
        "description": _text(record.description, "description"),
        "attributes": to_json(record.attributes, "attribute"), "extras": to_json(record.extras, "extra"),
        "repository": to_json(dict(repository), "repository"),
        "hash": _optional_text(record.hash, "hash"), "computer": _optional_text(record.computer, "computer"),
    }


def node_record(row: Any) -> NodeRecord:
    """Return the record of a ``nodes`` row (a SQLAlchemy row with every column)."""
    return NodeRecord(
        pk=row.pk, uuid=row.uuid, node_type=row.node_type, labels=labels_of(row.labels),
        ctime=from_text(row.ctime), mtime=from_text(row.mtime), user=row.user,
        label=row.label, description=row.description,
        attributes=from_json(row.attributes), extras=from_json(row.extras), repository=from_json(row.repository),
        hash=row.hash, computer=row.computer,
    )
