"""Pagination shared by every list endpoint: ``limit``/``offset``, a total, a stable order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provgraph.web.errors import ApiError

#: the largest page any endpoint returns
MAX_LIMIT = 1000
#: the page size when none is asked for
DEFAULT_LIMIT = 50


def check_page(limit: int, offset: int) -> None:
    """Refuse page bounds out of range, saying which.

    :raises ApiError: 400 for a limit outside 1..MAX_LIMIT or a negative offset
    """
    if limit < 1 or limit > MAX_LIMIT:
        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise ApiError(400, f"offset must be 0 or more, not {offset}")


def page(qb: Any, limit: int, offset: int, convert: Callable[[list[Any]], Any]) -> dict[str, Any]:
    """Run ``qb`` (already ordered) for one page; ``convert`` turns a row into an item.

    The total is the count of the whole query, ignoring limit and offset.
    """
    check_page(limit, offset)
    total = qb.count()
    rows = qb.limit(limit).offset(offset).all() if offset < total else []
    return {"total": total, "limit": limit, "offset": offset, "items": [convert(row) for row in rows]}
