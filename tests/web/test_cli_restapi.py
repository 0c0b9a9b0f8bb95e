"""``provgraph restapi`` and ``provgraph web`` as a user starts them: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PROVGRAPH = str(Path(sys.executable).parent / "provgraph")


@pytest.fixture
def presto_home(provgraph_home):
    """A fresh embedded profile (sqlite) holding one Int, in a temporary PROVGRAPH_HOME."""
    subprocess.run([PROVGRAPH, "presto"], check=True, capture_output=True, env=os.environ.copy())
    code = "from provgraph import load_profile; from provgraph.orm import Int; load_profile(); print(Int(7).store().pk)"
    pk = int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    return provgraph_home, pk


def _start(*args: str) -> tuple[subprocess.Popen, list[str]]:
    from provgraph.web.browser import free_port

    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    server = subprocess.Popen([PROVGRAPH, *args, "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/info", timeout=2)
            break
        except httpx.HTTPError:
            if server.poll() is not None:
                pytest.fail(f"provgraph {' '.join(args)} exited: {server.stdout.read()}")
            time.sleep(0.2)
    return server, [f"http://127.0.0.1:{port}"]


def _stop(server: subprocess.Popen) -> str:
    server.terminate()
    output, _ = server.communicate(timeout=30)
    return output


def test_restapi_read_write_uses_the_token_from_the_profile_secrets(presto_home):
    home, pk = presto_home
    server, (base,) = _start("restapi", "--read-write")
    try:
        info = httpx.get(f"{base}/api/v1/info").json()
        assert info["read_write"] is True and info["backend"] == "sqlite"
        secrets = json.loads((home / "secrets" / "presto.json").read_text())
        token = secrets["restapi"]["token"]
        assert (home / "secrets" / "presto.json").stat().st_mode & 0o077 == 0
        refused = httpx.patch(f"{base}/api/v1/nodes/{pk}/extras", json={"seen": 1})
        assert refused.status_code == 401
        done = httpx.patch(f"{base}/api/v1/nodes/{pk}/extras", json={"seen": 1},
                           headers={"Authorization": f"Bearer {token}"})
        assert done.status_code == 200 and done.json()["extras"] == {"seen": 1}
    finally:
        output = _stop(server)
    assert f"API: {base}/api/v1" in output and "read-write" in output


def test_web_prints_the_explorer_address_and_serves_it_read_only(presto_home):
    _, pk = presto_home
    server, (base,) = _start("web")
    try:
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "provgraph explorer" in page.text
        assert httpx.get(f"{base}/api/v1/nodes/{pk}").json()["attributes"] == {"value": 7}
        assert httpx.patch(f"{base}/api/v1/nodes/{pk}/extras", json={"a": 1}).status_code == 403
    finally:
        output = _stop(server)
    assert f"explorer: {base}/" in output and "read-only" in output


def test_help_lists_the_options():
    result = subprocess.run([PROVGRAPH, "restapi", "--help"], capture_output=True, text=True, check=True)
    for option in ("--host", "--port", "--read-write"):
        assert option in result.stdout


def test_the_app_reads_its_own_profile_whatever_is_current(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from provgraph.orm import Int
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import _CURRENT, Config, Profile, load_profile
    from provgraph.web.app import create_app

    previous = _CURRENT.get()
    monkeypatch.setenv("PROVGRAPH_HOME", str(tmp_path / "home"))
    profiles = {}
    for name in ("served", "other"):
        profile = Profile(name=name, storage={"backend": "sqlite", "config": {"path": str(tmp_path / f"{name}.db")}},
                          repository={"backend": "local", "config": {"path": str(tmp_path / f"{name}-repo")}})
        Config().store(profile, make_default=name == "other")
        orm_backend.get_backend(profile).migrate()
        load_profile(name)
        profiles[name] = [Int(index).store().pk for index in range(3 if name == "served" else 1)]
    try:
        load_profile("other")
        with TestClient(create_app(Config().get("served"))) as client:
            assert client.get("/api/v1/nodes").json()["total"] == 3
            assert client.get("/api/v1/info").json()["profile"] == "served"
    finally:
        orm_backend.reset()
        _CURRENT.set(previous)
