"""docker/compose.yaml parses and offers every service the local path runs.

There is no Docker engine on the CI machine, so the file is checked statically.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
LOCAL_SERVICES = {"neo4j", "rabbitmq", "minio", "ssh", "slurm"}


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_names_every_local_service_and_a_worker():
    services = set(_compose()["services"])
    assert LOCAL_SERVICES | {"worker"} <= services


def test_ports_published_on_loopback_only():
    for name, service in _compose()["services"].items():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond loopback"


def test_build_files_exist():
    for name, service in _compose()["services"].items():
        build = service.get("build")
        if build:
            dockerfile = (DOCKER / build["context"] / build["dockerfile"]).resolve()
            assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"


def test_neo4j_is_the_5_26_community_line():
    assert _compose()["services"]["neo4j"]["image"] == "neo4j:5.26-community"
