"""Create boto3 S3 clients from a profile's repository config."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import RepositoryError


def s3_client(config: dict[str, Any]) -> Any:
    """Return a boto3 S3 client for ``{"endpoint_url", "access_key", "secret_key", "region"}``.

    :raises RepositoryError: when the config lacks a required key
    """
    import boto3
    from botocore.config import Config as BotoConfig

    missing = [key for key in ("endpoint_url", "access_key", "secret_key") if key not in config]
    if missing:
        raise RepositoryError(f"s3 repository config lacks {', '.join(missing)}")
    return boto3.client(
        "s3",
        endpoint_url=config["endpoint_url"],
        aws_access_key_id=config["access_key"],
        aws_secret_access_key=config["secret_key"],
        region_name=config.get("region", "us-east-1"),
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def check_bucket(config: dict[str, Any]) -> str:
    """Confirm the configured bucket is reachable; return a one-line description.

    :raises RepositoryError: when the endpoint or bucket cannot be reached
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3_client(config).head_bucket(Bucket=config["bucket"])
    except (BotoCoreError, ClientError) as exc:
        where = f"s3 bucket {config.get('bucket')!r} at {config.get('endpoint_url')}"
        raise RepositoryError(f"{where}: {exc}") from exc
    return f"s3 bucket {config['bucket']} at {config['endpoint_url']}"
