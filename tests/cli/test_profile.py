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
