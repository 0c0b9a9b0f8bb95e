"""The MinIO (S3) service: put, get and list of objects through boto3."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from provgraph.exceptions import RepositoryError
from provgraph.storage.repository.s3client import check_bucket, s3_client

pytestmark = pytest.mark.requires_s3


def test_put_get_list(s3, s3_config):
    bucket = s3_config["bucket"]
    prefix = f"probe/{uuid.uuid4()}/"
    body = bytes(range(256)) * 1000
    s3.put_object(Bucket=bucket, Key=prefix + "a.bin", Body=body)
    s3.put_object(Bucket=bucket, Key=prefix + "b.txt", Body=b"b")
    try:
        fetched = s3.get_object(Bucket=bucket, Key=prefix + "a.bin")["Body"].read()
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        keys = sorted(item["Key"] for item in listed["Contents"])
    finally:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": prefix + "a.bin"}, {"Key": prefix + "b.txt"}]})
    assert fetched == body
    assert keys == [prefix + "a.bin", prefix + "b.txt"]


def test_missing_object_is_an_error(s3, s3_config):
    with pytest.raises(ClientError):
        s3.get_object(Bucket=s3_config["bucket"], Key=f"absent/{uuid.uuid4()}")


def test_wrong_secret_is_refused(s3_config):
    with pytest.raises(RepositoryError):
        check_bucket(dict(s3_config, secret_key="wrong-secret-key"))


def test_client_requires_credentials():
    with pytest.raises(RepositoryError, match="lacks access_key, secret_key"):
        s3_client({"endpoint_url": "http://127.0.0.1:1"})
