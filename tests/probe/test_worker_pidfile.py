"""Issue 13 item 2: ``worker stop`` signals only processes that are the profile's workers.

No server needed: a ``presto`` profile in a temporary home, decoy processes standing in for the
unrelated programs a stale pid file may name once the system reuses its pid.
"""

from __future__ import annotations

import json
import time

import pytest
from sec_support import decoy, invoke, one_line_error

from provgraph.cli import worker_pidfiles


@pytest.fixture
def workers(provgraph_home, tmp_path, monkeypatch):
    """A presto profile made current; its workers' folder."""
    folder = tmp_path / "workers"
    monkeypatch.setenv("PROVGRAPH_WORKERS_DIR", str(folder))
    assert invoke("presto").exit_code == 0
    folder.mkdir(exist_ok=True)
    return folder


# Only contents that no version of provgraph could turn into a real pid: "0" (the caller's own process
# group), "1" (init) or "٣" (int() reads it as 3) must never reach a signal in a test, even against a
# regressed implementation (an old `worker stop` once SIGTERMed pid 1 this way); they are checked on
# the parser alone below.
@pytest.mark.parametrize("content", [b"abc", b"", b"--", b"99999999999999999999999", b"12 34", b"\xff\xfe",
                                     b"1e3", b"0x10"])
def test_pid_file_that_holds_no_pid(workers, content):
    (workers / "worker-0.pid").write_bytes(content)
    result = invoke("worker", "stop", "--timeout", "1")
    assert result.exit_code == 0, result.output
    assert "no worker is running" in result.output
    assert not (workers / "worker-0.pid").exists()
    if content not in (b"",):
        assert "not a pid" in result.output or "signalled nothing" in result.output


@pytest.mark.parametrize("content", [b"0", b"1", "٣".encode(), b"+7", b" 0012 ", b"4194304", b"abc", b"-1", b""])
def test_pid_parser_refuses_what_no_worker_can_be(tmp_path, content):
    path = tmp_path / "worker-0.pid"
    path.write_bytes(content)
    assert worker_pidfiles.read_pid(path) is None


def test_pid_parser_reads_a_pid(tmp_path):
    path = tmp_path / "worker-0.pid"
    path.write_text("4242\n")
    assert worker_pidfiles.read_pid(path) == 4242


def test_stale_pid_of_an_unrelated_program_is_not_signalled(workers):
    with decoy("unrelated-program") as other:
        (workers / "worker-0.pid").write_text(f"{other.pid}\n")
        result = invoke("worker", "stop", "--timeout", "1")
        time.sleep(0.3)
        assert other.poll() is None, "worker stop killed an unrelated process"
        assert result.exit_code == 0 and "not a provgraph worker" in result.output, result.output
        assert not (workers / "worker-0.pid").exists()
        assert "no worker is running" in invoke("worker", "status").output


def test_reused_pid_is_not_signalled_even_if_it_looks_like_a_worker(workers):
    """The identity file records the start time: another process on the same pid is not the worker."""
    with decoy(worker_pidfiles.WORKER_MODULE) as other:
        worker_pidfiles.record(workers, 0, other.pid)
        identity = json.loads((workers / "worker-0.id").read_text())
        identity["start"] = str(int(identity["start"]) - 1)  # the worker that wrote it started earlier
        (workers / "worker-0.id").write_text(json.dumps(identity))
        result = invoke("worker", "stop", "--timeout", "1")
        time.sleep(0.3)
        assert other.poll() is None
        assert "pid was reused" in result.output, result.output


def test_legacy_pid_file_of_a_worker_is_still_stopped(workers):
    """A pid file without identity (older provgraph) is trusted when the command line is a worker's."""
    with decoy(worker_pidfiles.WORKER_MODULE) as worker:
        (workers / "worker-0.pid").write_text(f"{worker.pid}\n")
        result = invoke("worker", "stop", "--timeout", "5")
        assert result.exit_code == 0 and f"stopped worker 0 (pid {worker.pid})" in result.output
        assert worker.wait(10) is not None


@pytest.mark.parametrize("args", [["--concurrency", "-1"], ["--concurrency", "0"], ["--workers", "-3"],
                                  ["--loglevel", "nonsense"], ["--concurrency", "99999999999999999999"]])
def test_bad_worker_start_options_start_nothing(workers, args):
    result = invoke("worker", "start", *args)
    assert "started" not in result.output
    assert "Error" in one_line_error(result)
    assert not list(workers.glob("worker-*.pid"))


def test_real_worker_is_recorded_and_stopped(workers):
    started = invoke("worker", "start")
    try:
        assert started.exit_code == 0 and "started worker 0" in started.output, started.output
        pid = int((workers / "worker-0.pid").read_text())
        identity = json.loads((workers / "worker-0.id").read_text())
        assert identity["pid"] == pid and identity["start"] == worker_pidfiles.process_start(pid)
        assert str(pid) in invoke("worker", "status").output
    finally:
        stopped = invoke("worker", "stop", "--timeout", "20")
    assert "stopped worker 0" in stopped.output, stopped.output
    assert worker_pidfiles.process_start(pid) is None
    assert not list(workers.iterdir()) or not list(workers.glob("worker-*.pid"))
