"""Caching of CalcJobs: a job whose hash matches a finished, valid one is not run.

Before its upload a CalcJob stores its hash (see :mod:`provgraph.orm.nodes.caching`); when
caching is on for its class (:mod:`provgraph.manage.caching`) and ``metadata.disable_cache`` is
not set, a stored node of the same type and hash that is a valid cache is looked for. If there is
one, its outputs are cloned (same attributes and files, new nodes created by this job), the job
ends with the source's exit status, and the extra ``_provgraph_cached_from`` names the source. No
transport is opened and nothing is submitted: the computer may be unreachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provgraph.common.links import LinkType
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.orm.nodes.caching import CACHED_FROM_KEY

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcjob import CalcJob
    from provgraph.engine.processes.process import Process
    from provgraph.engine.state import Outcome
    from provgraph.orm.nodes.node import Node

__all__ = ["clone_data", "clone_outputs_from", "finish_from_cache"]


def clone_data(source: Node) -> Node:
    """A new, unstored node of the same class with the same attributes, files and computer."""
    from provgraph.orm.nodes.node import Node

    clone = type(source).__new__(type(source))
    Node.__init__(clone, label=source.label, description=source.description)
    clone.base.attributes.set_many(source.base.attributes.all)
    clone._record.repository = dict(source._record.repository)
    clone._record.computer = source._record.computer
    return clone


def finish_from_cache(process: CalcJob) -> Outcome | None:
    """Store the job's hash; if a valid cache exists (and caching is on), end the job from it.

    :return: the outcome of the finished job, or None when it must run
    """
    node = process.node
    caching = node.base.caching
    value = caching.rehash()
    if node.base.attributes.get("disable_cache", False) or not caching.should_use_cache():
        return None
    source: Any = caching.get_same_node(value)
    if source is None:
        return None
    clone_outputs_from(process, source)
    status = source.exit_status or 0
    return process.finish_with(ExitCode(status, source.exit_message) if status else None)


def clone_outputs_from(process: Process, source: Any) -> None:
    """Attach clones of ``source``'s created outputs to ``process`` and record ``source`` as its cache source."""
    for triple in source.base.links.get_outgoing(link_type=LinkType.CREATE):
        process.out(triple.link_label, clone_data(triple.node))
    process.node.base.extras.set(CACHED_FROM_KEY, source.uuid)
    process.report(f"not run: its outputs were cloned from the cached {source.process_label}"
                   f"<{source.pk}> with the same hash")
