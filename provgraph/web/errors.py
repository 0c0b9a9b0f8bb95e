"""API errors: every failure answers with a JSON body ``{"error": {"type", "message", "status"}}``.

provgraph's own exceptions are translated here, at the boundary, to the HTTP status that
says whose fault it is (bad input 4xx, a service down 503).
"""

from __future__ import annotations

from provgraph.engine.exceptions import ProcessNotImportable, StaleCheckpoint
from provgraph.exceptions import (
    ArchiveError,
    ConfigurationError,
    LinkRuleError,
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    ProvgraphError,
    QueryError,
    ServiceUnavailable,
    StorageError,
    ValidationError,
)

#: provgraph exception -> HTTP status; the first matching class (in order) wins
STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (NotExistent, 404),
    (MultipleObjectsError, 409),
    (ProcessNotImportable, 422),
    (QueryError, 400),
    (ValidationError, 400),
    (LinkRuleError, 409),
    (ModificationNotAllowed, 409),
    (StaleCheckpoint, 409),
    (ArchiveError, 400),
    (ConfigurationError, 503),
    (ServiceUnavailable, 503),
    (StorageError, 503),
)


class ApiError(ProvgraphError):
    """An error the API answers with ``status`` (raised by the endpoints for bad requests).

    :param status: the HTTP status code
    :param message: what is wrong, in the caller's terms
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_of(exc: Exception) -> int:
    """The HTTP status for a provgraph exception (500 for anything unexpected)."""
    if isinstance(exc, ApiError):
        return exc.status
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(status: int, kind: str, message: str) -> dict:
    """The JSON body of an error answer."""
    return {"error": {"status": status, "type": kind, "message": message}}
