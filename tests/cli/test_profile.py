"""``provgraph profile`` and ``provgraph status`` through click's test runner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from provgraph.cli.main import cli
from provgraph.profiles import Config, Profile


def _store(name: str) -> None:
    Config().store(Profile(name=name, storage={"backend": "neo4j", "config": {"uri": "bolt://x"}},
                           secrets={"storage": {"password": "hidden-pw"}}))


def test_list_marks_default(provgraph_home):
    _store("alpha")
    _store("beta")
    result = CliRunner().invoke(cli, ["profile", "list"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "alpha" in line)
    assert "*" in line
    assert "beta" in result.output


def test_show_never_prints_secrets(provgraph_home):
    _store("alpha")
    result = CliRunner().invoke(cli, ["profile", "show", "alpha"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["storage"]["config"]["uri"] == "bolt://x"
    assert "hidden-pw" not in result.output


def test_set_default_and_delete(provgraph_home):
    _store("alpha")
    _store("beta")
    runner = CliRunner()
    assert runner.invoke(cli, ["profile", "set-default", "beta"]).exit_code == 0
    assert Config().default_profile_name() == "beta"
    assert runner.invoke(cli, ["profile", "delete", "--yes", "beta"]).exit_code == 0
    assert Config().profile_names() == ["alpha"]


def test_unknown_profile_is_a_clean_error(provgraph_home):
    result = CliRunner().invoke(cli, ["profile", "show", "ghost"])
    assert result.exit_code == 1
    assert "no profile named 'ghost'" in result.output
    assert "Traceback" not in result.output


def test_status_reports_unreachable_parts(provgraph_home):
    Config().store(Profile(
        name="dead",
        storage={"backend": "neo4j", "config": {"uri": "bolt://127.0.0.1:9", "user": "neo4j"}},
        repository={"backend": "s3", "config": {"endpoint_url": "http://127.0.0.1:9", "bucket": "b",
                                                "access_key": "a"}},
        broker={"backend": "rabbitmq", "config": {"host": "127.0.0.1", "port": 9, "vhost": "v", "user": "u"}},
        secrets={"storage": {"password": "p"}, "repository": {"secret_key": "s"}, "broker": {"password": "p"}},
    ))
    result = CliRunner().invoke(cli, ["-p", "dead", "status"])
    assert result.exit_code == 1
    assert "✘ storage" in result.output and "not reachable" in result.output
    assert "✘ repository" in result.output
    assert "✘ broker" in result.output


def test_setup_non_interactive_sqlite(provgraph_home):
    result = CliRunner().invoke(cli, ["profile", "setup", "emb", "--storage", "sqlite", "--repository", "local",
                                      "--broker", "sqlite", "--non-interactive"])
    assert result.exit_code == 0, result.output
    profile = Config().get("emb")
    assert profile.storage["config"]["path"] == str(provgraph_home / "emb" / "storage.sqlite")
    assert profile.broker == {"backend": "sqlite", "config": {"path": str(provgraph_home / "emb" / "broker.sqlite")}}
    assert (provgraph_home / "emb" / "storage.sqlite").is_file()  # created and migrated
    status = CliRunner().invoke(cli, ["-p", "emb", "status"])
    assert status.exit_code == 0 and "✔ storage     sqlite" in status.output, status.output


def test_setup_interactive_prompts_and_hides_secrets(provgraph_home):
    answers = "\n".join(["neo4j", "bolt://127.0.0.1:1", "", "neo-pw", "",  # uri, user (default), password, database
                         "s3", "", "bkt", "", "AK", "SK",  # endpoint (default), bucket, region, access key, secret
                         "rabbitmq", "", "", "", "rabbit-pw", "vh"]) + "\n"  # host, port, user, password, vhost
    result = CliRunner().invoke(cli, ["profile", "setup", "prod", "--no-init", "--set-default"], input=answers)
    assert result.exit_code == 0, result.output
    profile = Config().get("prod")
    assert Config().default_profile_name() == "prod"
    assert profile.storage["config"] == {"uri": "bolt://127.0.0.1:1", "user": "neo4j", "database": "neo4j"}
    assert profile.secrets == {"storage": {"password": "neo-pw"}, "repository": {"secret_key": "SK"},
                               "broker": {"password": "rabbit-pw"}}
    assert profile.broker["config"] == {"host": "127.0.0.1", "port": 5672, "user": "guest", "vhost": "vh"}
    shown = CliRunner().invoke(cli, ["profile", "show", "prod"]).output
    assert "neo-pw" not in shown and "rabbit-pw" not in shown and "SK" not in shown


def test_setup_refuses_bad_input_and_writes_nothing(provgraph_home):
    runner = CliRunner()
    missing = runner.invoke(cli, ["profile", "setup", "p", "--storage", "neo4j", "--non-interactive", "--no-init"])
    assert missing.exit_code == 1 and "--storage-password" in missing.output, missing.output
    bad_name = runner.invoke(cli, ["profile", "setup", ".hidden", "--storage", "sqlite", "--broker", "sqlite",
                                   "--non-interactive"])
    assert bad_name.exit_code == 1 and "invalid profile name" in bad_name.output
    assert not provgraph_home.exists()
    _store("taken")
    again = runner.invoke(cli, ["profile", "setup", "taken", "--non-interactive", "--storage", "sqlite"])
    assert again.exit_code == 1 and "a profile named 'taken' exists" in again.output
    assert Config().get("taken").storage["backend"] == "neo4j"


def test_status_reports_each_broken_part_of_an_embedded_profile(provgraph_home):
    import shutil

    assert CliRunner().invoke(cli, ["presto"]).exit_code == 0
    (provgraph_home / "presto" / "storage.sqlite").unlink()
    shutil.rmtree(provgraph_home / "presto" / "repository")
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "✘ storage     no sqlite database at" in result.output
    assert "✘ repository  no local repository at" in result.output
    assert "✔ broker      sqlite queue file" in result.output
    assert "⚠ workers     no worker is running" in result.output
    assert not (provgraph_home / "presto" / "storage.sqlite").exists()  # status creates nothing
    assert not (provgraph_home / "presto" / "broker.sqlite").exists()
    assert "(created on first use, no server)" in result.output


def test_delete_data_removes_only_the_profile_folder(provgraph_home):
    runner = CliRunner()
    assert runner.invoke(cli, ["presto"]).exit_code == 0
    assert runner.invoke(cli, ["presto", "--profile-name", "other"]).exit_code == 0
    kept = runner.invoke(cli, ["profile", "delete", "--yes", "other"])
    assert kept.exit_code == 0 and (provgraph_home / "other" / "storage.sqlite").is_file()
    refused = runner.invoke(cli, ["profile", "delete", "presto", "--delete-data"], input="n\n")
    assert refused.exit_code == 1 and (provgraph_home / "presto").is_dir() and "presto" in Config().profile_names()
    removed = runner.invoke(cli, ["profile", "delete", "--yes", "--delete-data", "presto"])
    assert removed.exit_code == 0, removed.output
    assert not (provgraph_home / "presto").exists() and (provgraph_home / "other").is_dir()
    assert Config().profile_names() == []
    ghost = runner.invoke(cli, ["profile", "delete", "--yes", "--delete-data", "presto"])
    assert ghost.exit_code == 1 and "no profile named 'presto'" in ghost.output


def test_worker_start_needs_a_broker(provgraph_home):
    Config().store(Profile(name="nobroker", storage={"backend": "sqlite", "config": {"path": "/tmp/x.sqlite"}}))
    result = CliRunner().invoke(cli, ["-p", "nobroker", "worker", "start"])
    assert result.exit_code == 1 and "the profile's broker is none" in result.output, result.output
    assert not (provgraph_home / "nobroker" / "workers").exists() or not list(
        (provgraph_home / "nobroker" / "workers").glob("*.pid"))


def test_status_reports_a_storage_schema_behind_the_code(provgraph_home):
    import sqlite3

    assert CliRunner().invoke(cli, ["presto"]).exit_code == 0
    database = provgraph_home / "presto" / "storage.sqlite"
    database.unlink()
    sqlite3.connect(database).close()  # an empty database: schema version 0
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "✘ storage     schema version 0, the code needs" in result.output
    assert "provgraph storage migrate" in result.output


def test_status_reports_a_broken_queue_file(provgraph_home):
    assert CliRunner().invoke(cli, ["presto"]).exit_code == 0
    (provgraph_home / "presto" / "broker.sqlite").write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "✘ broker      sqlite broker at" in result.output and "✔ storage" in result.output
