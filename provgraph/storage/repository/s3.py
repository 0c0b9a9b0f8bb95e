"""The repository in an S3 bucket (MinIO or any S3 endpoint), through boto3.

Objects live at ``<prefix>objects/<sha256>``; the repository identity at
``<prefix>repository.json``.

Hashing strategy: content addressing needs the sha256 before the object key is
known, and S3 cannot rename.  :meth:`S3Repository.put_object_from_filelike`
therefore streams the input, chunk by chunk, into a private *local spool file*
while hashing it, asks the bucket whether the key exists (dedup: the upload is
skipped), and otherwise uploads the spool file by name.  Chosen over "upload to
a temporary key, then server-side copy" because:

* a duplicate costs no upload at all (the copy strategy always uploads first);
* one upload instead of upload + copy + delete, and no temporary keys to leak
  in the bucket when the process dies (a spool file in the local temp dir is
  the only leftover);
* copies of objects over 5 GiB would need a multipart copy on top;
* boto3 uploads a *named file* part by part straight from disk (each worker
  thread re-opens the file at its offset), so memory stays at a few buffers
  whatever the size; ``upload_fileobj`` on an open stream would hold every
  in-flight part (``max_concurrency`` x part size) in memory instead;
* the spool is private, so the bytes uploaded are exactly the bytes hashed
  (re-reading the caller's file could race with someone changing it).

The cost is local disk space for one object at a time (``spool_dir``).

Storing bytes that are present already refreshes the object's ``LastModified`` (a server-side
copy onto itself, or a re-upload above the 5 GiB copy limit) when it is older than
``TOUCH_AGE`` seconds, which :func:`~provgraph.storage.repository.base.maintain` reads as "someone
is storing this now"; maintenance re-reads ``LastModified`` just before each delete.  S3 has no
conditional delete on time, so a refresh landing between that HEAD and the DELETE (milliseconds)
could still lose an object: keep grace periods well above ``TOUCH_AGE`` and run maintenance at
quiet times.
Uploads above ``multipart_threshold`` (default 64 MiB) are multipart with
parts of ``multipart_chunksize`` (default 16 MiB; S3 needs at least 5 MiB).
Reads stream the response body; nothing reads a whole object into memory.

Config keys: ``endpoint_url``, ``access_key``, ``secret_key``, ``region``,
``bucket`` (required) and optional ``prefix``, ``multipart_threshold``,
``multipart_chunksize``, ``max_concurrency`` (default 4), ``spool_dir``,
``stale_upload_age`` (seconds after which an unfinished multipart upload is
abandoned and aborted by maintenance; default one day).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import tempfile
import uuid as uuid_module
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from boto3.exceptions import S3TransferFailedError, S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from provgraph.exceptions import NotExistent, RepositoryError
from provgraph.storage.repository.base import (
    RepositoryBackend,
    buffered_reader,
    copy_and_hash,
    validate_key,
)
from provgraph.storage.repository.s3client import s3_client

MiB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * MiB
DEFAULT_MULTIPART_CHUNKSIZE = 16 * MiB
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_STALE_UPLOAD_AGE = 24 * 3600.0
#: seconds after which storing an object that is present refreshes its LastModified
TOUCH_AGE = 60.0
_DELETE_BATCH = 1000  # the S3 DeleteObjects limit
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
_S3_ERRORS = (BotoCoreError, ClientError, S3UploadFailedError, S3TransferFailedError)


class S3Repository(RepositoryBackend):
    """A content-addressed repository in an S3 bucket (see the module doc for the config)."""

    def __init__(self, config: dict[str, Any]) -> None:
        if not config.get("bucket"):
            raise RepositoryError("s3 repository config lacks bucket")
        self.config = dict(config)
        self.bucket: str = config["bucket"]
        self.prefix = _normalise_prefix(config.get("prefix", ""))
        self.spool_dir: str | None = config.get("spool_dir")
        self.stale_upload_age = float(config.get("stale_upload_age", DEFAULT_STALE_UPLOAD_AGE))
        self.transfer = TransferConfig(
            multipart_threshold=int(config.get("multipart_threshold", DEFAULT_MULTIPART_THRESHOLD)),
            multipart_chunksize=int(config.get("multipart_chunksize", DEFAULT_MULTIPART_CHUNKSIZE)),
            max_concurrency=int(config.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)),
        )
        self.client = s3_client(config)
        self._uuid: str | None = None

    @property
    def uuid(self) -> str:
        """The repository's identity, stored in ``<prefix>repository.json`` on first use."""
        if self._uuid is None:
            with self._translated("reading the repository identity"):
                self._uuid = self._read_or_create_uuid()
        return self._uuid

    @property
    def description(self) -> str:
        """Bucket, prefix and endpoint."""
        return f"s3 repository s3://{self.bucket}/{self.prefix} at {self.config.get('endpoint_url')}"

    def put_object_from_filelike(self, handle: BinaryIO) -> str:
        """Spool and hash locally, then upload unless the object exists (see the module doc)."""
        try:
            with tempfile.NamedTemporaryFile(dir=self.spool_dir, prefix="provgraph-spool-") as spool:
                key, _ = copy_and_hash(handle, spool)
                spool.flush()
                head = self._head(self._object_name(key))
                if head is None:
                    self._upload(spool.name, key)
                elif _age(head["LastModified"]) > TOUCH_AGE:
                    self._touch(spool.name, key)
        except OSError as exc:
            raise RepositoryError(f"spooling an object for {self.description} failed: {exc}") from exc
        return key

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """Yield a buffered reader over the streaming body of a GET."""
        name = self._object_name(key)
        with self._translated(f"opening object {key}", missing=key):
            body = self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
        reader = buffered_reader(body, (BotoCoreError, OSError), key)
        try:
            yield reader
        finally:
            reader.close()

    def has_objects(self, keys: Iterable[str]) -> list[bool]:
        """HEAD each object."""
        names = [self._object_name(key) for key in keys]
        return [self._head(name) is not None for name in names]

    def get_object_size(self, key: str) -> int:
        """HEAD the object and return its ContentLength."""
        head = self._head(self._object_name(key))
        if head is None:
            raise NotExistent(f"no object {key} in {self.description}")
        return int(head["ContentLength"])

    def delete_objects(self, keys: Iterable[str]) -> None:
        """Check all keys exist, then delete them in batches of 1000."""
        keys = list(dict.fromkeys(keys))
        missing = [key for key, exists in zip(keys, self.has_objects(keys), strict=True) if not exists]
        if missing:
            raise NotExistent(f"no objects {', '.join(missing)} in {self.description}")
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": self._object_name(key)} for key in keys[start : start + _DELETE_BATCH]]
            with self._translated("deleting objects"):
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            if response.get("Errors"):
                raise RepositoryError(f"deleting objects failed: {response['Errors'][:3]}")

    def list_objects(self) -> Iterator[str]:
        """Page through ``<prefix>objects/``."""
        for item in self._listing():
            yield item["Key"][len(self._objects_prefix) :]

    def iter_object_times(self) -> Iterator[tuple[str, float]]:
        """Page through ``<prefix>objects/`` with each object's LastModified."""
        for item in self._listing():
            yield item["Key"][len(self._objects_prefix) :], item["LastModified"].timestamp()

    def refresh_objects(self, keys: Iterable[str]) -> list[bool]:
        """HEAD each object; copy those older than ``TOUCH_AGE`` onto themselves (False when that fails)."""
        found = []
        for key in keys:
            name = self._object_name(key)
            head = self._head(name)
            if head is not None and _age(head["LastModified"]) > TOUCH_AGE:
                try:
                    self.client.copy_object(Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket,
                                            "Key": name}, MetadataDirective="REPLACE",
                                            ContentType="application/octet-stream")
                except ClientError:  # e.g. above the 5 GiB copy limit: the caller stores the bytes again
                    found.append(False)
                    continue
                except BotoCoreError as exc:
                    raise RepositoryError(f"refreshing object {key} in {self.description} failed: {exc}") from exc
            found.append(head is not None)
        return found

    def delete_if_older(self, keys: Iterable[str], cutoff: float) -> list[str]:
        """HEAD each object again and delete those still last modified before ``cutoff``."""
        old = []
        for key in dict.fromkeys(keys):
            head = self._head(self._object_name(key))
            # a HEAD's LastModified has whole seconds: count the object as up to a second younger
            if head is not None and head["LastModified"].timestamp() + 1.0 < cutoff:
                old.append(key)
        if old:
            self.delete_objects(old)
        return old

    def total_size(self) -> int:
        """Sum the sizes the listing reports."""
        return sum(int(item["Size"]) for item in self._listing())

    def clean_temporary(self, dry_run: bool = True) -> dict[str, int]:
        """Abort unfinished multipart uploads under the prefix older than ``stale_upload_age``."""
        cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
            seconds=self.stale_upload_age
        )
        removed: dict[str, int] = {}
        with self._translated("cleaning unfinished uploads"):
            for upload in self._uploads():
                if upload["Initiated"] <= cutoff:  # younger ones may belong to live writers
                    removed[f"{upload['Key']}#{upload['UploadId']}"] = self._abort(upload, dry_run)
        return removed

    # -- internals ---------------------------------------------------------------------------

    @property
    def _objects_prefix(self) -> str:
        return f"{self.prefix}objects/"

    def _object_name(self, key: str) -> str:
        return self._objects_prefix + validate_key(key)

    def _head(self, name: str) -> dict[str, Any] | None:
        """Return the HEAD response of ``name``, or None if there is no such object."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return None
            raise RepositoryError(f"checking {name} in {self.description} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise RepositoryError(f"checking {name} in {self.description} failed: {exc}") from exc

    def _upload(self, path: str, key: str) -> None:
        """Upload the file ``path`` as object ``key`` (multipart above the threshold)."""
        with self._translated(f"uploading object {key}"):
            self.client.upload_file(
                path,
                self.bucket,
                self._object_name(key),
                ExtraArgs={"ContentType": "application/octet-stream"},
                Config=self.transfer,
            )

    def _touch(self, path: str, key: str) -> None:
        """Refresh the LastModified of object ``key`` (copy onto itself; re-upload ``path`` if that fails)."""
        name = self._object_name(key)
        with self._translated(f"refreshing object {key}"):
            try:
                self.client.copy_object(Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket, "Key": name},
                                        MetadataDirective="REPLACE", ContentType="application/octet-stream")
            except ClientError:  # e.g. above the 5 GiB limit of a single copy
                self._upload(path, key)

    def _listing(self) -> Iterator[dict[str, Any]]:
        """Yield the listing entries of the objects (only well-formed keys)."""
        with self._translated("listing objects"):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._objects_prefix):
                for item in page.get("Contents", []):
                    suffix = item["Key"][len(self._objects_prefix) :]
                    if len(suffix) == 64 and "/" not in suffix:
                        yield item

    def _uploads(self) -> Iterator[dict[str, Any]]:
        """Yield the unfinished multipart uploads of objects under the prefix.

        Lists the whole bucket and filters here: MinIO answers a ``Prefix`` only
        when it is a complete key, and returns nothing for a real prefix.
        """
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", []):
                if upload["Key"].startswith(self._objects_prefix):
                    yield upload

    def _abort(self, upload: dict[str, Any], dry_run: bool) -> int:
        """Abort one multipart upload unless ``dry_run``; return the bytes its parts held."""
        parts = self.client.list_parts(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        size = sum(int(part["Size"]) for part in parts.get("Parts", []))
        if not dry_run:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        return size

    def _read_or_create_uuid(self) -> str:
        """Read ``repository.json``; create it first if missing (conditional PUT, first writer wins)."""
        name = f"{self.prefix}repository.json"
        body = json.dumps({"uuid": str(uuid_module.uuid4())}).encode()
        if self._head(name) is None:
            try:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=body, IfNoneMatch="*")
            except ClientError as exc:
                if _error_code(exc) not in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                    raise
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read())["uuid"]

    @contextlib.contextmanager
    def _translated(self, what: str, missing: str | None = None) -> Iterator[None]:
        """Translate boto errors raised inside: NotExistent for missing ``missing``, else RepositoryError."""
        try:
            yield
        except ClientError as exc:
            if missing is not None and _error_code(exc) in _MISSING_CODES:
                raise NotExistent(f"no object {missing} in {self.description}") from exc
            raise RepositoryError(f"{what} in {self.description} failed: {exc}") from exc
        except _S3_ERRORS as exc:
            raise RepositoryError(f"{what} in {self.description} failed: {exc}") from exc


def _normalise_prefix(prefix: str) -> str:
    """Return ``prefix`` without leading slashes and with exactly one trailing slash (or empty)."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _age(moment: datetime.datetime) -> float:
    """Seconds since ``moment`` (an aware datetime)."""
    return (datetime.datetime.now(datetime.timezone.utc) - moment).total_seconds()


def _error_code(exc: ClientError) -> str:
    """The S3 error code of a ClientError (e.g. ``NoSuchKey``, ``404``)."""
    return str(exc.response.get("Error", {}).get("Code", ""))
