"""Turning command-line identifiers (pk, uuid, label) into ORM objects, with one-line errors.

Every failure is a :class:`~provgraph.cli.echo.BadInput` (``Error: ...``, exit status 2) that
names what was looked for; no traceback reaches the user.
"""

from __future__ import annotations

from typing import Any

from provgraph.cli.echo import BadInput


def load_node_of(identifier: str, cls: Any = None, what: str | None = None) -> Any:
    """The node with pk or uuid (prefix) ``identifier``, which must be an instance of ``cls`` if given."""
    from provgraph.exceptions import MultipleObjectsError, NotExistent, ValidationError
    from provgraph.orm import load_node

    kind = what or (cls.__name__ if cls is not None else "node")
    try:
        found = load_node(identifier)
    except NotExistent:
        raise BadInput(f"no {kind} found with pk or uuid {identifier!r}") from None
    except (MultipleObjectsError, ValidationError) as exc:
        raise BadInput(f"{identifier!r} does not identify one {kind}: {exc}") from None
    if cls is not None and not isinstance(found, cls):
        raise BadInput(f"node {identifier} is a {type(found).__name__}, not a {kind}")
    return found


def load_nodes(identifiers: tuple[str, ...], cls: Any = None, what: str | None = None) -> list[Any]:
    """:func:`load_node_of` for each identifier (all are checked before anything is done)."""
    return [load_node_of(identifier, cls, what) for identifier in identifiers]


def load_group_of(identifier: str) -> Any:
    """The group with pk, label or uuid (prefix) ``identifier``."""
    from provgraph.exceptions import MultipleObjectsError, NotExistent
    from provgraph.orm import load_group

    try:
        return load_group(identifier)
    except NotExistent:
        raise BadInput(f"no group found with pk, label or uuid {identifier!r}") from None
    except MultipleObjectsError as exc:
        raise BadInput(f"{identifier!r} does not identify one group: {exc}") from None
