"""Users, computers, groups, comments and logs in Neo4j.

Who does what (see :mod:`provgraph.storage.neo4j.models` for the graph shape):

- neomodel, always inside :func:`models.bound`, does the simple CRUD of one
  entity at a time: store a computer or group, get by pk/uuid/label/email, list,
  update, delete one (its DETACH DELETE also drops AUTHINFO and MEMBER links,
  never the member nodes);
- the official driver runs parameterised Cypher for everything that touches a
  ``:Node`` (which has no neomodel class): group membership, attaching a comment
  or logs to their node, and for the bulk paths (batched ``UNWIND``), and for the
  AUTHINFO upsert (neomodel's ``connect`` MERGEs *with* the properties in the
  pattern, so new settings would add a second relationship instead of
  replacing the first). Properties written by the driver are deflated by the
  neomodel models, so both paths store and read the same representation.

Entity pks come from ``_Sequence`` nodes (``computer_pk``, ``group_pk``,
``comment_pk``, ``log_pk``), like node pks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import ModificationNotAllowed, NotExistent, StoringError, ValidationError
from provgraph.storage.entities import (
    CommentCollection,
    CommentRecord,
    ComputerCollection,
    ComputerRecord,
    GroupCollection,
    GroupRecord,
    LogCollection,
    LogRecord,
    UserCollection,
    UserRecord,
    require_json_dict,
    require_text,
)
from provgraph.storage.neo4j import models
from provgraph.storage.neo4j.driver import translate_errors
from provgraph.storage.neo4j.models import CommentNode, ComputerNode, GroupNode, LogNode, UserNode
from provgraph.storage.neo4j.nodes import BATCH, PK_BLOCK, PkAllocator

if TYPE_CHECKING:
    import neo4j

USER_FIELDS = ("first_name", "last_name", "institution")


class SequenceAllocator(PkAllocator):
    """A :class:`~provgraph.storage.neo4j.nodes.PkAllocator` on a named ``_Sequence``.

    ``PkAllocator`` is fixed to the ``node_pk`` sequence and blocks of ``PK_BLOCK``;
    this reuses its thread-safe hand-out (``take``) and replaces only the
    reservation. Entities stored one at a time use ``block=1`` so their pks stay
    dense across processes (computer 1, 2, 3, as users of AiiDA expect); logs,
    stored in batches, reserve larger blocks.
    """

    def __init__(self, driver: neo4j.Driver, database: str, sequence: str, block: int = PK_BLOCK) -> None:
        super().__init__(driver, database)
        self._sequence, self._block = sequence, block

    def _reserve(self, size: int) -> None:
        # take() asks for max(PK_BLOCK, pks still needed): honour a larger request, else reserve a block
        size = size if size > PK_BLOCK else self._block
        records, _, _ = self._driver.execute_query(
            "MERGE (s:_Sequence {name: $name}) ON CREATE SET s.value = 0 "
            "SET s.value = s.value + $size RETURN s.value AS last",
            name=self._sequence, size=size, database_=self._database,
        )
        self._end = records[0]["last"] + 1
        self._next = self._end - size


class _Context:
    """The driver, database and error translation every collection shares."""

    def __init__(self, driver: neo4j.Driver, database: str, uri: str, transactions: Any = None) -> None:
        self.driver, self.database, self.uri = driver, database, uri
        self.transactions = transactions

    def bound(self, duplicate: str = "") -> Any:
        """Return the context in which neomodel calls run against this backend."""
        return models.bound(self.driver, self.database, self.uri, duplicate)

    def write(self, work: Callable[..., Any], *args: Any, duplicate: str = "") -> Any:
        """Run ``work(tx, *args)`` in one driver write transaction (the open one, if any), errors translated."""
        import neo4j

        if self.transactions is not None and self.transactions.current is not None:
            with models.neomodel_translated(duplicate):
                return self.transactions.write(work, *args)
        with translate_errors(self.uri), models.neomodel_translated(duplicate), self.driver.session(
            database=self.database, default_access_mode=neo4j.WRITE_ACCESS
        ) as session:
            return session.execute_write(work, *args)

    def read(self, query: str, **params: Any) -> list[Any]:
        """Return the records of a read query."""
        with translate_errors(self.uri):
            records, _, _ = self.driver.execute_query(query, params, database_=self.database, routing_="r")
        return records

    def allocator(self, sequence: str, block: int = 1) -> SequenceAllocator:
        """Return a pk allocator on ``sequence``."""
        return SequenceAllocator(self.driver, self.database, sequence, block)

    def new_pks(self, allocator: SequenceAllocator, count: int) -> list[int]:
        """Return ``count`` fresh pks from ``allocator``."""
        with translate_errors(self.uri):
            return allocator.take(count)


def _as_pk(value: Any, what: str = "a pk") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an int, not {value!r}")
    return value


def _pk_list(values: Sequence[int]) -> list[int]:
    """Return the distinct pks of ``values`` in their order."""
    return list(dict.fromkeys(_as_pk(value, "a node pk") for value in values))


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


def _require_new(record: Any, what: str) -> None:
    if record.pk is not None:
        raise StoringError(f"this {what} is stored already (pk {record.pk})")


def _lookup(kind: str, label: str | None, pk: int | None, uuid: str | None) -> tuple[dict[str, Any], str]:
    """Return the neomodel filters and the description of a get by exactly one key."""
    given = [name for name, value in (("label", label), ("pk", pk), ("uuid", uuid)) if value is not None]
    if len(given) != 1:
        raise ValidationError(f"give exactly one of label, pk, uuid to get a {kind} (got {given or 'none'})")
    if pk is not None:
        return {"pk": _as_pk(pk)}, f"{kind} with pk {pk}"
    if uuid is not None:
        return {"uuid__startswith": require_text(uuid, f"a {kind} uuid")}, f"{kind} with uuid {uuid!r}"
    return {"label": require_text(label, f"a {kind} label")}, f"{kind} labelled {label!r}"


def _missing_nodes(tx: neo4j.ManagedTransaction, pks: list[int]) -> list[int]:
    """Return the pks of ``pks`` that name no node."""
    missing: list[int] = []
    for batch in _batches(pks):
        row = tx.run(
            "UNWIND $pks AS pk OPTIONAL MATCH (n:Node {pk: pk}) WITH pk, n WHERE n IS NULL "
            "RETURN collect(pk) AS missing", pks=batch,
        ).single()
        missing.extend(row["missing"] if row else [])
    return missing


def _refuse_missing_nodes(tx: neo4j.ManagedTransaction, pks: list[int], purpose: str) -> None:
    missing = _missing_nodes(tx, pks)
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise NotExistent(f"no node with pk {shown} ({purpose}); nothing was written")


def _refuse_taken(model: type, message: str, **filters: Any) -> None:
    """Raise StoringError(message) if an entity matches ``filters``. Must run inside ``bound``."""
    if models.get_many(model, ("pk",), **filters):
        raise StoringError(message)


class Neo4jUsers(UserCollection):
    """Users as ``(:User {email, first_name, last_name, institution})``."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx

    def get_or_create(self, email: str, first_name: str = "", last_name: str = "",
                      institution: str = "") -> UserRecord:
        record = UserRecord(email, first_name, last_name, institution)
        record.validate()
        with self._ctx.bound():
            return models.to_record(models.get_or_create_user(record))

    def get(self, email: str) -> UserRecord:
        with self._ctx.bound():
            return models.to_record(models.get_one(UserNode, f"user with email {email!r}", email=email))

    def update(self, email: str, /, **fields: str) -> UserRecord:
        unknown = sorted(set(fields) - set(USER_FIELDS))
        if unknown:
            raise ValidationError(f"cannot update user fields {unknown}; only {list(USER_FIELDS)}")
        for name, value in fields.items():
            require_text(value, f"a user's {name}", empty=True)
        with self._ctx.bound():
            user = models.get_one(UserNode, f"user with email {email!r}", email=email)
            for name, value in fields.items():
                setattr(user, name, value)
            return models.to_record(user.save())

    def list(self) -> list[UserRecord]:
        with self._ctx.bound():
            return [models.to_record(user) for user in models.get_many(UserNode, ("email",))]


