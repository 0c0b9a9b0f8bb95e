"""The atomic committer the workers use: one storage transaction per step.

:class:`AtomicCommitter` implements :class:`provgraph.engine.unit.Committer` on top of
:meth:`provgraph.storage.base.ProcessCoordination.commit_guarded` (``backend.coordination``):
the process node is locked, its ``checkpoint_version`` checked against the version the step
started from, and the step's new nodes, links, process attributes and log records are written
together in the same transaction. A duplicated or redelivered task therefore finds the version
moved on, gets :class:`~provgraph.engine.exceptions.StaleCheckpoint`, and writes nothing.
Every backend the workers run on provides the coordination (neo4j, sqlite); one that does not
raises :class:`~provgraph.exceptions.StorageError` rather than committing unguarded.

:func:`set_paused` (used by ``provgraph process pause|play`` and :mod:`provgraph.engine.control`)
writes the ``paused`` flag through the same guarded merge, so it cannot roll back a checkpoint
that a worker commits meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provgraph.common.json import clean_value
from provgraph.common.links import LinkRecord, LinkType
from provgraph.engine.exceptions import StaleCheckpoint
from provgraph.engine.unit import UnitOfWork
from provgraph.exceptions import StoringError
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.links import validate_link_label
from provgraph.orm.nodes.node import Node
from provgraph.storage.entities import LogRecord


class AtomicCommitter:
    """Commit a unit of work in one guarded database transaction (see the module docstring)."""

    def commit(self, work: UnitOfWork, guards: Mapping[int, int]) -> dict[int, dict[str, Any]]:
        """Write ``work`` if every guarded process is still at its expected checkpoint version.

        :return: the attributes of the guarded process nodes after the commit
        :raises StaleCheckpoint: when a guarded version moved or the process is sealed (nothing is written)
        :raises LinkRuleError: when a link breaks a provenance rule (nothing is written)
        """
        coordination = get_backend().coordination
        nodes = list(work.nodes.values())
        for node in nodes:
            node._validate()
        index = {node.uuid: position for position, node in enumerate(nodes)}
        links = [_link(index, source, target, link_type, label) for source, target, link_type, label in work.links]
        updates = {node.pk: clean_value(dict(values), kind="attribute") for node, values in work.updates.values()}
        logs = [LogRecord(node_pk=_end(index, log.node), message=log.message, levelname=log.levelname,
                          loggername=log.loggername) for log in work.logs]
        fresh = coordination.commit_guarded(dict(guards), [node._record for node in nodes], links, updates, logs)
        if fresh is None:
            raise StaleCheckpoint(f"process(es) {sorted(guards)} moved on: the step's writes were dropped")
        return fresh


def _end(index: dict[str, int], node: Node) -> int:
    if node.is_stored:
        return node.pk
    if node.uuid not in index:
        raise StoringError(f"{node!r} is neither stored nor part of the step's unit of work")
    return -(index[node.uuid] + 1)


def _link(index: dict[str, int], source: Node, target: Node, link_type: LinkType | str, label: str) -> LinkRecord:
    return LinkRecord(_end(index, source), _end(index, target), LinkType(link_type), validate_link_label(label))


def set_paused(pk: int, paused: bool, attempts: int = 10) -> bool:
    """Pause (or play) process ``pk`` with a guarded merge of the one ``paused`` attribute; return whether it changed.

    The same as :func:`provgraph.engine.control.set_paused` (kept here for the CLI's imports).

    :raises StaleCheckpoint: when the process kept moving on for ``attempts`` tries
    """
    from provgraph.engine import control

    return control.set_paused(pk, paused, attempts)
