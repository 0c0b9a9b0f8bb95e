"""The storage backend interface every backend (neo4j, sqlite) implements.

The front-end ORM talks only to these classes; it never sees Cypher or SQL.
Records are plain dataclasses travelling between the two layers.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provgraph.common.links import Direction, LinkRecord, LinkTriple, LinkType, TraversalRule
from provgraph.query.ir import Query
from provgraph.storage.entities import (
    CommentCollection,
    ComputerCollection,
    GroupCollection,
    LogCollection,
    LogRecord,
    UserCollection,
)


@dataclass
class NodeRecord:
    """One node as the backend stores it.

    :param labels: the class tree, root first, e.g. ``("Node", "Data", "Int")``
    :param node_type: the dotted type string plugins use, e.g. ``"data.core.int"``
    :param repository: the node's virtual file tree ``{path: object key}``
    """

    uuid: str
    node_type: str
    labels: tuple[str, ...]
    ctime: datetime
    mtime: datetime
    user: str
    label: str = ""
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    repository: dict[str, str] = field(default_factory=dict)
    hash: str | None = None
    computer: str | None = None
    pk: int | None = None


@dataclass(frozen=True)
class StorageInfo:
    """What ``provgraph storage info`` prints about a backend."""

    backend: str
    location: str
    schema_version: int
    code_schema_version: int
    nodes_by_type: dict[str, int]
    links_by_type: dict[str, int]
    repository_keys: int


class NodeCollection(ABC):
    """Nodes and links of one backend."""

    @abstractmethod
    def store(self, nodes: Sequence[NodeRecord], links: Sequence[LinkRecord] = ()) -> list[int]:
        """Store new nodes and links in one transaction; return the nodes' new pks, in order.

        A link may name a new node by ``-(index + 1)`` (its position in ``nodes``) instead of a pk.

        :raises LinkRuleError: when a link breaks a rule of ``provgraph.common.links`` (nothing is written)
        :raises StoringError: when a node cannot be stored (nothing is written)
        """

    @abstractmethod
    def get(self, *, pk: int | None = None, uuid: str | None = None) -> NodeRecord:
        """Return one node by pk, full uuid or unique uuid prefix.

        :raises NotExistent: when no node matches
        :raises MultipleObjectsError: when a uuid prefix matches several nodes
        """

    @abstractmethod
    def update(self, pk: int, **fields: Any) -> None:
        """Replace mutable fields of a stored node (extras, label, description, process attributes).

        ``mtime`` is set to now unless given: every change moves it, which is what
        :meth:`get_if_changed` relies on.

        :raises NotExistent: when the node does not exist
        """

    def get_if_changed(self, pk: int, mtime: datetime) -> NodeRecord | None:
        """Return node ``pk``'s record if its stored ``mtime`` differs from ``mtime``, else None.

        The cheap version check of stored ORM nodes (see :mod:`provgraph.orm.nodes.node`):
        backends override it to compare the one ``mtime`` field before reading the whole record.

        :raises NotExistent: when the node does not exist (any more)
        """
        record = self.get(pk=pk)
        return None if record.mtime == mtime else record

    @abstractmethod
    def add_links(self, links: Sequence[LinkRecord]) -> None:
        """Add links between stored nodes in one transaction.

        :raises LinkRuleError: when a link breaks a rule (nothing is written)
        :raises NotExistent: when an endpoint does not exist
        """

    @abstractmethod
    def links(self, pk: int, direction: Direction, link_types: Sequence[LinkType] = (),
              labels: Sequence[str] = ()) -> list[LinkTriple]:
        """Return the links of node ``pk`` in ``direction`` (forward = outgoing), optionally filtered."""

    @abstractmethod
    def traverse(self, pks: Sequence[int], rules: Sequence[TraversalRule]) -> set[int]:
        """Return ``pks`` plus every node reached by following ``rules`` repeatedly."""

    @abstractmethod
    def delete(self, pks: Sequence[int]) -> None:
        """Delete the nodes and every link touching them, in one transaction."""

    @abstractmethod
    def iter_repository_keys(self) -> Iterator[str]:
        """Yield every object key referenced by any node's file tree."""


