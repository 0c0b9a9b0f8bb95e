"""Nodes and links in sqlite: storing (one transaction), reading, updating, traversing, deleting.

A node is one row of ``nodes`` (see :mod:`provgraph.storage.sqlite.schema`); its pk comes from
sqlite's AUTOINCREMENT, handed out while the storing transaction holds the write lock, so
concurrent processes never collide and a deleted pk is never reused. A link is one row of
``links``. Link rules are checked inside the storing transaction
(:mod:`provgraph.storage.sqlite.linkcheck`), so a refused link writes nothing at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, text, update

from provgraph.common.links import Direction, LinkRecord, LinkTriple, LinkType, TraversalRule
from provgraph.exceptions import MultipleObjectsError, NotExistent, StoringError, ValidationError
from provgraph.storage.base import NodeCollection, NodeRecord
from provgraph.storage.sqlite import db, linkcheck, schema
from provgraph.storage.sqlite.records import json_list, labels_of, node_record, node_row, to_json

#: fields of a stored node that :meth:`SqliteNodes.update` may replace
UPDATABLE = frozenset({"extras", "label", "description", "attributes", "mtime", "hash", "repository"})
#: rows per INSERT statement in bulk writes
BATCH = 500


def _as_pk(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"a node pk must be an int, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"a node pk must be an int, not {value!r}") from exc


def resolve_link(link: LinkRecord, new_pks: Sequence[int]) -> LinkRecord:
    """Replace ``-(index + 1)`` references to nodes of the same batch by their pks.

    :raises StoringError: when a reference points past the batch
    """
    def pk(ref: int) -> int:
        ref = _as_pk(ref)
        if ref < 0:
            if -ref > len(new_pks):
                raise StoringError(f"link refers to new node #{-ref} but only {len(new_pks)} are stored")
            return new_pks[-ref - 1]
        return ref

    return LinkRecord(pk(link.source), pk(link.target), LinkType(link.link_type), link.label)


#: the columns of ``nodes`` in table order, and the one INSERT text every store uses (prepared once by
#: sqlite's statement cache; plain DB-API ``executemany`` skips SQLAlchemy's per-call compilation)
_NODE_COLUMNS = tuple(column.name for column in schema.nodes.columns)
_INSERT_NODES = (f"INSERT INTO nodes ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in _NODE_COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _ in _NODE_COLUMNS)})")
_INSERT_LINKS = "INSERT INTO links (source, target, type, label) VALUES (?, ?, ?, ?)"


def insert_nodes(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert node rows inside a write transaction; return their new pks, in order."""
    pks = db.allocate_pks(connection, "nodes", len(rows))
    values = [tuple(pk if name == "pk" else row[name] for name in _NODE_COLUMNS)
              for row, pk in zip(rows, pks, strict=True)]
    for start in range(0, len(values), BATCH):
        connection.exec_driver_sql(_INSERT_NODES, values[start:start + BATCH])
    return pks


def write_links(connection: Connection, links: list[LinkRecord], new: linkcheck.NewNodes) -> None:
    """Check the rules for ``links`` (pks resolved) and insert them, inside a write transaction.

    :raises LinkRuleError: when a link breaks a rule (the caller's transaction must roll back)
    """
    if not links:
        return
    for link in links:
        if not isinstance(link.label, str):
            raise ValidationError(f"a link label must be a string, not {link.label!r}")
    linkcheck.validate_before_write(connection, links, new)
    rows = [(link.source, link.target, link.link_type.value, link.label) for link in links]
    for start in range(0, len(rows), BATCH):
        connection.exec_driver_sql(_INSERT_LINKS, rows[start:start + BATCH])
    linkcheck.check_acyclic(connection, links)


def store_in(connection: Connection, nodes: Sequence[NodeRecord], rows: list[dict[str, Any]],
             links: Sequence[LinkRecord]) -> list[int]:
    """Insert prepared node ``rows`` and ``links`` (ends may be ``-(i + 1)``) in a write transaction.

    The records do not get their pks here: the caller sets them once the transaction committed.
    """
    pks = insert_nodes(connection, rows) if rows else []
    resolved = [resolve_link(link, pks) for link in links]
    new = {pk: set(node.labels) for node, pk in zip(nodes, pks, strict=True)}
    write_links(connection, resolved, new)
    return pks


