"""Shared fixtures: session-scoped connections to the real services.

The services are started by ``make services-up`` (``make test`` does it first).
A fixture whose service is down makes the test *fail* with the reason: nothing
is skipped silently.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from provgraph.exceptions import ProvgraphError
from provgraph.profiles import Config, Profile

REPO = Path(__file__).resolve().parent.parent
SERVICES_DIR = Path(os.environ.get("PROVGRAPH_SERVICES_DIR", REPO / ".services"))


def service_secret(name: str) -> dict:
    """Return the credentials the service kit generated for ``name``, or fail."""
    path = SERVICES_DIR / "secrets" / f"{name}.json"
    if not path.exists():
        pytest.fail(f"the {name} service has no credentials at {path}: run `make services-up`", pytrace=False)
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def services_profile() -> Profile:
    """The ``services`` profile written by ``make services-up``."""
    try:
        return Config().get("services")
    except ProvgraphError as exc:
        pytest.fail(f"no 'services' profile ({exc}); run `make services-up`", pytrace=False)


@pytest.fixture(scope="session")
def neo4j_driver(services_profile):
    """An official-driver connection to the Neo4j service."""
    from provgraph.storage.neo4j.driver import open_driver

    try:
        driver = open_driver(services_profile.section_config("storage"))
    except ProvgraphError as exc:
        pytest.fail(f"Neo4j service unavailable: {exc}", pytrace=False)
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def amqp_url(services_profile) -> str:
    """The AMQP URL of the RabbitMQ service, checked to accept a connection."""
    from provgraph.engine.celery.broker import broker_url, check_broker

    config = services_profile.section_config("broker")
    try:
        check_broker(config)
    except ProvgraphError as exc:
        pytest.fail(f"RabbitMQ service unavailable: {exc}", pytrace=False)
    return broker_url(config)


@pytest.fixture(scope="session")
def s3_config(services_profile) -> dict:
    """The MinIO repository config (with secrets), checked to reach its bucket."""
    from provgraph.storage.repository.s3client import check_bucket

    config = services_profile.section_config("repository")
    try:
        check_bucket(config)
    except ProvgraphError as exc:
        pytest.fail(f"MinIO (S3) service unavailable: {exc}", pytrace=False)
    return config


@pytest.fixture(scope="session")
def s3(s3_config):
    """A boto3 S3 client on the MinIO service."""
    from provgraph.storage.repository.s3client import s3_client

    return s3_client(s3_config)


@pytest.fixture(scope="session")
def ssh_settings() -> dict:
    """Host, port, user, key and known_hosts of the OpenSSH service's test account."""
    return service_secret("ssh")


@pytest.fixture(scope="session")
def ssh_connection(ssh_settings):
    """A Fabric connection to the OpenSSH service that verifies the host key."""
    import paramiko
    from fabric import Config, Connection

    connection = Connection(
        config=Config(overrides={"run": {"in_stream": False}}),
        host=ssh_settings["host"],
        port=int(ssh_settings["port"]),
        user=ssh_settings["username"],
        connect_kwargs={"key_filename": ssh_settings["key_filename"], "look_for_keys": False,
                        "allow_agent": False},
        connect_timeout=10,
    )
    connection.client.load_host_keys(ssh_settings["known_hosts"])
    connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        connection.open()
    except Exception as exc:  # paramiko raises socket, auth and protocol errors alike
        pytest.fail(f"OpenSSH service unavailable at {ssh_settings['host']}:{ssh_settings['port']}: {exc}",
                    pytrace=False)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def slurm_env() -> dict:
    """Environment for SLURM clients (SLURM_CONF), checked against a live controller."""
    settings = service_secret("slurm")
    env = dict(os.environ, **settings["env"])
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, env=env)
    if ping.returncode != 0 or "UP" not in ping.stdout:
        pytest.fail(f"SLURM service unavailable: scontrol ping says {ping.stdout.strip()} {ping.stderr.strip()}",
                    pytrace=False)
    return env


@pytest.fixture
def provgraph_home(tmp_path, monkeypatch) -> Path:
    """An empty configuration directory used as ``PROVGRAPH_HOME`` for one test."""
    home = tmp_path / "pghome"
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    monkeypatch.delenv("PROVGRAPH_PROFILE", raising=False)
    return home


@pytest.fixture(scope="session")
def neo4j_profile(services_profile):
    """The ``services`` profile made current, its Neo4j schema migrated: the ORM runs on it."""
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import load_profile
    from provgraph.storage.neo4j.backend import Neo4jBackend

    try:
        backend = Neo4jBackend(services_profile.section_config("storage"), check_schema=False)
    except ProvgraphError as exc:
        pytest.fail(f"Neo4j service unavailable: {exc}", pytrace=False)
    backend.migrate()
    backend.close()
    profile = load_profile("services")
    yield profile
    orm_backend.reset()


BACKENDS = ("neo4j", "sqlite")


@pytest.fixture(scope="session")
def sqlite_profile(tmp_path_factory):
    """A sqlite + local-repository profile in a session-wide temporary directory, made current on request.

    It lives in its own ``PROVGRAPH_HOME`` so the user's configuration is never touched.
    """
    from provgraph.profiles import Config, Profile

    root = tmp_path_factory.mktemp("sqlite-profile")
    profile = Profile(
        name="sqlite-tests",
        storage={"backend": "sqlite", "config": {"path": str(root / "storage.sqlite")}},
        repository={"backend": "local", "config": {"path": str(root / "repository")}},
        broker={},
    )
    Config(root / "home").store(profile, make_default=True)
    return profile, root / "home"


@pytest.fixture(params=BACKENDS)
def backend_profile(request, monkeypatch):
    """Run the test once per storage backend, with that backend's profile current.

    Backend-agnostic tests (ORM, QueryBuilder) take this fixture instead of ``neo4j_profile``;
    the results must be identical on both backends.
    """
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import load_profile

    if request.param == "neo4j":
        request.getfixturevalue("neo4j_profile")
        profile = load_profile("services")
    else:
        sqlite, home = request.getfixturevalue("sqlite_profile")
        monkeypatch.setenv("PROVGRAPH_HOME", str(home))
        orm_backend.get_backend(sqlite).migrate()
        profile = load_profile(sqlite.name)
    yield profile
    if request.param == "sqlite":
        monkeypatch.undo()
        load_profile("services")
