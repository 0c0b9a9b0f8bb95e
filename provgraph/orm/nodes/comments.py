"""``node.base.comments``: free-text comments users attach to a stored node."""

from __future__ import annotations

import uuid as uuid_module
from typing import TYPE_CHECKING

from provgraph.exceptions import ModificationNotAllowed, NotExistent, ValidationError
from provgraph.orm.backend import get_backend

if TYPE_CHECKING:
    from provgraph.orm.nodes.node import Node
    from provgraph.storage.entities import CommentRecord


class NodeComments:
    """Add, list, edit and remove the comments of one node."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def _require_stored(self) -> int:
        if not self._node.is_stored:
            raise ModificationNotAllowed(f"store {self._node!r} before commenting on it")
        return self._node.pk

    def add(self, content: str, user: str | None = None) -> CommentRecord:
        """Attach a comment; returns it (with its pk)."""
        from provgraph.orm.nodes.node import default_user, now
        from provgraph.storage.entities import CommentRecord

        if not isinstance(content, str) or not content.strip():
            raise ValidationError("a comment needs non-empty text")
        stamp = now()
        record = CommentRecord(node_pk=self._require_stored(), content=content, user=user or default_user(),
                               uuid=str(uuid_module.uuid4()), ctime=stamp, mtime=stamp)
        record.pk = get_backend().comments.add(record)
        return record

    def all(self) -> list[CommentRecord]:
        """The node's comments, oldest first."""
        if not self._node.is_stored:
            return []
        return get_backend().comments.for_node(self._node.pk)

    def update(self, pk: int, content: str) -> None:
        """Replace the text of comment ``pk`` (which must belong to this node)."""
        self._own(pk)
        get_backend().comments.update(pk, content)

    def remove(self, pk: int) -> None:
        """Delete comment ``pk`` (which must belong to this node)."""
        self._own(pk)
        get_backend().comments.delete(pk)

    def _own(self, pk: int) -> None:
        comment = get_backend().comments.get(pk)
        if comment.node_pk != self._require_stored():
            raise NotExistent(f"comment {pk} is not on {self._node!r}")
