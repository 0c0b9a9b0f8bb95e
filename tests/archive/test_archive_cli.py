"""``provgraph archive create|import|inspect`` on an sqlite profile."""

from __future__ import annotations

import json
import sqlite3
import uuid as uuid_module

import pytest
from archive_support import small_archive, small_database, zip_archive
from click.testing import CliRunner

from provgraph.cli.main import cli


@pytest.fixture
def cli_profile(tmp_path, monkeypatch):
    """An sqlite profile stored in a fresh PROVGRAPH_HOME, for the CLI to load by name."""
    from provgraph import profiles
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import Config, Profile

    previous = profiles._CURRENT.get()
    name = f"archive-cli-{uuid_module.uuid4().hex[:8]}"
    profile = Profile(name=name, storage={"backend": "sqlite", "config": {"path": str(tmp_path / "s.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(tmp_path / "repo")}}, broker={})
    Config(tmp_path / "home").store(profile, make_default=True)
    monkeypatch.setenv("PROVGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PROVGRAPH_PROFILE", raising=False)
    yield name
    if name in orm_backend._OPEN:
        orm_backend._OPEN.pop(name)[0].close()
    profiles._CURRENT.set(previous)


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_create_inspect(cli_profile, tmp_path):
    path = small_archive(tmp_path)
    output = _run("-p", cli_profile, "archive", "import", str(path))
    assert "nodes_new" in output and "│ 4" in output
    again = _run("-p", cli_profile, "archive", "import", str(path))
    assert "│ 4 " in again.split("nodes_existing")[1].splitlines()[0] + " "
    out = tmp_path / "out.zip"
    created = _run("-p", cli_profile, "archive", "create", str(out), "-G", "g", "--no-create-backward")
    assert "wrote" in created and "nodes" in created
    summary = json.loads(_run("archive", "inspect", "--json", str(out)))
    assert summary["metadata"]["rules"]["create_backward"] is False
    assert summary["counts"]["groups"] == 1
    # the group holds the calculation and the file: the calculation brings its input and output
    assert summary["counts"]["nodes"] == 4
    text = _run("archive", "inspect", "--check", str(out))
    assert "format version" in text and "archive checked" in text
    _run("-p", cli_profile, "archive", "create", str(tmp_path / "n.zip"), "-N", "1,2")


def test_group_label_taken_by_another_group(cli_profile, tmp_path):
    _run("-p", cli_profile, "archive", "import", str(small_archive(tmp_path)))
    db = tmp_path / "other.db"
    small_database(db, {})
    connection = sqlite3.connect(db)
    connection.execute("UPDATE groups SET uuid = ?", (str(uuid_module.uuid4()),))
    connection.execute("UPDATE nodes SET repository = '{}'")
    connection.commit()
    connection.close()
    output = _run("-p", cli_profile, "archive", "import", str(zip_archive(tmp_path / "other.zip", db, {})))
    assert "imported as 'g_1'" in output


def test_errors_are_one_line(cli_profile, tmp_path):
    (tmp_path / "bad.zip").write_text("not a zip")
    result = CliRunner().invoke(cli, ["-p", cli_profile, "archive", "import", str(tmp_path / "bad.zip")])
    assert result.exit_code == 1 and "ArchiveError" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["-p", cli_profile, "archive", "create", str(tmp_path / "x.zip"), "-N", "a"])
    assert result.exit_code == 2 and "not a node pk" in result.output
