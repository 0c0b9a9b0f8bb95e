"""SinglefileData and FolderData: nodes whose content is files in the repository."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data
from provgraph.orm.nodes.repository import clean_path


def _check_filename(name: str) -> str:
    name = clean_path(name)
    if "/" in name:
        raise ValidationError(f"filename {name!r} must not contain '/'")
    return name


class SinglefileData(Data):
    """One file; its name is the attribute ``filename``.

    :param file: a path, or a binary file-like object
    :param filename: the name to store it under (default: the path's name, or ``file.txt``)
    """

    _node_type = "data.core.singlefile"

    def __init__(self, file: str | Path | BinaryIO, filename: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_file(file, filename)

    def set_file(self, file: str | Path | BinaryIO, filename: str | None = None) -> None:
        """Replace the file (unstored nodes only)."""
        if isinstance(file, (str, Path)):
            source = Path(file)
            if not source.is_file():
                raise ValidationError(f"{source} is not a file")
            name = _check_filename(filename or source.name)
            self.base.repository.put_object_from_file(source, name)
        elif hasattr(file, "read"):
            handle_name = getattr(file, "name", None)
            default = Path(handle_name).name if isinstance(handle_name, str) else "file.txt"
            name = _check_filename(filename or default)
            self.base.repository.put_object_from_filelike(file, name)
        else:
            raise ValidationError(f"SinglefileData needs a path or a binary file object, not {type(file).__name__}")
        for other in self.base.repository.walk_files():
            if other != name:
                self.base.repository.delete_object(other)
        self.base.attributes.set("filename", name)

    @property
    def filename(self) -> str:
        """The name of the file."""
        return self.base.attributes.get("filename")

    @contextmanager
    def open(self, mode: str = "r") -> Iterator[IO]:
        """Open the file for reading (``'r'`` text or ``'rb'`` bytes)."""
        with self.base.repository.open(self.filename, mode) as handle:
            yield handle

    def get_content(self, mode: str = "r") -> str | bytes:
        """The whole content of the file."""
        return self.base.repository.get_object_content(self.filename, mode)

    @classmethod
    def from_string(cls, content: str, filename: str = "file.txt", **kwargs: Any) -> SinglefileData:
        """A node holding ``content`` encoded as UTF-8."""
        return cls(io.BytesIO(content.encode("utf-8")), filename=filename, **kwargs)


class FolderData(Data):
    """A tree of files and folders.

    :param tree: a local folder whose content is copied in
    """

    _node_type = "data.core.folder"

    def __init__(self, tree: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if tree is not None:
            self.base.repository.put_object_from_tree(tree)

    def list_object_names(self, path: str | None = None) -> list[str]:
        """The names directly under ``path``."""
        return self.base.repository.list_object_names(path)

    def get_object_content(self, path: str, mode: str = "r") -> str | bytes:
        """The content of the file at ``path``."""
        return self.base.repository.get_object_content(path, mode)

    @contextmanager
    def open(self, path: str, mode: str = "r") -> Iterator[IO]:
        """Open the file at ``path`` for reading."""
        with self.base.repository.open(path, mode) as handle:
            yield handle
