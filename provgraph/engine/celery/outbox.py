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

:class:`Reconciler` runs it periodically in a daemon thread of the worker's main process
(``provgraph worker start`` enables it unless ``--no-reconcile``); ``provgraph worker reconcile``
runs one pass.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from provgraph.common.states import TERMINAL_STATES
from provgraph.orm.backend import get_backend
from provgraph.orm.utils import load_node

LOGGER = logging.getLogger(__name__)

_CANDIDATES = (
    # only processes the engine launched carry a process_type a worker can rebuild them from
    "MATCH (n:ProcessNode) WHERE n.`attributes.process_state` = $state AND n.mtime < $before "
    "AND n.`attributes.process_type` IS NOT NULL "
    "AND n.ctime >= $since AND coalesce(n.`attributes.paused`, false) = false "
    "AND (size($only) = 0 OR n.pk IN $only) RETURN n.pk ORDER BY n.pk LIMIT $limit"
)
_EXPIRED = (
    "MATCH (l:_ProcessLease) WHERE l.expires < datetime() AND (size($only) = 0 OR l.pk IN $only) "
    "MATCH (n:ProcessNode {pk: l.pk}) WHERE NOT n.`attributes.process_state` IN $terminal "
    "RETURN n.pk ORDER BY n.pk LIMIT $limit"
)
_ENDED_LEASES = (
    "MATCH (l:_ProcessLease) OPTIONAL MATCH (n:ProcessNode {pk: l.pk}) "
    "WITH l, n WHERE n IS NULL OR n.`attributes.process_state` IN $terminal DELETE l"
)


def _pks(query: str, **params: Any) -> list[int]:
    return [row[0] for row in get_backend().cypher(query, params)[1]]


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


def find_lost(older_than: float = 60.0, since: datetime | None = None, only: Sequence[int] = (),
              limit: int = 1000, check_queue: Callable[[], bool] = queue_is_empty) -> list[int]:
    """The pks :func:`reconcile` would publish (see the module docstring).

    :param since: consider only processes created since then (default: the last
        ``$PROVGRAPH_RECONCILE_WINDOW`` seconds, one day)
    :param only: consider only these pks (tests)
    """
    before = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    window = float(os.environ.get("PROVGRAPH_RECONCILE_WINDOW", 86400))
    since = since or datetime.now(timezone.utc) - timedelta(seconds=window)
    common = {"before": before, "since": since, "only": [int(pk) for pk in only], "limit": limit}
    lost = _pks(_EXPIRED, only=common["only"], limit=limit, terminal=[s.value for s in TERMINAL_STATES])
    if check_queue():
        lost += _pks(_CANDIDATES, state="created", **common)
        lost += [pk for pk in _pks(_CANDIDATES, state="waiting", **common) if awaited_all_ended(pk)]
    return list(dict.fromkeys(lost))


def reconcile(older_than: float = 60.0, since: datetime | None = None, only: Sequence[int] = (),
              limit: int = 1000) -> list[int]:
    """Publish again the processes that nobody will advance otherwise; return their pks.

    Leases left by dead workers on processes that have ended since are dropped first.
    """
    from provgraph.engine.celery.tasks import publish

    get_backend().cypher(_ENDED_LEASES, {"terminal": [state.value for state in TERMINAL_STATES]}, write=True)
    lost = find_lost(older_than, since, only, limit)
    for pk in lost:
        publish(pk)
    if lost:
        LOGGER.warning("reconciler re-published %d process(es): %s", len(lost), lost[:20])
    return lost


class Reconciler:
    """Calls :func:`reconcile` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, interval: float = 30.0, older_than: float = 60.0) -> None:
        self.interval, self.older_than = interval, older_than
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="provgraph-reconciler")

    def start(self) -> Reconciler:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (after its current pass)."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                reconcile(self.older_than)
            except Exception:  # a failed pass (broker or database away) is retried at the next tick
                LOGGER.exception("reconciler pass failed")
