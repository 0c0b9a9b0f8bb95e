"""Issue 13 items 3, 4 and the profile part of 10: reserved names, modes, unreadable config and secrets.

Each case states its expected outcome: a clear one-line error (a ConfigurationError in Python) and
nothing changed on disk.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest
from sec_support import invoke, one_line_error

from provgraph.exceptions import ConfigurationError
from provgraph.profiles import Config, Profile, load_profile


def _profile(name: str, password: str = "pw") -> Profile:
    return Profile(name=name, storage={"backend": "sqlite", "config": {"path": f"/tmp/{name}.sqlite"}},
                   repository={"backend": "local", "config": {"path": f"/tmp/{name}-repo"}},
                   broker={"backend": "rabbitmq", "config": {"host": "127.0.0.1"}},
                   secrets={"broker": {"password": password}})


def _snapshot(home: Path) -> dict[str, bytes | None]:
    """Every file below ``home`` and its content (folders as None): to prove nothing changed."""
    return {str(p.relative_to(home)): (None if p.is_dir() or p.is_fifo() else p.read_bytes())
            for p in sorted(home.rglob("*"))}


# -- item 3: a profile named like the home's own folders ---------------------------------------------
@pytest.mark.parametrize("name", ["secrets", "Secrets", "SECRETS", "config.json", "config.json.tmp", "a.tmp"])
def test_reserved_profile_names_are_refused(provgraph_home, name):
    with pytest.raises(ConfigurationError, match="reserved"):
        Config().store(_profile(name))
    result = invoke("profile", "setup", name, "--storage", "sqlite", "--repository", "local", "--broker", "sqlite",
                    "--non-interactive", "--no-init")
    assert "reserved" in one_line_error(result)
    assert not provgraph_home.exists() or not (provgraph_home / "config.json").exists()


def test_presto_refuses_a_reserved_name(provgraph_home):
    result = invoke("presto", "--profile-name", "secrets")
    assert "reserved" in one_line_error(result)
    assert not (provgraph_home / "secrets").exists()


def test_delete_data_of_a_legacy_profile_named_secrets_keeps_every_credential(provgraph_home):
    """An older version let a profile be called 'secrets': deleting its data must not take the secrets folder."""
    config = Config()
    config.store(_profile("other", "other-password"))
    data = json.loads(config.path.read_text())
    data["profiles"]["secrets"] = _profile("secrets").public_dict()
    config.path.write_text(json.dumps(data))
    before = _snapshot(provgraph_home)
    result = invoke("profile", "delete", "secrets", "--yes", "--delete-data")
    assert "reserved" in one_line_error(result)
    assert _snapshot(provgraph_home) == before
    assert Config().get("other").section_config("broker")["password"] == "other-password"
    # without --delete-data the entry goes, and nothing else
    assert invoke("profile", "delete", "secrets", "--yes").exit_code == 0
    assert Config().get("other").section_config("broker")["password"] == "other-password"


def test_delete_data_never_follows_a_symlink_out_of_the_home(provgraph_home, tmp_path):
    Config().store(_profile("linked"))
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "data.txt").write_text("keep me")
    (provgraph_home / "linked").symlink_to(outside)
    result = invoke("profile", "delete", "linked", "--yes", "--delete-data")
    assert "symbolic link" in one_line_error(result)
    assert (outside / "data.txt").read_text() == "keep me"
    assert "linked" in Config().profile_names()


def test_delete_data_removes_the_profile_folder_only(provgraph_home):
    Config().store(_profile("mine"))
    Config().store(_profile("yours"))
    for name in ("mine", "yours"):
        (provgraph_home / name).mkdir()
        (provgraph_home / name / "storage.sqlite").write_text(name)
    result = invoke("profile", "delete", "mine", "--yes", "--delete-data")
    assert result.exit_code == 0, result.output
    assert not (provgraph_home / "mine").exists()
    assert (provgraph_home / "yours" / "storage.sqlite").read_text() == "yours"
    assert Config().get("yours").section_config("broker")["password"] == "pw"


# -- item 4: modes only on what provgraph creates --------------------------------------------------
def test_existing_shared_home_keeps_its_mode(provgraph_home):
    provgraph_home.mkdir(mode=0o755)
    provgraph_home.chmod(0o2775)  # a group-shared folder
    Config().store(_profile("one"))
    Config().set_default("one")
    Config().delete("one")
    assert stat.S_IMODE(provgraph_home.stat().st_mode) == 0o2775
    assert stat.S_IMODE((provgraph_home / "config.json").stat().st_mode) == 0o600


def test_existing_secrets_folder_keeps_its_mode_and_files_are_private(provgraph_home):
    (provgraph_home / "secrets").mkdir(parents=True, mode=0o711)
    (provgraph_home / "secrets").chmod(0o711)
    Config().store(_profile("one"))
    assert stat.S_IMODE((provgraph_home / "secrets").stat().st_mode) == 0o711
    assert stat.S_IMODE((provgraph_home / "secrets" / "one.json").stat().st_mode) == 0o600


def test_folders_provgraph_creates_are_private(provgraph_home):
    old = os.umask(0o022)
    try:
        Config().store(_profile("one"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(provgraph_home.stat().st_mode) == 0o700
    assert stat.S_IMODE((provgraph_home / "secrets").stat().st_mode) == 0o700


def test_home_that_is_a_file_is_a_clear_error(tmp_path, monkeypatch):
    home = tmp_path / "file"
    home.write_text("not a folder")
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    with pytest.raises(ConfigurationError, match="not a folder"):
        Config().store(_profile("one"))
    assert home.read_text() == "not a folder"


# -- item 10: config and secrets files that cannot be what they should ------------------------------
BAD_CONFIGS = {
    "latin-1": "{\"profiles\": {\"caf\xe9\": {}}}".encode("latin-1"),
    "utf-16": json.dumps({"profiles": {}}).encode("utf-16"),
    "binary": b"\x00\x01\x02\xff",
    "truncated": b'{"profiles": {"a": {"storage": {"backend": "sqlite"',
    "list": b"[]",
    "no profiles": b'{"default_profile": "a"}',
    "profile not an object": b'{"profiles": {"a": 5}}',
    "section not an object": b'{"profiles": {"a": {"storage": "sqlite"}}}',
    "backend not a name": b'{"profiles": {"a": {"storage": {"backend": 5, "config": {}}}}}',
    "config not an object": b'{"profiles": {"a": {"storage": {"backend": "sqlite", "config": []}}}}',
    "default not a name": b'{"profiles": {}, "default_profile": ["a"]}',
    "deeply nested": b"[" * 100_000,
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_file_is_a_clear_error(provgraph_home, case):
    provgraph_home.mkdir()
    (provgraph_home / "config.json").write_bytes(BAD_CONFIGS[case])
    with pytest.raises(ConfigurationError, match="config.json"):
        load_profile("a")
    for args in (["profile", "list"], ["profile", "show", "a"], ["-p", "a", "status"], ["profile", "delete", "a"]):
        assert "config.json" in one_line_error(invoke(*args))
    assert (provgraph_home / "config.json").read_bytes() == BAD_CONFIGS[case]


BAD_SECRETS = {"latin-1": "{\"broker\": {\"password\": \"caf\xe9\"}}".encode("latin-1"), "not json": b"{oops",
               "a list": b"[1, 2]", "section not an object": b'{"broker": "pw"}', "unknown section": b'{"x": {}}'}


@pytest.mark.parametrize("case", sorted(BAD_SECRETS))
def test_bad_secrets_file_is_a_clear_error(provgraph_home, case):
    Config().store(_profile("one"))
    path = provgraph_home / "secrets" / "one.json"
    path.write_bytes(BAD_SECRETS[case])
    with pytest.raises(ConfigurationError, match="secrets"):
        load_profile("one")
    assert "secrets" in one_line_error(invoke("-p", "one", "status"))


def test_secrets_path_that_is_a_folder(provgraph_home):
    Config().store(_profile("one"))
    path = provgraph_home / "secrets" / "one.json"
    path.unlink()
    path.mkdir()
    with pytest.raises(ConfigurationError, match="not a regular file|Is a directory"):
        load_profile("one")


def test_secrets_path_that_is_a_fifo_does_not_hang(provgraph_home):
    Config().store(_profile("one"))
    path = provgraph_home / "secrets" / "one.json"
    path.unlink()
    os.mkfifo(path, 0o600)
    rescued = []

    def rescue() -> None:  # if the load blocks on the FIFO, unblock it after a while and note it
        if not finished.wait(15):
            rescued.append(True)
            with open(path, "w") as handle:
                handle.write("{}")

    finished = threading.Event()
    watchdog = threading.Thread(target=rescue, daemon=True)
    watchdog.start()
    try:
        with pytest.raises(ConfigurationError, match="not a regular file"):
            load_profile("one")
    finally:
        finished.set()
        watchdog.join(20)
    assert not rescued, "reading the secrets blocked on a FIFO"


def test_config_that_is_a_fifo_does_not_hang(provgraph_home):
    provgraph_home.mkdir()
    os.mkfifo(provgraph_home / "config.json", 0o600)
    finished = threading.Event()
    rescued = []

    def rescue() -> None:
        if not finished.wait(15):
            rescued.append(True)
            with open(provgraph_home / "config.json", "w") as handle:
                handle.write("{}")

    watchdog = threading.Thread(target=rescue, daemon=True)
    watchdog.start()
    try:
        assert "not a regular file" in one_line_error(invoke("profile", "list"))
    finally:
        finished.set()
        watchdog.join(20)
    assert not rescued
