"""Shared by the verdi-parity CLI tests: a fresh sqlite profile in a fresh PROVGRAPH_HOME per test.

Not a test module; tests import ``fresh_profile`` (a fixture) and ``run`` from it.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from provgraph.cli.main import cli

NAME = "fresh"


@pytest.fixture
def fresh_profile(provgraph_home, monkeypatch):
    """A sqlite + local-repository profile ``fresh`` (no broker), current; the previous profile restored after."""
    from provgraph import profiles
    from provgraph.cli import echo
    from provgraph.orm import backend as orm_backend
    from provgraph.profiles import Config, Profile

    root = provgraph_home.parent
    profile = Profile(name=NAME, storage={"backend": "sqlite", "config": {"path": str(root / "db.sqlite")}},
                      repository={"backend": "local", "config": {"path": str(root / "repo")}}, broker={})
    Config().store(profile, make_default=True)
    previous = profiles._CURRENT.get()
    monkeypatch.setattr(echo.console, "width", 300)
    orm_backend.get_backend(profile).migrate()
    loaded = profiles.load_profile(NAME)
    try:
        yield loaded
    finally:
        orm_backend.reset()
        profiles._CURRENT.set(previous)


def run(*args: str, input: str | None = None) -> Result:
    """``provgraph -p fresh ARGS`` in this interpreter."""
    return CliRunner().invoke(cli, ["-p", NAME, *args], input=input)


def last_line(result: Result) -> str:
    """The last non-empty line of the output."""
    return [line for line in result.output.splitlines() if line.strip()][-1]
