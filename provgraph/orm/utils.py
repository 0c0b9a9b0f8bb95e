"""Loading stored nodes by pk, uuid or uuid prefix; codes also by label (``label@computer``)."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import NotExistent, ValidationError
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
        elif isinstance(identifier, str) and identifier.isascii() and identifier.isdigit():
            pk = int(identifier)
        elif isinstance(identifier, str):
            uuid = identifier
        else:
            raise ValidationError(f"a node identifier is a pk or a uuid, not {type(identifier).__name__}")
    if pk is None and not uuid:
        raise ValidationError("give a pk or a uuid to load a node")
    if pk is not None and not 0 <= pk <= MAX_PK:
        raise NotExistent(f"no node with pk {pk}")
    if uuid is not None:
        _check_text(uuid, "uuid")
    return node_from_record(get_backend().nodes.get(pk=pk, uuid=uuid))


#: the largest pk a backend can hold (a signed 64-bit integer on both)
MAX_PK = 2**63 - 1


def _check_text(value: str, what: str) -> None:
    """Refuse text that cannot be encoded (lone surrogates from undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"the {what} {value!r} is not valid text") from exc


def load_code(identifier: int | str | None = None, *, pk: int | None = None, uuid: str | None = None,
              label: str | None = None) -> Any:
    """Load a code by pk, uuid, ``label`` or ``label@computer`` (AiiDA's ``load_code``).

    A string identifier is tried as a pk (all digits), then as a label (``label@computer``
    picks the code of that computer), then as a uuid (prefix).

    :raises NotExistent: when no code matches, or the node found is not a code
    :raises MultipleObjectsError: when a label matches codes on several computers
    """
    from provgraph.exceptions import MultipleObjectsError, NotExistent
    from provgraph.orm.nodes.data.code import AbstractCode

    if identifier is None and label is None:
        node = load_node(pk=pk, uuid=uuid)
    elif label is not None or (isinstance(identifier, str) and not identifier.isdigit()):
        text = label if label is not None else str(identifier)
        found = _codes_labelled(text)
        if len(found) > 1:
            raise MultipleObjectsError(f"{len(found)} codes are labelled {text!r}: use label@computer or a pk")
        if found:
            return found[0]
        if label is not None:
            raise NotExistent(f"no code labelled {label!r}")
        try:
            node = load_node(uuid=text)
        except NotExistent:
            raise NotExistent(f"no code with label or uuid {text!r}") from None
    else:
        node = load_node(identifier)
    if not isinstance(node, AbstractCode):
        raise NotExistent(f"node {node.pk} is a {type(node).__name__}, not a code")
    return node


def _codes_labelled(text: str) -> list[Any]:
    from provgraph.orm.nodes.data.code import AbstractCode
    from provgraph.orm.querybuilder import QueryBuilder

    name, _, computer = text.rpartition("@") if "@" in text else (text, "", "")
    filters: dict[str, Any] = {"label": name}
    if computer:
        filters["computer"] = computer
    return QueryBuilder().append(AbstractCode, filters=filters, project="*").all(flat=True)


def load_computer(*args: Any, **kwargs: Any) -> Any:
    """Load a computer by pk, uuid or label: :func:`provgraph.orm.computers.load_computer`, re-exported here
    beside ``load_node`` and ``load_code`` as in AiiDA's ``orm.utils``."""
    from provgraph.orm.computers import load_computer as load

    return load(*args, **kwargs)
