"""The unit of work of one step, and the execution frame of the running process.

Everything a step does to the graph is **buffered** in a :class:`UnitOfWork`: the nodes
it creates (outputs, child process nodes, their wrapped inputs), the links between
them and to stored nodes, the bookkeeping attributes of stored process nodes (state,
checkpoint, version) and the log records of ``report()``. A :class:`Committer` then
writes the unit in one go, guarded by the checkpoint version of the process it stepped:
if another step (a duplicated task) or a kill moved that process on first, it raises
:class:`StaleCheckpoint` and writes nothing. So a step changes the graph once or not
at all, whoever runs it.

:class:`OrmCommitter` (the in-process default) uses the ORM's public calls: the version
check, the graph (one transaction), the process attributes, then the logs. It is not
one database transaction; the Celery adapter plugs in a committer that does the same
inside one transaction with the version check in its ``WHERE`` clause.

Inline calls (a calcfunction called inside a step) join the unit of their caller, so a
WorkChain step that calls ten calcfunctions commits them together with its checkpoint.
Consequence: nodes created during a step get their pk when the step commits (their
uuid is known at once). One exception, for AiiDA compatibility: a process function stores
its unstored input *data* nodes before its body runs (:meth:`UnitOfWork.store_early`), so
the body sees their pks; links and process nodes still wait for the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from provgraph.common.links import LinkType
from provgraph.engine.exceptions import StaleCheckpoint
from provgraph.exceptions import LinkRuleError
from provgraph.orm.backend import get_backend
from provgraph.orm.bulk import store_graph
from provgraph.orm.nodes.node import Node
from provgraph.storage.entities import LogRecord

if TYPE_CHECKING:
    from provgraph.engine.processes.process import Process


@dataclass
class PendingLog:
    """A log record waiting for its node's pk."""

    node: Node
    levelname: str
    message: str
    loggername: str


@dataclass
class UnitOfWork:
    """The buffered writes of one step (see the module docstring)."""

    nodes: dict[str, Node] = field(default_factory=dict)
    links: list[tuple[Node, Node, LinkType, str]] = field(default_factory=list)
    updates: dict[str, tuple[Node, dict[str, Any]]] = field(default_factory=dict)
    logs: list[PendingLog] = field(default_factory=list)
    #: child processes created in this unit that still have to run (live instances), by node uuid
    launched: dict[str, Process] = field(default_factory=dict)
    #: uuids of data nodes that a CREATE link of this unit makes (they may then be returned)
    created: set[str] = field(default_factory=set)

    def add(self, node: Node) -> None:
        """Store ``node`` with the unit (stored nodes are ignored)."""
        if not node.is_stored:
            self.nodes.setdefault(node.uuid, node)

    def link(self, source: Node, target: Node, link_type: LinkType, label: str) -> None:
        """Add a link; unstored ends are stored with the unit.

        :raises LinkRuleError: for a RETURN of data that is neither stored nor created in this unit
        """
        if link_type is LinkType.RETURN and not target.is_stored and target.uuid not in self.created:
            raise LinkRuleError(
                f"workflows only return data that exists: {target!r} is neither stored nor created by a "
                "calculation; create it with a calcfunction (or store it first)"
            )
        if link_type is LinkType.CREATE:
            self.created.add(target.uuid)
        self.add(source)
        self.add(target)
        self.links.append((source, target, link_type, label))

    def update(self, node: Node, values: Mapping[str, Any]) -> None:
        """Set bookkeeping attributes of a process node when the unit commits."""
        if not node.is_stored:
            node.base.attributes.set_many(dict(values))
            return
        _, pending = self.updates.setdefault(node.uuid, (node, {}))
        pending.update(values)

    def log(self, node: Node, levelname: str, message: str, loggername: str) -> None:
        """Add a log record of ``node``."""
        self.logs.append(PendingLog(node, levelname, message, loggername))

    def find(self, uuid: str) -> Node | None:
        """A node of this unit by uuid (the live object), or None."""
        return self.nodes.get(uuid)

    def store_early(self, nodes: list[Node]) -> None:
        """Store these unstored data nodes at once (one transaction), ahead of the commit.

        A process function calls this for its inputs so that its body sees their pks, as in AiiDA.
        Only the data nodes are written early: links and process nodes stay buffered, so a step
        dropped as stale leaves at most unlinked data behind. Links to them are written by the
        commit as links to stored nodes.

        :raises StoringError: when a node is invalid (nothing is written)
        """
        pending = list({node.uuid: node for node in nodes if not node.is_stored}.values())
        if pending:
            store_graph(pending, [])
            for node in pending:
                self.nodes.pop(node.uuid, None)

    def absorb(self, other: UnitOfWork) -> None:
        """Take over everything of ``other`` (a nested unit joining its caller's)."""
        for node in other.nodes.values():
            self.add(node)
        self.links += other.links
        for node, values in other.updates.values():
            self.update(node, values)
        self.logs += other.logs
        self.launched.update(other.launched)
        self.created |= other.created