class Neo4jComputers(ComputerCollection):
    """Computers as ``(:Computer)``; transport settings as ``(:User)-[:AUTHINFO {params}]->(:Computer)``."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._pks = ctx.allocator("computer_pk")

    def store(self, record: ComputerRecord) -> int:
        _require_new(record, "computer")
        record.validate()
        pk = self._ctx.new_pks(self._pks, 1)[0]
        with self._ctx.bound(duplicate=f"a computer labelled {record.label!r} or with uuid {record.uuid} "
                                       "already exists"):
            _refuse_taken(ComputerNode, f"a computer labelled {record.label!r} already exists",
                          label=record.label)
            models.to_model(replace(record, pk=pk)).save()
        record.pk = pk
        return pk

    def get(self, *, label: str | None = None, pk: int | None = None,
            uuid: str | None = None) -> ComputerRecord:
        filters, what = _lookup("computer", label, pk, uuid)
        with self._ctx.bound():
            return models.to_record(models.get_one(ComputerNode, what, **filters))

    def delete(self, pk: int) -> None:
        with self._ctx.bound():
            computer = models.get_one(ComputerNode, f"computer with pk {pk}", pk=_as_pk(pk))
            used = self._ctx.read("MATCH (n:Node {computer: $label}) RETURN count(n) AS used",
                                  label=computer.label)[0]["used"]
            if used:
                raise ModificationNotAllowed(
                    f"computer {computer.label!r} is used by {used} node(s) and cannot be deleted"
                )
            computer.delete()

    def set_auth(self, computer_pk: int, user_email: str, params: dict[str, Any]) -> None:
        stored = models.auth_params_property(require_json_dict(params, "transport params"))
        self._ctx.write(_merge_authinfo, _as_pk(computer_pk), user_email, stored)

    def get_auth(self, computer_pk: int, user_email: str) -> dict[str, Any]:
        with self._ctx.bound():
            computer = models.get_one(ComputerNode, f"computer with pk {computer_pk}", pk=_as_pk(computer_pk))
            user = models.get_one(UserNode, f"user with email {user_email!r}", email=user_email)
            relationship = models.auth_relationship(user, computer)
        if relationship is None:
            raise NotExistent(f"computer {computer.label!r} is not configured for user {user_email!r}")
        return relationship.params

    def list(self) -> list[ComputerRecord]:
        with self._ctx.bound():
            return [models.to_record(c) for c in models.get_many(ComputerNode, ("label",))]


def _merge_authinfo(tx: neo4j.ManagedTransaction, pk: int, email: str, params: str) -> None:
    """Create or replace the AUTHINFO of ``email`` on computer ``pk`` (MERGE locks both ends)."""
    found = tx.run(
        "OPTIONAL MATCH (c:Computer {pk: $pk}) OPTIONAL MATCH (u:User {email: $email}) "
        "RETURN c IS NOT NULL AS computer, u IS NOT NULL AS user", pk=pk, email=email,
    ).single()
    if not found["computer"]:
        raise NotExistent(f"no computer with pk {pk}")
    if not found["user"]:
        raise NotExistent(f"no user with email {email!r}")
    tx.run(
        "MATCH (c:Computer {pk: $pk}) MATCH (u:User {email: $email}) "
        "MERGE (u)-[a:AUTHINFO]->(c) SET a.params = $params", pk=pk, email=email, params=params,
    ).consume()


class Neo4jGroups(GroupCollection):
    """Groups as ``(:Group)``, members as ``(:Group)-[:MEMBER]->(:Node)``."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._pks = ctx.allocator("group_pk")

    @staticmethod
    def _taken(label: str, type_string: str) -> str:
        return f"a group labelled {label!r} of type {type_string!r} already exists"

    def store(self, record: GroupRecord) -> int:
        _require_new(record, "group")
        record.validate()
        pk = self._ctx.new_pks(self._pks, 1)[0]
        taken = self._taken(record.label, record.type_string)
        with self._ctx.bound(duplicate=f"{taken}, or a group has uuid {record.uuid}"):
            _refuse_taken(GroupNode, taken, label=record.label, type_string=record.type_string)
            models.to_model(replace(record, pk=pk)).save()
        record.pk = pk
        return pk

    def get(self, *, label: str | None = None, pk: int | None = None, uuid: str | None = None,
            type_string: str = "core") -> GroupRecord:
        filters, what = _lookup("group", label, pk, uuid)
        if label is not None:
            filters["type_string"] = type_string
            what += f" of type {type_string!r}"
        with self._ctx.bound():
            return models.to_record(models.get_one(GroupNode, what, **filters))

    def delete(self, pk: int) -> None:
        with self._ctx.bound():
            models.get_one(GroupNode, f"group with pk {pk}", pk=_as_pk(pk)).delete()

    def update(self, pk: int, *, label: str | None = None, description: str | None = None,
               extras: dict[str, Any] | None = None) -> GroupRecord:
        changes: dict[str, Any] = {}
        if label is not None:
            changes["label"] = require_text(label, "a group's label")
        if description is not None:
            changes["description"] = require_text(description, "a group's description", empty=True)
        if extras is not None:
            changes["extras"] = require_json_dict(extras, "group extras")
        with self._ctx.bound(duplicate=f"a group labelled {label!r} already exists in its type"):
            group = models.get_one(GroupNode, f"group with pk {pk}", pk=_as_pk(pk))
            if changes.get("label", group.label) != group.label:
                _refuse_taken(GroupNode, self._taken(label, group.type_string), label=label,
                              type_string=group.type_string)
            for name, value in changes.items():
                setattr(group, name, value)
            return models.to_record(group.save() if changes else group)

    def add_nodes(self, group_pk: int, node_pks: Sequence[int]) -> None:
        self._ctx.write(_add_members, _as_pk(group_pk), _pk_list(node_pks))

    def remove_nodes(self, group_pk: int, node_pks: Sequence[int]) -> None:
        self._ctx.write(_remove_members, _as_pk(group_pk), _pk_list(node_pks))

    def node_pks(self, group_pk: int) -> list[int]:
        rows = self._ctx.read(
            "MATCH (g:Group {pk: $pk}) OPTIONAL MATCH (g)-[:MEMBER]->(n:Node) "
            "WITH g, n.pk AS member ORDER BY member RETURN g.pk AS group, collect(member) AS pks",
            pk=_as_pk(group_pk),
        )
        if not rows:
            raise NotExistent(f"no group with pk {group_pk}")
        return list(rows[0]["pks"])

    def groups_of(self, node_pk: int) -> list[GroupRecord]:
        query = "MATCH (g:Group)-[:MEMBER]->(:Node {pk: $pk}) RETURN g ORDER BY g.pk"
        rows = self._ctx.read(query, pk=_as_pk(node_pk, "a node pk"))
        return [models.record_from_node(GroupRecord, row["g"]) for row in rows]

    def list(self, type_string: str | None = None) -> list[GroupRecord]:
        filters = {} if type_string is None else {"type_string": type_string}
        with self._ctx.bound():
            return [models.to_record(g) for g in models.get_many(GroupNode, ("pk",), **filters)]


