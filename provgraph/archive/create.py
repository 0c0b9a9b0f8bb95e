"""Export: write the nodes chosen (plus what the traversal rules bring along) into one archive file.

Reading goes through the backend-neutral interfaces of the current profile (QueryBuilder
IR run by ``backend.queries``, ``nodes.traverse``, the entity collections, the repository),
so any backend exports. Writing is streaming: nodes, links, comments and logs are fetched
and inserted in batches into an sqlite file in a temporary directory, repository objects are
copied chunk by chunk into the zip as their nodes are written, and the finished database
and ``metadata.json`` are added last. The file appears at its destination only when
complete (written beside it, then renamed).

Archive pks are the source pks (the importing side gives new ones anyway). Links are kept
when both ends are exported. Groups are exported when named (``groups=``) or with
``all_nodes``, with the members that are exported.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

import provgraph
from provgraph.archive import rows
from provgraph.archive.database import create_database
from provgraph.archive.format import DATABASE_NAME, METADATA_NAME, ArchiveMetadata, now_text, object_name
from provgraph.archive.progress import SILENT, Progress
from provgraph.archive.rules import export_rules, rule_states
from provgraph.exceptions import ArchiveError, NotExistent
from provgraph.orm.backend import get_backend, get_repository
from provgraph.orm.nodes.node import Node
from provgraph.orm.querybuilder import QueryBuilder
from provgraph.storage.base import StorageBackend
from provgraph.storage.repository.base import CHUNK_SIZE
from provgraph.storage.sqlite import schema

BATCH = 1000


@dataclass
class _Tally:
    """What was written so far: counts, and the users and computers the entities refer to."""

    counts: Counter = field(default_factory=Counter)
    nodes_by_type: Counter = field(default_factory=Counter)
    users: set[str] = field(default_factory=set)
    computers: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)


def create_archive(path: Path | str, *, all_nodes: bool = False, nodes: Iterable[int] = (),
                   groups: Iterable[str | int] = (), rules: Mapping[str, bool] | None = None,
                   overwrite: bool = False, progress: Progress = SILENT, batch_size: int = BATCH) -> ArchiveMetadata:
    """Export nodes of the current profile into the archive file ``path``; return its metadata.

    :param all_nodes: export every node, group, comment and log
    :param nodes: pks of nodes to export (with what the rules bring along)
    :param groups: labels or pks of groups to export, with their members
    :param rules: switches of the toggleable traversal rules, ``{name: on}`` (see :mod:`provgraph.archive.rules`)
    :raises ArchiveError: when nothing is chosen, a rule is unknown, the file exists (without ``overwrite``)
        or is not a regular file, its folder does not exist, or writing fails (nothing is left behind)
    :raises NotExistent: when a chosen node or group does not exist
    """
    path = Path(path)
    _check_target(path, overwrite)
    node_pks, group_list = list(nodes), list(groups)
    if not (all_nodes or node_pks or group_list):
        raise ArchiveError("nothing to export: give node pks, groups, or all_nodes")
    active = export_rules(rules)
    backend = get_backend()
    group_records = _resolve_groups(backend, group_list, all_nodes)
    chosen: set[int] | None = None
    if not all_nodes:
        start = set(node_pks)
        for pk in node_pks:
            backend.nodes.get(pk=pk)
        for record in group_records:
            start.update(backend.groups.node_pks(record.pk))
        progress.start("following provenance", None)
        chosen = backend.nodes.traverse(sorted(start), active)
    entry: dict[str, Any] = {"all": True} if all_nodes else {"nodes": sorted(node_pks),
                                                             "groups": [str(g) for g in group_list]}
    metadata_args = {"rules": rule_states(rules), "entry": entry}
    try:
        workdir = Path(tempfile.mkdtemp(prefix=".provgraph-export-", dir=path.parent))
    except OSError as exc:
        raise ArchiveError(f"cannot write the archive {path}: {exc}") from exc
    try:
        metadata = _write(workdir, backend, chosen, group_records, metadata_args, progress, batch_size)
        _check_target(path, overwrite)  # it may have appeared (or changed kind) meanwhile
        os.replace(workdir / "archive.zip", path)
    except (OSError, SQLAlchemyError, zipfile.LargeZipFile) as exc:
        raise ArchiveError(f"writing the archive {path} failed, nothing was written: {exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        progress.finish()
    return metadata


def _check_target(path: Path, overwrite: bool) -> None:
    """Refuse a target that is not a regular file or new, or whose folder does not exist.

    :raises ArchiveError: when ``path`` exists (unless ``overwrite``) or is not a regular file (a
        folder, device, FIFO, socket; followed through symlinks), or its folder is missing
    """
    folder = path.parent
    if not folder.is_dir():
        raise ArchiveError(f"cannot write {path}: the folder {folder} does not exist (create it first)")
    if not os.path.lexists(path):
        return
    try:
        mode = path.stat().st_mode
    except OSError as exc:  # a dangling symlink or an unreadable entry
        raise ArchiveError(f"{path} exists and cannot be inspected ({exc}): refused") from exc
    if not stat.S_ISREG(mode):
        raise ArchiveError(f"{path} exists and is not a regular file: refused (archives only replace files)")
    if not overwrite:
        raise ArchiveError(f"{path} exists already (pass overwrite to replace it)")


def _resolve_groups(backend: StorageBackend, groups: Sequence[str | int], all_nodes: bool) -> list[Any]:
    if all_nodes and not groups:
        return backend.groups.list()
    records = []
    for group in groups:
        if isinstance(group, int) or (isinstance(group, str) and group.isdigit()):
            records.append(backend.groups.get(pk=int(group)))
        else:
            records.append(backend.groups.get(label=group))
    return records


def _write(workdir: Path, backend: StorageBackend, chosen: set[int] | None, group_records: list[Any],
           metadata_args: dict[str, Any], progress: Progress, batch_size: int) -> ArchiveMetadata:
    db_path = workdir / DATABASE_NAME
    engine = create_database(db_path)
    tally = _Tally()
    with zipfile.ZipFile(workdir / "archive.zip", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1,
                         allowZip64=True) as archive:
        with engine.begin() as connection:
            exported = _write_nodes(connection, archive, backend, chosen, tally, progress, batch_size)
            # links, comments and logs are few per node: bigger batches mean fewer queries
            _write_links(connection, backend, exported, chosen is None, tally, progress, 5 * batch_size)
            _write_attached(connection, backend, exported, tally, progress, 5 * batch_size)
            _write_groups(connection, backend, group_records, exported, tally)
            _write_users_and_computers(connection, backend, tally)
        engine.dispose()
        progress.start("writing the database", None)
        archive.write(db_path, DATABASE_NAME, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
        metadata = ArchiveMetadata(
            format_version=1, created=now_text(), provgraph_version=provgraph.__version__,
            counts={**{key: 0 for key in ("nodes", "links", "groups", "group_members", "comments", "logs",
                                          "users", "computers")}, **tally.counts, "objects": len(tally.objects)},
            nodes_by_type=dict(tally.nodes_by_type), schema_version=schema.SCHEMA_VERSION, **metadata_args,
        )
        archive.writestr(METADATA_NAME, metadata.to_json())
    return metadata


def insert_rows(connection: Connection, table: Table, values: list[dict[str, Any]]) -> None:
    """Insert many rows at once: the table's INSERT statement, compiled once, run with positional rows.

    The same statement SQLAlchemy would run, minus its per-row parameter processing (the hot path
    of an export).
    """
    names = list(values[0])
    statement = _insert_statement(table, tuple(names))
    connection.exec_driver_sql(statement, [tuple(row[name] for name in names) for row in values])


@lru_cache(maxsize=32)
def _insert_statement(table: Table, names: tuple[str, ...]) -> str:
    columns = ", ".join(f'"{name}"' for name in names)
    return f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join('?' * len(names))})"


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _iter_node_records(backend: StorageBackend, chosen: set[int] | None, batch_size: int) -> Iterator[Any]:
    if chosen is None:
        query = QueryBuilder().append(Node, tag="n", project="*").order_by({"n": "pk"}).as_ir()
        for row in backend.queries.iterate(query, batch_size):
            yield row[0]
        return
    for batch in _batches(sorted(chosen), batch_size):
        query = QueryBuilder().append(Node, tag="n", filters={"pk": {"in": batch}}, project="*").as_ir()
        for row in backend.queries.iterate(query, batch_size):
            yield row[0]


def _write_nodes(connection: Connection, archive: zipfile.ZipFile, backend: StorageBackend,
                 chosen: set[int] | None, tally: _Tally, progress: Progress, batch_size: int) -> set[int]:
    progress.start("exporting nodes", None if chosen is None else len(chosen))
    exported: set[int] = set()
    with ObjectFetcher(get_repository()) as fetcher:
        for batch in _batches(_iter_node_records(backend, chosen, batch_size), batch_size):
            insert_rows(connection, schema.nodes, [rows.node_row(record) for record in batch])
            keys = []
            for record in batch:
                exported.add(record.pk)
                tally.nodes_by_type[record.node_type] += 1
                tally.users.add(record.user)
                if record.computer:
                    tally.computers.add(record.computer)
                for key in record.repository.values():
                    if key not in tally.objects:
                        tally.objects.add(key)
                        keys.append(key)
            fetcher.copy_into(archive, keys)
            tally.counts["nodes"] += len(batch)
            progress.advance(len(batch))
    return exported


class ObjectFetcher:
    """Copies repository objects into the zip, reading ahead in threads (an S3 GET waits on the network).

    The zip is written by the calling thread, in order; at most ``window`` objects are read ahead,
    and of each only its first chunk, so memory stays bounded whatever the objects' sizes.
    """

    def __init__(self, repository: Any, threads: int = 8, window: int = 32) -> None:
        self.repository, self.window = repository, window
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="archive-fetch")

    def _head(self, key: str) -> tuple[bytes, Any, Any]:
        """Open the object and read its first chunk; return it, and the open stream and its context if more follows."""
        context = self.repository.open(key)
        handle = context.__enter__()
        try:
            first = handle.read(CHUNK_SIZE)
        except BaseException:
            context.__exit__(None, None, None)
            raise
        if len(first) < CHUNK_SIZE:
            context.__exit__(None, None, None)
            return first, None, None
        return first, handle, context

    def copy_into(self, archive: zipfile.ZipFile, keys: list[str]) -> None:
        """Write the objects ``keys`` into ``archive`` as ``repo/<key>`` members."""
        pending: deque[tuple[str, Future]] = deque()
        for key in keys:
            pending.append((key, self.pool.submit(self._head, key)))
            if len(pending) >= self.window:
                self._write(archive, *pending.popleft())
        while pending:
            self._write(archive, *pending.popleft())

    @staticmethod
    def _write(archive: zipfile.ZipFile, key: str, future: Future) -> None:
        first, handle, context = future.result()
        with archive.open(object_name(key), "w", force_zip64=handle is not None) as target:
            target.write(first)
            if handle is not None:
                try:
                    while chunk := handle.read(CHUNK_SIZE):
                        target.write(chunk)
                finally:
                    context.__exit__(None, None, None)

    def __enter__(self) -> ObjectFetcher:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _write_links(connection: Connection, backend: StorageBackend, exported: set[int], everything: bool,
                 tally: _Tally, progress: Progress, batch_size: int) -> None:
    progress.start("exporting links", len(exported))
    for batch in _batches(sorted(exported), batch_size):
        query = (QueryBuilder().append(Node, tag="s", filters={"pk": {"in": batch}}, project="pk")
                 .append(Node, tag="t", with_incoming="s", project="pk", edge_tag="e",
                         edge_project=["type", "label"]).as_ir())
        links = [{"source": s, "target": t, "type": str(getattr(k, "value", k)), "label": label}
                 for s, t, k, label in backend.queries.iterate(query, 2 * batch_size)
                 if everything or t in exported]
        if links:
            insert_rows(connection, schema.links, links)
        tally.counts["links"] += len(links)
        progress.advance(len(batch))


def _write_attached(connection: Connection, backend: StorageBackend, exported: set[int], tally: _Tally,
                    progress: Progress, batch_size: int) -> None:
    """Comments and logs of the exported nodes."""
    progress.start("exporting comments and logs", len(exported))
    for batch in _batches(sorted(exported), batch_size):
        for entity, table, to_row in (("comment", schema.comments, rows.comment_row),
                                      ("log", schema.logs, rows.log_row)):
            query = (QueryBuilder().append(Node, tag="n", filters={"pk": {"in": batch}})
                     .append(entity_type=entity, tag="x", with_node="n", project="*").as_ir())
            records = [row[0] for row in backend.queries.iterate(query, batch_size)]
            if records:
                connection.execute(table.insert(), [to_row(record) for record in records])
            tally.counts[f"{entity}s"] += len(records)
            if entity == "comment":
                tally.users.update(record.user for record in records)
        progress.advance(len(batch))


def _write_groups(connection: Connection, backend: StorageBackend, group_records: list[Any], exported: set[int],
                  tally: _Tally) -> None:
    for record in group_records:
        connection.execute(schema.groups.insert(), [rows.group_row(record)])
        members = [pk for pk in backend.groups.node_pks(record.pk) if pk in exported]
        if members:
            connection.execute(schema.group_nodes.insert(), [{"group_pk": record.pk, "node_pk": pk}
                                                             for pk in members])
        if record.user:
            tally.users.add(record.user)
        tally.counts["groups"] += 1
        tally.counts["group_members"] += len(members)


def _write_users_and_computers(connection: Connection, backend: StorageBackend, tally: _Tally) -> None:
    users = []
    for email in sorted(tally.users):
        try:
            users.append(rows.user_row(backend.users.get(email)))
        except NotExistent:
            users.append({"email": email, "first_name": "", "last_name": "", "institution": ""})
    if users:
        connection.execute(schema.users.insert(), users)
    computers = []
    for label in sorted(tally.computers):
        try:
            computers.append(rows.computer_row(backend.computers.get(label=label)))
        except NotExistent:
            continue
    if computers:
        connection.execute(schema.computers.insert(), computers)
    tally.counts["users"], tally.counts["computers"] = len(users), len(computers)
