"""Fixtures for the repository tests: local repositories, S3 repositories on a private prefix."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provgraph.storage.repository.base import RepositoryBackend
from provgraph.storage.repository.local import LocalRepository

HERE = Path(__file__).resolve().parent


def purge_prefix(client: Any, bucket: str, prefix: str) -> None:
    """Delete every object and abort every multipart upload under ``prefix``."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        batch = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if batch:
            client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    # MinIO filters multipart uploads by whole keys only, so list them all and filter here.
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            if upload["Key"].startswith(prefix):
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def make_s3_repository(request, tmp_path) -> Iterator[Callable[..., RepositoryBackend]]:
    """A factory of S3 repositories on one unique prefix (purged afterwards); kwargs override config."""
    from provgraph.storage.repository.s3 import S3Repository

    s3_config = request.getfixturevalue("s3_config")
    client = request.getfixturevalue("s3")
    prefix = f"tests/repository/{uuid.uuid4()}/"
    spool = tmp_path / "spool"
    spool.mkdir()

    def make(**overrides: Any) -> RepositoryBackend:
        return S3Repository(dict(s3_config, prefix=prefix, spool_dir=str(spool), **overrides))

    yield make
    purge_prefix(client, s3_config["bucket"], prefix)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.requires_s3)])
def make_repository(request, tmp_path) -> Callable[[], RepositoryBackend]:
    """A factory of repository instances over one fresh store, for each implementation."""
    if request.param == "local":
        root = tmp_path / "repository"
        return lambda: LocalRepository(root)
    return request.getfixturevalue("make_s3_repository")


@pytest.fixture
def repository(make_repository) -> RepositoryBackend:
    """A fresh, empty repository of each implementation."""
    return make_repository()