def _require_group(tx: neo4j.ManagedTransaction, pk: int) -> None:
    if tx.run("MATCH (g:Group {pk: $pk}) RETURN g.pk AS pk", pk=pk).single() is None:
        raise NotExistent(f"no group with pk {pk}")


def _add_members(tx: neo4j.ManagedTransaction, group_pk: int, pks: list[int]) -> None:
    _require_group(tx, group_pk)
    _refuse_missing_nodes(tx, pks, f"adding to group {group_pk}")
    for batch in _batches(pks):
        tx.run(
            "MATCH (g:Group {pk: $group}) UNWIND $pks AS pk MATCH (n:Node {pk: pk}) MERGE (g)-[:MEMBER]->(n)",
            group=group_pk, pks=batch,
        ).consume()


def _remove_members(tx: neo4j.ManagedTransaction, group_pk: int, pks: list[int]) -> None:
    _require_group(tx, group_pk)
    for batch in _batches(pks):
        tx.run(
            "UNWIND $pks AS pk MATCH (:Group {pk: $group})-[r:MEMBER]->(:Node {pk: pk}) DELETE r",
            group=group_pk, pks=batch,
        ).consume()


class Neo4jComments(CommentCollection):
    """Comments as ``(:Comment {node_pk, ...})-[:ON]->(:Node)``."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._pks = ctx.allocator("comment_pk")

    def add(self, record: CommentRecord) -> int:
        _require_new(record, "comment")
        record.validate()
        pk = self._ctx.new_pks(self._pks, 1)[0]
        props = models.properties_of(replace(record, pk=pk))
        self._ctx.write(_create_comment, record.node_pk, props,
                        duplicate=f"a comment with uuid {record.uuid} already exists")
        record.pk = pk
        return pk

    def get(self, pk: int) -> CommentRecord:
        with self._ctx.bound():
            return models.to_record(models.get_one(CommentNode, f"comment with pk {pk}", pk=_as_pk(pk)))

    def for_node(self, node_pk: int) -> list[CommentRecord]:
        with self._ctx.bound():
            found = models.get_many(CommentNode, ("ctime", "pk"), node_pk=_as_pk(node_pk, "a node pk"))
            return [models.to_record(comment) for comment in found]

    def update(self, pk: int, content: str) -> CommentRecord:
        require_text(content, "a comment's content", empty=True)
        with self._ctx.bound():
            comment = models.get_one(CommentNode, f"comment with pk {pk}", pk=_as_pk(pk))
            comment.content, comment.mtime = content, datetime.now(timezone.utc)
            return models.to_record(comment.save())

    def delete(self, pk: int) -> None:
        with self._ctx.bound():
            models.get_one(CommentNode, f"comment with pk {pk}", pk=_as_pk(pk)).delete()


def _create_comment(tx: neo4j.ManagedTransaction, node_pk: int, props: dict[str, Any]) -> None:
    row = tx.run(
        "MATCH (n:Node {pk: $node}) CREATE (c:Comment)-[:ON]->(n) SET c = $props RETURN c.pk AS pk",
        node=node_pk, props=props,
    ).single()
    if row is None:
        raise NotExistent(f"no node with pk {node_pk} to comment on")


class Neo4jLogs(LogCollection):
    """Log records as ``(:Log {node_pk, time, ...})-[:OF]->(:Node)``, written in batches."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._pks = ctx.allocator("log_pk", block=PK_BLOCK)

    def add_many(self, records: Sequence[LogRecord]) -> list[int]:
        records = list(records)
        for record in records:
            _require_new(record, "log record")
            record.validate()
        if not records:
            return []
        pks = self._ctx.new_pks(self._pks, len(records))
        rows = [{"node": record.node_pk, "props": models.properties_of(replace(record, pk=pk))}
                for record, pk in zip(records, pks, strict=True)]
        node_pks = list(dict.fromkeys(r.node_pk for r in records))
        self._ctx.write(_create_logs, node_pks, rows, duplicate="a log record's uuid is taken already")
        for record, pk in zip(records, pks, strict=True):
            record.pk = pk
        return pks

    def get(self, pk: int) -> LogRecord:
        with self._ctx.bound():
            return models.to_record(models.get_one(LogNode, f"log record with pk {pk}", pk=_as_pk(pk)))

    def for_node(self, node_pk: int) -> list[LogRecord]:
        with self._ctx.bound():
            found = models.get_many(LogNode, ("time", "pk"), node_pk=_as_pk(node_pk, "a node pk"))
            return [models.to_record(log) for log in found]

    def delete_for_nodes(self, node_pks: Sequence[int]) -> int:
        return self._ctx.write(_delete_logs, _pk_list(node_pks))


