"""One batched scheduler status query per computer for all its active jobs, across the fleet.

:func:`poll_computer` first claims the fleet-wide lease ``computer:<label>:<user>:poll`` for the
poll interval, with a fresh owner and without releasing it afterwards: so the scheduler of a
computer is asked at most once per interval, whichever worker or interpreter asks. Holding it,
it finds every CalcJob of that computer and user waiting for its scheduler job (a QueryBuilder
query), asks the scheduler about all their job ids in ONE command, and records each changed
state on its node (``scheduler_state``, ``scheduler_lastchecktime``) with a locked attribute
merge guarded by the checkpoint version (it does not move the version, so it never invalidates
a step). The callers decide what to do with the states: the Celery poll task wakes the
processes whose job is done; an in-process ``run()`` waits for its own.

The poll interval of a computer is its ``minimum_job_poll_interval`` metadata, else
``$PROVGRAPH_CALCJOB_POLL_INTERVAL``, else 10 seconds.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from provgraph.common.states import ProcessState
from provgraph.engine.processes.calcjobs.connections import claim, open_transport, owner, record
from provgraph.exceptions import StorageError
from provgraph.orm.backend import get_backend
from provgraph.orm.computers import Computer
from provgraph.schedulers.datastructures import JobState

__all__ = ["ActiveJob", "active_jobs", "merge_attributes", "poll_computer", "poll_interval"]

POLL_ENV = "PROVGRAPH_CALCJOB_POLL_INTERVAL"
DEFAULT_POLL_INTERVAL = 10.0
LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveJob:
    """A CalcJob waiting for its scheduler job."""

    pk: int
    job_id: str
    version: int
    scheduler_state: str | None


def poll_interval(computer: Computer) -> float:
    """Seconds between two status queries of ``computer`` (see the module docstring)."""
    value = (computer.metadata or {}).get("minimum_job_poll_interval")
    if value is None:
        value = os.environ.get(POLL_ENV, DEFAULT_POLL_INTERVAL)
    return max(float(value), 0.05)


def active_jobs(computer_label: str, user: str) -> list[ActiveJob]:
    """The CalcJobs on ``computer_label`` of ``user`` whose submitted job was not seen done yet."""
    from provgraph.orm.nodes.process.process import CalcJobNode
    from provgraph.orm.querybuilder import QueryBuilder

    query = QueryBuilder().append(
        CalcJobNode, filters={"computer": computer_label, "user": user,
                              "attributes.process_state": ProcessState.WAITING.value},
        project=["pk", "attributes.job_id", "attributes.checkpoint_version", "attributes.scheduler_state"])
    return [ActiveJob(pk, str(job_id), int(version or 0), state) for pk, job_id, version, state in query.all()
            if job_id is not None and state != JobState.DONE.value]


def merge_attributes(pk: int, version: int, values: dict, attempts: int = 3) -> bool:
    """Merge bookkeeping ``values`` into process ``pk`` if it is still at checkpoint ``version``.

    On a version mismatch the current version is read and the merge tried again (the values are
    facts about the scheduler job, true whatever the step did meanwhile); False when it ended.
    """
    from provgraph.orm.utils import load_node

    coordination = get_backend().coordination
    for _ in range(attempts):
        if coordination.commit_guarded({pk: version}, [], [], {pk: values}, []) is not None:
            return True
        node = load_node(pk)
        if node.process_state.is_terminal:
            return False
        version = node.base.attributes.get("checkpoint_version", 0)
    return False


def poll_computer(computer: Computer, user: str, interval: float | None = None,
                  on_done: Callable[[int], None] | None = None) -> dict[int, str] | None:
    """Ask the scheduler of ``computer`` about all active jobs of ``user`` at once (see the module docstring).

    :param on_done: called with the pk of every CalcJob whose job is done
    :return: the job state of each active CalcJob by pk, or None when another poll ran less
        than ``interval`` ago (the lease was held)
    :raises TransportError: when the computer cannot be reached
    :raises SchedulerError: when the status query fails
    """
    from provgraph.tools.computers import scheduler_for

    interval = poll_interval(computer) if interval is None else interval
    if not claim(f"computer:{computer.label}:{user}:poll", interval, f"{owner()}:{uuid.uuid4().hex[:6]}"):
        return None
    jobs = active_jobs(computer.label, user)
    if not jobs:
        return {}
    transport = open_transport(computer, user)
    infos = scheduler_for(computer).get_jobs(transport, sorted({job.job_id for job in jobs}))
    record("poll", computer.label)
    record("polled_jobs", computer.label, len(jobs))
    now = datetime.now(timezone.utc).isoformat()
    states: dict[int, str] = {}
    for job in jobs:
        info = infos.get(job.job_id)
        state = info.job_state.value if info is not None else JobState.DONE.value
        states[job.pk] = state
        if state != job.scheduler_state:
            try:
                merge_attributes(job.pk, job.version, {"scheduler_state": state, "scheduler_lastchecktime": now})
            except StorageError:  # the state is recorded at the next poll
                LOGGER.exception("could not record the scheduler state of process %s", job.pk)
        if state == JobState.DONE.value and on_done is not None:
            on_done(job.pk)
    return states
