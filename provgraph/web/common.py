"""Helpers the routers share: loading a node from a path parameter, the write guard."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Header, Request

from provgraph.web.auth import check_bearer
from provgraph.web.errors import ApiError

_IDENTIFIER = re.compile(r"^(\d{1,18}|[0-9a-fA-F-]{4,36})$")


def load(identifier: str) -> Any:
    """The node with pk ``identifier`` (all digits) or uuid (prefix of at least 4 characters).

    :raises ApiError: 400 for an identifier that is neither
    :raises NotExistent: when no node matches
    """
    from provgraph.orm import load_node

    if not _IDENTIFIER.match(identifier):
        raise ApiError(400, f"{identifier!r} is neither a pk (digits) nor a uuid or uuid prefix (hex, >= 4)")
    return load_node(int(identifier)) if identifier.isdigit() else load_node(uuid=identifier.lower())


def load_process(identifier: str) -> Any:
    """The process node ``identifier``.

    :raises ApiError: 400 when the node is not a process
    """
    from provgraph.orm import ProcessNode

    node = load(identifier)
    if not isinstance(node, ProcessNode):
        raise ApiError(400, f"node {identifier} is a {type(node).__name__}, not a process")
    return node


def require_write(request: Request, authorization: str | None = Header(default=None)) -> None:
    """Dependency of every write endpoint: a read-write app and the right bearer token.

    :raises ApiError: 403 on a read-only app, 401 for a missing or wrong token
    """
    check_bearer(authorization, request.app.state.token)
