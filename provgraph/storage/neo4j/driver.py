"""Open connections to Neo4j with the official driver, errors translated at the boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import StorageError, UnreachableStorage

if TYPE_CHECKING:
    import neo4j


def open_driver(config: dict[str, Any]) -> neo4j.Driver:
    """Return a connected driver for a profile's neo4j storage config.

    :param config: ``{"uri", "user", "password"}`` (the profile's storage config with secrets)
    :raises UnreachableStorage: when the server cannot be reached or refuses the credentials
    """
    import neo4j

    missing = [key for key in ("uri", "user", "password") if key not in config]
    if missing:
        raise UnreachableStorage(f"neo4j storage config lacks {', '.join(missing)}")
    driver = neo4j.GraphDatabase.driver(
        config["uri"], auth=(config["user"], config["password"]), connection_timeout=10.0,
        notifications_min_severity="OFF",
    )
    with translate_errors(config["uri"]):
        driver.verify_connectivity()
    return driver


@contextmanager
def translate_errors(uri: str) -> Iterator[None]:
    """Turn neo4j driver exceptions into provgraph's storage errors."""
    import neo4j.exceptions as errors

    try:
        yield
    except errors.AuthError as exc:
        raise UnreachableStorage(f"neo4j at {uri} refused the credentials: {exc.message}") from exc
    except (errors.ServiceUnavailable, OSError) as exc:
        raise UnreachableStorage(f"neo4j at {uri} is not reachable: {exc}") from exc
    except errors.Neo4jError as exc:
        raise StorageError(f"neo4j error {exc.code}: {exc.message}") from exc


def server_version(driver: neo4j.Driver) -> str:
    """Return the server's product version string, e.g. ``5.26.1``."""
    with driver.session() as session:
        record = session.run("CALL dbms.components() YIELD versions RETURN versions[0] AS v").single()
    return record["v"] if record else "unknown"
