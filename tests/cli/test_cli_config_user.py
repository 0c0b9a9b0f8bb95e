"""``provgraph config list|show|get|set|unset`` and ``provgraph user list|configure``, as verdi's."""

from __future__ import annotations

import json

import pytest
from cli_support import fresh_profile, last_line, run  # noqa: F401 - fresh_profile is a fixture

pytestmark = pytest.mark.usefixtures("fresh_profile")


def test_config_list_shows_defaults():
    result = run("config", "list")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "daemon.default_workers" in line)
    assert "default" in row and "1" in row


def test_config_list_prefix_and_unknown_prefix():
    assert "autofill.user.email" not in run("config", "list", "daemon").output
    result = run("config", "list", "nothing.")
    assert result.exit_code == 2 and "no option starts with" in last_line(result)


def test_config_set_get_unset_profile_value():
    assert run("config", "set", "daemon.default_workers", "3").exit_code == 0
    assert run("config", "get", "daemon.default_workers").output.strip() == "3"
    assert "profile" in next(line for line in run("config", "list", "daemon").output.splitlines()
                             if "default_workers" in line)
    result = run("config", "unset", "daemon.default_workers")
    assert result.exit_code == 0 and "unset for 'fresh' profile" in result.output
    assert run("config", "get", "daemon.default_workers").output.strip() == "1"


def test_config_profile_value_wins_over_global(provgraph_home):
    assert run("config", "set", "--global", "daemon.timeout", "12.5").exit_code == 0
    assert run("config", "get", "daemon.timeout").output.strip() == "12.5"
    run("config", "set", "daemon.timeout", "4")
    assert run("config", "get", "daemon.timeout").output.strip() == "4.0"
    stored = json.loads((provgraph_home / "config.json").read_text())
    assert stored["options"] == {"daemon.timeout": 12.5}
    assert stored["profile_options"]["fresh"] == {"daemon.timeout": 4.0}
    assert "fresh" in stored["profiles"]  # the profiles are untouched


def test_config_set_bad_value_is_refused_and_nothing_written():
    result = run("config", "set", "daemon.default_workers", "abc")
    assert result.exit_code == 1 and "invalid value 'abc' for daemon.default_workers" in last_line(result)
    zero = run("config", "set", "daemon.default_workers", "0")
    assert zero.exit_code == 1 and ">= 1" in last_line(zero)
    assert run("config", "get", "daemon.default_workers").output.strip() == "1"


def test_config_unknown_option():
    for command in (("get", "nosuch.opt"), ("set", "nosuch.opt", "1"), ("unset", "nosuch.opt"), ("show", "x")):
        result = run("config", *command)
        assert result.exit_code == 2 and "is not a configuration option" in last_line(result)


def test_config_loglevel_choice_and_show():
    assert run("config", "set", "logging.provgraph_loglevel", "WARNING").exit_code == 0
    shown = run("config", "show", "logging.provgraph_loglevel")
    assert shown.exit_code == 0 and "default: info" in shown.output and "from profile): warning" in shown.output
    assert run("config", "set", "logging.provgraph_loglevel", "loud").exit_code == 1


def test_config_unset_when_not_set():
    result = run("config", "unset", "--global", "daemon.timeout")
    assert result.exit_code == 0 and "was not set globally" in result.output


def test_user_list_marks_the_default():
    from provgraph.orm import Int
    from provgraph.orm.nodes.node import default_user

    Int(1).store()  # records the default user
    result = run("user", "list")
    assert result.exit_code == 0 and default_user() in result.output
    row = next(line for line in result.output.splitlines() if default_user() in line)
    assert "*" in row


def test_user_configure_non_interactive_creates_and_updates():
    result = run("user", "configure", "--email", "ada@example.org", "--first-name", "Ada", "--last-name",
                 "Lovelace", "--institution", "Analytical Engines", "-n")
    assert result.exit_code == 0, result.output
    row = next(line for line in run("user", "list").output.splitlines() if "ada@example.org" in line)
    assert "Ada" in row and "Lovelace" in row and "Analytical Engines" in row and "*" not in row
    run("user", "configure", "--email", "ada@example.org", "--institution", "Somewhere", "-n")
    row = next(line for line in run("user", "list").output.splitlines() if "ada@example.org" in line)
    assert "Lovelace" in row and "Somewhere" in row


def test_user_configure_interactive_with_autofill():
    run("config", "set", "autofill.user.institution", "Autofilled U")
    result = run("user", "configure", "--email", "bob@example.org", input="Bob\nBuilder\n\n")
    assert result.exit_code == 0, result.output
    row = next(line for line in run("user", "list").output.splitlines() if "bob@example.org" in line)
    assert "Bob" in row and "Builder" in row and "Autofilled U" in row


def test_user_configure_set_default_changes_who_stores():
    from provgraph.orm import Group, Int

    result = run("user", "configure", "--email", "carol@example.org", "--first-name", "Carol", "-n",
                 "--set-default")
    assert result.exit_code == 0 and "default user" in result.output
    row = next(line for line in run("user", "list").output.splitlines() if "carol@example.org" in line)
    assert "*" in row
    from provgraph import profiles

    profiles.load_profile("fresh")
    node_user = Int(5).store().user
    assert getattr(node_user, "email", node_user) == "carol@example.org"  # a User object or its email
    assert Group(label="carols").store().user.email == "carol@example.org"


def test_user_configure_bad_email():
    result = run("user", "configure", "--email", "not-an-email", "-n")
    assert result.exit_code == 2 and "is not an email address" in last_line(result)


def test_user_configure_needs_email_non_interactively():
    result = run("user", "configure", "-n", "--first-name", "X")
    assert result.exit_code == 2 and "--email is required" in last_line(result)


def test_options_survive_a_rewrite_of_the_profile():
    run("config", "set", "daemon.default_workers", "4")
    run("config", "set", "--global", "daemon.timeout", "9")
    assert run("user", "configure", "--email", "erin@example.org", "-n", "--set-default").exit_code == 0
    assert run("config", "get", "daemon.default_workers").output.strip() == "4"
    assert run("config", "get", "daemon.timeout").output.strip() == "9.0"
