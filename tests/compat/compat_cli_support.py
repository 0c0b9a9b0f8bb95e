"""Shared by the ``test_compat_cli_*`` modules: the sqlite profile made current and a CLI runner on it.

Not a test module; the test modules import ``sqlite_cli`` (a fixture) and ``invoke`` from it.
The profile is the session-wide ``sqlite_profile`` of ``tests/conftest.py``, so every test uses
its own labels and counts only what it made.
"""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner, Result

from provgraph.cli.main import cli

PROFILE = "sqlite-tests"


@pytest.fixture
def sqlite_cli(sqlite_profile, monkeypatch):
    """The sqlite profile current (migrated), tables wide enough not to wrap; the previous profile restored after."""
    from provgraph import profiles
    from provgraph.cli import echo
    from provgraph.orm import backend as orm_backend

    profile, home = sqlite_profile
    previous = profiles._CURRENT.get()
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    monkeypatch.delenv("PROVGRAPH_PROFILE", raising=False)
    monkeypatch.setattr(echo.console, "width", 300)
    orm_backend.get_backend(profile).migrate()
    profiles.load_profile(profile.name)
    yield profile
    profiles._CURRENT.set(previous)


def invoke(*args: str, input: str | None = None) -> Result:
    """``provgraph -p sqlite-tests ARGS`` in this interpreter."""
    return CliRunner().invoke(cli, ["-p", PROFILE, *args], input=input)


def unique(prefix: str = "x") -> str:
    """A label no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_line(result: Result) -> str:
    """The last non-empty line of the output (click's ``Error: ...``)."""
    return [line for line in result.output.splitlines() if line.strip()][-1]
