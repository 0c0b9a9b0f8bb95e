"""core.ssh specifics: host-key policy, error translation (retryable or not), proxy jumps, a lost connection."""

from __future__ import annotations

import errno
import socket
import subprocess

import paramiko
import pytest
from transport_testing import build_transport, open_or_fail

from provgraph.exceptions import TransportError
from provgraph.transports.base import TransportConnectionError
from provgraph.transports.ssh import SshTransport, translate_error


def _is_retryable(error: TransportError) -> bool:
    return isinstance(error, SshTransport.retryable_errors)


@pytest.mark.requires_ssh
def test_an_unknown_host_key_is_refused_not_added(request, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    transport = build_transport("core.ssh", request, known_hosts=str(empty))
    with pytest.raises(TransportError, match="known_hosts") as caught:
        transport.open()
    assert not _is_retryable(caught.value) and not transport.is_open
    assert empty.read_text() == ""  # nothing was added


@pytest.mark.requires_ssh
def test_a_changed_host_key_is_refused(request, ssh_settings, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    public = (tmp_path / "other.pub").read_text().split()[:2]  # same key type, another key
    known = tmp_path / "known_hosts"
    known.write_text(f"[{ssh_settings['host']}]:{ssh_settings['port']} {' '.join(public)}\n")
    with pytest.raises(TransportError, match="BadHostKey|does not match") as caught:
        build_transport("core.ssh", request, known_hosts=str(known)).open()
    assert not _is_retryable(caught.value)


@pytest.mark.requires_ssh
def test_a_wrong_key_is_an_authentication_error(request, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with pytest.raises(TransportError, match="Authentication") as caught:
        build_transport("core.ssh", request, key_filename=str(stranger)).open()
    assert not _is_retryable(caught.value)


def test_a_closed_port_is_a_retryable_connection_error(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = SshTransport("127.0.0.1", port=port, username="nobody", known_hosts=str(tmp_path / "none"),
                             connect_timeout=2)
    with pytest.raises(TransportConnectionError) as caught:
        transport.open()
    assert _is_retryable(caught.value) and isinstance(caught.value.__cause__, OSError)


@pytest.mark.requires_ssh
def test_a_lost_connection_is_retryable_and_reported_closed(request):
    transport = open_or_fail(build_transport("core.ssh", request))
    assert transport.listdir("/")
    transport._connection.client.get_transport().close()  # the server or network dropped us
    with pytest.raises(TransportError) as caught:
        transport.listdir("/")
    assert _is_retryable(caught.value)
    assert not transport.is_open
    transport.close()
    transport.open()  # and it can be opened again
    assert transport.exec_command_wait("echo back") == (0, "back\n", "")
    transport.close()


@pytest.mark.requires_ssh
def test_large_output_and_many_commands(request):
    with open_or_fail(build_transport("core.ssh", request)) as transport:
        code, stdout, _ = transport.exec_command_wait("head -c 3000000 /dev/zero | tr '\\0' x")
        assert code == 0 and len(stdout) == 3_000_000
        for number in range(20):
            assert transport.exec_command_wait(f"echo {number}")[1] == f"{number}\n"


def test_proxy_jump_builds_a_gateway_chain_that_checks_host_keys(tmp_path):
    transport = SshTransport("compute", port=2222, username="alice", proxy_jump="bob@bastion:2200, gate",
                             known_hosts=str(tmp_path / "known_hosts"))
    connection = transport._build()
    gateway = connection.gateway
    assert (connection.host, connection.port, connection.user) == ("compute", 2222, "alice")
    assert (gateway.host, gateway.port, gateway.user) == ("gate", 22, "alice")
    assert (gateway.gateway.host, gateway.gateway.port, gateway.gateway.user) == ("bastion", 2200, "bob")
    for hop in (connection, gateway, gateway.gateway):
        assert isinstance(hop.client._policy, paramiko.RejectPolicy)


@pytest.mark.parametrize(("exc", "retryable"), [
    (paramiko.AuthenticationException("no"), False),
    (paramiko.BadHostKeyException("h", paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()), False),
    (paramiko.SSHException("Server '[h]:22' not found in known_hosts"), False),
    (paramiko.SSHException("Error reading SSH protocol banner"), True),
    (EOFError(), True),
    (TimeoutError("timed out"), True),
    (ConnectionResetError(errno.ECONNRESET, "reset"), True),
    (OSError("Socket is closed"), True),
    (FileNotFoundError(errno.ENOENT, "No such file"), False),
    (PermissionError(errno.EACCES, "Permission denied"), False),
])
def test_error_translation(exc, retryable):
    error = translate_error("op", exc)
    assert isinstance(error, TransportError) and _is_retryable(error) is retryable
    assert "op failed" in str(error)
