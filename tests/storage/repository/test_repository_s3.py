"""The S3 repository on MinIO: multipart uploads, upload skipped for duplicates, prefixes, cleanup."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from provgraph.exceptions import RepositoryError
from provgraph.storage.repository.base import maintain
from provgraph.storage.repository.s3 import MiB, S3Repository

pytestmark = pytest.mark.requires_s3


class CallCounter:
    """Counts the S3 API calls a client makes, by operation name."""

    def __init__(self, client) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.s3", self._record)

    def _record(self, model, **_kwargs) -> None:
        self.calls.append(model.name)

    def count(self, name: str) -> int:
        return self.calls.count(name)


def test_multipart_above_threshold(make_s3_repository, s3, s3_config):
    repo = make_s3_repository(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    counter = CallCounter(repo.client)
    data = os.urandom(12 * MiB + 3)
    key = repo.put_object_from_filelike(io.BytesIO(data))
    assert counter.count("CreateMultipartUpload") == 1
    assert counter.count("UploadPart") == 3
    head = s3.head_object(Bucket=s3_config["bucket"], Key=f"{repo.prefix}objects/{key}")
    assert head["ETag"].strip('"').endswith("-3") and head["ContentLength"] == len(data)
    assert repo.get_object_content(key) == data


def test_single_put_below_threshold(make_s3_repository):
    repo = make_s3_repository(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    counter = CallCounter(repo.client)
    repo.put_object_from_bytes(os.urandom(5 * MiB - 1))
    assert counter.count("PutObject") == 1
    assert counter.count("CreateMultipartUpload") == 0


def test_duplicate_is_not_uploaded_again(make_s3_repository):
    repo = make_s3_repository(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    data = os.urandom(6 * MiB)
    key = repo.put_object_from_bytes(data)
    counter = CallCounter(repo.client)
    assert repo.put_object_from_filelike(io.BytesIO(data)) == key
    assert counter.calls == ["HeadObject"]


def test_objects_live_under_the_prefix(make_s3_repository, s3, s3_config):
    repo = make_s3_repository()
    key = repo.put_object_from_bytes(b"where am I")
    listed = s3.list_objects_v2(Bucket=s3_config["bucket"], Prefix=repo.prefix)
    assert [item["Key"] for item in listed["Contents"]] == [f"{repo.prefix}objects/{key}"]
    other = S3Repository(dict(repo.config, prefix=repo.prefix + "other"))
    try:
        assert list(other.list_objects()) == [] and other.has_objects([key]) == [False]
        assert other.uuid != repo.uuid
    finally:
        s3.delete_object(Bucket=s3_config["bucket"], Key=f"{other.prefix}repository.json")


def test_open_streams_the_body(make_s3_repository):
    repo = make_s3_repository()
    data = os.urandom(3 * MiB)
    key = repo.put_object_from_bytes(data)
    with repo.open(key) as handle:
        assert not handle.seekable()
        head = handle.read(10)
        assert head == data[:10]
        assert hashlib.sha256(head + handle.read()).hexdigest() == key


def test_spool_files_are_removed(make_s3_repository):
    repo = make_s3_repository()
    repo.put_object_from_bytes(b"spooled")
    assert os.listdir(repo.spool_dir) == []


def test_stale_multipart_uploads_are_aborted(make_s3_repository, s3, s3_config):
    repo = make_s3_repository(stale_upload_age=0)
    name = f"{repo.prefix}objects/{'a' * 64}"
    upload = s3.create_multipart_upload(Bucket=s3_config["bucket"], Key=name)
    s3.upload_part(
        Bucket=s3_config["bucket"], Key=name, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10
    )
    label = f"{name}#{upload['UploadId']}"

    assert maintain(repo, set(), grace_period=0).temporary == {label: 10}
    assert maintain(repo, set(), dry_run=False, grace_period=0).temporary == {label: 10}
    assert maintain(repo, set(), grace_period=0).temporary == {}
    assert make_s3_repository().clean_temporary() == {}  # the default age protects live uploads


def test_config_without_bucket_is_refused(s3_config):
    with pytest.raises(RepositoryError, match="bucket"):
        S3Repository({key: value for key, value in s3_config.items() if key != "bucket"})


def test_unreachable_endpoint_is_a_repository_error(s3_config):
    repo = S3Repository(dict(s3_config, endpoint_url="http://127.0.0.1:1"))
    with pytest.raises(RepositoryError):
        repo.has_objects(["0" * 64])
    with pytest.raises(RepositoryError):
        repo.put_object_from_bytes(b"nowhere")
    with pytest.raises(RepositoryError):
        list(repo.list_objects())


def test_wrong_credentials_are_a_repository_error(make_s3_repository):
    repo = make_s3_repository(secret_key="wrong-secret-key")
    with pytest.raises(RepositoryError) as info:
        with repo.open("0" * 64):
            pass
    assert info.value.__cause__ is not None
