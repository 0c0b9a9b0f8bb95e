"""Helpers shared by the transport tests: build a transport of a plugin, open it or fail."""

from __future__ import annotations

import pytest

from provgraph.exceptions import TransportError
from provgraph.plugins import load_plugin
from provgraph.transports.base import Transport


def build_transport(name: str, request: pytest.FixtureRequest, **kwargs: object) -> Transport:
    """A closed transport of plugin ``name`` (ssh settings come from the ``ssh_settings`` fixture)."""
    cls = load_plugin("transports", name)
    if name == "core.ssh":
        settings = request.getfixturevalue("ssh_settings")
        kwargs = {"port": int(settings["port"]), "username": settings["username"],
                  "key_filename": settings["key_filename"], "known_hosts": settings["known_hosts"], **kwargs}
        return cls(settings["host"], **kwargs)
    return cls(**kwargs)


def open_or_fail(transport: Transport) -> Transport:
    """Open ``transport``; a failure fails the test with the reason (a service is down), never skips."""
    try:
        transport.open()
    except TransportError as exc:
        pytest.fail(f"cannot open {transport!r}: {exc}", pytrace=False)
    return transport
