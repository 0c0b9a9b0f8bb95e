"""The broker URL of a profile, for Celery and kombu."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from provgraph.exceptions import ConfigurationError


def broker_url(config: dict[str, Any]) -> str:
    """Return the AMQP URL for a profile's rabbitmq broker config (secrets merged in).

    User, password and vhost are percent-encoded, so any generated password is safe.
    """
    missing = [key for key in ("host", "port", "user", "password", "vhost") if key not in config]
    if missing:
        raise ConfigurationError(f"rabbitmq broker config lacks {', '.join(missing)}")
    user = quote(config["user"], safe="")
    password = quote(config["password"], safe="")
    vhost = quote(config["vhost"], safe="")
    return f"amqp://{user}:{password}@{config['host']}:{int(config['port'])}/{vhost}"


def check_broker(config: dict[str, Any]) -> str:
    """Open and close an AMQP connection to the broker; return a one-line description.

    :raises ServiceUnavailable: when the broker cannot be reached or refuses the login
    """
    from kombu import Connection

    from provgraph.exceptions import ServiceUnavailable

    url = broker_url(config)
    try:
        with Connection(url, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            version = connection.connection.server_properties.get("version", b"")
    except Exception as exc:  # kombu surfaces socket, auth and AMQP errors alike
        raise ServiceUnavailable(f"rabbitmq at {config['host']}:{config['port']}: {exc}") from exc
    if isinstance(version, bytes):
        version = version.decode()
    return f"rabbitmq {version} at {config['host']}:{config['port']} vhost {config['vhost']}"
