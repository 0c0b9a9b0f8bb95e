"""Issue 13 item 11: a generated Neo4j password is never taken for an option by ``neo4j-admin``.

About one ``token_urlsafe`` in 64 started with ``-``; ``set-initial-password`` then failed or kept
the default password, and a fresh ``make test`` failed with "refuses the password".
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[2] / "services"
sys.path.insert(0, str(KIT))

import _common  # noqa: E402
import svc_neo4j  # noqa: E402


def test_generated_passwords_cannot_be_read_as_options():
    drawn = [_common.generate_password() for _ in range(5000)]
    assert all(p[0].isalpha() and p.isalnum() and p.isascii() and len(p) >= 20 for p in drawn)
    assert len(set(drawn)) == len(drawn)


def test_stored_secrets_use_them(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "STATE", tmp_path)
    for index in range(300):
        password = _common.secret(f"probe{index}", {"password": "<generate>"})["password"]
        assert password[0].isalpha() and password.isalnum()


def _auth_ini_matches(home: Path, password: str) -> bool:
    """Check ``data/dbms/auth.ini`` (``neo4j:SHA-256,<hash>,<salt>,<iterations>:``) against ``password``."""
    line = (home / "data" / "dbms" / "auth.ini").read_text().strip()
    user, credential = line.split(":", 1)
    algorithm, digest, salt, iterations = credential.rstrip(":").split(",")
    assert user == "neo4j" and algorithm == "SHA-256"
    value = hashlib.sha256(bytes.fromhex(salt) + password.encode()).digest()
    for _ in range(int(iterations) - 1):
        value = hashlib.sha256(value).digest()
    return value.hex() == digest


@pytest.mark.parametrize("password", ["-hWQ1ncLwQ9abc", "--verbose"])
def test_initial_password_starting_with_dash_is_set(tmp_path, password):
    """The real ``neo4j-admin dbms set-initial-password`` (no server is started) stores exactly the password."""
    assert svc_neo4j.lib_dir().is_dir(), f"the Neo4j jars are not installed in {svc_neo4j.lib_dir()}: make services-up"
    home = tmp_path / "home"
    svc_neo4j._prepare_home(home, 1, password)
    assert _auth_ini_matches(home, password)
    assert not _auth_ini_matches(home, password + "x")
