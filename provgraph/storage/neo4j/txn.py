"""One explicit Neo4j transaction per thread, shared by every collection of a backend.

``with provgraph.transaction():`` (AiiDA's ``storage.transaction()``) opens it; while it is
open, node and link writes, node reads, QueryBuilder queries and entity writes of the same
thread run inside it, so many ``store()`` calls share one commit and see each other's
writes. Nesting and failures: see :class:`provgraph.storage.base.TransactionScope`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from provgraph.storage.base import TransactionScope
from provgraph.storage.neo4j.driver import translate_errors

if TYPE_CHECKING:
    import neo4j


#: node rows queued by :meth:`Neo4jTransactions.defer` before they are sent
FLUSH_ROWS = 2000


class Neo4jTransactions(TransactionScope):
    """The open transaction (if any) of each thread on one Neo4j database."""

    def __init__(self, driver: neo4j.Driver, database: str, uri: str) -> None:
        super().__init__()
        self._driver, self._database, self._uri = driver, database, uri

    @contextmanager
    def _open(self) -> Iterator[Any]:
        import neo4j

        with translate_errors(self._uri), self._driver.session(
            database=self._database, default_access_mode=neo4j.WRITE_ACCESS
        ) as session:
            tx = session.begin_transaction()
            self._local.pending, self._local.deferred = {}, 0
            try:
                yield tx
            except BaseException:
                if tx.closed() is False:
                    tx.rollback()
                raise
            else:
                self._flush(tx)
                tx.commit()
            finally:
                self._local.pending, self._local.deferred = {}, 0
                if not tx.closed():
                    tx.close()

    def defer(self, tree: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        """Queue the creation of nodes (no links) in the open transaction, sent in batches.

        Inside ``transaction()`` a ``store()`` without links need not wait for the server: its
        rows join one ``UNWIND`` per class tree, sent when :data:`FLUSH_ROWS` rows are queued,
        before any other statement of the transaction (so reads and link checks see the
        nodes) and before the commit. A failure when they are sent dooms the transaction.
        """
        self._local.pending.setdefault(tree, []).extend(rows)
        self._local.deferred += len(rows)
        if self._local.deferred >= FLUSH_ROWS:
            with translate_errors(self._uri), self.joined():
                pass

    @contextmanager
    def joined(self, write: bool = True) -> Iterator[Any]:
        """The open transaction for one unit of work, the queued node creations sent first."""
        if getattr(self._local, "deferred", 0):
            with super().joined() as tx:
                self._flush(tx)
        with super().joined(write) as tx:
            yield tx

    def _flush(self, tx: Any) -> None:
        from provgraph.storage.neo4j.nodes import _create_nodes

        pending = self._local.pending
        if pending:
            self._local.pending, self._local.deferred = {}, 0
            _create_nodes(tx, pending)

    def write(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run ``work(tx, *args)`` in the open transaction, else in a retried write transaction of its own."""
        if self.current is not None:
            with translate_errors(self._uri), self.joined() as current:
                return work(current, *args)
        with translate_errors(self._uri), self._driver.session(database=self._database) as session:
            return session.execute_write(work, *args)

    def read(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run ``work(tx, *args)`` in the open transaction (seeing its writes), else in a read transaction."""
        if self.current is not None:
            with translate_errors(self._uri), self.joined(write=False) as current:
                return work(current, *args)
        import neo4j

        with translate_errors(self._uri), self._driver.session(
            database=self._database, default_access_mode=neo4j.READ_ACCESS
        ) as session:
            return session.execute_read(work, *args)
