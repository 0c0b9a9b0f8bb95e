"""Probe, issue 13 item 6: the sqlite queue file.

Before the fix: one malformed row stopped every worker for good (decoded before it was removed,
so each restart died on it again); ``provgraph status`` ran ``SELECT 1`` and called a queue file
with damaged pages healthy; ``submit()`` with a broken broker raised the driver's own error and
left a ``created`` node nobody would look at.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from loss_support import invoke, ok, presto_profile

from provgraph.engine.examples import AddMultiplyWorkChain
from provgraph.orm import Int, load_node

#: rows no worker can decode
BAD_PAYLOADS = [
    "not json {",
    "[1, 2, 3]",
    '{"body": "no properties"}',
    b"\xff\xfe not utf-8",
    '{"properties": {"delivery_tag": "x", "body_encoding": "base64"}, "body": "!!! not base64 !!!"}',
]


@pytest.fixture
def presto(tmp_path, monkeypatch):
    with presto_profile(tmp_path / "home", monkeypatch):
        yield tmp_path / "home"


def _queue_file() -> Path:
    from provgraph.profiles import load_profile

    return Path(load_profile().section_config("broker")["path"])


def _wait_finished(pk: int, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = load_node(pk).process_state.value
        if state in ("finished", "excepted", "killed"):
            return state
        time.sleep(0.5)
    return load_node(pk).process_state.value


def test_undecodable_rows_are_moved_aside_and_workers_carry_on(presto):
    from provgraph.engine import submit
    from provgraph.engine.celery.tasks import install_submitter

    install_submitter()
    first = submit(AddMultiplyWorkChain, x=Int(1), y=Int(2), z=Int(3))  # creates the queue
    with sqlite3.connect(_queue_file()) as db:  # queued after it, before the second one (kombu leaves
        (queue_id,) = db.execute("SELECT queue_id FROM kombu_message").fetchone()  # timestamps NULL)
        db.executemany("INSERT INTO kombu_message (visible, timestamp, payload, version, queue_id) "
                       "VALUES (1, NULL, ?, 1, ?)", [(payload, queue_id) for payload in BAD_PAYLOADS])
        db.execute("INSERT INTO kombu_message (visible, timestamp, payload, version, queue_id) "
                   "VALUES (1, 'not a time', 'also bad', 1, ?)", (queue_id,))
    second = submit(AddMultiplyWorkChain, x=Int(4), y=Int(5), z=Int(6))
    ok("worker", "start")
    assert _wait_finished(first.pk) == "finished"
    assert _wait_finished(second.pk) == "finished"
    from provgraph.engine.celery.broker import DEAD_LETTER_TABLE

    with sqlite3.connect(_queue_file()) as db:
        moved = db.execute(f"SELECT payload, error FROM {DEAD_LETTER_TABLE} ORDER BY id").fetchall()
        assert db.execute("SELECT count(*) FROM kombu_message").fetchone()[0] == 0
    assert sorted(map(str, (payload for payload, _ in moved))) == sorted(map(str, BAD_PAYLOADS + ["also bad"]))
    assert all(error for _, error in moved)
    assert "moved undecodable message" in ok("worker", "logs")
    status = ok("status")
    assert f"{len(BAD_PAYLOADS) + 1} undecodable message(s)" in status


def _fill_and_damage(path: Path) -> None:
    """A queue file of several pages with garbage written over one page in the middle."""
    from kombu import Connection

    from provgraph.engine.celery.broker import connection_settings

    settings = connection_settings("sqlite", {"path": str(path)})
    with Connection(settings["broker_url"], transport=settings["broker_transport"]) as connection:
        queue = connection.SimpleQueue("probe")
        for number in range(300):
            queue.put({"n": number, "pad": "x" * 200})
        queue.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size, pages = db.execute("PRAGMA page_size").fetchone()[0], db.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 6
    with open(path, "r+b") as handle:
        handle.seek(page_size * (pages // 2))
        handle.write(b"\x0d\xff\xff\x00" + b"\xa5" * (page_size - 4))


def test_status_reports_a_queue_file_with_a_damaged_page(presto):
    path = _queue_file()
    _fill_and_damage(path)
    with sqlite3.connect(path) as db:  # what the old check ran still passes
        assert db.execute("SELECT 1").fetchone() == (1,)
    result = invoke("status")
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if "broker" in line)
    assert "✘" in line and "corrupt" in line and str(path) in line


def test_submit_to_a_broken_broker_is_a_clear_error_and_the_reconciler_takes_over(presto):
    from provgraph.engine import submit
    from provgraph.engine.celery.tasks import install_submitter
    from provgraph.exceptions import ProvgraphError
    from provgraph.orm import ProcessNode, QueryBuilder

    path = _queue_file()
    path.write_bytes(b"this is not a sqlite database" * 200)
    before = QueryBuilder().append(ProcessNode).count()
    install_submitter()
    with pytest.raises(ProvgraphError) as raised:
        submit(AddMultiplyWorkChain, x=Int(1), y=Int(2), z=Int(3))
    from provgraph.engine.celery.outbox import PublishError, find_lost, reconcile

    assert isinstance(raised.value, PublishError)
    pk = raised.value.pk
    assert f"process {pk} was stored" in str(raised.value) and "reconcile" in str(raised.value)
    assert QueryBuilder().append(ProcessNode).count() == before + 1
    node = load_node(pk)
    assert node.process_state.value == "created"
    assert node.base.attributes.get("process_status").startswith("unpublished:")
    # the queue cannot even be read: the marked process is found anyway
    assert find_lost(older_than=3600, only=[pk], check_queue=lambda: False) == [pk]
    path.unlink()  # the operator moves the broken file aside
    assert reconcile(older_than=3600, only=[pk]) == [pk]
    assert load_node(pk).base.attributes.get("process_status") is None
    assert find_lost(older_than=3600, only=[pk], check_queue=lambda: False) == []
    ok("worker", "start")
    assert _wait_finished(pk) == "finished"
