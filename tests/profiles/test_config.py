"""Profiles: storing, loading, defaults, secrets kept private."""

from __future__ import annotations

import json
import stat

import pytest

from provgraph import load_profile
from provgraph.exceptions import ConfigurationError, ProfileNotFound
from provgraph.profiles import Config, Profile, get_profile
from provgraph.profiles.services import services_profile


def _profile(name: str) -> Profile:
    return Profile(
        name=name,
        storage={"backend": "neo4j", "config": {"uri": "bolt://127.0.0.1:1", "user": "neo4j"}},
        repository={"backend": "local", "config": {"path": "/tmp/repo"}},
        broker={"backend": "rabbitmq", "config": {"host": "127.0.0.1"}},
        secrets={"storage": {"password": "s3cret"}},
    )


def test_first_profile_becomes_default(provgraph_home):
    config = Config()
    config.store(_profile("one"))
    config.store(_profile("two"))
    assert config.default_profile_name() == "one"
    assert config.profile_names() == ["one", "two"]


def test_secrets_are_private_and_kept_out_of_config(provgraph_home):
    Config().store(_profile("one"))
    secrets_file = provgraph_home / "secrets" / "one.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(provgraph_home.stat().st_mode) == 0o700
    assert stat.S_IMODE((provgraph_home / "config.json").stat().st_mode) == 0o600
    assert "s3cret" not in (provgraph_home / "config.json").read_text()
    assert json.loads(secrets_file.read_text()) == {"storage": {"password": "s3cret"}}


def test_section_config_merges_secrets(provgraph_home):
    Config().store(_profile("one"))
    loaded = Config().get("one")
    assert loaded.section_config("storage") == {"uri": "bolt://127.0.0.1:1", "user": "neo4j", "password": "s3cret"}
    assert "s3cret" not in repr(loaded)


def test_world_readable_secrets_are_refused(provgraph_home):
    Config().store(_profile("one"))
    (provgraph_home / "secrets" / "one.json").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        Config().get("one")


def test_load_profile_order(provgraph_home, monkeypatch):
    config = Config()
    config.store(_profile("one"))
    config.store(_profile("two"))
    assert load_profile().name == "one"
    monkeypatch.setenv("PROVGRAPH_PROFILE", "two")
    assert load_profile().name == "two"
    assert get_profile().name == "two"
    assert load_profile("one").name == "one"


def test_unknown_profile(provgraph_home):
    Config().store(_profile("one"))
    with pytest.raises(ProfileNotFound, match="'nope'.*profiles: one"):
        load_profile("nope")


def test_no_profiles_at_all(provgraph_home):
    with pytest.raises(ConfigurationError, match="no default profile"):
        load_profile()


@pytest.mark.parametrize("bad", ["", ".hidden", "a/b", "x y", "../up"])
def test_invalid_names_are_refused(provgraph_home, bad):
    with pytest.raises(ConfigurationError, match="invalid profile name"):
        Config().store(_profile(bad))
    assert not (provgraph_home / "config.json").exists()


def test_delete_moves_default(provgraph_home):
    config = Config()
    config.store(_profile("one"))
    config.store(_profile("two"))
    config.delete("one")
    assert config.profile_names() == ["two"]
    assert config.default_profile_name() == "two"
    assert not (provgraph_home / "secrets" / "one.json").exists()


def test_corrupt_config_is_a_clear_error(provgraph_home):
    provgraph_home.mkdir()
    (provgraph_home / "config.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="cannot read"):
        Config().profile_names()


def test_services_profile_from_kit_secrets(tmp_path):
    secrets = {
        "neo4j": {"uri": "bolt://127.0.0.1:47687", "user": "neo4j", "password": "pw1"},
        "minio": {"endpoint_url": "http://127.0.0.1:49000", "access_key": "ak", "secret_key": "sk",
                  "bucket": "provgraph", "region": "us-east-1"},
        "rabbitmq": {"host": "127.0.0.1", "port": 45672, "vhost": "provgraph", "user": "provgraph",
                     "password": "pw2"},
    }
    for name, data in secrets.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    profile = services_profile(tmp_path)
    assert profile.section_config("storage")["password"] == "pw1"
    assert profile.section_config("repository")["secret_key"] == "sk"
    assert profile.section_config("broker")["password"] == "pw2"
    assert "pw1" not in json.dumps(profile.public_dict())


def test_services_profile_needs_the_kit(tmp_path):
    with pytest.raises(ConfigurationError, match="make services-up"):
        services_profile(tmp_path)