class QueryRunner(ABC):
    """Compiles and runs the QueryBuilder's intermediate representation on one backend."""

    @abstractmethod
    def compile(self, query: Query) -> tuple[str, dict[str, Any]]:
        """Return the backend's query text and parameters for ``query``.

        :raises QueryError: when the query cannot be expressed
        """

    @abstractmethod
    def iterate(self, query: Query, batch_size: int = 1000) -> Iterator[list[Any]]:
        """Yield result rows, streaming ``batch_size`` at a time; ``*`` columns are records.

        :raises QueryError: when the query is invalid
        """

    @abstractmethod
    def count(self, query: Query) -> int:
        """Return the number of rows, ignoring limit and offset."""


@dataclass(frozen=True)
class LeaseRecord:
    """A claim on a shared resource by one worker until ``expires`` (Unix time, seconds)."""

    key: str
    owner: str
    expires: float


class ProcessCoordination(ABC):
    """What the worker fleet needs from a storage besides nodes: guarded step commits and leases.

    Lease keys are strings chosen by the engine, e.g. ``process:<pk>`` (a worker is stepping
    the process) or ``computer:<pk>:poll`` (the one worker polling that computer's scheduler).
    Lease times use the database's notion of "now" where it has one, so workers with skewed
    clocks still agree.
    """

    @abstractmethod
    def commit_guarded(self, guards: Mapping[int, int], nodes: Sequence[NodeRecord], links: Sequence[LinkRecord],
                       updates: Mapping[int, dict[str, Any]], logs: Sequence[LogRecord]) -> dict[int, dict] | None:
        """Write one process step in ONE transaction, guarded by checkpoint versions.

        The transaction first locks every guarded or updated node and checks that each guarded
        node's ``checkpoint_version`` attribute (0 when absent) equals ``guards[pk]`` and that it
        is not sealed. Then it creates ``nodes`` and ``links`` (an end ``-(i + 1)`` is ``nodes[i]``,
        as in ``nodes.store``; link rules are checked), merges ``updates`` (pk -> attribute values,
        already JSON-clean) into the stored attributes (setting ``mtime``) and creates ``logs``
        (their ``node_pk`` may be a ``-(i + 1)`` reference too). Records get their pks only on success.

        :return: the attributes of the guarded nodes after the commit, or None when a guard failed
            (then nothing was written)
        :raises LinkRuleError: when a link breaks a provenance rule (nothing is written)
        """

    @abstractmethod
    def claim_lease(self, key: str, owner: str, seconds: float, force: bool = False) -> bool:
        """Take or extend lease ``key`` for ``owner`` until now + ``seconds``; return whether ``owner`` holds it.

        The lease is taken when it is free, expired or already ``owner``'s; with ``force`` it is
        taken whoever holds it.
        """

    @abstractmethod
    def release_lease(self, key: str, owner: str) -> None:
        """Drop lease ``key`` if ``owner`` still holds it."""

    @abstractmethod
    def leases(self, prefix: str = "", expired_only: bool = False) -> list[LeaseRecord]:
        """Return the leases whose key starts with ``prefix`` (only the expired ones if asked)."""

    @abstractmethod
    def drop_leases(self, keys: Sequence[str]) -> None:
        """Delete the leases ``keys`` whoever holds them (cleanup of ended work)."""


