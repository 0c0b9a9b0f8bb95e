"""Killing a CalcJob cancels its scheduler job (called by :func:`provgraph.engine.control.kill`).

The job is cancelled before the process is marked killed. A failure to reach the computer
does not stop the kill: it is reported on the node (``provgraph process report``) so the
user can cancel the job by hand. A job submitted by a step that runs at the very moment of the
kill cannot be seen here (that step's commit is then refused as stale, its job id unrecorded);
its working directory's ``.provgraph_submit`` folder still names it.
"""

from __future__ import annotations

import logging

from provgraph.exceptions import ProvgraphError
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.process.process import CalcJobNode, ProcessNode
from provgraph.storage.entities import LogRecord

__all__ = ["cancel_job"]

LOGGER = logging.getLogger(__name__)


def cancel_job(node: ProcessNode) -> bool | None:
    """Cancel the scheduler job of a CalcJob that has not ended; None when there is no job to cancel.

    :return: True when the scheduler accepted the kill, False when the job had already ended
    """
    attributes = node.base.attributes
    job_id = attributes.get("job_id", None)
    if not isinstance(node, CalcJobNode) or node.process_state.is_terminal or not job_id \
            or attributes.get("scheduler_state", None) == "done":
        return None
    from provgraph.engine.processes.calcjobs.connections import open_transport
    from provgraph.orm.computers import Computer
    from provgraph.tools.computers import scheduler_for

    try:
        computer = Computer.get(label=node._record.computer)
        cancelled = scheduler_for(computer).kill(open_transport(computer, node.user), str(job_id))
        message = f"cancelled scheduler job {job_id}" if cancelled else f"scheduler job {job_id} had already ended"
    except ProvgraphError as exc:
        cancelled = None
        message = f"could not cancel scheduler job {job_id}: {type(exc).__name__}: {exc}; cancel it by hand"
    LOGGER.info("process %s: %s", node.pk, message)
    get_backend().logs.add_many([LogRecord(node.pk, message, "REPORT", "provgraph.engine.CalcJob")])
    return cancelled
