"""Probe, issue 13 item 7: the reconciler never forgets a lost process, however long ago it was lost.

Before the fix ``find_lost`` looked only at processes created in the last day, in every pass and
in ``provgraph worker reconcile`` alike: a process lost longer ago was never resumed.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest
from loss_support import ok, presto_profile

from provgraph.engine.examples import AddMultiplyWorkChain
from provgraph.orm import Int, load_node
from provgraph.storage.sqlite import db


def _lost_long_ago(home, days: float = 3.0) -> int:
    """A process stored but never published, created and last changed ``days`` ago; return its pk."""
    from provgraph.engine.launch import create_stored

    node = create_stored(AddMultiplyWorkChain, {"x": Int(1), "y": Int(2), "z": Int(3)})
    then = db.to_text(datetime.now(timezone.utc) - timedelta(days=days))
    with sqlite3.connect(home / "presto" / "storage.sqlite") as connection:
        connection.execute("UPDATE nodes SET ctime = ?, mtime = ? WHERE pk = ?", (then, then, node.pk))
    return node.pk


@pytest.fixture
def presto(tmp_path, monkeypatch):
    with presto_profile(tmp_path / "home", monkeypatch):
        yield tmp_path / "home"


def test_find_lost_sweeps_everything_unless_given_a_window(presto):
    from provgraph.engine.celery.outbox import find_lost

    pk = _lost_long_ago(presto)
    assert load_node(pk).ctime < datetime.now(timezone.utc) - timedelta(days=2)
    assert find_lost(older_than=60, only=[pk], check_queue=lambda: True) == [pk]
    assert find_lost(older_than=60, only=[pk], check_queue=lambda: True, window=86400) == []  # the knob


def test_worker_reconcile_republishes_a_process_lost_days_ago(presto):
    from provgraph.engine.celery.outbox import queue_is_empty

    pk = _lost_long_ago(presto)
    assert queue_is_empty()
    assert f"re-published 1 process(es): {pk}" in ok("worker", "reconcile", "--pk", str(pk))
    assert not queue_is_empty()


def test_a_running_fleet_resumes_a_process_lost_days_ago(presto, monkeypatch):
    """The periodic reconciler's first pass is a full sweep; the process runs to the end."""
    monkeypatch.setenv("PROVGRAPH_RECONCILE_INTERVAL", "1")
    pk = _lost_long_ago(presto)
    ok("worker", "start", "--reconcile-after", "1")
    deadline = time.monotonic() + 90
    while not load_node(pk).process_state.is_terminal and time.monotonic() < deadline:
        time.sleep(0.5)
    node = load_node(pk)
    assert node.process_state.value == "finished" and node.exit_status == 0


def test_a_bad_window_setting_is_a_clear_error(monkeypatch):
    from provgraph.engine.celery.outbox import reconcile_window
    from provgraph.exceptions import ConfigurationError

    for bad in ("-1", "day", "inf", "nan"):
        monkeypatch.setenv("PROVGRAPH_RECONCILE_WINDOW", bad)
        with pytest.raises(ConfigurationError, match="PROVGRAPH_RECONCILE_WINDOW"):
            reconcile_window()
