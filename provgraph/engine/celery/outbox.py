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

No lost process is ever forgotten, however long ago it was lost. The periodic passes of
:class:`Reconciler` look only at processes created in the last ``$PROVGRAPH_RECONCILE_WINDOW``
seconds (default one day): a performance knob that keeps the frequent queries small. Every
``$PROVGRAPH_RECONCILE_FULL_EVERY`` seconds (default one hour, and at start) a pass is a *full
sweep* with no window, and so is every explicit call of :func:`reconcile` / :func:`find_lost`
without ``window`` (``provgraph worker reconcile``).

A process whose message could not be published at submission (broker down or broken) is marked
unpublished (:func:`mark_unpublished`): it is re-published by the next pass whatever the queue
holds, since no message of it can be waiting there.

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
from provgraph.exceptions import ServiceUnavailable
from provgraph.orm.backend import get_backend
from provgraph.orm.utils import load_node

LOGGER = logging.getLogger(__name__)

#: environment variable: seconds a process must have been idle before the worker's reconciler re-publishes it
RECONCILE_AFTER_ENV = "PROVGRAPH_RECONCILE_AFTER"
DEFAULT_RECONCILE_AFTER = 60.0
#: environment variable: seconds back the periodic passes look (by creation time); a performance knob
RECONCILE_WINDOW_ENV = "PROVGRAPH_RECONCILE_WINDOW"
DEFAULT_RECONCILE_WINDOW = 86400.0
#: environment variable: seconds between the full sweeps (no window) of the periodic reconciler
RECONCILE_FULL_EVERY_ENV = "PROVGRAPH_RECONCILE_FULL_EVERY"
DEFAULT_RECONCILE_FULL_EVERY = 3600.0
#: the ``process_status`` prefix of a process whose submission could not publish its message
UNPUBLISHED_STATUS = "unpublished:"


def _seconds_from_env(name: str, default: float) -> float:
    """The non-negative number of seconds in ``$name``, or ``default`` when unset.

    :raises ConfigurationError: when the variable is not a non-negative number
    """
    from provgraph.exceptions import ConfigurationError

    raw = os.environ.get(name) or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ConfigurationError(f"${name} must be a number of seconds >= 0, not {raw!r}")
    return value


def reconcile_after() -> float:
    """The idle time before re-publishing (``$PROVGRAPH_RECONCILE_AFTER`` seconds, default 60).

    :raises ConfigurationError: when the variable is not a non-negative number
    """
    return _seconds_from_env(RECONCILE_AFTER_ENV, DEFAULT_RECONCILE_AFTER)


def reconcile_window() -> float:
    """How far back the periodic passes look (``$PROVGRAPH_RECONCILE_WINDOW`` seconds, default one day).

    :raises ConfigurationError: when the variable is not a non-negative number
    """
    return _seconds_from_env(RECONCILE_WINDOW_ENV, DEFAULT_RECONCILE_WINDOW)


def full_sweep_every() -> float:
    """Seconds between the periodic full sweeps (``$PROVGRAPH_RECONCILE_FULL_EVERY``, default one hour).

    :raises ConfigurationError: when the variable is not a non-negative number
    """
    return _seconds_from_env(RECONCILE_FULL_EVERY_ENV, DEFAULT_RECONCILE_FULL_EVERY)


def _candidates(state: str, before: datetime | None, since: datetime | None, only: Sequence[int], limit: int,
                unpublished: bool = False) -> list[int]:
    """Processes in ``state``, unchanged since ``before``, created since ``since``, not paused, launched by the engine.

    ``None`` for ``before`` or ``since`` drops that condition; ``unpublished`` keeps only the
    processes marked by :func:`mark_unpublished`. Only processes the engine launched carry a
    ``process_type`` a worker can rebuild them from.
    """
    from provgraph.orm import ProcessNode, QueryBuilder

    filters: dict[str, Any] = {
        "attributes.process_state": state,
        "attributes": {"has_key": "process_type"}, "attributes.paused": {"!==": True},
    }
    if before is not None:
        filters["mtime"] = {"<": before}
    if since is not None:
        filters["ctime"] = {">=": since}
    if unpublished:
        filters["attributes.process_status"] = {"like": UNPUBLISHED_STATUS + "%"}
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
              limit: int = 1000, check_queue: Callable[[], bool] = queue_is_empty,
              window: float | None = None) -> list[int]:
    """The pks :func:`reconcile` would publish (see the module docstring).

    By default a full sweep: every process, however old. ``window`` (seconds) or ``since``
    limit the created and waiting candidates to processes created since then (the periodic
    passes' performance knob); expired leases and unpublished processes are always all looked at.

    :param only: consider only these pks (tests)
    """
    now = datetime.now(timezone.utc)
    before = now - timedelta(seconds=older_than)
    if since is None and window is not None:
        since = now - timedelta(seconds=window)
    lost = expired_leases(only, limit)
    lost += _candidates("created", None, None, only, limit, unpublished=True)
    if check_queue():
        lost += _candidates("created", before, since, only, limit)
        lost += [pk for pk in _candidates("waiting", before, since, only, limit) if awaited_all_ended(pk)]
    return list(dict.fromkeys(lost))


