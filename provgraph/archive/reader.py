"""Browsing an archive without importing it: QueryBuilder and load_node on a read-only handle.

Example::

    with provgraph.archive.open("results.zip") as archive:
        for (node,) in archive.querybuilder().append(Int, project="*").all():
            print(node.value)
        node = archive.load_node(uuid="...")
        data = archive.get_object_content(node.base.repository.object_key("file.txt"))

The archive's database is extracted to a private scratch directory and opened with the
sqlite storage backend (an archive is an sqlite-backend database); nothing the handle offers
writes, and the archive file itself is never modified. Nodes loaded from an archive are
snapshots for reading their fields, attributes and extras: their links and files are read
through the handle (``querybuilder()`` with ``with_incoming``..., ``open_object``), because the
ORM's own accessors go to the current profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from provgraph.archive.format import DEFAULT_LIMITS, ArchiveMetadata, Limits
from provgraph.archive.source import OpenedArchive
from provgraph.exceptions import ArchiveError, ProvgraphError
from provgraph.orm.querybuilder import CompiledQuery, QueryBuilder, _front
from provgraph.orm.utils import node_from_record
from provgraph.plugins import load_plugin
from provgraph.storage.base import StorageBackend


class ArchiveQueryBuilder(QueryBuilder):
    """A QueryBuilder that runs on an archive's database instead of the current profile."""

    def __init__(self, backend: StorageBackend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._archive_backend = backend

    def as_cypher(self) -> CompiledQuery:
        """The SQL statement and parameters run on the archive's database."""
        statement, params = self._archive_backend.queries.compile(self.as_ir())
        return CompiledQuery(statement, params)

    def iterall(self, batch_size: int = 1000) -> Iterator[list[Any]]:
        """Yield rows from the archive, ``batch_size`` at a time."""
        for row in self._archive_backend.queries.iterate(self.as_ir(), batch_size):
            yield [_front(value) for value in row]

    def count(self) -> int:
        """The number of rows in the archive (ignoring limit and offset)."""
        return self._archive_backend.queries.count(self.as_ir())


class ArchiveReader:
    """A read-only view of one archive; use it as a context manager (see the module docstring).

    :raises ArchiveError: when the archive is broken, unsafe or of an unknown format
    """

    def __init__(self, path: Path | str, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self._archive = OpenedArchive(path, limits=limits, verify_objects=False)
        try:
            backend_cls = load_plugin("storage", "core.sqlite")
            self._backend: StorageBackend = backend_cls({"path": str(self._archive.db_path)})
        except ProvgraphError as exc:
            self._archive.close()
            raise ArchiveError(f"cannot open the database of {path}: {exc}") from exc
        except BaseException:
            self._archive.close()
            raise

    @property
    def metadata(self) -> ArchiveMetadata:
        """The archive's metadata."""
        return self._archive.metadata

    @property
    def backend(self) -> StorageBackend:
        """The sqlite storage backend on the archive's (scratch) database, for read-only use."""
        return self._backend

    def querybuilder(self, **kwargs: Any) -> ArchiveQueryBuilder:
        """Return a new QueryBuilder that queries this archive."""
        return ArchiveQueryBuilder(self._backend, **kwargs)

    def load_node(self, identifier: int | str | None = None, *, pk: int | None = None,
                  uuid: str | None = None) -> Any:
        """Load a node of the archive by its archive pk, uuid or unique uuid prefix.

        :raises NotExistent: when no node matches
        """
        if isinstance(identifier, int) and not isinstance(identifier, bool):
            pk = identifier
        elif isinstance(identifier, str):
            pk, uuid = (int(identifier), None) if identifier.isdigit() else (None, identifier)
        return node_from_record(self._backend.nodes.get(pk=pk, uuid=uuid))

    def open_object(self, key: str) -> BinaryIO:
        """Return a binary stream of the repository object ``key`` (close it after use)."""
        return self._archive.open_object(key)

    def get_object_content(self, key: str) -> bytes:
        """Return the whole content of the repository object ``key``."""
        with self.open_object(key) as handle:
            return handle.read()

    def close(self) -> None:
        """Release the database and remove the scratch directory."""
        self._backend.close()
        self._archive.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_archive(path: Path | str, *, limits: Limits = DEFAULT_LIMITS) -> ArchiveReader:
    """Open an archive read-only for browsing (``provgraph.archive.open``)."""
    return ArchiveReader(path, limits=limits)
