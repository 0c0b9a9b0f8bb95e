"""``node.base.repository``: the node's virtual file tree over the content-addressed repository.

Writing a file stores its content as an object right away (deduplicated by
sha256) and records ``path -> key`` in the node's tree; the tree is saved with
the node. Objects of nodes never stored are unreferenced and go away with
``provgraph storage maintain``. Files are immutable once the node is stored.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, BinaryIO

from provgraph.exceptions import ModificationNotAllowed, NotExistent, ValidationError
from provgraph.orm.backend import get_repository

if TYPE_CHECKING:
    from provgraph.orm.nodes.node import Node


def clean_path(path: str | PurePosixPath) -> str:
    """Return ``path`` as a normalised relative POSIX path, refusing escapes and absolute paths."""
    text = str(path)
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or any(part in ("..", "") for part in text.split("/")) or "\x00" in text:
        raise ValidationError(f"invalid repository path {text!r}: use a relative path without '..' or empty parts")
    return str(pure)


def check_tree(tree: dict[str, str]) -> None:
    """Check a whole file tree (``path -> key``) as stored: every path normalised and safe, no file
    also used as a folder.

    :raises ValidationError: naming the first bad path
    """
    for path in tree:
        if not isinstance(path, str) or clean_path(path) != path or path in (".",):
            raise ValidationError(f"invalid repository path {path!r}: not a normalised relative path")
    for path in tree:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in tree:
                raise ValidationError(f"invalid file tree: {folder!r} is a file and also the folder of {path!r}")


class NodeRepository:
    """The files of one node."""

    def __init__(self, node: Node) -> None:
        self._node = node

    @property
    def _tree(self) -> dict[str, str]:
        return self._node._record.repository

    def _check_mutable(self) -> None:
        if self._node.is_stored:
            raise ModificationNotAllowed(f"the files of stored node {self._node.pk} cannot be changed")

    def put_object_from_filelike(self, handle: BinaryIO, path: str) -> None:
        """Store the bytes read from ``handle`` at ``path`` (streamed, never read whole)."""
        self._check_mutable()
        path = clean_path(path)
        if any(existing.startswith(path + "/") for existing in self._tree):
            raise ValidationError(f"{path!r} is a directory of {self._node!r}")
        if isinstance(handle, io.TextIOBase):
            raise ValidationError("open the file in binary mode ('rb') to store it")
        self._tree[path] = get_repository().put_object_from_filelike(handle)

    def put_object_from_bytes(self, content: bytes, path: str) -> None:
        """Store ``content`` at ``path``."""
        if not isinstance(content, (bytes, bytearray)):
            raise ValidationError(f"content must be bytes, not {type(content).__name__}")
        self.put_object_from_filelike(io.BytesIO(content), path)

    def put_object_from_file(self, filepath: str | Path, path: str | None = None) -> None:
        """Store the file at ``filepath`` under ``path`` (default: its name)."""
        source = Path(filepath)
        with source.open("rb") as handle:
            self.put_object_from_filelike(handle, path or source.name)

    def put_object_from_tree(self, folder: str | Path, path: str = "") -> None:
        """Store every file below ``folder``, keeping the relative layout, under ``path``."""
        root = Path(folder)
        if not root.is_dir():
            raise ValidationError(f"{root} is not a directory")
        for item in sorted(root.rglob("*")):
            if item.is_file():
                relative = item.relative_to(root).as_posix()
                self.put_object_from_file(item, f"{path.rstrip('/')}/{relative}" if path else relative)

    def delete_object(self, path: str) -> None:
        """Remove ``path`` from the tree (the object stays until maintenance)."""
        self._check_mutable()
        if self._tree.pop(clean_path(path), None) is None:
            raise NotExistent(f"{self._node!r} has no file {path!r}")

    def list_object_names(self, path: str | None = None) -> list[str]:
        """The names directly under ``path`` (files and directories), sorted."""
        prefix = "" if not path else clean_path(path) + "/"
        names = {key[len(prefix):].split("/")[0] for key in self._tree if key.startswith(prefix)}
        if path and not names:
            raise NotExistent(f"{self._node!r} has no directory {path!r}")
        return sorted(names)

    def walk_files(self) -> list[str]:
        """Every file path of the node, sorted."""
        return sorted(self._tree)

    def object_key(self, path: str) -> str:
        """The content key (sha256) of the file at ``path``."""
        key = self._tree.get(clean_path(path))
        if key is None:
            raise NotExistent(f"{self._node!r} has no file {path!r}")
        return key

    @contextmanager
    def open(self, path: str, mode: str = "r") -> Iterator[IO]:
        """Open the file at ``path`` for streaming reads: text (UTF-8) by default as in AiiDA, ``'rb'`` for bytes."""
        if mode not in ("r", "rb"):
            raise ValidationError(f"files of a node are opened for reading only ('r' or 'rb'), not {mode!r}")
        with get_repository().open(self.object_key(path)) as handle:
            yield io.TextIOWrapper(handle, encoding="utf-8") if mode == "r" else handle

    def get_object_content(self, path: str, mode: str = "r") -> str | bytes:
        """The whole content of ``path`` (use :meth:`open` for large files)."""
        with self.open(path, "rb") as handle:
            data = handle.read()
        return data.decode("utf-8") if mode == "r" else data

    def copy_tree(self, target: str | Path) -> None:
        """Write every file of the node below the local folder ``target``.

        Every path is checked before anything is created, and each destination must resolve
        inside ``target`` (a symlink in ``target`` cannot redirect a file elsewhere).

        :raises ValidationError: when a path of the tree is unsafe (nothing is written)
        """
        root = Path(target)
        check_tree(self._tree)
        for path in self.walk_files():
            destination = root / path
            if not destination.parent.resolve().is_relative_to(root.resolve()):  # before creating anything
                raise ValidationError(f"{destination} resolves outside {root}: refused")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with self.open(path, "rb") as source, destination.open("wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