def _create_logs(tx: neo4j.ManagedTransaction, node_pks: list[int], rows: list[dict[str, Any]]) -> None:
    _refuse_missing_nodes(tx, node_pks, "storing log records")
    for batch in _batches(rows):
        tx.run(
            "UNWIND $rows AS row MATCH (n:Node {pk: row.node}) CREATE (l:Log)-[:OF]->(n) SET l = row.props",
            rows=batch,
        ).consume()


def _delete_logs(tx: neo4j.ManagedTransaction, node_pks: list[int]) -> int:
    deleted = 0
    for batch in _batches(node_pks):
        summary = tx.run("UNWIND $pks AS pk MATCH (l:Log {node_pk: pk}) DETACH DELETE l", pks=batch).consume()
        deleted += summary.counters.nodes_deleted
    return deleted


class Neo4jEntities:
    """The five entity collections of one neo4j backend (``.users .computers .groups .comments .logs``).

    :param driver: the backend's official driver (neomodel is pointed at it for each call)
    :param database: the Neo4j database name
    :param uri: the server's URI, for error messages
    """

    def __init__(self, driver: neo4j.Driver, database: str, uri: str, transactions: Any = None) -> None:
        ctx = _Context(driver, database, uri, transactions)
        self.users = Neo4jUsers(ctx)
        self.computers = Neo4jComputers(ctx)
        self.groups = Neo4jGroups(ctx)
        self.comments = Neo4jComments(ctx)
        self.logs = Neo4jLogs(ctx)
