"""Building new profiles: kinds, defaults under the profile's folder, secrets apart, presto names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provgraph.exceptions import ConfigurationError
from provgraph.profiles import Config, Profile
from provgraph.profiles.config import is_reserved_name
from provgraph.profiles.setup import FIELDS, KINDS, build_profile, initialise_profile, presto_profile


def test_defaults_live_in_the_profile_folder(provgraph_home):
    profile = build_profile("p", {"storage": "sqlite", "repository": "local", "broker": "sqlite"}, {})
    folder = provgraph_home / "p"
    assert profile.storage == {"backend": "sqlite", "config": {"path": str(folder / "storage.sqlite")}}
    assert profile.repository == {"backend": "local", "config": {"path": str(folder / "repository")}}
    assert profile.broker == {"backend": "sqlite", "config": {"path": str(folder / "broker.sqlite")}}
    assert profile.secrets == {}


def test_secrets_are_kept_apart_and_types_converted(provgraph_home):
    values = {"storage": {"password": "pw"}, "repository": {"bucket": "b", "access_key": "a", "secret_key": "sk"},
              "broker": {"password": "rpw", "port": "5673"}}
    profile = build_profile("full", {"storage": "neo4j", "repository": "s3", "broker": "rabbitmq"}, values)
    assert profile.secrets == {"storage": {"password": "pw"}, "repository": {"secret_key": "sk"},
                               "broker": {"password": "rpw"}}
    assert "password" not in profile.storage["config"] and profile.storage["config"]["uri"].startswith("bolt://")
    assert profile.broker["config"]["port"] == 5673
    assert profile.section_config("broker")["password"] == "rpw"


@pytest.mark.parametrize(("kinds", "values", "message"), [
    ({"storage": "neo4j"}, {}, "--storage-password"),
    ({"storage": "postgres"}, {}, "unknown storage kind 'postgres'"),
    ({"storage": "sqlite", "broker": "rabbitmq"}, {"broker": {"password": "x", "port": "many"}}, "port must be int"),
    ({"storage": "sqlite", "repository": "s3"}, {"repository": {"secret_key": "s"}}, "--repository-bucket"),
])
def test_bad_values_are_refused(provgraph_home, kinds, values, message):
    with pytest.raises(ConfigurationError, match=message):
        build_profile("bad", kinds, values)
    assert not provgraph_home.exists()  # nothing written


@given(st.text(min_size=1, max_size=12))
def test_profile_names_are_validated(name):
    valid = (all(ch.isalnum() or ch in "-_." for ch in name) and not name.startswith(".")
             and not is_reserved_name(name))
    try:
        profile = build_profile(name, {"storage": "sqlite", "repository": "local", "broker": "sqlite"}, {},
                                home=Path("/nonexistent-home"))
    except ConfigurationError:
        assert not valid
    else:
        assert valid and profile.name == name


def test_every_kind_has_its_fields():
    assert {(section, kind) for section, kinds in KINDS.items() for kind in kinds} == set(FIELDS)


def test_presto_picks_a_free_name(provgraph_home):
    config = Config()
    first = presto_profile()
    assert first.name == "presto"
    config.store(first)
    config.store(Profile(name="presto-1"))
    assert presto_profile().name == "presto-2"
    with pytest.raises(ConfigurationError, match="a profile named 'presto' exists"):
        presto_profile("presto")
    assert presto_profile("mine").storage["config"]["path"] == str(provgraph_home / "mine" / "storage.sqlite")
    leftover = provgraph_home / "presto-2" / "storage.sqlite"  # a deleted profile's files are never reused
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"")
    assert presto_profile().name == "presto-3"
    with pytest.raises(ConfigurationError, match="holds the files of an earlier profile"):
        presto_profile("presto-2")


def test_initialise_creates_migrated_storage_and_repository(provgraph_home):
    from provgraph.storage.sqlite.backend import SqliteBackend

    profile = presto_profile()
    applied = initialise_profile(profile)
    assert applied  # a fresh file got the schema
    backend = SqliteBackend(profile.section_config("storage"))  # refuses a schema that is not current
    try:
        assert backend.schema_version() >= 1
    finally:
        backend.close()
    assert (provgraph_home / "presto" / "repository" / "objects").is_dir()
    assert initialise_profile(profile) == []  # idempotent
