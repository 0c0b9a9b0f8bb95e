"""The contract every repository implementation fulfils (run on local disk and on S3)."""

from __future__ import annotations

import hashlib
import io
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.storage.repository.base import MaintenanceReport, maintain

ABSENT = "0" * 64


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_round_trip_key_is_sha256(repository):
    data = b"provenance" * 1000
    key = repository.put_object_from_filelike(io.BytesIO(data))
    assert key == sha(data)
    with repository.open(key) as handle:
        assert handle.read() == data


def test_empty_object(repository):
    key = repository.put_object_from_bytes(b"")
    assert key == sha(b"")
    assert repository.get_object_content(key) == b""
    assert repository.get_object_size(key) == 0


def test_streaming_read_in_chunks(repository):
    data = bytes(range(256)) * 12_000  # ~3 MiB
    key = repository.put_object_from_bytes(data)
    digest = hashlib.sha256()
    with repository.open(key) as handle:
        while chunk := handle.read(65_536):
            digest.update(chunk)
    assert digest.hexdigest() == key


def test_store_reads_from_current_position(repository):
    handle = io.BytesIO(b"skip-me:payload")
    handle.seek(8)
    assert repository.put_object_from_filelike(handle) == sha(b"payload")


def test_same_content_is_stored_once(repository):
    data = b"duplicate" * 100
    first = repository.put_object_from_bytes(data)
    second = repository.put_object_from_filelike(io.BytesIO(data))
    assert first == second
    assert list(repository.list_objects()) == [first]
    assert repository.total_size() == len(data)


def test_has_objects_keeps_order(repository):
    one = repository.put_object_from_bytes(b"one")
    two = repository.put_object_from_bytes(b"two")
    assert repository.has_objects([one, ABSENT, two]) == [True, False, True]
    assert repository.has_objects([]) == []
    assert repository.has_object(one)


def test_sizes(repository):
    keys = [repository.put_object_from_bytes(b"x" * size) for size in (1, 10, 1000)]
    assert [repository.get_object_size(key) for key in keys] == [1, 10, 1000]
    assert repository.total_size() == 1011


def test_list_objects(repository):
    assert list(repository.list_objects()) == []
    keys = {repository.put_object_from_bytes(bytes([index]) * 7) for index in range(5)}
    assert set(repository.list_objects()) == keys


def test_delete(repository):
    keep = repository.put_object_from_bytes(b"keep")
    drop = repository.put_object_from_bytes(b"drop")
    repository.delete_objects([drop])
    assert repository.has_objects([keep, drop]) == [True, False]
    assert list(repository.list_objects()) == [keep]


def test_delete_with_a_missing_key_deletes_nothing(repository):
    key = repository.put_object_from_bytes(b"present")
    with pytest.raises(NotExistent, match=ABSENT):
        repository.delete_objects([key, ABSENT])
    assert repository.has_object(key)


def test_missing_key_is_not_existent(repository):
    with pytest.raises(NotExistent):
        with repository.open(ABSENT):
            pass
    with pytest.raises(NotExistent):
        repository.get_object_size(ABSENT)
    with pytest.raises(NotExistent):
        repository.get_object_content(ABSENT)


@pytest.mark.parametrize("bad", ["abc", "../" + "0" * 61, "A" * 64, "g" * 64, None])
def test_malformed_key_is_refused(repository, bad):
    with pytest.raises(ValidationError):
        repository.get_object_size(bad)
    with pytest.raises(ValidationError):
        repository.has_objects([bad])


def test_text_handle_is_refused(repository):
    with pytest.raises(ValidationError):
        repository.put_object_from_filelike(io.StringIO("text"))


def test_key_of_hashes_without_storing(repository):
    assert repository.key_of(io.BytesIO(b"abc")) == sha(b"abc")
    assert list(repository.list_objects()) == []


def test_uuid_is_stable(make_repository):
    first = make_repository()
    assert first.uuid == first.uuid
    assert make_repository().uuid == first.uuid
    assert first.description in repr(first)


def test_maintain_dry_run_then_real(repository):
    kept = repository.put_object_from_bytes(b"referenced")
    orphan = repository.put_object_from_bytes(b"orphan!")

    report = maintain(repository, {kept}, grace_period=0)
    assert report == MaintenanceReport(unreferenced=[orphan], bytes_freed=7, deleted=False)
    assert repository.has_objects([kept, orphan]) == [True, True]

    time.sleep(1.1)  # S3 reports whole seconds: deletion counts an object up to a second younger
    report = maintain(repository, {kept}, dry_run=False, grace_period=0)
    assert report.unreferenced == [orphan] and report.deleted and report.bytes_freed == 7
    assert repository.has_objects([kept, orphan]) == [True, False]
    assert maintain(repository, {kept}, dry_run=False, grace_period=0).unreferenced == []


def seeded_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


LARGE = st.builds(seeded_bytes, st.integers(0, 2**32), st.integers(10_000, 3_000_000))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096) | LARGE)
def test_round_trip_property(repository, data):
    key = repository.put_object_from_bytes(data)
    assert key == sha(data)
    assert repository.get_object_size(key) == len(data)
    assert repository.get_object_content(key) == data
