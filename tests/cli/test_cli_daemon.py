"""``provgraph daemon start|stop|status|restart``: verdi's names for the workers, on a fresh presto profile
(sqlite queue file broker, real worker processes; the test stops them whatever happens)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from provgraph.cli.main import cli


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def presto(provgraph_home, monkeypatch) -> Iterator[None]:
    """``provgraph presto`` in a fresh home; every worker stopped and caches dropped after."""
    from provgraph import profiles
    from provgraph.cli import echo

    monkeypatch.setattr(echo.console, "width", 300)
    from provgraph.engine.celery.app import make_app
    from provgraph.orm import backend as orm_backend

    previous = profiles._CURRENT.get()
    assert _cli("presto").exit_code == 0
    try:
        yield
    finally:
        try:
            _cli("worker", "stop", "--timeout", "20")
        finally:
            orm_backend.reset()
            make_app.cache_clear()
            profiles._CURRENT.set(previous)


def _pids(status: Result) -> set[str]:
    """The pids of the workers table of ``daemon status``."""
    return {line.split("│")[2].strip() for line in status.output.splitlines() if "worker-" in line}


def test_status_when_not_running_exits_3(presto):
    result = _cli("daemon", "status")
    assert result.exit_code == 3 and "Profile: presto" in result.output and "not running" in result.output


def test_start_status_restart_stop(presto):
    assert _cli("config", "set", "daemon.default_workers", "2").exit_code == 0
    started = _cli("daemon", "start")
    assert started.exit_code == 0, started.output
    assert "started worker 0" in started.output and "started worker 1" in started.output
    status = _cli("daemon", "status")
    assert status.exit_code == 0 and "running with 2 worker(s)" in status.output
    old_pids = _pids(status)
    assert len(old_pids) == 2
    restarted = _cli("daemon", "restart", "-t", "20")
    assert restarted.exit_code == 0, restarted.output
    assert restarted.output.count("stopped worker") == 2 and restarted.output.count("started worker") == 2
    status = _cli("daemon", "status")
    new_pids = _pids(status)
    assert len(new_pids) == 2 and not new_pids & old_pids
    more = _cli("daemon", "incr")
    assert more.exit_code == 0 and "started worker 2" in more.output and len(_pids(_cli("daemon", "status"))) == 3
    logs = _cli("daemon", "logshow", "-n", "5")
    assert logs.exit_code == 0 and logs.output.count("==> ") == 3
    stopped = _cli("daemon", "stop", "-t", "20")
    assert stopped.exit_code == 0 and stopped.output.count("stopped worker") == 3
    assert _cli("daemon", "status").exit_code == 3


def test_start_number_argument_and_bad_number(presto):
    bad = _cli("daemon", "start", "0")
    assert bad.exit_code == 2 and "Invalid value for '[NUMBER]'" in bad.output
    assert "2 worker" not in _cli("daemon", "status").output
    started = _cli("daemon", "start", "1")
    assert started.exit_code == 0 and "started worker 0" in started.output and "worker 1" not in started.output
    again = _cli("daemon", "start", "1")
    assert "1 worker(s) already running" in again.output


def test_start_without_a_broker_is_a_clear_error(sqlite_profile, monkeypatch):
    profile, home = sqlite_profile
    monkeypatch.setenv("PROVGRAPH_HOME", str(home))
    result = _cli("-p", profile.name, "daemon", "start")
    assert result.exit_code == 1 and result.output.startswith("Error:") and "Traceback" not in result.output


def test_incr_needs_a_running_daemon(presto):
    result = _cli("daemon", "incr", "2")
    assert result.exit_code == 1 and "the daemon is not running" in result.output
