"""The per-process transport pool: one open transport per (computer, user), opens spaced by the safe interval."""

from __future__ import annotations

import threading
import time

import pytest
from transport_testing import build_transport

from provgraph.exceptions import TransportError
from provgraph.transports.local import LocalTransport
from provgraph.transports.pool import TransportPool, get_transport


class FakeClock:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_an_open_transport_is_reused():
    pool = TransportPool()
    first = pool.get("cluster", "alice", LocalTransport)
    assert pool.get("cluster", "alice", LocalTransport) is first and first.is_open
    assert pool.get("cluster", "bob", LocalTransport) is not first
    assert pool.get("other", "alice", LocalTransport) is not first
    assert pool.opened == 3
    pool.close_all()
    assert not first.is_open


def test_reopening_waits_for_the_rest_of_the_safe_interval():
    clock = FakeClock()
    pool = TransportPool(clock=clock, sleep=clock.sleep)
    factory = lambda: LocalTransport(safe_open_interval=10)  # noqa: E731
    pool.get("cluster", "alice", factory)
    clock.now += 3
    pool.discard("cluster", "alice")
    pool.get("cluster", "alice", factory)
    assert clock.sleeps == [7]
    clock.now += 25  # long after: no wait
    pool.discard("cluster", "alice")
    pool.get("cluster", "alice", factory)
    assert clock.sleeps == [7]


def test_a_dropped_connection_is_reopened_within_the_interval_rules():
    clock = FakeClock()
    pool = TransportPool(clock=clock, sleep=clock.sleep)
    first = pool.get("c", "u", lambda: LocalTransport(safe_open_interval=5))
    first.close()  # e.g. the server dropped it
    second = pool.get("c", "u", lambda: LocalTransport(safe_open_interval=5))
    assert second is not first and second.is_open and clock.sleeps == [5]


def test_a_failed_open_counts_for_the_interval():
    class Failing(LocalTransport):
        def open(self) -> None:
            raise TransportError("refused")

    clock = FakeClock()
    pool = TransportPool(clock=clock, sleep=clock.sleep)
    with pytest.raises(TransportError):
        pool.get("c", "u", lambda: Failing(safe_open_interval=4))
    pool.get("c", "u", lambda: LocalTransport(safe_open_interval=4))
    assert clock.sleeps == [4]


def test_concurrent_callers_share_one_transport():
    pool = TransportPool()
    opened: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        opened.append(pool.get("c", "u", lambda: LocalTransport(safe_open_interval=0.2)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(t) for t in opened}) == 1 and pool.opened == 1


def test_the_process_wide_registry():
    transport = get_transport("pool-test-computer", "someone", LocalTransport)
    assert get_transport("pool-test-computer", "someone", LocalTransport) is transport
    private = TransportPool()
    assert get_transport("pool-test-computer", "someone", LocalTransport, pool=private) is not transport
    private.close_all()


@pytest.mark.parametrize("name", ["core.local", pytest.param("core.ssh", marks=pytest.mark.requires_ssh)])
def test_measured_wait_between_two_real_opens(name, request):
    """Real clock, real transports: the second open within the interval waits for it."""
    interval = 1.0
    pool = TransportPool()
    first = pool.get("measured", name, lambda: build_transport(name, request, safe_open_interval=interval))
    opened_at = time.monotonic()
    assert first.is_open
    pool.discard("measured", name)
    second = pool.get("measured", name, lambda: build_transport(name, request, safe_open_interval=interval))
    waited = time.monotonic() - opened_at
    assert second.is_open and second is not first
    assert waited >= interval * 0.95
    assert second.exec_command_wait("echo ok") == (0, "ok\n", "")
    start = time.monotonic()
    assert pool.get("measured", name, lambda: pytest.fail("must reuse")) is second
    assert time.monotonic() - start < 0.5  # reuse does not wait
    pool.close_all()


def test_a_negative_interval_is_refused():
    from provgraph.exceptions import ValidationError

    with pytest.raises(ValidationError):
        LocalTransport(safe_open_interval=-1)
