"""The CalcJob side of the workers: delayed wake-ups and the per-computer scheduler poll chain.

:class:`CeleryWaker` is installed (``set_waker``) wherever the engine's tasks are registered:

- ``wake_later(pk, delay)`` publishes the ordinary advance message with a countdown, so a
  CalcJob backing off from a transport failure waits without holding a worker slot;
- ``ensure_polling(computer, user)`` makes sure one *poll chain* runs for that computer and
  user: a :data:`POLL_TASK` message that polls (one batched status query for all active jobs,
  see :mod:`provgraph.engine.processes.calcjobs.poller`), wakes the CalcJobs whose job is done,
  and re-publishes itself every poll interval while jobs remain. A fleet-wide lease
  ``computer:<label>:<user>:chain`` (held by the chain, renewed every round) keeps it to one
  chain; if a chain dies, its lease expires and the next CalcJob that asks starts a new one
  (the reconciler re-publishes waiting processes, so someone asks).

A poll that fails is retried by the chain with exponential backoff; after
``$PROVGRAPH_CALCJOB_POLL_ATTEMPTS`` (5) failures in a row the chain pauses every active
CalcJob of the computer with a report saying why, and stops; ``play`` resumes them (their
next step starts a new chain).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

from provgraph.engine.processes.calcjobs import connections
from provgraph.engine.processes.calcjobs.calcjob import RETRYABLE, backoff_delay, set_waker
from provgraph.engine.processes.calcjobs.connections import claim, discard_transport, release
from provgraph.engine.processes.calcjobs.poller import active_jobs, poll_computer, poll_interval
from provgraph.exceptions import NotExistent, ServiceUnavailable, StorageError
from provgraph.orm.backend import get_backend
from provgraph.storage.entities import LogRecord

if TYPE_CHECKING:
    from celery import Celery

    from provgraph.orm.computers import Computer

__all__ = ["POLL_TASK", "CeleryWaker", "register_calcjob_tasks"]

POLL_TASK = "provgraph.calcjob_poll"
ATTEMPTS_ENV = "PROVGRAPH_CALCJOB_POLL_ATTEMPTS"
#: rounds a chain keeps polling after it found no active job (a job submitted meanwhile is seen)
IDLE_ROUNDS = 2
LOGGER = logging.getLogger(__name__)


def _chain_key(label: str, user: str) -> str:
    return f"computer:{label}:{user}:chain"


def _chain_seconds(interval: float) -> float:
    return interval * 3 + 30


def _send(name: str, args: list[Any], countdown: float) -> None:
    from provgraph.engine.celery.app import current_app, queue_name

    current_app().send_task(name, args=args, queue=queue_name(), serializer="json", countdown=max(countdown, 0.0),
                            retry=True, retry_policy={"max_retries": 20, "interval_start": 0.5, "interval_step": 1,
                                                      "interval_max": 5})


class CeleryWaker:
    """Wakes CalcJobs through the broker (see the module docstring).

    Once it has seen a chain of a computer alive (its lease taken, by this call or another),
    it does not ask again for one poll interval: a chain only stops after
    :data:`IDLE_ROUNDS` rounds without active jobs, and a job submitted meanwhile keeps it going.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}

    def wake_later(self, pk: int, delay: float) -> None:
        """Publish an advance message for ``pk`` due in ``delay`` seconds."""
        from provgraph.engine.celery.tasks import TASK

        _send(TASK, [int(pk)], delay)

    def ensure_polling(self, computer: Computer, user: str) -> None:
        """Start a poll chain for ``computer`` and ``user`` unless one holds the chain lease."""
        interval = poll_interval(computer)
        now = time.monotonic()
        if now - self._seen.get((computer.label, user), -interval) < interval:
            return
        self._seen[(computer.label, user)] = now
        chain = f"chain-{uuid.uuid4().hex[:12]}"
        if claim(_chain_key(computer.label, user), _chain_seconds(interval), chain):
            _send(POLL_TASK, [computer.label, user, chain, 0, 0], interval)


def _publish(pk: int) -> None:
    from provgraph.engine.celery.tasks import publish

    publish(pk)


def poll_round(label: str, user: str, chain: str, failures: int = 0, idle: int = 0) -> str:
    """One round of a poll chain; returns what it did (``polled``, ``busy``, ``retry``, ``paused``, ``stopped``)."""
    try:
        computer = connections.computer(label)
    except NotExistent:
        return "stopped"
    interval = poll_interval(computer)
    key = _chain_key(label, user)
    if not claim(key, _chain_seconds(interval), chain):
        return "stopped"  # another chain took over after this one's lease expired
    done: list[int] = []
    try:
        states = poll_computer(computer, user, interval, on_done=done.append)
    except RETRYABLE as exc:
        return _poll_failed(computer, user, chain, failures + 1, exc)
    if states is None:  # polled by someone else less than an interval ago
        _send(POLL_TASK, [label, user, chain, 0, idle], interval / 2)
        return "busy"
    idle = idle + 1 if not any(state != "done" for state in states.values()) else 0
    if idle > IDLE_ROUNDS:
        release(key, chain)
        outcome = "stopped"
    else:
        _send(POLL_TASK, [label, user, chain, 0, idle], interval)
        outcome = "polled"
    for pk in done:  # after the next round's message: in a FIFO queue it must not wait behind these
        _publish(pk)
    return outcome


def _poll_failed(computer: Computer, user: str, chain: str, failures: int, exc: Exception) -> str:
    discard_transport(computer, user)
    limit = int(os.environ.get(ATTEMPTS_ENV, 5))
    if failures < limit:
        delay = backoff_delay(failures)
        LOGGER.warning("polling %s failed (attempt %d of %d): %s; retrying in %.1f s", computer.label, failures,
                       limit, exc, delay)
        _send(POLL_TASK, [computer.label, user, chain, failures, 0], delay)
        return "retry"
    message = (f"polling the scheduler of {computer.label} failed {failures} times in a row, last with "
               f"{type(exc).__name__}: {exc}; the process is paused: fix the cause, then `provgraph process play`")
    for job in active_jobs(computer.label, user):
        _pause(job.pk, job.version, message)
    release(_chain_key(computer.label, user), chain)
    return "paused"


def _pause(pk: int, version: int, message: str) -> None:
    """Pause CalcJob ``pk`` with a report (guarded, so a step committing meanwhile is not undone)."""
    from provgraph.orm.utils import load_node

    coordination = get_backend().coordination
    for _ in range(3):
        log = LogRecord(pk, message, "REPORT", "provgraph.engine.CalcJob")
        done = coordination.commit_guarded({pk: version}, [], [], {pk: {"paused": True, "process_status": message}},
                                           [log])
        if done is not None:
            return
        node = load_node(pk)
        if node.process_state.is_terminal:
            return
        version = node.base.attributes.get("checkpoint_version", 0)


def register_calcjob_tasks(app: Celery) -> None:
    """Register :data:`POLL_TASK` on ``app`` and install the :class:`CeleryWaker` in this interpreter."""
    retry = {"autoretry_for": (ServiceUnavailable, StorageError), "retry_backoff": True, "retry_backoff_max": 60,
             "max_retries": None}

    @app.task(name=POLL_TASK, acks_late=True, ignore_result=True, **retry)
    def calcjob_poll(label: str, user: str, chain: str, failures: int = 0, idle: int = 0) -> str:
        """One round of the scheduler poll chain of a computer and user."""
        return poll_round(label, user, chain, int(failures), int(idle))

    set_waker(CeleryWaker())
