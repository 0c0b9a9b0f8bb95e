"""Loading stored nodes by pk, uuid or uuid prefix."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.registry import node_class
from provgraph.storage.base import NodeRecord


def node_from_record(record: NodeRecord) -> Any:
    """Return the ORM node of a stored record, as an instance of its own class."""
    return node_class(record.node_type)._from_record(record)


def load_node(identifier: int | str | None = None, *, pk: int | None = None, uuid: str | None = None) -> Any:
    """Load a stored node by pk, full uuid or unique uuid prefix.

    An int ``identifier`` is a pk, a string one a uuid (prefix) — or a pk if it is all digits.

    :raises NotExistent: when no node matches
    :raises MultipleObjectsError: when a uuid prefix matches several nodes
    """
    if identifier is not None:
        if isinstance(identifier, bool):
            raise ValidationError(f"cannot load a node from {identifier!r}")
        if isinstance(identifier, int):
            pk = identifier
        elif isinstance(identifier, str) and identifier.isdigit():
            pk = int(identifier)
        elif isinstance(identifier, str):
            uuid = identifier
        else:
            raise ValidationError(f"a node identifier is a pk or a uuid, not {type(identifier).__name__}")
    if pk is None and not uuid:
        raise ValidationError("give a pk or a uuid to load a node")
    return node_from_record(get_backend().nodes.get(pk=pk, uuid=uuid))
