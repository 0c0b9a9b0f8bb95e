"""The OpenSSH service: commands and file transfer over ssh through Fabric."""

from __future__ import annotations

import subprocess
import uuid

import paramiko
import pytest
from fabric import Connection

pytestmark = pytest.mark.requires_ssh


def test_run_command(ssh_connection, ssh_settings):
    result = ssh_connection.run("echo hello-$((40 + 2)); whoami", hide=True)
    assert result.stdout.split() == ["hello-42", ssh_settings["username"]]


def test_exit_code_and_stderr(ssh_connection):
    result = ssh_connection.run("echo oops >&2; exit 3", hide=True, warn=True)
    assert result.exited == 3
    assert result.stderr.strip() == "oops"


def test_put_and_get_file(ssh_connection, tmp_path):
    local = tmp_path / "in.txt"
    local.write_text("provenance\n")
    remote = f"/tmp/pg-probe-{uuid.uuid4()}.txt"
    ssh_connection.put(str(local), remote)
    back = tmp_path / "back.txt"
    ssh_connection.get(remote, str(back))
    ssh_connection.run(f"rm -f {remote}", hide=True)
    assert back.read_text() == "provenance\n"


def test_unknown_key_is_refused(ssh_settings, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    connection = Connection(
        host=ssh_settings["host"], port=int(ssh_settings["port"]), user=ssh_settings["username"],
        connect_kwargs={"key_filename": str(stranger), "look_for_keys": False, "allow_agent": False},
    )
    with pytest.raises(paramiko.AuthenticationException):
        connection.open()