class TransactionScope:
    """The transaction a backend's ``transaction()`` opened, per thread (both backends share this logic).

    A subclass gives :meth:`_open`: a context manager yielding the backend's transaction handle
    (a Neo4j transaction, a SQLAlchemy connection), committing when its block ends normally and
    rolling back when it raises. While the outermost ``transaction()`` block runs, :attr:`current`
    is that handle for the thread that opened it; the collections run their work in it. A nested
    ``transaction()`` joins the outer one (Neo4j has no savepoints, and both backends behave
    alike): an exception leaving it, or a write failing inside the transaction (a broken link
    rule...), dooms the whole transaction, which is then rolled back when the outermost block
    ends, raising :class:`~provgraph.exceptions.StorageError` if the block swallowed the
    exception. Nothing half-written is ever committed. On rollback the callbacks given to
    :meth:`on_rollback` run (newest first), e.g. to take back the pks of nodes stored inside.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def current(self) -> Any:
        """The open transaction handle of this thread, or None."""
        return getattr(self._local, "handle", None)

    def on_rollback(self, undo: Callable[[], None]) -> bool:
        """Run ``undo`` if this thread's open transaction rolls back; return False (doing nothing) if none is open."""
        if self.current is None:
            return False
        self._local.undo.append(undo)
        return True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: committed when it ends, rolled back (nothing written) if it raises."""
        from provgraph.exceptions import StorageError

        local = self._local
        if self.current is not None:
            try:
                yield
            except BaseException:
                local.doomed = True
                raise
            return
        local.undo, local.doomed = [], False
        try:
            with self._open() as handle:
                local.handle = handle
                try:
                    yield
                finally:
                    local.handle = None
                if local.doomed:
                    raise StorageError("the transaction was rolled back: an exception left a nested transaction block")
        except BaseException:
            for undo in reversed(local.undo):
                undo()
            raise
        finally:
            local.handle, local.undo = None, []

    def doom(self) -> None:
        """Mark this thread's open transaction as failed: it will be rolled back."""
        self._local.doomed = True

    @contextmanager
    def joined(self, write: bool = True) -> Iterator[Any]:
        """Yield the open transaction handle for one unit of work; a failing ``write`` unit dooms the transaction."""
        try:
            yield self.current
        except GeneratorExit:  # a reader stopped early: nothing failed
            raise
        except BaseException:
            if write:
                self.doom()
            raise

    def _open(self) -> AbstractContextManager[Any]:
        raise NotImplementedError


class StorageBackend(ABC):
    """One storage: a graph of nodes and links, plus its entity collections."""

    #: name of the backend (entry point in ``provgraph.storage``)
    name: str

    @property
    @abstractmethod
    def nodes(self) -> NodeCollection:
        """The node and link collection."""

    @property
    @abstractmethod
    def queries(self) -> QueryRunner:
        """Runs QueryBuilder queries (compiled by this backend)."""

    @property
    @abstractmethod
    def users(self) -> UserCollection:
        """The users."""

    @property
    @abstractmethod
    def computers(self) -> ComputerCollection:
        """The computers (and their per-user transport settings)."""

    @property
    @abstractmethod
    def groups(self) -> GroupCollection:
        """The groups of nodes."""

    @property
    @abstractmethod
    def comments(self) -> CommentCollection:
        """The comments on nodes."""

    @property
    @abstractmethod
    def logs(self) -> LogCollection:
        """The log records of processes."""

    @property
    def coordination(self) -> ProcessCoordination:
        """Guarded step commits and leases for the worker fleet.

        :raises StorageError: when this backend cannot coordinate workers
        """
        from provgraph.exceptions import StorageError

        raise StorageError(f"the {self.name} storage backend cannot coordinate workers")

    def transaction(self) -> AbstractContextManager[None]:
        """Run a block in one transaction (AiiDA's ``storage.transaction()``): commit at its end, nothing on error.

        Node and link stores and updates, node reads and queries of the calling thread inside the
        block see each other and are committed together; see :class:`TransactionScope` for nesting.

        :raises StorageError: when this backend has no transactions
        """
        from provgraph.exceptions import StorageError

        raise StorageError(f"the {self.name} storage backend has no transactions")

    @abstractmethod
    def migrate(self) -> list[str]:
        """Bring the schema up to the code's version; return the migrations applied.

        :raises StorageMigrationError: when the storage's schema is newer than the code
        """

    @abstractmethod
    def info(self) -> StorageInfo:
        """Return schema version and counts."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