def reconcile(older_than: float = DEFAULT_RECONCILE_AFTER, since: datetime | None = None, only: Sequence[int] = (),
              limit: int = 1000, window: float | None = None) -> list[int]:
    """Publish again the processes that nobody will advance otherwise; return their pks.

    A full sweep unless ``window`` or ``since`` is given (see :func:`find_lost`). Leases left by
    dead workers on processes that have ended since are dropped first; the unpublished mark of a
    process published now is cleared.
    """
    from provgraph.engine.celery.tasks import publish

    drop_ended_leases()
    lost = find_lost(older_than, since, only, limit, window=window)
    for pk in lost:
        publish(pk)
        _clear_unpublished(pk)
    if lost:
        LOGGER.warning("reconciler re-published %d process(es): %s", len(lost), lost[:20])
    return lost


class PublishError(ServiceUnavailable):
    """``submit()`` stored the process but could not publish its message; the reconciler will.

    :ivar pk: the pk of the stored process (marked unpublished when storage allowed it)
    """

    def __init__(self, message: str, pk: int) -> None:
        super().__init__(message)
        self.pk = pk


def publish_failed(pk: int, exc: BaseException) -> PublishError:
    """Mark process ``pk`` unpublished after its publish failed with ``exc``; return the error to raise."""
    reason = f"{type(exc).__name__}: {exc}"
    try:
        mark_unpublished(pk, reason)
        then = "it is marked unpublished and the reconciler publishes it once the broker works"
    except Exception as mark_exc:  # storage away too: the created-process sweep still finds it
        LOGGER.exception("could not mark process %s unpublished", pk)
        then = f"marking it unpublished failed too ({mark_exc}); the reconciler's sweep still finds it"
    return PublishError(f"process {pk} was stored but the broker did not take its message ({reason}); {then} "
                        "(`provgraph worker reconcile`, or any running worker)", pk)


def mark_unpublished(pk: int, reason: str) -> None:
    """Mark the created process ``pk`` as submitted without a message (its publish failed).

    The next reconciler pass publishes it whatever the queue holds (see the module docstring).
    """
    node = load_node(pk)
    node.base.attributes.set("process_status", f"{UNPUBLISHED_STATUS} {reason}"[:500])


def _clear_unpublished(pk: int) -> None:
    """Drop the unpublished mark of process ``pk`` (once its message went out)."""
    from provgraph.exceptions import ProvgraphError

    try:
        node = load_node(pk)
        status = node.base.attributes.get("process_status", None)
        if isinstance(status, str) and status.startswith(UNPUBLISHED_STATUS) and node.process_state.value == "created":
            node.base.attributes.set("process_status", None)
    except ProvgraphError:  # it moved on meanwhile (a worker took it): nothing to clear
        LOGGER.debug("could not clear the unpublished mark of %s", pk, exc_info=True)


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

    Passes look back ``reconcile_window()`` seconds; the first pass and one every
    ``full_sweep_every()`` seconds are full sweeps. The parent is looked at every second, so the
    process quits soon after its worker is gone.
    """
    from provgraph.profiles import load_profile

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/Reconciler] %(message)s")
    load_profile()
    window, full_every = reconcile_window(), full_sweep_every()
    next_pass = time.monotonic() + interval
    next_full = time.monotonic()  # the first pass is a full sweep
    while os.getppid() == parent:
        time.sleep(min(1.0, max(0.0, next_pass - time.monotonic())))
        if time.monotonic() < next_pass:
            continue
        next_pass = time.monotonic() + interval
        full = time.monotonic() >= next_full
        try:
            reconcile(older_than, window=None if full else window)
            if full:
                next_full = time.monotonic() + full_every
        except Exception:  # a failed pass (broker or database away) is retried at the next tick
            LOGGER.exception("reconciler pass failed")


if __name__ == "__main__":
    run_reconciler(float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
