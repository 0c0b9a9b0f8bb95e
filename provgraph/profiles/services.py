"""Build the ``services`` profile from the credentials the local service kit wrote.

``make services-up`` starts Neo4j, MinIO and RabbitMQ on loopback (see
``services/`` in the repository) and stores each one's generated credentials in
``.services/secrets/<service>.json``; this module turns them into a profile so
that ``PROVGRAPH_PROFILE=services`` uses the full stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provgraph.exceptions import ConfigurationError
from provgraph.profiles.config import Config, Profile

SERVICES_PROFILE = "services"


def _read(secrets_dir: Path, service: str) -> dict[str, Any]:
    path = secrets_dir / f"{service}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"no credentials for {service} at {path}; start the services first (make services-up)"
        ) from exc


def services_profile(secrets_dir: Path) -> Profile:
    """Return the ``services`` profile for the credentials in ``secrets_dir``."""
    neo4j, minio, rabbit = (_read(secrets_dir, name) for name in ("neo4j", "minio", "rabbitmq"))
    return Profile(
        name=SERVICES_PROFILE,
        storage={"backend": "neo4j", "config": {"uri": neo4j["uri"], "user": neo4j["user"], "database": "neo4j"}},
        repository={
            "backend": "s3",
            "config": {
                "endpoint_url": minio["endpoint_url"],
                "bucket": minio["bucket"],
                "region": minio.get("region", "us-east-1"),
                "access_key": minio["access_key"],
            },
        },
        broker={
            "backend": "rabbitmq",
            "config": {
                "host": rabbit["host"],
                "port": rabbit["port"],
                "vhost": rabbit["vhost"],
                "user": rabbit["user"],
            },
        },
        secrets={
            "storage": {"password": neo4j["password"]},
            "repository": {"secret_key": minio["secret_key"]},
            "broker": {"password": rabbit["password"]},
        },
    )


def write_services_profile(secrets_dir: Path, config: Config | None = None) -> Profile:
    """Store the ``services`` profile (the default profile only if there is none yet)."""
    profile = services_profile(secrets_dir)
    (config or Config()).store(profile)
    return profile
