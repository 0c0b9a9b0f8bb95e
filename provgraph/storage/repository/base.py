"""The interface every file repository implements, plus the maintenance helper.

A repository stores immutable objects addressed by the sha256 hex digest of
their bytes.  Storing the same bytes twice stores one object.  Nodes refer to
objects by key from their virtual file trees; objects no node refers to are
removed only by the explicit :func:`maintain` call (DESIGN §3).
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from provgraph.exceptions import NotExistent, RepositoryError, ValidationError

#: Size of the chunks objects are streamed and hashed in; no more is held in memory per stream.
CHUNK_SIZE = 1024 * 1024

_KEY = re.compile(r"[0-9a-f]{64}")


def validate_key(key: Any) -> str:
    """Return ``key`` if it is a sha256 hex digest (64 lowercase hex characters).

    :raises ValidationError: when ``key`` is not such a string
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValidationError(f"not a repository object key (sha256 hex digest): {key!r}")
    return key


def iter_chunks(handle: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the rest of ``handle`` in chunks of at most ``size`` bytes.

    :raises ValidationError: when ``handle`` yields ``str`` (opened in text mode)
    """
    while True:
        chunk = handle.read(size)
        if not chunk:
            return
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise ValidationError(f"repository objects are bytes; the handle yielded {type(chunk).__name__}")
        yield chunk


def copy_and_hash(source: BinaryIO, destination: BinaryIO) -> tuple[str, int]:
    """Copy the rest of ``source`` into ``destination`` chunk by chunk; return (sha256 hex, size).

    :raises ValidationError: when ``source`` is opened in text mode
    :raises OSError: when reading or writing fails (callers translate it)
    """
    digest = hashlib.sha256()
    size = 0
    for chunk in iter_chunks(source):
        digest.update(chunk)
        destination.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class ObjectReader(io.RawIOBase):
    """A read-only raw stream over a backend's byte source that translates its errors.

    ``source`` needs ``read(n)`` and ``close()``; reads failing with one of
    ``errors`` raise :class:`RepositoryError`.  Seeking is delegated when the
    source supports it.  Wrap it in :class:`io.BufferedReader` for callers.
    """

    def __init__(self, source: Any, errors: tuple[type[BaseException], ...], name: str) -> None:
        super().__init__()
        self._source = source
        self._errors = errors
        self._name = name

    def readable(self) -> bool:
        """Objects are always readable."""
        return True

    def seekable(self) -> bool:
        """Whether the underlying source can seek (local files can, S3 bodies cannot)."""
        return bool(getattr(self._source, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the object when the source allows it."""
        if not self.seekable():
            raise io.UnsupportedOperation("this repository stream cannot seek")
        return self._guard(self._source.seek, offset, whence)

    def tell(self) -> int:
        """The current position when the source can seek."""
        if not self.seekable():
            raise io.UnsupportedOperation("this repository stream cannot tell")
        return self._guard(self._source.tell)

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` with the next bytes of the object; return how many (0 at the end)."""
        view = memoryview(buffer).cast("B")
        if hasattr(self._source, "readinto"):
            return self._guard(self._source.readinto, view) or 0
        data = self._guard(self._source.read, len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Release the source (file handle or HTTP connection)."""
        if not self.closed:
            try:
                self._source.close()
            finally:
                super().close()

    def _guard(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except self._errors as exc:
            raise RepositoryError(f"reading repository object {self._name} failed: {exc}") from exc


def buffered_reader(source: Any, errors: tuple[type[BaseException], ...], name: str) -> BinaryIO:
    """Return a buffered binary file object streaming ``source`` (see :class:`ObjectReader`)."""
    return io.BufferedReader(ObjectReader(source, errors, name), buffer_size=CHUNK_SIZE)  # type: ignore[return-value]


class RepositoryBackend(ABC):
    """A content-addressed object store: the interface of the local and S3 repositories.

    Keys are sha256 hex digests of the content.  Malformed keys raise
    :class:`ValidationError`, keys of absent objects :class:`NotExistent`, and
    failures of the underlying store :class:`RepositoryError`.
    """

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RepositoryBackend:
        """Open the repository a profile's ``repository`` section describes (secrets merged in)."""
        return cls(config)  # type: ignore[call-arg]

    @property
    @abstractmethod
    def uuid(self) -> str:
        """The identity of this repository, created with it and stable afterwards.

        :raises RepositoryError: when the store cannot be read or initialised
        """

    @property
    @abstractmethod
    def description(self) -> str:
        """A one-line human description (where the objects live).

        :raises: nothing; it never contacts the store
        """

    @abstractmethod
    def put_object_from_filelike(self, handle: BinaryIO) -> str:
        """Store the rest of the binary ``handle``; return its key (sha256 hex digest).

        Streams in chunks; never holds the whole content in memory.  Storing
        bytes already present stores nothing new.

        :raises ValidationError: when ``handle`` is opened in text mode
        :raises RepositoryError: when the store fails; no partial object is left under its key
        """

    @abstractmethod
    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Return a context manager yielding a streaming binary reader of the object ``key``.

        :raises ValidationError: when ``key`` is malformed
        :raises NotExistent: when no object has this key
        :raises RepositoryError: when the store fails (also from reads of the yielded stream)
        """

    @abstractmethod
    def has_objects(self, keys: Iterable[str]) -> list[bool]:
        """Return, for each of ``keys`` in order, whether that object exists.

        :raises ValidationError: when a key is malformed
        :raises RepositoryError: when the store fails
        """

    @abstractmethod
    def get_object_size(self, key: str) -> int:
        """Return the size in bytes of the object ``key``.

        :raises ValidationError: when ``key`` is malformed
        :raises NotExistent: when no object has this key
        :raises RepositoryError: when the store fails
        """

    @abstractmethod
    def delete_objects(self, keys: Iterable[str]) -> None:
        """Delete the objects ``keys``; all must exist, otherwise nothing is deleted.

        :raises ValidationError: when a key is malformed
        :raises NotExistent: when one of the keys has no object (nothing is deleted)
        :raises RepositoryError: when the store fails
        """

    @abstractmethod
    def list_objects(self) -> Iterator[str]:
        """Yield the key of every object, in no particular order.

        :raises RepositoryError: when the store fails
        """

    @abstractmethod
    def iter_object_times(self) -> Iterator[tuple[str, float]]:
        """Yield ``(key, time)`` of every object: when it was last written (or refreshed), in epoch seconds.

        Storing bytes that are present already refreshes that time, so maintenance can tell
        objects that someone is storing right now from old ones.

        :raises RepositoryError: when the store fails
        """

    def refresh_objects(self, keys: Iterable[str]) -> list[bool]:
        """Refresh the time of each present object of ``keys`` (as storing its bytes again would); return which exist.

        For callers that skip storing bytes the repository has (archive import): maintenance
        then treats those objects as being stored now. The default checks existence only.

        :raises ValidationError: when a key is malformed
        :raises RepositoryError: when the store fails
        """
        return self.has_objects(keys)

    @abstractmethod
    def delete_if_older(self, keys: Iterable[str], cutoff: float) -> list[str]:
        """Delete those of ``keys`` last written before ``cutoff`` (epoch seconds); return the deleted ones.

        An object written or refreshed after ``cutoff`` (as by a concurrent store of the same
        bytes) is kept; absent objects are skipped.

        :raises ValidationError: when a key is malformed
        :raises RepositoryError: when the store fails
        """

    @abstractmethod
    def total_size(self) -> int:
        """Return the sum of the sizes of all objects in bytes.

        :raises RepositoryError: when the store fails
        """

    def clean_temporary(self, dry_run: bool = True) -> dict[str, int]:
        """Remove leftovers of interrupted writes; return ``{name: size}`` of what was (or would be) removed.

        Leftovers of writes still in progress are left alone.  The default has none.

        :raises RepositoryError: when the store fails
        """
        return {}

    @staticmethod
    def key_of(handle: BinaryIO) -> str:
        """Return the key the rest of ``handle`` would be stored under, without storing it.

        :raises ValidationError: when ``handle`` is opened in text mode
        """
        digest = hashlib.sha256()
        for chunk in iter_chunks(handle):
            digest.update(chunk)
        return digest.hexdigest()

    def put_object_from_bytes(self, data: bytes) -> str:
        """Store ``data``; return its key (convenience for small objects).

        :raises RepositoryError: when the store fails
        """
        return self.put_object_from_filelike(io.BytesIO(data))

    def get_object_content(self, key: str) -> bytes:
        """Return the whole content of object ``key`` (convenience for small objects).

        :raises NotExistent: when no object has this key
        :raises RepositoryError: when the store fails
        """
        with self.open(key) as handle:
            return handle.read()

    def has_object(self, key: str) -> bool:
        """Return whether the object ``key`` exists.

        :raises RepositoryError: when the store fails
        """
        return self.has_objects([key])[0]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.description}>"


#: Default seconds an unreferenced object is kept after it was last written (see :func:`maintain`).
DEFAULT_GRACE_PERIOD = 3600.0


@dataclass
class MaintenanceReport:
    """What :func:`maintain` found and, unless it was a dry run, removed."""

    #: Keys of the objects no node refers to and older than the grace period, sorted.
    unreferenced: list[str] = field(default_factory=list)
    #: Bytes the unreferenced objects and temporary leftovers occupy (freed unless dry run).
    bytes_freed: int = 0
    #: Whether anything was actually deleted (False for a dry run).
    deleted: bool = False
    #: Leftovers of interrupted writes, ``{name: size}``.
    temporary: dict[str, int] = field(default_factory=dict)
    #: Keys of unreferenced objects kept because they were written within the grace period.
    young: list[str] = field(default_factory=list)


def maintain(
    repository: RepositoryBackend,
    referenced_keys: set[str] | Callable[[], Iterable[str]],
    dry_run: bool = True,
    grace_period: float = DEFAULT_GRACE_PERIOD,
) -> MaintenanceReport:
    """Find (and unless ``dry_run`` delete) objects no node refers to, and leftovers of interrupted writes.

    Safe while others store nodes, in this order: the objects are listed first, with the time
    each was last written; *then* the referenced keys are read (pass a callable so they are read
    after the listing); an object is a candidate only when unreferenced and last written more than
    ``grace_period`` seconds before the listing began; and the repository deletes a candidate only
    if it was still not written again when it is removed (:meth:`RepositoryBackend.delete_if_older`).
    A writer whose object exists already refreshes its time instead of writing it again, so a
    node being stored never loses a file, provided storing it takes less than ``grace_period``.

    :raises ValidationError: when ``grace_period`` is negative
    :raises RepositoryError: when the store fails
    """
    if not grace_period >= 0:
        raise ValidationError(f"the grace period must be a number of seconds >= 0, not {grace_period!r}")
    cutoff = time.time() - grace_period
    listed = dict(repository.iter_object_times())
    referenced = set(referenced_keys() if callable(referenced_keys) else referenced_keys)
    unreferenced = sorted(key for key in listed if key not in referenced)
    candidates = [key for key in unreferenced if listed[key] < cutoff]
    young = [key for key in unreferenced if listed[key] >= cutoff]
    sizes = {}
    for key in candidates:
        try:
            sizes[key] = repository.get_object_size(key)
        except NotExistent:  # removed concurrently: nothing left to free
            continue
    temporary = repository.clean_temporary(dry_run=dry_run)
    if not dry_run and sizes:
        removed = set(repository.delete_if_older(list(sizes), cutoff))
        young = sorted(set(young) | (set(sizes) - removed))
        sizes = {key: size for key, size in sizes.items() if key in removed}
    return MaintenanceReport(
        unreferenced=sorted(sizes),
        bytes_freed=sum(sizes.values()) + sum(temporary.values()),
        deleted=not dry_run,
        temporary=temporary,
        young=young,
    )