class Committer(Protocol):
    """Writes a unit of work; the Celery adapter supplies a transactional one."""

    def commit(self, work: UnitOfWork, guards: Mapping[int, int]) -> dict[int, dict[str, Any]]:
        """Write ``work`` if every guarded process (pk -> expected checkpoint_version) is still there.

        :return: the attributes of the guarded process nodes after the commit
        :raises StaleCheckpoint: when a guarded version moved (nothing is written)
        :raises LinkRuleError: when a link breaks a provenance rule (nothing of the graph is written)
        """


class OrmCommitter:
    """Commit through the ORM in the current interpreter (see the module docstring)."""

    def commit(self, work: UnitOfWork, guards: Mapping[int, int]) -> dict[int, dict[str, Any]]:
        """Check the guards, store the graph, update the processes, add the logs.

        The updates are applied to freshly loaded nodes, so attributes set meanwhile by others
        (``paused``) are kept; the caller's node objects are not refreshed.
        """
        from provgraph.orm.utils import load_node

        fresh = {pk: load_node(pk) for pk in guards}
        for pk, expected in guards.items():
            found = fresh[pk].base.attributes.get("checkpoint_version", 0)
            if found != expected or fresh[pk].base.attributes.get("sealed", False):
                raise StaleCheckpoint(f"process {pk} is at checkpoint version {found}, the step started at {expected}")
        if work.nodes or work.links:
            self._store_graph(work)
        for node, values in work.updates.values():
            fresh.get(node.pk, node).base.attributes.set_many(values)
        self._write_logs(work)
        return {pk: node.base.attributes.all for pk, node in fresh.items()}

    @staticmethod
    def _store_graph(work: UnitOfWork) -> None:
        nodes = list(work.nodes.values())
        index = {node.uuid: position for position, node in enumerate(nodes)}

        def end(node: Node) -> int | Node:
            return node if node.is_stored else index[node.uuid]

        store_graph(nodes, [(end(s), end(t), link_type, label) for s, t, link_type, label in work.links])

    @staticmethod
    def _write_logs(work: UnitOfWork) -> None:
        if work.logs:
            get_backend().logs.add_many([
                LogRecord(node_pk=log.node.pk, message=log.message, levelname=log.levelname,
                          loggername=log.loggername)
                for log in work.logs
            ])


@dataclass
class Frame:
    """Where code runs: the unit of work it writes to, the process it runs for, and the runner's classes.

    :param classes: process classes known to the in-process runner by ``process_type``
        (so ``run()`` also works for classes a worker could not import); None on a worker
    """

    work: UnitOfWork
    process: Process | None = None
    classes: dict[str, type] | None = None


#: the frame of the code running in this context (a ContextVar: one per thread and task,
#: like the profile); this is the engine's only module-level state besides the submitter hook
_FRAME: ContextVar[Frame | None] = ContextVar("provgraph_engine_frame", default=None)


def current_frame() -> Frame | None:
    """The frame of the running process step, or None outside any process."""
    return _FRAME.get()


@contextmanager
def entered(frame: Frame) -> Iterator[Frame]:
    """Run the block inside ``frame``."""
    token = _FRAME.set(frame)
    try:
        yield frame
    finally:
        _FRAME.reset(token)
