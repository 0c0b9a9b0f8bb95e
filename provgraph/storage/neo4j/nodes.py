"""Nodes and links in Neo4j: storing (bulk, batched UNWIND), reading, updating, deleting.

A node is one Neo4j node whose labels are its class tree and whose properties
are the fixed fields plus the flattened ``attributes.*`` and ``extras.*``
(see :mod:`provgraph.storage.neo4j.properties`). Links are relationships typed
by their link type, with a ``label`` property.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provgraph.common.links import Direction, LinkRecord, LinkTriple, LinkType, TraversalRule
from provgraph.exceptions import MultipleObjectsError, NotExistent, StoringError, ValidationError
from provgraph.storage.base import NodeCollection, NodeRecord
from provgraph.storage.neo4j import cypher_names, linkcheck
from provgraph.storage.neo4j.driver import translate_errors
from provgraph.storage.neo4j.properties import flatten, unflatten

if TYPE_CHECKING:
    import neo4j

BATCH = 5000
PK_BLOCK = 200
FIXED_FIELDS = ("pk", "uuid", "node_type", "label", "description", "ctime", "mtime", "user", "hash", "computer")


class PkAllocator:
    """Hands out node pks from blocks reserved in the database, so concurrent stores never collide.

    A block is reserved by atomically advancing a sequence node (its uniqueness
    constraint makes the MERGE safe across processes). Unused pks of a block are
    simply never used: pks are unique and never reused, not gap-free.
    """

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver, self._database = driver, database
        self._next = self._end = 0
        self._lock = threading.Lock()

    def take(self, count: int) -> list[int]:
        """Return ``count`` fresh pks."""
        with self._lock:
            pks: list[int] = []
            while len(pks) < count:
                if self._next >= self._end:
                    self._reserve(max(PK_BLOCK, count - len(pks)))
                step = min(count - len(pks), self._end - self._next)
                pks.extend(range(self._next, self._next + step))
                self._next += step
            return pks

    def _reserve(self, size: int) -> None:
        records, _, _ = self._driver.execute_query(
            "MERGE (s:_Sequence {name: 'node_pk'}) ON CREATE SET s.value = 0 "
            "SET s.value = s.value + $size RETURN s.value AS last",
            size=size, database_=self._database,
        )
        self._end = records[0]["last"] + 1
        self._next = self._end - size


def to_properties(record: NodeRecord) -> dict[str, Any]:
    """Return the Neo4j property map of ``record``."""
    props: dict[str, Any] = {
        "pk": record.pk, "uuid": record.uuid, "node_type": record.node_type, "label": record.label,
        "description": record.description, "ctime": record.ctime, "mtime": record.mtime, "user": record.user,
        "repository": json.dumps(record.repository, sort_keys=True),
    }
    for name in ("hash", "computer"):
        if getattr(record, name) is not None:
            props[name] = getattr(record, name)
    props.update(flatten("attributes", record.attributes))
    props.update(flatten("extras", record.extras))
    return props


def from_node(node: Any) -> NodeRecord:
    """Return the record of a Neo4j node returned by the driver."""
    props = dict(node.items())
    return NodeRecord(
        pk=props["pk"], uuid=props["uuid"], node_type=props["node_type"],
        labels=tuple(sorted(node.labels)),
        ctime=props["ctime"].to_native(), mtime=props["mtime"].to_native(), user=props["user"],
        label=props.get("label", ""), description=props.get("description", ""),
        attributes=unflatten("attributes", props), extras=unflatten("extras", props),
        repository=json.loads(props.get("repository", "{}")), hash=props.get("hash"),
        computer=props.get("computer"),
    )


class Neo4jNodes(NodeCollection):
    """The node collection of the neo4j backend."""

    def __init__(self, driver: neo4j.Driver, database: str, uri: str, transactions: Any = None) -> None:
        from provgraph.storage.neo4j.txn import Neo4jTransactions

        self._driver, self._database, self._uri = driver, database, uri
        self._pks = PkAllocator(driver, database)
        #: the open ``provgraph.transaction()`` of each thread, shared with the other collections
        self.transactions = transactions or Neo4jTransactions(driver, database, uri)

    def _session(self, read: bool = False) -> neo4j.Session:
        import neo4j

        mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
        return self._driver.session(database=self._database, default_access_mode=mode)

    def store(self, nodes: Sequence[NodeRecord], links: Sequence[LinkRecord] = ()) -> list[int]:
        if any(node.pk is not None for node in nodes):
            raise StoringError("a node that already has a pk is stored already")
        pks = self._pks.take(len(nodes)) if nodes else []
        rows: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        try:
            for node, pk in zip(nodes, pks, strict=True):
                if not node.labels or node.labels[0] != "Node":
                    raise ValidationError(f"node class tree {node.labels!r} does not start at Node")
                node.pk = pk
                rows[node.labels].append(to_properties(node))
            resolved = [_resolve(link, pks) for link in links]
            if self.transactions.current is not None and not resolved:
                for tree, props in rows.items():  # sent with the next statement or the commit
                    self.transactions.defer(tree, props)
            elif self.transactions.current is None and len(nodes) == 1 and not resolved:
                # one statement is atomic on its own: an auto-commit saves a round trip
                (tree, props), = rows.items()
                with translate_errors(self._uri), self._session() as session:
                    session.run(_create_query(tree), rows=[wire_row(p) for p in props]).consume()
            else:
                self.transactions.write(_write_nodes_and_links, rows, resolved)
        except BaseException:
            _unstore(nodes)
            raise
        self.transactions.on_rollback(lambda: _unstore(nodes))
        return pks

    def get(self, *, pk: int | None = None, uuid: str | None = None) -> NodeRecord:
        if pk is not None:
            query, params, what = "MATCH (n:Node {pk: $pk}) RETURN n LIMIT 2", {"pk": int(pk)}, f"pk {pk}"
        elif uuid:
            query = "MATCH (n:Node) WHERE n.uuid STARTS WITH $uuid RETURN n LIMIT 2"
            params, what = {"uuid": str(uuid)}, f"uuid {uuid!r}"
        else:
            raise ValidationError("give a pk or a uuid (prefix) to load a node")
        found = self.transactions.read(_values, query, params, "n")
        if not found:
            raise NotExistent(f"no node with {what}")
        if len(found) > 1:
            raise MultipleObjectsError(f"more than one node has a {what}; give more characters")
        return from_node(found[0])

    def get_if_changed(self, pk: int, mtime: datetime) -> NodeRecord | None:
        # compare instants (seconds + nanoseconds): a datetime read back carries the zone 'UTC' where the
        # stored one may carry the offset +00:00, and Cypher's '=' on datetimes tells those apart
        same = "n.mtime.epochSeconds = $seconds AND n.mtime.nanosecond = $nanos"
        query = f"MATCH (n:Node {{pk: $pk}}) RETURN {same} AS same, CASE WHEN {same} THEN null ELSE n END AS n LIMIT 1"
        utc = mtime.astimezone(timezone.utc)
        seconds = int((utc.replace(microsecond=0) - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds())
        with translate_errors(self._uri), self._session(read=True) as session:
            found = session.run(query, pk=int(pk), seconds=seconds, nanos=utc.microsecond * 1000).single()
        if found is None:
            raise NotExistent(f"no node with pk {pk}")
        return None if found["same"] else from_node(found["n"])

    def update(self, pk: int, **fields: Any) -> None:
        allowed = {"extras", "label", "description", "attributes", "mtime", "hash", "repository"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValidationError(f"cannot update node fields {sorted(unknown)}")
        if fields and "mtime" not in fields:  # every change moves mtime (the ORM's version check)
            fields["mtime"] = datetime.now(timezone.utc)
        self.transactions.write(_update_node, int(pk), fields)

    def add_links(self, links: Sequence[LinkRecord]) -> None:
        self.transactions.write(_write_nodes_and_links, {}, list(links))

    def links(self, pk: int, direction: Direction, link_types: Sequence[LinkType] = (),
              labels: Sequence[str] = ()) -> list[LinkTriple]:
        pattern = "(n)-[r]->(m)" if direction is Direction.FORWARD else "(n)<-[r]-(m)"
        query = (
            f"MATCH (n:Node {{pk: $pk}}) MATCH {pattern} WHERE m:Node "
            "AND (size($types) = 0 OR type(r) IN $types) AND (size($labels) = 0 OR r.label IN $labels) "
            "RETURN m.pk AS pk, type(r) AS type, r.label AS label ORDER BY m.pk"
        )
        types = [LinkType(t).value for t in link_types]
        records = self.transactions.read(_records, query, {"pk": int(pk), "types": types, "labels": list(labels)})
        return [LinkTriple(r["pk"], LinkType(r["type"]), r["label"]) for r in records]

    def traverse(self, pks: Sequence[int], rules: Sequence[TraversalRule]) -> set[int]:
        return self.transactions.read(_traverse, list(pks), list(rules))

    def delete(self, pks: Sequence[int]) -> None:
        self.transactions.write(_records, (
            "UNWIND $pks AS pk MATCH (n:Node {pk: pk}) "
            "OPTIONAL MATCH (n)<-[:ON|OF]-(attached) WHERE attached:Comment OR attached:Log "
            "DETACH DELETE attached, n"), {"pks": [int(pk) for pk in pks]})

    def iter_repository_keys(self) -> Iterator[str]:
        with translate_errors(self._uri), self._session(read=True) as session:
            result = session.run("MATCH (n:Node) WHERE n.repository <> '{}' RETURN n.repository AS tree")
            for record in result:
                yield from json.loads(record["tree"]).values()

    def count_by(self, what: str) -> dict[str, int]:
        """Return node counts per node_type (``what='nodes'``) or link counts per type."""
        query = (
            "MATCH (n:Node) RETURN n.node_type AS k, count(*) AS c" if what == "nodes"
            else "MATCH (:Node)-[r]->(:Node) RETURN type(r) AS k, count(*) AS c"
        )
        with translate_errors(self._uri), self._session(read=True) as session:
            return {r["k"]: r["c"] for r in session.run(query)}


def _records(tx: neo4j.ManagedTransaction, query: str, params: dict[str, Any]) -> list[Any]:
    return list(tx.run(query, params))


def _values(tx: neo4j.ManagedTransaction, query: str, params: dict[str, Any], key: str) -> list[Any]:
    return [record[key] for record in tx.run(query, params)]


def _traverse(tx: neo4j.ManagedTransaction, pks: list[int], rules: list[TraversalRule]) -> set[int]:
    seen, frontier = set(pks), list(pks)
    while frontier:
        found: set[int] = set()
        for rule in rules:
            arrow = "-[:{t}]->" if rule.direction is Direction.FORWARD else "<-[:{t}]-"
            query = (
                "UNWIND $pks AS pk MATCH (n:Node {pk: pk})" + arrow.format(t=LinkType(rule.link_type).value)
                + "(m:Node) RETURN DISTINCT m.pk AS pk"
            )
            found.update(r["pk"] for r in tx.run(query, pks=frontier))
        frontier = sorted(found - seen)
        seen.update(frontier)
    return seen


def _unstore(nodes: Sequence[NodeRecord]) -> None:
    """Take back the pks of nodes whose storing transaction failed or rolled back."""
    for node in nodes:
        node.pk = None


def _resolve(link: LinkRecord, new_pks: list[int]) -> LinkRecord:
    """Replace ``-(index + 1)`` references to nodes of the same batch by their pks."""
    def pk(ref: int) -> int:
        if ref < 0:
            if -ref > len(new_pks):
                raise StoringError(f"link refers to new node #{-ref} but only {len(new_pks)} are stored")
            return new_pks[-ref - 1]
        return ref

    return LinkRecord(pk(link.source), pk(link.target), LinkType(link.link_type), link.label)


def _create_query(tree: tuple[str, ...]) -> str:
    """The statement creating nodes of class ``tree`` from rows made by :func:`wire_row`."""
    return (f"UNWIND $rows AS row CREATE (n{cypher_names.labels(tree)}) SET n = row.p, "
            "n.ctime = datetime({epochSeconds: row.c[0], nanosecond: row.c[1]}), "
            "n.mtime = datetime({epochSeconds: row.m[0], nanosecond: row.m[1]})")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def wire_row(props: dict[str, Any]) -> dict[str, Any]:
    """The row :func:`_create_query` reads: the properties, with ctime and mtime as [epoch seconds, nanoseconds].

    The driver's pure-Python conversion of aware datetimes costs more than everything else
    provgraph does per node; two ints are sent as they are and the server builds the same
    UTC ``DateTime`` from them (``props`` is not changed: a retried transaction reuses it).
    """
    rest = props.copy()
    return {"p": rest, "c": _epoch(rest.pop("ctime")), "m": _epoch(rest.pop("mtime"))}


def _epoch(value: datetime) -> list[int]:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(f"a node's ctime and mtime must be timezone-aware datetimes, not {value!r}")
    delta = value - _EPOCH
    return [delta.days * 86_400 + delta.seconds, delta.microseconds * 1000]


def _write_nodes_and_links(tx: neo4j.ManagedTransaction, rows: dict, links: list[LinkRecord]) -> None:
    _create_nodes(tx, rows)
    if not links:
        return
    new = {props["pk"]: set(tree) for tree, batch in rows.items() for props in batch}
    linkcheck.validate_before_write(tx, links, new)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in links:
        by_type[LinkType(link.link_type).value].append({"s": link.source, "t": link.target, "label": link.label})
    for link_type, items in by_type.items():
        # a static relationship type (a LinkType value, never user text) plans better than $(it.type)
        query = ("UNWIND $items AS it MATCH (s:Node {pk: it.s}) MATCH (t:Node {pk: it.t}) "
                 f"CREATE (s)-[:{link_type} {{label: it.label}}]->(t)")
        for start in range(0, len(items), BATCH):
            tx.run(query, items=items[start:start + BATCH]).consume()
    linkcheck.check_acyclic(tx, links, new)


def _create_nodes(tx: neo4j.ManagedTransaction, rows: dict) -> None:
    """Create the nodes of ``rows`` (class tree -> property rows): per tree, one statement per batch.

    Static labels in the statement text keep it the same from call to call, so the server
    reuses its plan, and let the planner skip the per-row dynamic label handling.
    """
    for tree, props in rows.items():
        query = _create_query(tree)
        for start in range(0, len(props), BATCH):
            tx.run(query, rows=[wire_row(row) for row in props[start:start + BATCH]]).consume()


def _update_node(tx: neo4j.ManagedTransaction, pk: int, fields: dict[str, Any]) -> None:
    # take the node's write lock before reading it: Neo4j reads are only read-committed, so a read
    # racing another transaction's commit can mix old and new properties, and writing that mix back
    # would leave a node whose attributes no longer unflatten (seen with concurrent CalcJob steps)
    tx.run("MATCH (n:Node {pk: $pk}) SET n._lock = true REMOVE n._lock", pk=pk).consume()
    record = tx.run("MATCH (n:Node {pk: $pk}) RETURN n", pk=pk).single()
    if record is None:
        raise NotExistent(f"no node with pk {pk}")
    props = dict(record["n"].items())
    for section in ("attributes", "extras"):
        if section in fields:
            props = {k: v for k, v in props.items() if not _in_section(k, section)}
            props.update(flatten(section, fields[section]))
    for name in ("label", "description", "mtime", "hash"):
        if name in fields:
            props[name] = fields[name]
    if "repository" in fields:
        props["repository"] = json.dumps(fields["repository"], sort_keys=True)
    tx.run("MATCH (n:Node {pk: $pk}) SET n = $props", pk=pk, props=props).consume()


def _in_section(key: str, section: str) -> bool:
    return key.startswith(section + ".") or key.startswith(section + "~")
