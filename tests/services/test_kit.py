"""The service kit itself: clear port errors, status of all five services, idempotent start."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[2] / "services"
sys.path.insert(0, str(KIT))

import _common  # noqa: E402

SERVICES = ["neo4j", "rabbitmq", "minio", "ssh", "slurm"]


def test_taken_port_is_named():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(_common.PortTaken, match=f"port {taken} .* already taken"):
            _common.ensure_port_free(taken, "neo4j")


def test_secret_files_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "STATE", tmp_path)
    first = _common.secret("probe", {"user": "u", "password": "<generate>"})
    again = _common.secret("probe", {"user": "u", "password": "<generate>"})
    path = tmp_path / "secrets" / "probe.json"
    assert first == again and len(first["password"]) >= 20
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700


@pytest.mark.requires_neo4j
@pytest.mark.requires_rabbitmq
@pytest.mark.requires_s3
@pytest.mark.requires_ssh
@pytest.mark.requires_slurm
def test_status_shows_all_running_and_second_up_is_fast():
    status = subprocess.run([sys.executable, str(KIT / "manage.py"), "status", "--require-running"],
                            capture_output=True, text=True)
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:]}
    assert sorted(rows) == sorted(SERVICES)
    assert all(row[1] == "yes" and row[2] == "yes" for row in rows.values())
    started = time.monotonic()
    up = subprocess.run([sys.executable, str(KIT / "manage.py"), "up"], capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    assert time.monotonic() - started < 30
