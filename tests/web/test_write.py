"""Writes: refused on a read-only server, guarded by the bearer token, and doing what they say."""

from __future__ import annotations

import stat

import pytest

API = "/api/v1"
TOKEN = "test-token-0123456789"


@pytest.fixture
def writer(world):
    """A read-write client and the auth header it needs."""
    from fastapi.testclient import TestClient

    from provgraph.web.app import create_app

    with TestClient(create_app(world.profile, read_write=True, token=TOKEN)) as test_client:
        yield test_client, {"Authorization": f"Bearer {TOKEN}"}


def test_read_only_server_refuses_writes(client, world):
    response = client.patch(f"{API}/nodes/{world.ints[0]}/extras", json={"x": 1})
    assert response.status_code == 403 and "read-only" in response.json()["error"]["message"]
    assert client.post(f"{API}/processes/{world.root}/kill").status_code == 403


def test_write_needs_the_right_token_and_sets_extras(writer, world):
    client, auth = writer
    target = world.ints[5]
    assert client.patch(f"{API}/nodes/{target}/extras", json={"x": 1}).status_code == 401
    wrong = client.patch(f"{API}/nodes/{target}/extras", json={"x": 1}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get(f"{API}/nodes/{target}").json()["extras"] == {"rank": 5}
    done = client.patch(f"{API}/nodes/{target}/extras", json={"reviewed": True, "note": {"by": "web"}}, headers=auth)
    assert done.status_code == 200, done.text
    assert client.get(f"{API}/nodes/{target}").json()["extras"] == {"rank": 5, "reviewed": True, "note": {"by": "web"}}
    bad = client.patch(f"{API}/nodes/{target}/extras", json={}, headers=auth)
    assert bad.status_code == 400


def test_submit_a_registered_process_with_json_inputs(writer, world):
    from provgraph.engine.launch import Runner, set_submitter

    client, auth = writer
    driven = []

    def run_here(pk: int) -> None:  # stands in for the worker fleet: drives the process in this interpreter
        driven.append(pk)
        Runner().drive(pk)

    set_submitter(run_here)
    try:
        response = client.post(f"{API}/processes", headers=auth, json={
            "process": "core.arithmetic.add_multiply", "inputs": {"x": 1, "y": {"pk": world.ints[1]}, "z": 3}})
    finally:
        set_submitter(None)
    assert response.status_code == 201, response.text
    pk = response.json()["pk"]
    assert driven == [pk]
    process = client.get(f"{API}/processes/{pk}").json()
    assert process["process_state"] == "finished" and process["exit_status"] == 0
    inputs = client.get(f"{API}/nodes/{pk}/links/incoming").json()["items"]
    assert {item["link_label"]: item["node"]["pk"] for item in inputs}["y"] == world.ints[1]
    unknown = client.post(f"{API}/processes", headers=auth, json={"process": "no.such.entry", "inputs": {}})
    assert unknown.status_code == 404 and "no workflow or calculation" in unknown.json()["error"]["message"]
    bad_inputs = client.post(f"{API}/processes", headers=auth, json={"process": "core.arithmetic.add_multiply",
                                                                      "inputs": {"x": None}})
    assert bad_inputs.status_code == 400
    bad_pk = client.post(f"{API}/processes", headers=auth, json={"process": "core.arithmetic.add_multiply",
                                                                  "inputs": {"x": 1, "y": {"pk": "1; DROP"}, "z": 3}})
    assert bad_pk.status_code == 400 and '{"pk": <int>}' in bad_pk.json()["error"]["message"]


def test_pause_play_and_kill_a_process(writer, world):
    from provgraph.engine.examples import AddMultiplyWorkChain
    from provgraph.engine.launch import create_stored
    from provgraph.orm import Int

    client, auth = writer
    pk = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)}).pk
    paused = client.post(f"{API}/processes/{pk}/pause", headers=auth).json()
    assert paused["changed"] is True
    assert client.get(f"{API}/processes/{pk}").json()["paused"] is True
    assert client.post(f"{API}/processes/{pk}/play", headers=auth).json()["changed"] is True
    killed = client.post(f"{API}/processes/{pk}/kill", headers=auth).json()
    assert killed["killed"] == [pk]
    assert client.get(f"{API}/processes/{pk}").json()["process_state"] == "killed"
    again = client.post(f"{API}/processes/{pk}/kill", headers=auth).json()
    assert again["changed"] is False
    assert client.post(f"{API}/processes/{pk}/explode", headers=auth).status_code == 404


def test_token_is_generated_once_into_the_profile_secrets(provgraph_home):
    from provgraph.profiles import Config, Profile
    from provgraph.web.auth import ensure_token

    config = Config()
    config.store(Profile(name="webtok", storage={"backend": "sqlite", "config": {"path": "/tmp/none.sqlite"}},
                         secrets={"storage": {"password": "kept"}}))
    token = ensure_token(config.get("webtok"))
    assert len(token) >= 32 and ensure_token(config.get("webtok")) == token
    secrets = provgraph_home / "secrets" / "webtok.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    stored = config.get("webtok").secrets
    assert stored == {"storage": {"password": "kept"}, "restapi": {"token": token}}


def test_a_read_write_app_without_a_token_is_refused():
    from provgraph.profiles import Profile
    from provgraph.web.app import create_app

    with pytest.raises(ValueError, match="bearer token"):
        create_app(Profile(name="x"), read_write=True)
