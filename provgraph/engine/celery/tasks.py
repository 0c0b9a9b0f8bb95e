"""The worker tasks: a thin adapter over :func:`provgraph.engine.step.advance`.

A task advances one process until it waits or ends, with the :class:`AtomicCommitter`, then
publishes the children its steps created and, when it ended, wakes its caller, as new
messages. Then it returns: a waiting process holds no worker slot. Messages carry only the
pk (JSON). A process class with ``long_running = True`` goes as :data:`LONG_TASK`, acked on
receipt and protected by a lease instead (see :mod:`provgraph.engine.celery.app`). On a broker
that never redelivers (the sqlite queue of :mod:`provgraph.engine.celery.broker`) every step is
leased, so the reconciler finds the processes of a worker that died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import TYPE_CHECKING, Any

from provgraph.common.states import ProcessState
from provgraph.engine.celery.committer import AtomicCommitter
from provgraph.engine.exceptions import ProcessNotImportable
from provgraph.engine.launch import set_submitter
from provgraph.engine.step import StepAction, StepResult, advance, load_process_class
from provgraph.exceptions import NotExistent, ServiceUnavailable, StorageError
from provgraph.orm.backend import get_backend
from provgraph.orm.utils import load_node

if TYPE_CHECKING:
    from celery import Celery

TASK = "provgraph.advance_process"
LONG_TASK = "provgraph.advance_long_process"
#: seconds a lease lives without renewal (``$PROVGRAPH_LEASE_SECONDS``); the heartbeat renews it every third
LEASE_SECONDS = 120
#: key prefix of the process leases (``process:<pk>``)
PROCESS_LEASE_PREFIX = "process:"

LOGGER = logging.getLogger(__name__)


def register_tasks(app: Celery) -> None:
    """Register :data:`TASK` (acks late) and :data:`LONG_TASK` (acked on receipt, leased) on ``app``."""
    retry = {"autoretry_for": (ServiceUnavailable, StorageError), "retry_backoff": True, "retry_backoff_max": 60,
             "max_retries": None}

    lease_steps = bool(app.conf.get("provgraph_lease_steps", False))

    @app.task(name=TASK, acks_late=True, ignore_result=True, **retry)
    def advance_process(pk: int) -> dict[str, Any] | None:
        """Advance process ``pk`` until it waits or ends; publish its children and the caller to wake.

        On a broker that does not redeliver a dead worker's message, the step is leased too.
        """
        if not lease_steps:
            return step_and_publish(int(pk))
        with Lease(int(pk)):
            return step_and_publish(int(pk))

    @app.task(name=LONG_TASK, acks_late=False, ignore_result=True, **retry)
    def advance_long_process(pk: int) -> dict[str, Any] | None:
        """As ``advance_process``, for a long step: acked on receipt, guarded by a renewed lease."""
        with Lease(int(pk)):
            return step_and_publish(int(pk))

    from provgraph.engine.celery.calcjob_tasks import register_calcjob_tasks  # CalcJob poll chain and wake-ups

    register_calcjob_tasks(app)


def step_and_publish(pk: int) -> dict[str, Any] | None:
    """Advance ``pk`` with the atomic committer, then publish children and the wake-up; the result as a dict."""
    try:
        result: StepResult = advance(pk, committer=AtomicCommitter(), mark_running=True)
    except (ProcessNotImportable, NotExistent) as exc:
        LOGGER.error("cannot advance process %s: %s", pk, exc)
        return None
    for child in result.children + _unstarted(result):
        publish(child)
    wake = result.wake if result.wake is not None else _waiting_caller(result)
    if wake is not None:
        publish(wake)
    LOGGER.info("process %s: %s -> %s (version %s)", pk, result.action.value, result.state.value,
                result.checkpoint_version)
    return result.to_dict()


def _unstarted(result: StepResult) -> tuple[int, ...]:
    """Awaited children still in ``created`` when a redelivered message finds the parent blocked.

    Their first message may have been lost between the parent's commit and the publish
    (e.g. a broker outage); sending another is harmless, the checkpoint guard drops duplicates.
    """
    if result.action is not StepAction.BLOCKED:
        return ()
    return tuple(pk for pk in result.awaiting if load_node(pk).process_state is ProcessState.CREATED)


def _waiting_caller(result: StepResult) -> int | None:
    """The caller still waiting on a process that had already ended when this message came.

    A worker killed between a child's final commit and the publish of the wake-up leaves
    the parent waiting; the redelivered message finds the child ended and wakes it now.
    """
    if result.action is not StepAction.ENDED:
        return None
    caller = load_node(result.pk).base.attributes.get("caller_pk", None)
    if caller is None:
        return None
    return caller if load_node(caller).process_state is ProcessState.WAITING else None


def is_long_running(pk: int) -> bool:
    """Whether the class of process ``pk`` declares ``long_running = True`` (False if it cannot be told)."""
    try:
        process_class = load_process_class(load_node(pk).process_type)
    except (ProcessNotImportable, NotExistent):
        return False
    return bool(getattr(process_class, "long_running", False))


def publish(pk: int, app: Celery | None = None) -> None:
    """Send an ``advance`` message for process ``pk`` (JSON) to the fleet's queue."""
    from provgraph.engine.celery.app import current_app, queue_name

    app = app or current_app()
    name = LONG_TASK if is_long_running(pk) else TASK
    # a step is committed before its messages go out: ride out a short broker outage
    # (up to about a minute) instead of failing and leaving the work to the reconciler
    app.send_task(name, args=[int(pk)], queue=queue_name(), serializer="json", retry=True,
                  retry_policy={"max_retries": 20, "interval_start": 0.5, "interval_step": 1, "interval_max": 5})


def install_submitter() -> None:
    """Make ``submit()`` and ``play()`` in this interpreter publish to the workers."""
    set_submitter(publish)


def lease_key(pk: int) -> str:
    """The coordination lease key of a worker stepping process ``pk``."""
    return f"{PROCESS_LEASE_PREFIX}{int(pk)}"


class Lease:
    """A renewed claim ``process:<pk>`` on a process while a worker steps it (``backend.coordination``).

    The reconciler re-publishes a running process whose lease expired (its worker died). The
    claim is forced: a redelivered long step takes the process over from a dead worker at once.
    """

    def __init__(self, pk: int, seconds: float | None = None) -> None:
        self.pk = pk
        self.key = lease_key(pk)
        self.seconds = float(os.environ.get("PROVGRAPH_LEASE_SECONDS", LEASE_SECONDS)) if seconds is None else seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"lease-{pk}")

    def renew(self) -> None:
        """Write (or extend) the lease."""
        get_backend().coordination.claim_lease(self.key, self.owner, self.seconds, force=True)

    def release(self) -> None:
        """Drop the lease (only if this worker still owns it)."""
        get_backend().coordination.release_lease(self.key, self.owner)

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception:  # keep beating: a missed renewal only risks a harmless duplicate
                LOGGER.exception("could not renew the lease of process %s", self.pk)

    def __enter__(self) -> Lease:
        self.renew()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.release()
