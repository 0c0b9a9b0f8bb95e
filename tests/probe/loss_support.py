"""Helpers of the data-loss probe tests (issue 13 items 5-9): a throw-away presto profile and the CLI.

Not a test module: the ``test_*_probe.py`` files of this folder import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result

from provgraph.cli.main import cli


def invoke(*args: str) -> Result:
    """Run ``provgraph ARGS`` in this interpreter and return the result (exceptions caught)."""
    return CliRunner().invoke(cli, list(args))


def ok(*args: str) -> str:
    """Run ``provgraph ARGS``; fail with its output unless it exits 0; return the output."""
    result = invoke(*args)
    assert result.exit_code == 0, f"provgraph {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"
    return result.output


@contextmanager
def presto_profile(home: Path, monkeypatch, pythonpath: Path | None = None) -> Iterator[Path]:
    """A fresh presto profile in ``home`` made current; its workers stopped and caches dropped after."""
    from provgraph import profiles
    from provgraph.engine.celery.app import make_app
    from provgraph.engine.launch import set_submitter
    from provgraph.orm import backend as orm_backend

    previous = profiles._CURRENT.get()
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    monkeypatch.delenv("PROVGRAPH_PROFILE", raising=False)
    if pythonpath is not None:
        monkeypatch.setenv("PYTHONPATH", str(pythonpath))
    ok("presto")
    profiles.load_profile("presto")
    try:
        yield home / "presto"
    finally:
        try:
            invoke("-p", "presto", "worker", "stop", "--timeout", "20")
        finally:
            set_submitter(None)
            orm_backend.reset()
            make_app.cache_clear()
            profiles._CURRENT.set(previous)
