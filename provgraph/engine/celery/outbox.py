"""The reconciler: no process is lost between a commit and a broker publish.

A step commits first and publishes after, so a worker dying in between (or a broker losing a
message) could leave a process that nobody will advance. :func:`reconcile` finds them and
publishes them again; a duplicate is harmless because every commit is guarded by the checkpoint
version. It looks for, among processes not paused:

- ``created`` processes created more than ``older_than`` seconds ago, and
- ``waiting`` processes, unchanged for ``older_than`` seconds, whose awaited children all ended,

but only while the queue holds no ready message (in a backlog those are simply still queued, and
re-publishing them all would only flood the queue); and, at any time,

- processes whose worker lease (long-running steps, see :class:`~provgraph.engine.celery.tasks.Lease`)
  expired: that worker died after acking.

:class:`Reconciler` runs it periodically in a process of its own beside the worker's main process
(``provgraph worker start`` enables it unless ``--no-reconcile``); ``older_than`` comes from
``provgraph worker start --reconcile-after SECONDS``, ``$PROVGRAPH_RECONCILE_AFTER`` or the fleet
config's ``reconcile_after`` (default 60 s). ``provgraph worker reconcile`` runs one pass.

Everything goes through the storage interface, so it works on every backend: the candidates are
QueryBuilder queries on :class:`~provgraph.orm.ProcessNode`, the leases come from
``backend.coordination``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from provgraph.common.states import TERMINAL_STATES
from provgraph.engine.celery.tasks import PROCESS_LEASE_PREFIX, lease_key
from provgraph.orm.backend import get_backend
from provgraph.orm.utils import load_node

LOGGER = logging.getLogger(__name__)

#: environment variable: seconds a process must have been idle before the worker's reconciler re-publishes it
RECONCILE_AFTER_ENV = "PROVGRAPH_RECONCILE_AFTER"
DEFAULT_RECONCILE_AFTER = 60.0


def reconcile_after() -> float:
    """The idle time before re-publishing (``$PROVGRAPH_RECONCILE_AFTER`` seconds, default 60).

    :raises ConfigurationError: when the variable is not a non-negative number
    """
    from provgraph.exceptions import ConfigurationError

    raw = os.environ.get(RECONCILE_AFTER_ENV) or str(DEFAULT_RECONCILE_AFTER)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ConfigurationError(f"${RECONCILE_AFTER_ENV} must be a number of seconds >= 0, not {raw!r}")
    return value


def _candidates(state: str, before: datetime, since: datetime, only: Sequence[int], limit: int) -> list[int]:
    """Processes in ``state``, unchanged since ``before``, created since ``since``, not paused, launched by the engine.

    Only processes the engine launched carry a ``process_type`` a worker can rebuild them from.
    """
    from provgraph.orm import ProcessNode, QueryBuilder

    filters: dict[str, Any] = {
        "attributes.process_state": state, "mtime": {"<": before}, "ctime": {">=": since},
        "attributes": {"has_key": "process_type"}, "attributes.paused": {"!==": True},
    }
    if only:
        filters["pk"] = {"in": [int(pk) for pk in only]}
    qb = QueryBuilder().append(ProcessNode, tag="p", filters=filters, project="pk")
    return [int(pk) for pk in qb.order_by({"p": {"pk": "asc"}}).limit(limit).all(flat=True)]


def _states(pks: Sequence[int]) -> dict[int, str | None]:
    """The process state of each existing process among ``pks``."""
    from provgraph.orm import ProcessNode, QueryBuilder

    if not pks:
        return {}
    qb = QueryBuilder().append(ProcessNode, filters={"pk": {"in": list(pks)}},
                               project=["pk", "attributes.process_state"])
    return {int(pk): state for pk, state in qb.all()}


def _lease_pks(expired_only: bool) -> list[int]:
    """The pks of the processes with a worker lease (``process:<pk>``), the expired ones only if asked."""
    pks = []
    for lease in get_backend().coordination.leases(PROCESS_LEASE_PREFIX, expired_only=expired_only):
        suffix = lease.key[len(PROCESS_LEASE_PREFIX):]
        if suffix.isdigit():
            pks.append(int(suffix))
    return pks


def expired_leases(only: Sequence[int] = (), limit: int = 1000) -> list[int]:
    """Processes not ended whose worker lease expired (their worker died after acking)."""
    pks = _lease_pks(expired_only=True)
    if only:
        pks = [pk for pk in pks if pk in set(only)]
    terminal = {state.value for state in TERMINAL_STATES}
    return sorted(pk for pk, state in _states(pks).items() if state not in terminal)[:limit]


def drop_ended_leases() -> list[str]:
    """Drop the process leases of processes that ended or are gone (left by dead workers); return their keys."""
    pks = _lease_pks(expired_only=False)
    states = _states(pks)
    terminal = {state.value for state in TERMINAL_STATES}
    keys = [lease_key(pk) for pk in pks if pk not in states or states[pk] in terminal]
    get_backend().coordination.drop_leases(keys)
    return keys


def queue_is_empty(queue: str | None = None) -> bool:
    """Whether the fleet's queue holds no ready message (unacked deliveries are not counted)."""
    from provgraph.engine.celery.app import current_app, queue_name

    with current_app().connection_for_write() as connection:
        # declared as the workers declare it (durable), so a queue nobody declared yet counts as empty
        _, count, _ = connection.default_channel.queue_declare(queue or queue_name(), durable=True,
                                                               auto_delete=False)
    return int(count) == 0


