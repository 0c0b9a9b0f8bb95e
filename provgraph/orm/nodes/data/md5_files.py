"""Single-file data identified by the md5 checksum of its content (CifData, UpfData), as in AiiDA."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from provgraph.exceptions import ValidationError


def md5_of(content: bytes) -> str:
    """The md5 checksum of ``content`` (a content identity as in AiiDA, not a security measure)."""
    return hashlib.md5(content).hexdigest()  # noqa: S324


class Md5Lookup:
    """Mixin for single-file data whose ``md5`` attribute finds the stored nodes holding the same file.

    A plain mixin, not a Node class, so the data classes keep their class tree (their Neo4j labels).
    """

    @classmethod
    def from_md5(cls, md5: str) -> list[Any]:
        """The stored nodes of this class whose file has checksum ``md5``."""
        from provgraph.orm.querybuilder import QueryBuilder

        return QueryBuilder().append(cls, filters={"attributes.md5": md5}, subclassing=False).all(flat=True)

    @classmethod
    def _get_or_create(cls, path: str | Path, use_first: bool, store: bool) -> tuple[Any, bool]:
        """The stored node with the content of ``path``, or a new one; and whether it is new.

        :raises ValidationError: when several nodes have this content and ``use_first`` is False
        """
        md5 = md5_of(Path(path).read_bytes())
        found = cls.from_md5(md5)
        if not found:
            node = cls(path)
            return (node.store() if store else node), True
        if len(found) > 1 and not use_first:
            raise ValidationError(f"{len(found)} {cls.__name__} nodes have md5 {md5}: pass use_first=True to take one")
        return found[0], False
