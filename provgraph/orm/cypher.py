"""Raw Cypher for power users, on a neo4j profile."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import QueryError
from provgraph.orm.backend import get_backend
from provgraph.orm.utils import node_from_record
from provgraph.storage.base import NodeRecord


class CypherResult(list):
    """Rows of a raw Cypher query (a list of lists) with the column names in ``keys``."""

    def __init__(self, keys: list[str], rows: list[list[Any]]) -> None:
        super().__init__(rows)
        self.keys = keys


def cypher(query: str, write: bool = False, **params: Any) -> CypherResult:
    """Run ``query`` with ``params`` (always passed as parameters) and return its rows.

    Runs in a read transaction unless ``write=True``: a write in read mode is refused
    by the server and raised as :class:`QueryError`. Provenance nodes in the result
    come back as ORM nodes; other values as plain Python values.

    :raises QueryError: for a Cypher error, a refused write, or a profile without Cypher
    """
    backend = get_backend()
    if not hasattr(backend, "cypher"):
        raise QueryError(f"raw Cypher needs a neo4j profile; this profile's storage is {backend.name}")
    keys, rows = backend.cypher(query, params, write=write)
    return CypherResult(keys, [[_front(value) for value in row] for row in rows])


def _front(value: Any) -> Any:
    if isinstance(value, NodeRecord):
        return node_from_record(value)
    if isinstance(value, list):
        return [_front(item) for item in value]
    if isinstance(value, dict):
        return {key: _front(item) for key, item in value.items()}
    return value