def awaited_all_ended(pk: int) -> bool:
    """Whether every child the waiting process ``pk`` awaits (per its checkpoint) has ended."""
    checkpoint = load_node(pk).base.attributes.get("checkpoint", None) or {}
    terminal = {state.value for state in TERMINAL_STATES}
    for entry in checkpoint.get("awaiting", []):
        if load_node(entry["uuid"]).base.attributes.get("process_state") not in terminal:
            return False
    return True


def find_lost(older_than: float = DEFAULT_RECONCILE_AFTER, since: datetime | None = None, only: Sequence[int] = (),
              limit: int = 1000, check_queue: Callable[[], bool] = queue_is_empty) -> list[int]:
    """The pks :func:`reconcile` would publish (see the module docstring).

    :param since: consider only processes created since then (default: the last
        ``$PROVGRAPH_RECONCILE_WINDOW`` seconds, one day)
    :param only: consider only these pks (tests)
    """
    before = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    window = float(os.environ.get("PROVGRAPH_RECONCILE_WINDOW", 86400))
    since = since or datetime.now(timezone.utc) - timedelta(seconds=window)
    lost = expired_leases(only, limit)
    if check_queue():
        lost += _candidates("created", before, since, only, limit)
        lost += [pk for pk in _candidates("waiting", before, since, only, limit) if awaited_all_ended(pk)]
    return list(dict.fromkeys(lost))


def reconcile(older_than: float = DEFAULT_RECONCILE_AFTER, since: datetime | None = None, only: Sequence[int] = (),
              limit: int = 1000) -> list[int]:
    """Publish again the processes that nobody will advance otherwise; return their pks.

    Leases left by dead workers on processes that have ended since are dropped first.
    """
    from provgraph.engine.celery.tasks import publish

    drop_ended_leases()
    lost = find_lost(older_than, since, only, limit)
    for pk in lost:
        publish(pk)
    if lost:
        LOGGER.warning("reconciler re-published %d process(es): %s", len(lost), lost[:20])
    return lost


class Reconciler:
    """Runs :func:`reconcile` every ``interval`` seconds in a process of its own, child of the worker.

    Not a thread of the worker's main process: Celery's prefork pool forks that process (at start
    and whenever a pool process dies), and a fork copies every lock another thread holds at that
    moment, held for ever in the child: an import lock, a connection pool's, a driver's. A pool
    process could then hang before its first step. The reconciler process exits with the worker
    (it is stopped by :meth:`stop`, killed with the worker's process group, and quits by itself
    when its parent is gone).
    """

    def __init__(self, interval: float = 30.0, older_than: float = DEFAULT_RECONCILE_AFTER) -> None:
        self.interval, self.older_than = interval, older_than
        self._process: subprocess.Popen | None = None

    def start(self) -> Reconciler:
        """Start the reconciler process."""
        command = [sys.executable, "-m", __name__, str(self.interval), str(self.older_than), str(os.getpid())]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the reconciler process (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def run_reconciler(interval: float, older_than: float, parent: int) -> None:
    """The loop of the reconciler process: a pass every ``interval`` seconds while process ``parent`` lives.

    The parent is looked at every second, so the process quits soon after its worker is gone.
    """
    from provgraph.profiles import load_profile

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/Reconciler] %(message)s")
    load_profile()
    next_pass = time.monotonic() + interval
    while os.getppid() == parent:
        time.sleep(min(1.0, max(0.0, next_pass - time.monotonic())))
        if time.monotonic() < next_pass:
            continue
        next_pass = time.monotonic() + interval
        try:
            reconcile(older_than)
        except Exception:  # a failed pass (broker or database away) is retried at the next tick
            LOGGER.exception("reconciler pass failed")


if __name__ == "__main__":
    run_reconciler(float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
