"""Transports and leases of the CalcJob lifecycle, shared across the worker fleet.

- :func:`open_transport`: the open transport of a (computer, user) from this process's
  :class:`~provgraph.transports.pool.TransportPool` (one connection reused by every task of the
  worker process). Opening a *new* connection first claims the fleet-wide lease
  ``computer:<label>:<user>:open`` for the transport's ``safe_open_interval`` seconds and never
  releases it, so whichever worker opens, two opens of the same computer and user are at least
  that interval apart across the whole fleet (a worker that finds the lease taken waits for it).
- :func:`claim` / :func:`release`: leases through the storage's ``coordination`` (DESIGN §5).
- :func:`record`: optional statistics (``$PROVGRAPH_CALCJOB_STATS`` names a file that every
  worker appends ``<event> <computer> <count> <unix time>`` lines to), read by ``bench/calcjobs.py``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from provgraph.orm.backend import get_backend
from provgraph.transports.pool import TransportPool

if TYPE_CHECKING:
    from provgraph.orm.computers import Computer
    from provgraph.transports.base import Transport

__all__ = ["claim", "computer", "discard_transport", "open_transport", "owner", "record", "release"]

STATS_ENV = "PROVGRAPH_CALCJOB_STATS"
_POOL = TransportPool()
_OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_STATS_LOCK = threading.Lock()
#: seconds a loaded Computer is reused by the steps of this process (its settings rarely change)
COMPUTER_TTL = 30.0
_COMPUTERS: dict[str, tuple[float, Computer]] = {}


def computer(label: str) -> Computer:
    """The stored computer ``label``, loaded at most every :data:`COMPUTER_TTL` seconds per process.

    :raises NotExistent: when there is none
    """
    from provgraph.orm.computers import Computer

    now = time.monotonic()
    cached = _COMPUTERS.get(label)
    if cached is None or now - cached[0] > COMPUTER_TTL:
        cached = _COMPUTERS[label] = (now, Computer.get(label=label))
    return cached[1]


def owner() -> str:
    """This worker process's lease owner id (host, pid and a random part)."""
    return f"{_OWNER}:{os.getpid()}"


def claim(key: str, seconds: float, who: str | None = None, force: bool = False) -> bool:
    """Take or extend the fleet-wide lease ``key`` for ``seconds``; return whether it is held now."""
    return get_backend().coordination.claim_lease(key, who or owner(), seconds, force=force)


def release(key: str, who: str | None = None) -> None:
    """Drop lease ``key`` if still held."""
    get_backend().coordination.release_lease(key, who or owner())


def record(event: str, computer: str, count: int = 1) -> None:
    """Append a statistics line when ``$PROVGRAPH_CALCJOB_STATS`` names a file (see the module docstring)."""
    path = os.environ.get(STATS_ENV)
    if not path:
        return
    line = f"{event} {computer} {count} {time.time():.3f}\n".encode()
    with _STATS_LOCK:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)


def _wait_for_open_lease(computer: Computer, user: str, interval: float) -> None:
    """Block until this worker may open a connection to ``computer`` (fleet-wide safe interval)."""
    if interval <= 0:
        return
    key = f"computer:{computer.label}:{user}:open"
    deadline = time.monotonic() + interval * 4 + 5
    # a fresh owner per open: the lease must be free or expired, never "already ours"
    attempt_owner = f"{owner()}:{uuid.uuid4().hex[:6]}"
    while not claim(key, interval, attempt_owner):
        if time.monotonic() > deadline:
            claim(key, interval, attempt_owner, force=True)  # a lease can only block for its lifetime
            return
        time.sleep(min(0.25, interval))


def open_transport(computer: Computer, user: str) -> Transport:
    """The open transport of ``computer`` for ``user`` from this process's pool (see the module docstring).

    :raises TransportError: when a connection has to be opened and cannot be
    :raises ConfigurationError: when the computer is not configured for ``user``
    """
    from provgraph.tools.computers import transport_for

    def factory() -> Transport:
        transport = transport_for(computer, user)
        _wait_for_open_lease(computer, user, transport.safe_open_interval)
        record("open", computer.label)
        return transport

    return _POOL.get(computer.label, user, factory)


def discard_transport(computer: Computer, user: str) -> None:
    """Forget the pooled transport of ``computer`` and ``user`` (after a connection error)."""
    try:
        _POOL.discard(computer.label, user)
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is dropped anyway
        pass


def pool_opened() -> int:
    """How many connections this process's pool has opened (statistics)."""
    return _POOL.opened
