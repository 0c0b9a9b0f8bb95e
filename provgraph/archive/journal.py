"""What an import wrote, so that a failed import can be undone: an import is all or nothing."""

from __future__ import annotations

import logging
from typing import Any

from provgraph.storage.base import StorageBackend

LOGGER = logging.getLogger(__name__)


class Journal:
    """Records every write of one import, and undoes them in reverse order on failure."""

    def __init__(self, backend: StorageBackend) -> None:
        self.backend = backend
        self._nodes: list[int] = []
        self._computers: list[int] = []
        self._groups: list[int] = []
        self._members: list[tuple[int, list[int]]] = []
        self._comments: list[int] = []
        self._extras: list[tuple[int, dict[str, Any]]] = []

    def nodes(self, pks: list[int]) -> None:
        """New nodes were stored."""
        self._nodes.extend(pks)

    def computer(self, pk: int) -> None:
        """A new computer was stored."""
        self._computers.append(pk)

    def group(self, pk: int) -> None:
        """A new group was stored."""
        self._groups.append(pk)

    def members(self, group_pk: int, node_pks: list[int]) -> None:
        """Nodes were added to a group."""
        self._members.append((group_pk, node_pks))

    def comment(self, pk: int) -> None:
        """A comment was added."""
        self._comments.append(pk)

    def extras(self, pk: int, previous: dict[str, Any]) -> None:
        """The extras of a stored node were changed from ``previous``."""
        self._extras.append((pk, previous))

    def undo(self) -> None:
        """Undo everything recorded, newest first; failures to undo are logged, not raised."""
        steps = [
            *[(self.backend.comments.delete, (pk,)) for pk in reversed(self._comments)],
            *[(self.backend.groups.remove_nodes, (g, pks)) for g, pks in reversed(self._members)],
            *[(self.backend.groups.delete, (pk,)) for pk in reversed(self._groups)],
            *[(self._restore_extras, (pk, extras)) for pk, extras in reversed(self._extras)],
        ]
        if self._nodes:
            steps += [(self.backend.logs.delete_for_nodes, (self._nodes,)), (self.backend.nodes.delete, (self._nodes,))]
        steps += [(self.backend.computers.delete, (pk,)) for pk in reversed(self._computers)]
        for step, args in steps:
            try:
                step(*args)
            except Exception:  # keep undoing the rest; the original error is what the caller reports
                LOGGER.exception("undoing a failed archive import: %s%r failed", getattr(step, "__name__", step), args)

    def _restore_extras(self, pk: int, extras: dict[str, Any]) -> None:
        self.backend.nodes.update(pk, extras=extras)
