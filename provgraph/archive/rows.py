"""Records of ``provgraph.storage`` to rows of the archive's sqlite tables, and back.

The conventions are those of :mod:`provgraph.storage.sqlite.schema`: times as ISO-8601 UTC
text, dict columns as JSON text, node labels as ``"|Node|Data|Int|"``. Reading a row back
checks it, so a corrupt or hand-made archive fails here with :class:`ArchiveError`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from provgraph.common.links import LinkType
from provgraph.exceptions import ArchiveError, NotExistent
from provgraph.storage.base import NodeRecord
from provgraph.storage.entities import CommentRecord, ComputerRecord, GroupRecord, LogRecord, UserRecord

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[0-9a-f]{64}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def time_text(value: datetime) -> str:
    """Return ``value`` as the schema's UTC ISO text."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_time(text: Any, what: str) -> datetime:
    """Return the aware datetime of schema time text.

    :raises ArchiveError: when ``text`` is not an ISO time with a timezone
    """
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ArchiveError(f"{what}: {text!r} is not an ISO time") from exc
    if value.tzinfo is None:
        raise ArchiveError(f"{what}: time {text!r} has no timezone")
    return value


def parse_json(text: Any, what: str, kind: type = dict) -> Any:
    """Return the JSON value of a text column, checked to be of ``kind``.

    Standard JSON only (``NaN``/``Infinity`` are refused). Deeper checks of the values (int
    size, valid Unicode) are left to the storage backend that stores them, which refuses bad
    values with a ``ValidationError`` before writing anything.

    :raises ArchiveError: when the text is not JSON of that kind
    """
    try:
        value = _DECODER.decode(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ArchiveError(f"{what}: not valid JSON ({exc})") from exc
    if not isinstance(value, kind):
        raise ArchiveError(f"{what}: expected a JSON {kind.__name__}")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def dumps(value: Any) -> str:
    """The canonical JSON text of a value read from a storage backend (already JSON-clean).

    Same text as :func:`provgraph.common.json.dumps`, without its validation pass: what a
    backend hands out was validated when it was stored.
    """
    return json.dumps(value, sort_keys=True, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def check_uuid(text: Any, what: str) -> str:
    """Return ``text`` if it is a uuid in canonical form (lowercase, with dashes).

    :raises ArchiveError: otherwise
    """
    if isinstance(text, str) and _UUID.fullmatch(text):
        return text
    raise ArchiveError(f"{what}: {text!r} is not a uuid")


def ordered_labels(record: NodeRecord) -> tuple[str, ...]:
    """The node's class tree root first (backends may hand the labels back in any order)."""
    return _ordered_labels(record.node_type, frozenset(record.labels))


@lru_cache(maxsize=1024)
def _ordered_labels(node_type: str, labels: frozenset[str]) -> tuple[str, ...]:
    from provgraph.orm.nodes.registry import node_class

    try:
        tree = tuple(node_class(node_type).class_tree())
    except (NotExistent, AttributeError):
        tree = ()
    if set(tree) == labels:
        return tree
    return ("Node", *sorted(labels - {"Node"}))


def node_row(record: NodeRecord) -> dict[str, Any]:
    """Return the ``nodes`` row of a stored node."""
    return {
        "pk": record.pk, "uuid": record.uuid, "node_type": record.node_type,
        "labels": "|" + "|".join(ordered_labels(record)) + "|",
        "ctime": time_text(record.ctime), "mtime": time_text(record.mtime), "user": record.user,
        "label": record.label, "description": record.description,
        "attributes": dumps(record.attributes), "extras": dumps(record.extras),
        "repository": dumps(record.repository), "hash": record.hash, "computer": record.computer,
    }


def node_record(row: Any) -> NodeRecord:
    """Return the record (without pk) of a ``nodes`` row, checked.

    :raises ArchiveError: when a column is malformed
    """
    what = f"node {row.pk}"
    labels = _labels(row.labels)
    if labels is None:
        raise ArchiveError(f"{what}: malformed labels {row.labels!r}")
    repository = parse_json(row.repository, f"{what} repository")
    if not all(isinstance(path, str) and isinstance(key, str) and _KEY.fullmatch(key)
               for path, key in repository.items()):
        raise ArchiveError(f"{what}: its file tree must map paths to object keys")
    for name in ("node_type", "user", "label", "description"):
        if not isinstance(getattr(row, name), str):
            raise ArchiveError(f"{what}: {name} must be text")
    return NodeRecord(
        uuid=check_uuid(row.uuid, what), node_type=row.node_type, labels=labels,
        ctime=parse_time(row.ctime, f"{what} ctime"), mtime=parse_time(row.mtime, f"{what} mtime"),
        user=row.user, label=row.label, description=row.description,
        attributes=parse_json(row.attributes, f"{what} attributes"),
        extras=parse_json(row.extras, f"{what} extras"), repository=repository,
        hash=_optional_text(row.hash, f"{what} hash"), computer=_optional_text(row.computer, f"{what} computer"),
    )


@lru_cache(maxsize=1024)
def _labels(text: Any) -> tuple[str, ...] | None:
    """The class tree of a labels column, or None when it is malformed (few distinct values: cached)."""
    labels = tuple(str(text).strip("|").split("|"))
    if not labels or labels[0] != "Node" or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return labels


def _optional_text(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ArchiveError(f"{what} must be text")
    return value


def link_type(value: Any, what: str) -> LinkType:
    """Return the link type named ``value``.

    :raises ArchiveError: for an unknown type
    """
    try:
        return LinkType(value)
    except ValueError as exc:
        raise ArchiveError(f"{what}: unknown link type {value!r}") from exc


def user_row(record: UserRecord) -> dict[str, Any]:
    """Return the ``users`` row of a user."""
    return {"email": record.email, "first_name": record.first_name, "last_name": record.last_name,
            "institution": record.institution}


def computer_row(record: ComputerRecord) -> dict[str, Any]:
    """Return the ``computers`` row of a computer (archive pk = source pk)."""
    return {
        "pk": record.pk, "uuid": record.uuid, "label": record.label, "hostname": record.hostname,
        "description": record.description, "transport_type": record.transport_type,
        "scheduler_type": record.scheduler_type, "workdir": record.workdir,
        "mpirun_command": dumps(list(record.mpirun_command)),
        "default_mpiprocs_per_machine": record.default_mpiprocs_per_machine,
        "prepend_text": record.prepend_text, "append_text": record.append_text,
        "metadata": dumps(record.metadata),
    }


def computer_record(row: Any) -> ComputerRecord:
    """Return the record (without pk) of a ``computers`` row."""
    what = f"computer {row.pk}"
    return ComputerRecord(
        label=row.label, hostname=row.hostname, transport_type=row.transport_type,
        scheduler_type=row.scheduler_type, uuid=check_uuid(row.uuid, what), description=row.description,
        workdir=row.workdir, mpirun_command=parse_json(row.mpirun_command, f"{what} mpirun_command", list),
        default_mpiprocs_per_machine=row.default_mpiprocs_per_machine, prepend_text=row.prepend_text,
        append_text=row.append_text, metadata=parse_json(row.metadata, f"{what} metadata"),
    )


def group_row(record: GroupRecord) -> dict[str, Any]:
    """Return the ``groups`` row of a group (archive pk = source pk)."""
    return {"pk": record.pk, "uuid": record.uuid, "label": record.label, "type_string": record.type_string,
            "description": record.description, "user": record.user, "time": time_text(record.time),
            "extras": dumps(record.extras)}


def group_record(row: Any) -> GroupRecord:
    """Return the record (without pk) of a ``groups`` row."""
    what = f"group {row.pk}"
    return GroupRecord(label=row.label, type_string=row.type_string, uuid=check_uuid(row.uuid, what),
                       description=row.description, user=row.user, time=parse_time(row.time, f"{what} time"),
                       extras=parse_json(row.extras, f"{what} extras"))


def comment_row(record: CommentRecord) -> dict[str, Any]:
    """Return the ``comments`` row of a comment (node_pk is the archive's node pk)."""
    return {"pk": record.pk, "uuid": record.uuid, "node_pk": record.node_pk, "ctime": time_text(record.ctime),
            "mtime": time_text(record.mtime), "user": record.user, "content": record.content}


def comment_record(row: Any, node_pk: int) -> CommentRecord:
    """Return the record (without pk) of a ``comments`` row, attached to ``node_pk``."""
    what = f"comment {row.pk}"
    return CommentRecord(node_pk=node_pk, content=row.content, user=row.user, uuid=check_uuid(row.uuid, what),
                         ctime=parse_time(row.ctime, f"{what} ctime"), mtime=parse_time(row.mtime, f"{what} mtime"))


def log_row(record: LogRecord) -> dict[str, Any]:
    """Return the ``logs`` row of a log record (node_pk is the archive's node pk)."""
    return {"pk": record.pk, "uuid": record.uuid, "node_pk": record.node_pk, "time": time_text(record.time),
            "loggername": record.loggername, "levelname": record.levelname, "message": record.message,
            "metadata": dumps(record.metadata)}


def log_record(row: Any, node_pk: int) -> LogRecord:
    """Return the record (without pk) of a ``logs`` row, attached to ``node_pk``."""
    what = f"log {row.pk}"
    return LogRecord(node_pk=node_pk, message=row.message, levelname=row.levelname, loggername=row.loggername,
                     time=parse_time(row.time, f"{what} time"), uuid=check_uuid(row.uuid, what),
                     metadata=parse_json(row.metadata, f"{what} metadata"))
