"""Import: merge an archive into the current profile, whatever its backend.

Everything is written through the backend-neutral interfaces (``nodes.store`` with links
naming new nodes by ``-(i + 1)``, the entity collections, the repository), so a neo4j and
an sqlite profile import alike. The rules:

- nodes are matched by uuid: a node already stored is never changed (only its extras, per
  ``extras_policy``), a new one is stored with a new pk; links are added when at least one
  end is new to the profile (the stored provenance of nodes already there is left as it is);
- groups are matched by uuid (a new group whose label is taken gets a suffix), and gain the
  archive's members; comments and logs are matched by uuid; users by email; computers by uuid,
  then by label;
- importing the same archive twice adds nothing the second time.

The archive's structure is checked first (zip, metadata, database integrity and references,
objects; see :class:`OpenedArchive`), so a broken archive is refused before anything is written;
its rows are parsed and checked as they are imported. If writing fails midway (a malformed
row, a link that would break a rule against what the profile holds), what was written is
undone and :class:`ArchiveError` is raised: an import is all or nothing (users it created are
kept, being harmless; repository objects it stored stay unreferenced until
``provgraph storage maintain``). SIGTERM and SIGHUP count as such a failure: while an import runs
in the main thread they raise :class:`ImportInterrupted`, what was written is undone (further
signals are ignored until the undo is done) and the previous handlers come back. A SIGKILL or a
power loss cannot be caught: the batches committed before it stay, and importing the same
archive again completes the import (nodes merge by uuid).

Every node's file tree is checked before its files are copied: paths must be normalised, relative,
without ``..`` (``../x`` or ``/abs/x`` are refused), and no file may also be a folder.

Streaming: nodes are read from the archive in pk order, a batch at a time; the map from
archive pks to profile pks lives in a table of the scratch copy of the archive's database,
so memory does not grow with the archive.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from provgraph.archive import rows
from provgraph.archive.database import translated
from provgraph.archive.format import DEFAULT_LIMITS, Limits
from provgraph.archive.journal import Journal
from provgraph.archive.progress import SILENT, Progress
from provgraph.archive.source import OpenedArchive
from provgraph.common.links import LinkRecord
from provgraph.exceptions import ArchiveError, MultipleObjectsError, NotExistent, ProvgraphError, ValidationError
from provgraph.orm.backend import get_backend, get_repository
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.repository import check_tree
from provgraph.orm.querybuilder import QueryBuilder
from provgraph.storage.base import StorageBackend
from provgraph.storage.sqlite import schema

BATCH = 2000
#: repository writes in flight at once while copying files
COPY_THREADS = 8

#: errors a bad row of an archive can provoke, in the backend (a value it refuses) or when reading the
#: archive's database (e.g. text that is not UTF-8): reported as ArchiveError
_REFUSALS = (ProvgraphError, ValueError, TypeError, UnicodeError, OverflowError, SQLAlchemyError, sqlite3.Error)

#: what happens to the extras of a node that is already stored
EXTRAS_POLICIES = {
    "keep": "leave the stored extras as they are",
    "merge": "add the archive's keys the stored extras lack (stored values win)",
    "overwrite": "add the archive's keys, its values replacing stored ones (other stored keys kept)",
    "mirror": "replace the stored extras by the archive's",
}


#: signals that interrupt an import cleanly (undone) when it runs in the main thread
INTERRUPTING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class ImportInterrupted(ArchiveError):
    """A signal stopped the import; what it had written was undone.

    :ivar signum: the signal number
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"the import was interrupted by {signal.Signals(signum).name}; what it had written "
                         "was undone, nothing was imported")
        self.signum = signum


@dataclass
class ImportReport:
    """What an import added to the profile (all zero for an archive imported before)."""

    nodes_new: int = 0
    nodes_existing: int = 0
    links_new: int = 0
    groups_new: int = 0
    group_members_new: int = 0
    comments_new: int = 0
    logs_new: int = 0
    extras_updated: int = 0
    objects_new: int = 0
    computers_new: int = 0
    renamed_groups: dict[str, str] = field(default_factory=dict)


