"""Reuse one open transport per (computer, user) within a process, opened no more often than allowed.

A cluster's login node may ban a client that opens connections too often, so a
transport declares a :attr:`~provgraph.transports.base.Transport.safe_open_interval`.
:class:`TransportPool` keeps the open transport of each (computer, user) and,
when a new one must be opened, sleeps until that interval has passed since the
previous open of the same key.

These limits hold within *one* process only.  Across a fleet of workers a
shared per-computer lease must decide which worker opens connections (DESIGN
§5); that lease belongs to the engine and is not implemented here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from provgraph.transports.base import Transport

__all__ = ["TransportPool", "get_transport"]

Key = tuple[str, str]


class TransportPool:
    """Open transports keyed by (computer label, user), with a minimum pause between opens of a key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """Create an empty pool; ``clock`` and ``sleep`` are replaceable for tests."""
        self._clock, self._sleep = clock, sleep
        self._open: dict[Key, Transport] = {}
        self._last_open: dict[Key, float] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()
        #: How many transports this pool has opened (for statistics and tests).
        self.opened = 0

    def _lock(self, key: Key) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, computer_label: str, user: str, factory: Callable[[], Transport]) -> Transport:
        """Return the open transport of (``computer_label``, ``user``), opening one with ``factory`` if needed.

        An open transport is handed out again as is.  Otherwise ``factory()``
        builds a closed one; if the previous open of this key was less than
        its ``safe_open_interval`` ago, this call sleeps for the remainder first.

        :raises TransportError: when opening fails (the failed attempt still counts for the interval)
        """
        key = (computer_label, user)
        with self._lock(key):
            current = self._open.get(key)
            if current is not None and current.is_open:
                return current
            transport = factory()
            self._wait_for_interval(key, transport.safe_open_interval)
            self._last_open[key] = self._clock()
            self.opened += 1
            transport.open()
            self._open[key] = transport
            return transport

    def _wait_for_interval(self, key: Key, interval: float) -> None:
        last = self._last_open.get(key)
        if last is not None:
            remaining = last + interval - self._clock()
            if remaining > 0:
                self._sleep(remaining)

    def discard(self, computer_label: str, user: str) -> None:
        """Close and forget the transport of a key (e.g. after it failed); the interval still applies."""
        key = (computer_label, user)
        with self._lock(key):
            transport = self._open.pop(key, None)
        if transport is not None:
            transport.close()

    def close_all(self) -> None:
        """Close every transport in the pool."""
        with self._guard:
            transports, self._open = list(self._open.values()), {}
        for transport in transports:
            transport.close()


# The registry is per process on purpose: it is what lets tasks of one worker share connections.
_DEFAULT_POOL = TransportPool()


def get_transport(computer_label: str, user: str, factory: Callable[[], Transport],
                  pool: TransportPool | None = None) -> Transport:
    """Return the open transport of (``computer_label``, ``user``) from ``pool`` (the process-wide one by default).

    See :meth:`TransportPool.get`.  The limit holds within this process only; the
    fleet-wide per-computer lease is a later engine task.

    :raises TransportError: when a transport has to be opened and opening fails
    """
    return (pool or _DEFAULT_POOL).get(computer_label, user, factory)
