"""Fixtures of the transport tests: an open transport per plugin and a scratch folder on its side.

``core.ssh`` runs against the service kit's real sshd (account ``provgraph-ssh``),
so its files live on the "remote" side in a folder that account owns.
"""

from __future__ import annotations

import pytest
from transport_testing import build_transport, open_or_fail

from provgraph.transports.base import Transport

TRANSPORTS = ["core.local", pytest.param("core.ssh", marks=pytest.mark.requires_ssh)]


@pytest.fixture(scope="module", params=TRANSPORTS)
def transport_name(request) -> str:
    """The entry-point name of each transport plugin."""
    return request.param


@pytest.fixture(scope="module")
def transport(transport_name, request) -> Transport:
    """An open transport of each plugin, shared by the tests of a module."""
    opened = open_or_fail(build_transport(transport_name, request, safe_open_interval=0))
    yield opened
    opened.close()


@pytest.fixture
def closed_transport(transport_name, request) -> Transport:
    """A new, not yet opened transport of each plugin (closed again afterwards)."""
    fresh = build_transport(transport_name, request, safe_open_interval=0)
    yield fresh
    fresh.close()


@pytest.fixture
def remote_dir(transport) -> str:
    """A fresh folder on the transport's side, removed afterwards."""
    code, stdout, stderr = transport.exec_command_wait("mktemp -d /tmp/pg-transport-XXXXXXXX")
    assert code == 0, stderr
    path = stdout.strip()
    yield path
    if transport.is_open and transport.path_exists(path):
        transport.rmtree(path)
