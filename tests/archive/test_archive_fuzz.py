"""Fuzzing the archive reader and importer with mutated archives (hypothesis).

Whatever the mutation, the outcome is an :class:`ArchiveError` or a clean import: never
another exception, and never a partial write.
"""

from __future__ import annotations

import hashlib
import zipfile

import pytest
from archive_support import node_count, small_archive, small_database, zip_archive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.archive import import_archive, validate_archive
from provgraph.exceptions import ArchiveError
from provgraph.orm.backend import get_backend


def _fuzz(examples: int) -> settings:
    return settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None,
                    max_examples=examples)


@st.composite
def mutations(draw, size: int):
    """A list of edits of a byte string: overwrite, insert or delete bytes, or truncate."""
    edits = draw(st.lists(st.tuples(st.sampled_from(["set", "insert", "delete", "truncate"]),
                                    st.integers(0, size - 1), st.binary(min_size=1, max_size=8)),
                          min_size=1, max_size=6))
    return edits


def _apply(data: bytes, edits) -> bytes:
    buffer = bytearray(data)
    for kind, where, payload in edits:
        where = min(where, max(len(buffer) - 1, 0))
        if kind == "set":
            buffer[where:where + len(payload)] = payload
        elif kind == "insert":
            buffer[where:where] = payload
        elif kind == "delete":
            del buffer[where:where + len(payload)]
        else:
            del buffer[where:]
    return bytes(buffer)


@pytest.fixture(scope="module")
def archive_data(tmp_path_factory) -> bytes:
    return small_archive(tmp_path_factory.mktemp("fuzz")).read_bytes()


def test_fuzz_mutated_zip_bytes(archive_data, tmp_path):
    """3000 byte-level mutations of a small valid archive through the complete check."""
    path = tmp_path / "mutant.zip"

    @_fuzz(3000)
    @given(mutations(len(archive_data)))
    def check(edits):
        path.write_bytes(_apply(archive_data, edits))
        try:
            validate_archive(path)
        except ArchiveError:
            pass

    check()


def _state() -> tuple:
    backend = get_backend()
    return node_count(), len(backend.groups.list()), sum(backend.nodes.count_by("links").values())


@pytest.fixture(scope="module")
def database_bytes(tmp_path_factory) -> tuple[bytes, dict[str, bytes]]:
    content = b"file content of the small archive\n"
    objects = {hashlib.sha256(content).hexdigest(): content}
    path = tmp_path_factory.mktemp("fuzzdb") / "db.sqlite3"
    small_database(path, objects)
    return path.read_bytes(), objects


def test_fuzz_mutated_database_imports_all_or_nothing(database_bytes, sqlite_target, tmp_path):
    """Mutations of the database inside a well-formed zip, imported into a throwaway sqlite profile."""
    data, objects = database_bytes
    db_path, zip_path = tmp_path / "mutant.db", tmp_path / "mutant.zip"

    @_fuzz(400)
    @given(mutations(len(data)))
    def check(edits):
        db_path.write_bytes(_apply(data, edits))
        zip_archive(zip_path, db_path, objects, compression=zipfile.ZIP_STORED)
        before = _state()
        try:
            import_archive(zip_path)
        except ArchiveError:
            assert _state() == before
            return
        after = _state()
        import_archive(zip_path)
        assert _state() == after

    check()
