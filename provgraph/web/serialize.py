"""Turn ORM objects and query results into JSON-able dicts (datetimes as ISO 8601 text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: the node fields a summary row holds, in QueryBuilder projection names
SUMMARY_FIELDS = ("pk", "uuid", "node_type", "label", "ctime", "mtime", "user",
                  "attributes.process_label", "attributes.process_state", "attributes.exit_status")
SUMMARY_KEYS = ("pk", "uuid", "node_type", "label", "ctime", "mtime", "user",
                "process_label", "process_state", "exit_status")


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO text and ORM objects as dicts, recursively."""
    from provgraph.orm import Computer, Group, Node, User

    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Node):
        return node_summary(value)
    if isinstance(value, Group):
        return group_dict(value)
    if isinstance(value, Computer):
        return computer_dict(value)
    if isinstance(value, User):
        return user_dict(value)
    return value


def summary_row(row: list[Any]) -> dict[str, Any]:
    """A summary dict from a row projected with :data:`SUMMARY_FIELDS`."""
    return jsonable(dict(zip(SUMMARY_KEYS, row, strict=True)))


def node_summary(node: Any) -> dict[str, Any]:
    """The summary dict of a loaded node (same keys as :func:`summary_row`)."""
    attributes = node.base.attributes
    row = [node.pk, node.uuid, node.node_type, node.label, node.ctime, node.mtime, _email(node.user),
           attributes.get("process_label", None), attributes.get("process_state", None),
           attributes.get("exit_status", None)]
    return summary_row(row)


def _email(user: Any) -> str | None:
    """The email of a node's user (a User object or already its email), as the summary rows carry it."""
    return None if user is None else str(getattr(user, "email", user))


def node_detail(node: Any) -> dict[str, Any]:
    """Everything of one node: summary, class, description, attributes, extras, files."""
    data = node_summary(node)
    data.update({
        "class": type(node).__name__,
        "description": node.description,
        "attributes": jsonable(node.base.attributes.all),
        "extras": jsonable(node.base.extras.all),
        "files": node.base.repository.walk_files(),
    })
    return data


def group_dict(group: Any) -> dict[str, Any]:
    """A group as a dict."""
    record = group._record
    return jsonable({"pk": group.pk, "uuid": group.uuid, "label": group.label, "type_string": group.type_string,
                     "description": group.description, "user": record.user, "time": getattr(record, "time", None)})


def computer_dict(computer: Any) -> dict[str, Any]:
    """A computer as a dict (its per-user transport settings are not shown)."""
    record = computer._record
    return jsonable({name: getattr(record, name) for name in record.__dataclass_fields__})


def user_dict(user: Any) -> dict[str, Any]:
    """A user as a dict (a node's user may have no record of its own: its email is then all that is known)."""
    return {"email": str(user.email), "first_name": user.first_name, "last_name": user.last_name,
            "institution": user.institution}