def update_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the column values replacing the mutable ``fields`` of a node.

    :raises ValidationError: when a field is not updatable or its value is invalid
    """
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValidationError(f"cannot update node fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    if fields and "mtime" not in fields:  # every change moves mtime (the ORM's version check)
        values["mtime"] = db.to_text(datetime.now(timezone.utc))
    for name, value in fields.items():
        if name in ("attributes", "extras", "repository"):
            if not isinstance(value, dict):
                raise ValidationError(f"a node's {name} must be a dict, not {type(value).__name__}")
            values[name] = to_json(value, {"attributes": "attribute", "extras": "extra"}.get(name, name))
        elif name == "mtime":
            values[name] = db.to_text(value, "a node's mtime")
        elif name == "hash":
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"a node's hash must be a string or None, not {value!r}")
            values[name] = value
        else:
            if not isinstance(value, str):
                raise ValidationError(f"a node's {name} must be a string, not {value!r}")
            values[name] = value
    return values


class SqliteNodes(NodeCollection):
    """The node collection of the sqlite backend."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def store(self, nodes: Sequence[NodeRecord], links: Sequence[LinkRecord] = ()) -> list[int]:
        nodes = list(nodes)
        if any(node.pk is not None for node in nodes):
            raise StoringError("a node that already has a pk is stored already")
        rows = [node_row(node) for node in nodes]
        counts = Counter(row["uuid"] for row in rows)
        repeated = [uuid for uuid, count in counts.items() if count > 1]
        if repeated:
            raise StoringError(f"two nodes of the batch share the uuid {repeated[0]}")
        with db.write(self._engine) as connection:
            pks = store_in(connection, nodes, rows, links)
        for node, pk in zip(nodes, pks, strict=True):
            node.pk = pk
        db.transactions(self._engine).on_rollback(lambda: _unstore(nodes))
        return pks

    def get(self, *, pk: int | None = None, uuid: str | None = None) -> NodeRecord:
        table = schema.nodes
        if pk is not None:
            query, what = select(table).where(table.c.pk == _as_pk(pk)), f"pk {pk}"
        elif uuid:
            prefix = str(uuid)
            query = select(table).where(table.c.uuid >= prefix, table.c.uuid < prefix + "\U0010ffff",
                                        func.substr(table.c.uuid, 1, len(prefix)) == prefix).limit(2)
            what = f"uuid {uuid!r}"
        else:
            raise ValidationError("give a pk or a uuid (prefix) to load a node")
        with db.read(self._engine) as connection:
            found = connection.execute(query).all()
        if not found:
            raise NotExistent(f"no node with {what}")
        if len(found) > 1:
            raise MultipleObjectsError(f"more than one node has a {what}; give more characters")
        return node_record(found[0])

    def get_if_changed(self, pk: int, mtime: datetime) -> NodeRecord | None:
        known = db.to_text(mtime, "a node's mtime")
        table = schema.nodes
        with db.read(self._engine) as connection:
            stored = connection.execute(select(table.c.mtime).where(table.c.pk == _as_pk(pk))).first()
            if stored is None:
                raise NotExistent(f"no node with pk {pk}")
            if stored.mtime == known:
                return None
            return node_record(connection.execute(select(table).where(table.c.pk == _as_pk(pk))).one())

    def update(self, pk: int, **fields: Any) -> None:
        values = update_fields(fields)
        pk = _as_pk(pk)
        with db.write(self._engine) as connection:
            exists = connection.execute(select(schema.nodes.c.pk).where(schema.nodes.c.pk == pk)).first()
            if exists is None:
                raise NotExistent(f"no node with pk {pk}")
            if values:
                connection.execute(update(schema.nodes).where(schema.nodes.c.pk == pk).values(**values))

    def add_links(self, links: Sequence[LinkRecord]) -> None:
        resolved = [resolve_link(link, []) for link in links]
        with db.write(self._engine) as connection:
            write_links(connection, resolved, {})

    def links(self, pk: int, direction: Direction, link_types: Sequence[LinkType] = (),
              labels: Sequence[str] = ()) -> list[LinkTriple]:
        table = schema.links
        here, there = (table.c.source, table.c.target) if Direction(direction) is Direction.FORWARD else (
            table.c.target, table.c.source)
        query = select(there.label("other"), table.c.type, table.c.label).where(here == _as_pk(pk))
        if link_types:
            query = query.where(table.c.type.in_([LinkType(t).value for t in link_types]))
        if labels:
            query = query.where(table.c.label.in_(list(labels)))
        # only links whose other end is a node (always so here: links reference nodes by foreign key)
        query = query.order_by(there, table.c.pk)
        with db.read(self._engine) as connection:
            rows = connection.execute(query).all()
        return [LinkTriple(row.other, LinkType(row.type), row.label) for row in rows]

    def traverse(self, pks: Sequence[int], rules: Sequence[TraversalRule]) -> set[int]:
        start = [_as_pk(pk) for pk in pks]
        forward = sorted({rule.link_type.value for rule in rules if rule.direction is Direction.FORWARD})
        backward = sorted({rule.link_type.value for rule in rules if rule.direction is Direction.BACKWARD})
        branches = ["SELECT value FROM json_each(:start)"]
        if forward:
            branches.append("SELECT l.target FROM links l JOIN reach r ON l.source = r.pk"
                            " WHERE l.type IN (SELECT value FROM json_each(:forward))")
        if backward:
            branches.append("SELECT l.source FROM links l JOIN reach r ON l.target = r.pk"
                            " WHERE l.type IN (SELECT value FROM json_each(:backward))")
        # UNION (not UNION ALL) keeps each node once: the walk visits every reached node a single time
        query = text("WITH RECURSIVE reach(pk) AS (" + " UNION ".join(branches) + ") SELECT pk FROM reach")
        params = {"start": json_list(start), "forward": json_list(forward), "backward": json_list(backward)}
        with db.read(self._engine) as connection:
            return {row.pk for row in connection.execute(query, params)} | set(start)

    def delete(self, pks: Sequence[int]) -> None:
        chosen = json_list(sorted({_as_pk(pk) for pk in pks}))
        with db.write(self._engine) as connection:
            delete_in(connection, chosen)

    def iter_repository_keys(self) -> Iterator[str]:
        query = select(schema.nodes.c.repository).where(schema.nodes.c.repository != "{}")
        with db.read(self._engine) as connection:
            for (tree,) in connection.execution_options(yield_per=1000).execute(query):
                yield from _tree_keys(tree)

    def count_by(self, what: str) -> dict[str, int]:
        """Return node counts per node_type (``what='nodes'``) or link counts per type."""
        column = schema.nodes.c.node_type if what == "nodes" else schema.links.c.type
        with db.read(self._engine) as connection:
            rows = connection.execute(select(column, func.count()).group_by(column)).all()
        return {key: count for key, count in rows}

    def labels_of(self, pks: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """Return the class tree of each stored node of ``pks`` (unknown pks are left out)."""
        query = select(schema.nodes.c.pk, schema.nodes.c.labels).where(
            schema.nodes.c.pk.in_(bindparam("pks", expanding=True)))
        with db.read(self._engine) as connection:
            rows = connection.execute(query, {"pks": [_as_pk(pk) for pk in pks]}).all()
        return {pk: labels_of(labels) for pk, labels in rows}


def _unstore(nodes: Sequence[NodeRecord]) -> None:
    """Take back the pks of nodes whose storing transaction rolled back."""
    for node in nodes:
        node.pk = None


def _tree_keys(tree: str) -> Iterator[str]:
    from provgraph.storage.sqlite.records import from_json

    yield from from_json(tree).values()


def delete_in(connection: Connection, chosen: str) -> None:
    """Delete the nodes of the JSON pk list ``chosen`` with their links, comments, logs and memberships."""
    chosen_pks = "(SELECT value FROM json_each(:chosen))"
    params = {"chosen": chosen}
    connection.execute(text(f"DELETE FROM links WHERE source IN {chosen_pks} OR target IN {chosen_pks}"), params)
    for table in ("group_nodes", "comments", "logs"):
        connection.execute(text(f"DELETE FROM {table} WHERE node_pk IN {chosen_pks}"), params)
    connection.execute(text(f"DELETE FROM nodes WHERE pk IN {chosen_pks}"), params)
