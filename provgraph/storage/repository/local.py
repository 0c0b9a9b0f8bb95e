"""The repository in a local directory, with atomic, crash-safe writes.

Layout under ``root``::

    repository.json       {"uuid": ...}, written once when the repository is created
    objects/ab/cdef...    object ``abcdef...`` (sharded by the first two hex characters)
    tmp/put-XXXXXXXX      a write in progress (or the leftover of an interrupted one)
    trash/<key>-XXXXXXXX  an object maintenance is removing (or the leftover of an interrupted removal)

Write protocol: the input is streamed in fixed-size chunks into a fresh file in
``tmp/`` while it is hashed; the file is fsynced and then renamed into
``objects/`` with :func:`os.replace` (atomic on POSIX), and the shard directory
is fsynced.  A process killed at any point therefore leaves either the whole
object or nothing under ``objects/``; only a file in ``tmp/`` may remain.

Each writer holds an exclusive :func:`fcntl.flock` on its temporary file for the
whole write.  The kernel drops the lock when the writer dies, so
:meth:`LocalRepository.clean_temporary` removes exactly the files whose lock it
can take: leftovers of dead writers, never files of live ones.  Concurrent
writers of the same content each write their own temporary file and rename it
onto the same name; the rename is atomic and the bytes identical, so readers
see one whole object either way.

Storing bytes that are present already does not rewrite them: it refreshes the object's
modification time (``os.utime``), which :func:`~provgraph.storage.repository.base.maintain`
reads as "someone is storing this now".  Maintenance removes an object by renaming it into
``trash/`` (holding its flock) and then looking at its time: if a writer refreshed it in the
meantime it is renamed back; a writer refreshing it after the rename finds it gone and writes
it afresh.  So a concurrent store never loses its object.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import uuid as uuid_module
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from provgraph.exceptions import NotExistent, RepositoryError
from provgraph.storage.repository.base import (
    RepositoryBackend,
    buffered_reader,
    copy_and_hash,
    validate_key,
)

_TEMP_PREFIX = "put-"
_TRASH = "trash"


class LocalRepository(RepositoryBackend):
    """A content-addressed repository in the directory ``root`` (created if missing)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self._uuid: str | None = None
        with _translated(f"creating the repository at {self.root}"):
            self.objects.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(exist_ok=True)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LocalRepository:
        """Open the repository at ``config["path"]``."""
        if "path" not in config:
            raise RepositoryError("local repository config lacks 'path'")
        return cls(config["path"])

    @property
    def uuid(self) -> str:
        """The repository's identity, stored in ``repository.json`` on first use."""
        if self._uuid is None:
            with _translated(f"reading the identity of the repository at {self.root}"):
                self._uuid = self._read_or_create_uuid()
        return self._uuid

    @property
    def description(self) -> str:
        """Where the repository lives."""
        return f"local repository at {self.root}"

    def put_object_from_filelike(self, handle: BinaryIO) -> str:
        """Stream ``handle`` into a temporary file, then rename it into place (see the module doc)."""
        with _translated("storing an object"), self._temporary_file() as (fd, path):
            with open(fd, "wb", closefd=False) as out:  # buffered: no silent short writes
                key, _ = copy_and_hash(handle, out)
            os.fsync(fd)
            self._commit(path, key)
        return key

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """Yield a buffered reader of the object file."""
        path = self._path(key)
        try:
            source = open(path, "rb", buffering=0)  # closed by the reader below
        except FileNotFoundError as exc:
            raise NotExistent(f"no object {key} in {self.description}") from exc
        except OSError as exc:
            raise RepositoryError(f"opening object {key}: {exc}") from exc
        reader = buffered_reader(source, (OSError,), key)
        try:
            yield reader
        finally:
            reader.close()

    def has_objects(self, keys: Iterable[str]) -> list[bool]:
        """Check each object file exists."""
        paths = [self._path(key) for key in keys]
        with _translated("checking objects"):
            return [path.is_file() for path in paths]

    def get_object_size(self, key: str) -> int:
        """Stat the object file."""
        path = self._path(key)
        try:
            return path.stat().st_size
        except FileNotFoundError as exc:
            raise NotExistent(f"no object {key} in {self.description}") from exc
        except OSError as exc:
            raise RepositoryError(f"reading the size of object {key}: {exc}") from exc

    def delete_objects(self, keys: Iterable[str]) -> None:
        """Unlink the object files after checking they all exist."""
        keys = list(keys)
        missing = [key for key, exists in zip(keys, self.has_objects(keys), strict=True) if not exists]
        if missing:
            raise NotExistent(f"no objects {', '.join(missing)} in {self.description}")
        with _translated("deleting objects"):
            for key in keys:
                with contextlib.suppress(FileNotFoundError):  # a duplicate in ``keys``
                    self._path(key).unlink()

    def list_objects(self) -> Iterator[str]:
        """Walk the shard directories."""
        with _translated("listing objects"):
            for shard in sorted(os.scandir(self.objects), key=lambda entry: entry.name):
                if not shard.is_dir() or len(shard.name) != 2:
                    continue
                for entry in os.scandir(shard.path):
                    key = shard.name + entry.name
                    if len(key) == 64 and entry.is_file():
                        yield key

    def iter_object_times(self) -> Iterator[tuple[str, float]]:
        """Walk the shard directories, with each file's modification time."""
        with _translated("listing objects"):
            for key in self.list_objects():
                try:
                    yield key, self._path(key).stat().st_mtime
                except FileNotFoundError:  # removed meanwhile
                    continue

    def refresh_objects(self, keys: Iterable[str]) -> list[bool]:
        """``utime`` each present object file."""
        found = []
        with _translated("refreshing objects"):
            for key in keys:
                try:
                    os.utime(self._path(key))
                    found.append(True)
                except FileNotFoundError:
                    found.append(False)
        return found

    def delete_if_older(self, keys: Iterable[str], cutoff: float) -> list[str]:
        """Move each object to ``trash/``, check its time there, then unlink it or move it back (see the module doc)."""
        deleted = []
        with _translated("deleting objects"):
            trash = self.root / _TRASH
            trash.mkdir(exist_ok=True)
            for key in dict.fromkeys(keys):
                if self._trash_if_older(key, cutoff, trash):
                    deleted.append(key)
        return deleted

    def total_size(self) -> int:
        """Sum the sizes of the object files."""
        with _translated("measuring the repository"):
            return sum(self._path(key).stat().st_size for key in self.list_objects())

    def clean_temporary(self, dry_run: bool = True) -> dict[str, int]:
        """Remove the temporary files of dead writers: those whose flock can be taken."""
        removed: dict[str, int] = {}
        with _translated("cleaning temporary files"):
            folders = [self.tmp] + ([self.root / _TRASH] if (self.root / _TRASH).is_dir() else [])
            for folder in folders:
                for entry in os.scandir(folder):
                    size = self._remove_if_abandoned(Path(entry.path), dry_run)
                    if size is not None:
                        removed[entry.name] = size
        return removed

    # -- internals ---------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self.objects / key[:2] / key[2:]

    @contextlib.contextmanager
    def _temporary_file(self) -> Iterator[tuple[int, str]]:
        """Yield ``(fd, path)`` of a fresh temporary file this process holds the flock of.

        The file is removed afterwards unless it was renamed into ``objects/``.
        """
        while True:
            fd, path = tempfile.mkstemp(dir=self.tmp, prefix=_TEMP_PREFIX)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink:  # not removed by a cleaner between mkstemp and flock
                break
            os.close(fd)
        try:
            yield fd, path
        finally:
            with contextlib.suppress(FileNotFoundError):
                if os.path.exists(path) and os.path.samestat(os.stat(path), os.fstat(fd)):
                    os.unlink(path)
            os.close(fd)

    def _commit(self, temporary: str, key: str) -> None:
        """Rename the fsynced ``temporary`` file to object ``key`` unless it exists already."""
        target = self._path(key)
        if target.exists():
            try:
                os.utime(target)  # present: tell maintenance someone is storing it now
                return
            except FileNotFoundError:  # removed by maintenance meanwhile: write it afresh
                pass
        shard = target.parent
        if not shard.is_dir():
            with contextlib.suppress(FileExistsError):
                shard.mkdir()
            _fsync_directory(self.objects)
        os.replace(temporary, target)
        _fsync_directory(shard)

    def _trash_if_older(self, key: str, cutoff: float, trash: Path) -> bool:
        """Remove object ``key`` unless it was written at or after ``cutoff``; return whether it was removed."""
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a concurrent clean_temporary leaves it alone in trash/
            if os.fstat(fd).st_mtime >= cutoff:
                return False
            parked = trash / f"{key}-{uuid_module.uuid4().hex[:8]}"
            try:
                os.rename(path, parked)
            except FileNotFoundError:  # removed by another maintenance
                return False
            if os.stat(parked).st_mtime >= cutoff:  # a writer refreshed it before the rename
                os.rename(parked, path)  # back (a writer's fresh copy holds the same bytes)
                return False
            os.unlink(parked)
            return True
        finally:
            os.close(fd)

    def _remove_if_abandoned(self, path: Path, dry_run: bool) -> int | None:
        """Remove ``path`` if no live writer holds its flock; return its size, or None if kept."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # committed or removed meanwhile
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None  # a live writer
            raise
        try:
            stat = os.fstat(fd)
            try:
                if not os.path.samestat(os.stat(path), stat):
                    return None
            except FileNotFoundError:  # its writer renamed it into objects/ and let go of the lock
                return None
            if not dry_run:
                try:
                    path.unlink()  # while holding the lock, so the writer protocol sees st_nlink == 0
                except FileNotFoundError:
                    return None
            return stat.st_size
        finally:
            os.close(fd)

    def _read_or_create_uuid(self) -> str:
        """Read ``repository.json``, creating it first (race-free, by hard link) if missing."""
        config = self.root / "repository.json"
        if not config.exists():
            fd, path = tempfile.mkstemp(dir=self.tmp, prefix="config-")
            try:
                with open(fd, "w") as handle:
                    json.dump({"uuid": str(uuid_module.uuid4())}, handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                with contextlib.suppress(FileExistsError):  # another process created it first
                    os.link(path, config)
                _fsync_directory(self.root)
            finally:
                os.unlink(path)
        return json.loads(config.read_text())["uuid"]


def _fsync_directory(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn an :class:`OSError` raised inside into a :class:`RepositoryError` about ``what``."""
    try:
        yield
    except OSError as exc:
        raise RepositoryError(f"{what} failed: {exc}") from exc