def import_archive(path: Path | str, *, extras_policy: str = "merge", progress: Progress = SILENT,
                   batch_size: int = BATCH, limits: Limits = DEFAULT_LIMITS) -> ImportReport:
    """Merge the archive at ``path`` into the current profile; return what was added.

    :param extras_policy: one of :data:`EXTRAS_POLICIES`
    :raises ArchiveError: when the archive is broken, unsafe or unsupported, or when importing it would
        break a rule against what the profile holds (then nothing was imported)
    """
    if extras_policy not in EXTRAS_POLICIES:
        raise ArchiveError(f"unknown extras policy {extras_policy!r}; choose one of {', '.join(EXTRAS_POLICIES)}")
    try:
        progress.start("checking the archive", None)
        # objects are not hashed twice: copying them checks each one's key (before any node is written)
        with OpenedArchive(path, limits=limits, verify_objects=False) as archive:
            return _Importer(archive, extras_policy, progress, batch_size).run()
    finally:
        progress.finish()


class _Importer:
    """One import run: the archive, the target backend, and the journal that undoes it on failure."""

    def __init__(self, archive: OpenedArchive, extras_policy: str, progress: Progress, batch_size: int) -> None:
        assert archive.engine is not None
        self.archive, self.policy, self.progress, self.batch = archive, extras_policy, progress, batch_size
        self.backend: StorageBackend = get_backend()
        self.repository = get_repository()
        self.report = ImportReport()
        self.journal = Journal(self.backend)
        self.computer_labels: dict[str, str] = {}
        self.connection: Connection = archive.engine.connect()

    def run(self) -> ImportReport:
        try:
            with translated("preparing the import"):
                _prepare_scratch(self.connection)
            with _signals_interrupt() as state:
                try:
                    self._users()
                    self._computers()
                    self._nodes()
                    self._groups()
                    self._comments()
                    self._logs()
                    state["undoing"] = True  # done: from here a signal is delivered after the import
                except BaseException as exc:
                    state["undoing"] = True  # a second signal must not cut the undo short
                    self.journal.undo()
                    if isinstance(exc, _REFUSALS) and not isinstance(exc, ArchiveError):
                        raise ArchiveError(f"importing {self.archive.path} failed, nothing was imported: "
                                           f"{type(exc).__name__}: {exc}") from exc
                    raise
            return self.report
        finally:
            self.connection.close()

    # -- users, computers, objects -------------------------------------------------------------
    def _users(self) -> None:
        emails = {row.email: row for row in self.connection.execute(select(schema.users))}
        for (email,) in self.connection.execute(select(schema.nodes.c.user).distinct()):
            emails.setdefault(email, None)
        for email, row in emails.items():
            names = (row.first_name, row.last_name, row.institution) if row is not None else ("", "", "")
            self.backend.users.get_or_create(email, *names)

    def _computers(self) -> None:
        for row in self.connection.execute(select(schema.computers)):
            record = rows.computer_record(row)
            existing = _find(self.backend.computers.get, uuid=record.uuid) or _find(
                self.backend.computers.get, label=record.label)
            if existing is not None:
                self.computer_labels[record.label] = existing.label
                continue
            self.journal.computer(self.backend.computers.store(record))
            self.report.computers_new += 1

    def _copy_object(self, key: str) -> bool:
        """Store object ``key`` unless the repository has it; return whether it was stored."""
        if self.repository.refresh_objects([key])[0]:  # present: refreshed, so maintenance keeps it
            return False
        with self.archive.open_object(key) as handle:
            stored = self.repository.put_object_from_filelike(handle)
        if stored != key:
            raise ArchiveError(f"member repo/{key} does not hold the object its name says (sha256 mismatch); "
                               "nothing was imported")
        return True

    # -- nodes and links -----------------------------------------------------------------------
    def _nodes(self) -> None:
        """Import the nodes a batch at a time, in archive pk order.

        The files of a batch are copied in threads (each write waits on its own fsync or upload)
        while the batch before it is stored, and a batch is stored only once its files are: a
        stored node never refers to a missing object.
        """
        total = self.connection.execute(text("SELECT count(*) FROM nodes")).scalar()
        self.progress.start("importing nodes and files", total)
        seen: set[str] = set()
        pending: tuple[Any, ...] | None = None
        pool = ThreadPoolExecutor(max_workers=COPY_THREADS, thread_name_prefix="archive-copy")
        try:
            for after, batch in self._node_batches():
                records = {row.pk: rows.node_record(row) for row in batch}
                for archive_pk, record in records.items():
                    try:
                        check_tree(record.repository)
                    except ValidationError as exc:
                        raise ArchiveError(f"node {archive_pk} of the archive has an unsafe file tree: {exc}; "
                                           "nothing was imported") from exc
                keys = sorted({key for record in records.values() for key in record.repository.values()} - seen)
                seen.update(keys)
                copies = [pool.submit(self._copy_object, key) for key in keys]
                if pending is not None:
                    self._store_batch(*pending)
                pending = (after, batch, records, copies)
            if pending is not None:
                self._store_batch(*pending)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _node_batches(self) -> Iterator[tuple[int, list[Any]]]:
        last = 0
        while True:
            batch = self.connection.execute(select(schema.nodes).where(schema.nodes.c.pk > last)
                                            .order_by(schema.nodes.c.pk).limit(self.batch)).all()
            if not batch:
                return
            yield last, batch
            last = batch[-1].pk

    def _store_batch(self, after: int, batch: list[Any], records: dict[int, Any], copies: list[Future]) -> None:
        self.report.objects_new += sum(copy.result() for copy in copies)
        self._node_batch(batch, records, after)
        self.progress.advance(len(batch))

    def _node_batch(self, batch: list[Any], records: dict[int, Any], after: int) -> None:
        stored = self._stored_pks([record.uuid for record in records.values()])
        new_rows, local = [], {}
        for archive_pk, record in records.items():
            if record.uuid in stored:
                local[archive_pk], current_extras = stored[record.uuid]
                self._merge_extras(local[archive_pk], current_extras, record.extras)
            else:
                record.computer = self.computer_labels.get(record.computer or "", record.computer)
                local[archive_pk] = -(len(new_rows) + 1)
                new_rows.append((archive_pk, record))
        links = list(self._batch_links(after, batch[-1].pk, local))
        pks = self.backend.nodes.store([record for _, record in new_rows], links) if new_rows else []
        self.journal.nodes(pks)
        self.report.nodes_new += len(pks)
        self.report.nodes_existing += len(records) - len(pks)
        self.report.links_new += len(links)
        mapping = [{"archive_pk": archive_pk, "target_pk": local[archive_pk] if local[archive_pk] > 0 else
                    pks[-local[archive_pk] - 1], "new": local[archive_pk] < 0} for archive_pk in records]
        self.connection.execute(text("INSERT INTO pk_map (archive_pk, target_pk, new) VALUES "
                                     "(:archive_pk, :target_pk, :new)"), mapping)

    def _stored_pks(self, uuids: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """The pk and extras of the nodes of ``uuids`` the profile holds already."""
        query = QueryBuilder().append(Node, filters={"uuid": {"in": uuids}}, project=["uuid", "pk", "extras"]).as_ir()
        return {uuid: (pk, extras or {}) for uuid, pk, extras in self.backend.queries.iterate(query, len(uuids) or 1)}

    def _batch_links(self, after: int, last: int, local: dict[int, int]) -> Iterator[LinkRecord]:
        """The links whose later end (in archive pk order) is in this batch, if one end is new."""
        result = self.connection.execute(text(
            "SELECT l.source, l.target, l.type, l.label, ms.target_pk, ms.new, mt.target_pk, mt.new FROM links l "
            "LEFT JOIN pk_map ms ON ms.archive_pk = l.source LEFT JOIN pk_map mt ON mt.archive_pk = l.target "
            "WHERE max(l.source, l.target) > :after AND max(l.source, l.target) <= :last ORDER BY l.pk"),
            {"after": after, "last": last})
        for source, target, link_type, label, s_pk, s_new, t_pk, t_new in result:
            ends = []
            for archive_pk, mapped, new in ((source, s_pk, s_new), (target, t_pk, t_new)):
                ref = local.get(archive_pk, mapped)
                ends.append((ref, ref < 0 or bool(new)))
            if ends[0][1] or ends[1][1]:
                yield LinkRecord(ends[0][0], ends[1][0], rows.link_type(link_type, "a link"), label)

    def _merge_extras(self, pk: int, current: dict[str, Any], incoming: dict[str, Any]) -> None:
        if self.policy == "keep" or not incoming and self.policy != "mirror":
            return
        merged = {
            "merge": {**incoming, **current}, "overwrite": {**current, **incoming}, "mirror": dict(incoming),
        }[self.policy]
        if merged != current:
            self.journal.extras(pk, current)
            self.backend.nodes.update(pk, extras=merged)
            self.report.extras_updated += 1

    # -- groups, comments, logs ----------------------------------------------------------------
    def _target_pks(self, archive_pks: list[int]) -> dict[int, int]:
        found = self.connection.execute(text("SELECT archive_pk, target_pk FROM pk_map WHERE archive_pk IN "
                                             "(SELECT value FROM json_each(:pks))"),
                                        {"pks": "[" + ",".join(str(int(pk)) for pk in archive_pks) + "]"})
        return dict(found.all())

    def _groups(self) -> None:
        for row in self.connection.execute(select(schema.groups)).all():
            record = rows.group_record(row)
            existing = _find(self.backend.groups.get, uuid=record.uuid)
            if existing is None:
                record.label = self._free_group_label(record.label, record.type_string)
                if record.label != row.label:
                    self.report.renamed_groups[row.label] = record.label
                group_pk = self.backend.groups.store(record)
                self.journal.group(group_pk)
                self.report.groups_new += 1
                members: set[int] = set()
            else:
                group_pk = existing.pk
                members = set(self.backend.groups.node_pks(group_pk))
            archive_members = [pk for (pk,) in self.connection.execute(
                select(schema.group_nodes.c.node_pk).where(schema.group_nodes.c.group_pk == row.pk))]
            wanted = sorted(set(self._target_pks(archive_members).values()) - members)
            if wanted:
                self.backend.groups.add_nodes(group_pk, wanted)
                self.journal.members(group_pk, wanted)
                self.report.group_members_new += len(wanted)

    def _free_group_label(self, label: str, type_string: str) -> str:
        candidate, counter = label, 0
        while _find(self.backend.groups.get, label=candidate, type_string=type_string) is not None:
            counter += 1
            candidate = f"{label}_{counter}"
        return candidate

    def _attached(self, table: Any, entity: str) -> Iterator[tuple[list[Any], dict[int, int]]]:
        """Yield batches of comment/log rows not yet in the profile, with their nodes' profile pks."""
        last = 0
        while True:
            batch = self.connection.execute(select(table).where(table.c.pk > last).order_by(table.c.pk)
                                            .limit(self.batch)).all()
            if not batch:
                return
            last = batch[-1].pk
            query = QueryBuilder().append(entity_type=entity, filters={"uuid": {"in": [r.uuid for r in batch]}},
                                          project="uuid").as_ir()
            present = {uuid for (uuid,) in self.backend.queries.iterate(query, len(batch))}
            fresh = [row for row in batch if row.uuid not in present]
            if fresh:
                yield fresh, self._target_pks([row.node_pk for row in fresh])

    def _comments(self) -> None:
        for batch, targets in self._attached(schema.comments, "comment"):
            for row in batch:
                self.journal.comment(self.backend.comments.add(rows.comment_record(row, targets[row.node_pk])))
                self.report.comments_new += 1

    def _logs(self) -> None:
        # one transaction for all of them: logs of nodes that were already stored could not be undone
        records = [rows.log_record(row, targets[row.node_pk])
                   for batch, targets in self._attached(schema.logs, "log") for row in batch]
        if records:
            self.backend.logs.add_many(records)
        self.report.logs_new += len(records)


@contextmanager
def _signals_interrupt() -> Iterator[dict[str, Any]]:
    """While inside, SIGTERM/SIGHUP raise :class:`ImportInterrupted` (main thread only; else a no-op).

    Yields a state whose ``undoing`` flag, once set, defers further signals: one that arrives then
    is raised again, with the previous handlers back, when the import returned normally.
    """
    state: dict[str, Any] = {"undoing": False, "deferred": None, "raised": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def interrupt(signum: int, _frame: Any) -> None:
        if state["undoing"]:
            state["deferred"] = signum
            return
        state["undoing"] = state["raised"] = True
        raise ImportInterrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in INTERRUPTING_SIGNALS}
    try:
        yield state
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if state["deferred"] is not None and not state["raised"]:
        signal.raise_signal(state["deferred"])


def _prepare_scratch(connection: Connection) -> None:
    """Add the pk map and the link index the import needs to the scratch copy of the database."""
    connection.execute(text("CREATE TABLE pk_map (archive_pk INTEGER PRIMARY KEY, target_pk INTEGER NOT NULL, "
                            "new INTEGER NOT NULL)"))
    connection.execute(text("CREATE INDEX ix_links_later_end ON links (max(source, target))"))
    connection.commit()


def _find(getter: Any, **key: Any) -> Any:
    """Return the entity ``getter(**key)`` finds, or None (a uuid must match whole, not as a prefix)."""
    try:
        found = getter(**key)
    except (NotExistent, MultipleObjectsError):
        return None
    if "uuid" in key and found.uuid != key["uuid"]:
        return None
    return found
