"""Reading archive zips safely: every zip or I/O failure becomes an :class:`ArchiveError`.

Members are streamed in chunks, never read whole, and a read is cut off at the size the
member declared (the zip bomb defence that complements :func:`provgraph.archive.format.check_members`).
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from provgraph.archive.format import (
    DATABASE_NAME,
    DEFAULT_LIMITS,
    METADATA_NAME,
    ArchiveMetadata,
    Limits,
    check_members,
)
from provgraph.exceptions import ArchiveError

CHUNK = 1024 * 1024

#: what zipfile and zlib raise on broken input
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
              NotImplementedError, RuntimeError, KeyError, OverflowError, UnicodeDecodeError)


@contextmanager
def translated(path: Path | str, doing: str) -> Iterator[None]:
    """Turn zip/zlib/OS errors raised while ``doing`` into :class:`ArchiveError`."""
    try:
        yield
    except ArchiveError:
        raise
    except ZIP_ERRORS as exc:
        raise ArchiveError(f"{path}: {doing} failed, the archive is corrupt or truncated ({exc})") from exc


def open_zip(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> tuple[zipfile.ZipFile, ArchiveMetadata]:
    """Open an archive, check its members and read its metadata.

    :raises ArchiveError: when the file is missing, not a zip, truncated, unsafe or of an unknown format
    """
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"no archive file at {path}")
    with translated(path, "opening the zip"):
        archive = zipfile.ZipFile(path)
    try:
        check_members(archive.infolist(), limits)
        with translated(path, f"reading {METADATA_NAME}"):
            text = read_small(archive, METADATA_NAME)
        metadata = ArchiveMetadata.from_json(text)
    except BaseException:
        archive.close()
        raise
    return archive, metadata


def read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    """Return the bytes of a small member (its size was checked by ``check_members``)."""
    with archive.open(name) as handle:
        return b"".join(iter_member(handle, archive.getinfo(name).file_size, name))


def iter_member(handle: BinaryIO, declared: int, name: str) -> Iterator[bytes]:
    """Yield the member's bytes in chunks, refusing more than ``declared``.

    :raises ArchiveError: when the member holds more bytes than it declared
    """
    seen = 0
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            return
        seen += len(chunk)
        if seen > declared:
            raise ArchiveError(f"member {name!r} holds more bytes than it declares: refused")
        yield chunk


def extract_database(archive: zipfile.ZipFile, target: Path, path: Path | str) -> None:
    """Stream ``db.sqlite3`` into the file ``target``.

    :raises ArchiveError: when the member is corrupt
    """
    info = archive.getinfo(DATABASE_NAME)
    with translated(path, f"extracting {DATABASE_NAME}"), archive.open(DATABASE_NAME) as source, \
            open(target, "wb") as out:
        for chunk in iter_member(source, info.file_size, DATABASE_NAME):
            out.write(chunk)


def verify_object(archive: zipfile.ZipFile, name: str, key: str, path: Path | str) -> int:
    """Check that member ``name`` holds the bytes whose sha256 is ``key``; return its size.

    :raises ArchiveError: when the content does not match its key or the member is corrupt
    """
    digest = hashlib.sha256()
    size = 0
    with translated(path, f"reading {name}"), archive.open(name) as handle:
        for chunk in iter_member(handle, archive.getinfo(name).file_size, name):
            digest.update(chunk)
            size += len(chunk)
    if digest.hexdigest() != key:
        raise ArchiveError(f"member {name!r} does not hold the object its name says (sha256 mismatch)")
    return size
