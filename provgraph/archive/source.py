"""An archive opened for reading: the zip checked, its database extracted and checked.

:class:`OpenedArchive` is what import, inspect and the read-only reader start from. Opening
checks, before anything is written anywhere but a private temporary directory: the zip's
structure and member names, the declared sizes (zip bombs), the metadata and its format
version, the database's integrity, schema version and references, that every object a node
refers to is in the archive and (``verify_objects``) that every object's bytes match its key.
:func:`validate_archive` runs all of that plus a check of every row, and writes nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine

from provgraph.archive import rows
from provgraph.archive.database import check_database, engine_for, referenced_keys, translated
from provgraph.archive.format import DATABASE_NAME, DEFAULT_LIMITS, REPO_PREFIX, ArchiveMetadata, Limits, object_name
from provgraph.archive.zipio import extract_database, open_zip, verify_object
from provgraph.archive.zipio import translated as zip_translated
from provgraph.exceptions import ArchiveError, ProvgraphError
from provgraph.storage.entities import UserRecord
from provgraph.storage.sqlite import schema


class OpenedArchive:
    """A checked archive: its metadata, its extracted database (a private scratch copy) and its objects.

    Use it as a context manager; the scratch directory is removed on exit.

    :raises ArchiveError: when the archive is broken, unsafe, or of an unknown format
    """

    def __init__(self, path: Path | str, *, limits: Limits = DEFAULT_LIMITS, verify_objects: bool = True,
                 tmpdir: Path | str | None = None) -> None:
        self.path = Path(path)
        self.zip, self.metadata = open_zip(self.path, limits)
        self.workdir = Path(tempfile.mkdtemp(prefix="provgraph-archive-", dir=tmpdir))
        self.engine: Engine | None = None
        try:
            self._extract()
            self.object_keys = {name[len(REPO_PREFIX):] for name in self.zip.namelist()
                                if name.startswith(REPO_PREFIX)}
            self._check(verify_objects)
        except BaseException:
            self.close()
            raise

    @property
    def db_path(self) -> Path:
        """The extracted database file (a scratch copy: writing to it changes nothing else)."""
        return self.workdir / DATABASE_NAME

    def _extract(self) -> None:
        declared = self.zip.getinfo(DATABASE_NAME).file_size
        free = shutil.disk_usage(self.workdir).free
        if declared > free:
            raise ArchiveError(f"the archive's database declares {declared} bytes, more than the {free} bytes free "
                               f"in {self.workdir}")
        extract_database(self.zip, self.db_path, self.path)
        self.engine = engine_for(self.db_path, fast_writes=True)

    def _check(self, verify_objects: bool) -> None:
        assert self.engine is not None
        with translated("opening it"), self.engine.connect() as connection:
            check_database(connection)
            missing = next((key for key in referenced_keys(connection) if key not in self.object_keys), None)
        if missing is not None:
            raise ArchiveError(f"a node refers to repository object {missing}, which is not in the archive")
        if verify_objects:
            for key in sorted(self.object_keys):
                verify_object(self.zip, object_name(key), key, self.path)

    def open_object(self, key: str) -> BinaryIO:
        """Return a binary stream of object ``key`` (read it within the archive's ``with`` block).

        :raises ArchiveError: when the object is not in the archive or cannot be read
        """
        if key not in self.object_keys:
            raise ArchiveError(f"repository object {key} is not in the archive {self.path}")
        with zip_translated(self.path, f"reading object {key}"):
            return self.zip.open(object_name(key))  # type: ignore[return-value]

    def object_size(self, key: str) -> int:
        """The size in bytes of object ``key``."""
        if key not in self.object_keys:
            raise ArchiveError(f"repository object {key} is not in the archive {self.path}")
        return self.zip.getinfo(object_name(key)).file_size

    def close(self) -> None:
        """Close the zip and remove the scratch directory."""
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        self.zip.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> OpenedArchive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_ROW_CHECKS: tuple[tuple[Any, Any], ...] = (
    (schema.nodes, rows.node_record),
    (schema.computers, rows.computer_record),
    (schema.groups, rows.group_record),
    (schema.comments, lambda row: rows.comment_record(row, row.node_pk)),
    (schema.logs, lambda row: rows.log_record(row, row.node_pk)),
)


def check_rows(archive: OpenedArchive, batch_size: int = 2000) -> None:
    """Parse and validate every row of the archive's database (what an import would store).

    :raises ArchiveError: at the first malformed row
    """
    assert archive.engine is not None
    with translated("reading its rows"), archive.engine.connect() as connection:
        for table, parse in _ROW_CHECKS:
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            for row in connection.execution_options(yield_per=batch_size).exec_driver_sql(
                    f"SELECT {columns} FROM {table.name}"):
                _validate_record(parse(row), table.name)
        for row in connection.exec_driver_sql("SELECT email, first_name, last_name, institution FROM users"):
            _validate_record(UserRecord(row.email, row.first_name, row.last_name, row.institution), "users")
        for (email,) in connection.exec_driver_sql("SELECT DISTINCT user FROM nodes"):
            _validate_record(UserRecord(email), "node users")


def _validate_record(record: Any, what: str) -> None:
    validate = getattr(record, "validate", None)
    if validate is None:
        return
    try:
        validate()
    except ProvgraphError as exc:
        raise ArchiveError(f"the archive's {what} hold an invalid entry: {exc}") from exc


def validate_archive(path: Path | str, *, limits: Limits = DEFAULT_LIMITS) -> ArchiveMetadata:
    """Check an archive completely without importing it; return its metadata.

    :raises ArchiveError: when anything in it is broken, unsafe or unsupported
    """
    with OpenedArchive(path, limits=limits) as archive:
        check_rows(archive)
        return archive.metadata
