"""Users, computers, groups, comments and logs in sqlite (same semantics as the neo4j backend).

Each collection runs SQLAlchemy Core statements on the backend's engine; every write is one
``BEGIN IMMEDIATE`` transaction, so its checks (label taken, node missing...) and its writes
see the same database state, and a refused write leaves nothing behind. Entity pks come from
AUTOINCREMENT (unique, never reused). Records get their pk only once the write committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from provgraph.exceptions import (
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    StoringError,
    ValidationError,
)
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
from provgraph.storage.sqlite import db, schema
from provgraph.storage.sqlite.records import from_json, json_list, to_json

USER_FIELDS = ("first_name", "last_name", "institution")
BATCH = 500


def _as_pk(value: Any, what: str = "a pk") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an int, not {value!r}")
    return value


def _pk_list(values: Sequence[int]) -> list[int]:
    """Return the distinct pks of ``values`` in their order."""
    return list(dict.fromkeys(_as_pk(value, "a node pk") for value in values))


def _require_new(record: Any, what: str) -> None:
    if record.pk is not None:
        raise StoringError(f"this {what} is stored already (pk {record.pk})")


def _get_one(connection: Connection, table: Table, what: str, *conditions: Any) -> Any:
    """Return the one row of ``table`` matching ``conditions``.

    :raises NotExistent: when none matches
    :raises MultipleObjectsError: when several match
    """
    rows = connection.execute(select(table).where(*conditions).limit(2)).all()
    if not rows:
        raise NotExistent(f"no {what}")
    if len(rows) > 1:
        raise MultipleObjectsError(f"more than one {what}; be more specific")
    return rows[0]


def _lookup(table: Table, kind: str, label: str | None, pk: int | None, uuid: str | None) -> tuple[list[Any], str]:
    """Return the conditions and the description of a get by exactly one key."""
    given = [name for name, value in (("label", label), ("pk", pk), ("uuid", uuid)) if value is not None]
    if len(given) != 1:
        raise ValidationError(f"give exactly one of label, pk, uuid to get a {kind} (got {given or 'none'})")
    if pk is not None:
        return [table.c.pk == _as_pk(pk)], f"{kind} with pk {pk}"
    if uuid is not None:
        prefix = require_text(uuid, f"a {kind} uuid")
        return [func.substr(table.c.uuid, 1, len(prefix)) == prefix], f"{kind} with uuid {uuid!r}"
    return [table.c.label == require_text(label, f"a {kind} label")], f"{kind} labelled {label!r}"


def _missing_nodes(connection: Connection, pks: list[int]) -> list[int]:
    """Return the pks of ``pks`` that name no node."""
    rows = connection.execute(
        text("SELECT value FROM json_each(:pks) WHERE value NOT IN (SELECT pk FROM nodes)"), {"pks": json_list(pks)}
    )
    return [row.value for row in rows]


def refuse_missing_nodes(connection: Connection, pks: list[int], purpose: str) -> None:
    """Raise NotExistent naming the pks of ``pks`` that are no node (nothing is written then)."""
    missing = _missing_nodes(connection, pks)
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise NotExistent(f"no node with pk {shown} ({purpose}); nothing was written")


def _exists(connection: Connection, table: Table, *conditions: Any) -> bool:
    return connection.execute(select(func.count()).select_from(table).where(*conditions)).scalar() > 0


class SqliteUsers(UserCollection):
    """Users as rows of ``users``, keyed by email."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get_or_create(self, email: str, first_name: str = "", last_name: str = "",
                      institution: str = "") -> UserRecord:
        record = UserRecord(email, first_name, last_name, institution)
        record.validate()
        with db.write(self._engine) as connection:
            connection.execute(sqlite_insert(schema.users).values(**asdict(record)).on_conflict_do_nothing())
            return UserRecord(**_get_one(connection, schema.users, f"user with email {email!r}",
                                         schema.users.c.email == email)._asdict())

    def get(self, email: str) -> UserRecord:
        with db.read(self._engine) as connection:
            row = _get_one(connection, schema.users, f"user with email {email!r}", schema.users.c.email == email)
        return UserRecord(**row._asdict())

    def update(self, email: str, /, **fields: str) -> UserRecord:
        unknown = sorted(set(fields) - set(USER_FIELDS))
        if unknown:
            raise ValidationError(f"cannot update user fields {unknown}; only {list(USER_FIELDS)}")
        for name, value in fields.items():
            require_text(value, f"a user's {name}", empty=True)
        with db.write(self._engine) as connection:
            where = schema.users.c.email == email
            _get_one(connection, schema.users, f"user with email {email!r}", where)
            if fields:
                connection.execute(update(schema.users).where(where).values(**fields))
            return UserRecord(**_get_one(connection, schema.users, f"user with email {email!r}", where)._asdict())

    def list(self) -> list[UserRecord]:
        with db.read(self._engine) as connection:
            rows = connection.execute(select(schema.users).order_by(schema.users.c.email)).all()
        return [UserRecord(**row._asdict()) for row in rows]


def _computer_record(row: Any) -> ComputerRecord:
    values = row._asdict()
    values["mpirun_command"] = from_json(values["mpirun_command"])
    values["metadata"] = from_json(values["metadata"])
    return ComputerRecord(**values)


class SqliteComputers(ComputerCollection):
    """Computers as rows of ``computers``; transport settings as rows of ``authinfos``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def store(self, record: ComputerRecord) -> int:
        _require_new(record, "computer")
        record.validate()
        values = asdict(record)
        values.pop("pk")
        values["mpirun_command"] = to_json(values["mpirun_command"], "mpirun_command")
        values["metadata"] = to_json(values["metadata"], "computer metadata")
        table = schema.computers
        with db.write(self._engine) as connection:
            if _exists(connection, table, table.c.label == record.label):
                raise StoringError(f"a computer labelled {record.label!r} already exists")
            if _exists(connection, table, table.c.uuid == record.uuid):
                raise StoringError(f"a computer with uuid {record.uuid} already exists")
            pk = connection.execute(insert(table).values(**values).returning(table.c.pk)).scalar_one()
        record.pk = pk
        return pk

    def get(self, *, label: str | None = None, pk: int | None = None,
            uuid: str | None = None) -> ComputerRecord:
        conditions, what = _lookup(schema.computers, "computer", label, pk, uuid)
        with db.read(self._engine) as connection:
            return _computer_record(_get_one(connection, schema.computers, what, *conditions))

    def delete(self, pk: int) -> None:
        table = schema.computers
        with db.write(self._engine) as connection:
            computer = _get_one(connection, table, f"computer with pk {pk}", table.c.pk == _as_pk(pk))
            used = connection.execute(
                select(func.count()).select_from(schema.nodes).where(schema.nodes.c.computer == computer.label)
            ).scalar()
            if used:
                raise ModificationNotAllowed(
                    f"computer {computer.label!r} is used by {used} node(s) and cannot be deleted"
                )
            connection.execute(delete(schema.authinfos).where(schema.authinfos.c.computer_pk == pk))
            connection.execute(delete(table).where(table.c.pk == pk))

    def set_auth(self, computer_pk: int, user_email: str, params: dict[str, Any]) -> None:
        stored = to_json(require_json_dict(params, "transport params"), "transport params")
        pk = _as_pk(computer_pk)
        with db.write(self._engine) as connection:
            self._require_both(connection, pk, user_email)
            statement = sqlite_insert(schema.authinfos).values(computer_pk=pk, user_email=user_email, params=stored)
            connection.execute(statement.on_conflict_do_update(
                index_elements=[schema.authinfos.c.computer_pk, schema.authinfos.c.user_email],
                set_={"params": statement.excluded.params},
            ))

    @staticmethod
    def _require_both(connection: Connection, pk: int, email: str) -> Any:
        computer = _get_one(connection, schema.computers, f"computer with pk {pk}", schema.computers.c.pk == pk)
        _get_one(connection, schema.users, f"user with email {email!r}", schema.users.c.email == email)
        return computer

    def get_auth(self, computer_pk: int, user_email: str) -> dict[str, Any]:
        pk = _as_pk(computer_pk)
        table = schema.authinfos
        with db.read(self._engine) as connection:
            computer = self._require_both(connection, pk, user_email)
            params = connection.execute(
                select(table.c.params).where(table.c.computer_pk == pk, table.c.user_email == user_email)
            ).scalar()
        if params is None:
            raise NotExistent(f"computer {computer.label!r} is not configured for user {user_email!r}")
        return from_json(params)

    def list(self) -> list[ComputerRecord]:
        with db.read(self._engine) as connection:
            rows = connection.execute(select(schema.computers).order_by(schema.computers.c.label)).all()
        return [_computer_record(row) for row in rows]


def _group_record(row: Any) -> GroupRecord:
    values = row._asdict()
    values["time"] = db.from_text(values["time"])
    values["extras"] = from_json(values["extras"])
    return GroupRecord(**values)


class SqliteGroups(GroupCollection):
    """Groups as rows of ``groups``, members as rows of ``group_nodes``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _taken(label: str, type_string: str) -> str:
        return f"a group labelled {label!r} of type {type_string!r} already exists"

    def store(self, record: GroupRecord) -> int:
        _require_new(record, "group")
        record.validate()
        values = asdict(record)
        values.pop("pk")
        values["time"] = db.to_text(record.time, "a group's time")
        values["extras"] = to_json(record.extras, "group extras")
        table = schema.groups
        with db.write(self._engine) as connection:
            if _exists(connection, table, table.c.label == record.label, table.c.type_string == record.type_string):
                raise StoringError(self._taken(record.label, record.type_string))
            if _exists(connection, table, table.c.uuid == record.uuid):
                raise StoringError(f"a group with uuid {record.uuid} already exists")
            pk = connection.execute(insert(table).values(**values).returning(table.c.pk)).scalar_one()
        record.pk = pk
        return pk

    def get(self, *, label: str | None = None, pk: int | None = None, uuid: str | None = None,
            type_string: str = "core") -> GroupRecord:
        conditions, what = _lookup(schema.groups, "group", label, pk, uuid)
        if label is not None:
            conditions.append(schema.groups.c.type_string == type_string)
            what += f" of type {type_string!r}"
        with db.read(self._engine) as connection:
            return _group_record(_get_one(connection, schema.groups, what, *conditions))

    def _require(self, connection: Connection, pk: int) -> Any:
        return _get_one(connection, schema.groups, f"group with pk {pk}", schema.groups.c.pk == _as_pk(pk))

    def delete(self, pk: int) -> None:
        with db.write(self._engine) as connection:
            self._require(connection, pk)
            connection.execute(delete(schema.group_nodes).where(schema.group_nodes.c.group_pk == pk))
            connection.execute(delete(schema.groups).where(schema.groups.c.pk == pk))

    def update(self, pk: int, *, label: str | None = None, description: str | None = None,
               extras: dict[str, Any] | None = None) -> GroupRecord:
        changes: dict[str, Any] = {}
        if label is not None:
            changes["label"] = require_text(label, "a group's label")
        if description is not None:
            changes["description"] = require_text(description, "a group's description", empty=True)
        if extras is not None:
            changes["extras"] = to_json(require_json_dict(extras, "group extras"), "group extras")
        table = schema.groups
        with db.write(self._engine) as connection:
            group = self._require(connection, pk)
            if changes.get("label", group.label) != group.label and _exists(
                    connection, table, table.c.label == label, table.c.type_string == group.type_string):
                raise StoringError(self._taken(label, group.type_string))
            if changes:
                connection.execute(update(table).where(table.c.pk == pk).values(**changes))
            return _group_record(self._require(connection, pk))

    def add_nodes(self, group_pk: int, node_pks: Sequence[int]) -> None:
        pks = _pk_list(node_pks)
        with db.write(self._engine) as connection:
            self._require(connection, group_pk)
            refuse_missing_nodes(connection, pks, f"adding to group {group_pk}")
            rows = [{"group_pk": group_pk, "node_pk": pk} for pk in pks]
            for start in range(0, len(rows), BATCH):
                connection.execute(sqlite_insert(schema.group_nodes).on_conflict_do_nothing(),
                                   rows[start:start + BATCH])

    def remove_nodes(self, group_pk: int, node_pks: Sequence[int]) -> None:
        pks = _pk_list(node_pks)
        with db.write(self._engine) as connection:
            self._require(connection, group_pk)
            connection.execute(
                text("DELETE FROM group_nodes WHERE group_pk = :group"
                     " AND node_pk IN (SELECT value FROM json_each(:pks))"),
                {"group": group_pk, "pks": json_list(pks)},
            )

    def node_pks(self, group_pk: int) -> list[int]:
        table = schema.group_nodes
        with db.read(self._engine) as connection:
            self._require(connection, group_pk)
            query = select(table.c.node_pk).where(table.c.group_pk == group_pk).order_by(table.c.node_pk)
            return list(connection.execute(query).scalars())

    def groups_of(self, node_pk: int) -> list[GroupRecord]:
        members = select(schema.group_nodes.c.group_pk).where(
            schema.group_nodes.c.node_pk == _as_pk(node_pk, "a node pk"))
        query = select(schema.groups).where(schema.groups.c.pk.in_(members)).order_by(schema.groups.c.pk)
        with db.read(self._engine) as connection:
            return [_group_record(row) for row in connection.execute(query)]

    def list(self, type_string: str | None = None) -> list[GroupRecord]:
        query = select(schema.groups).order_by(schema.groups.c.pk)
        if type_string is not None:
            query = query.where(schema.groups.c.type_string == type_string)
        with db.read(self._engine) as connection:
            return [_group_record(row) for row in connection.execute(query)]


def _comment_record(row: Any) -> CommentRecord:
    values = row._asdict()
    values["ctime"], values["mtime"] = db.from_text(values["ctime"]), db.from_text(values["mtime"])
    return CommentRecord(**values)


class SqliteComments(CommentCollection):
    """Comments as rows of ``comments`` (deleted with their node)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, record: CommentRecord) -> int:
        _require_new(record, "comment")
        record.validate()
        values = asdict(record)
        values.pop("pk")
        values["ctime"], values["mtime"] = db.to_text(record.ctime), db.to_text(record.mtime)
        table = schema.comments
        with db.write(self._engine) as connection:
            if not _exists(connection, schema.nodes, schema.nodes.c.pk == record.node_pk):
                raise NotExistent(f"no node with pk {record.node_pk} to comment on")
            if _exists(connection, table, table.c.uuid == record.uuid):
                raise StoringError(f"a comment with uuid {record.uuid} already exists")
            pk = connection.execute(insert(table).values(**values).returning(table.c.pk)).scalar_one()
        record.pk = pk
        return pk

    def _get(self, connection: Connection, pk: int) -> CommentRecord:
        table = schema.comments
        return _comment_record(_get_one(connection, table, f"comment with pk {pk}", table.c.pk == _as_pk(pk)))

    def get(self, pk: int) -> CommentRecord:
        with db.read(self._engine) as connection:
            return self._get(connection, pk)

    def for_node(self, node_pk: int) -> list[CommentRecord]:
        table = schema.comments
        query = select(table).where(table.c.node_pk == _as_pk(node_pk, "a node pk")).order_by(table.c.ctime,
                                                                                                 table.c.pk)
        with db.read(self._engine) as connection:
            return [_comment_record(row) for row in connection.execute(query)]

    def update(self, pk: int, content: str) -> CommentRecord:
        require_text(content, "a comment's content", empty=True)
        with db.write(self._engine) as connection:
            self._get(connection, pk)
            connection.execute(update(schema.comments).where(schema.comments.c.pk == pk).values(
                content=content, mtime=db.to_text(datetime.now(timezone.utc))))
            return self._get(connection, pk)

    def delete(self, pk: int) -> None:
        with db.write(self._engine) as connection:
            self._get(connection, pk)
            connection.execute(delete(schema.comments).where(schema.comments.c.pk == pk))


def _log_record(row: Any) -> LogRecord:
    values = row._asdict()
    values["time"] = db.from_text(values["time"])
    values["metadata"] = from_json(values["metadata"])
    return LogRecord(**values)


def log_row(record: LogRecord) -> dict[str, Any]:
    """Return the ``logs`` row of a validated record (without its pk)."""
    values = asdict(record)
    values.pop("pk")
    values["time"] = db.to_text(record.time, "a log's time")
    values["metadata"] = to_json(record.metadata, "log metadata")
    return values


def insert_logs(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert log rows inside a write transaction (their nodes must exist); return their pks, in order.

    :raises NotExistent: when a row's node does not exist
    :raises StoringError: when a uuid is taken
    """
    if not rows:
        return []
    refuse_missing_nodes(connection, list(dict.fromkeys(row["node_pk"] for row in rows)), "storing log records")
    uuids = [row["uuid"] for row in rows]
    taken = connection.execute(
        text("SELECT count(*) FROM logs WHERE uuid IN (SELECT value FROM json_each(:uuids))"),
        {"uuids": json_list(uuids)},
    ).scalar()
    if taken or len(set(uuids)) != len(uuids):
        raise StoringError("a log record's uuid is taken already")
    pks = db.allocate_pks(connection, "logs", len(rows))
    numbered = [{**row, "pk": pk} for row, pk in zip(rows, pks, strict=True)]
    for start in range(0, len(numbered), BATCH):
        connection.execute(insert(schema.logs), numbered[start:start + BATCH])
    return pks


class SqliteLogs(LogCollection):
    """Log records as rows of ``logs`` (deleted with their node), written in batches."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_many(self, records: Sequence[LogRecord]) -> list[int]:
        records = list(records)
        for record in records:
            _require_new(record, "log record")
            record.validate()
        if not records:
            return []
        rows = [log_row(record) for record in records]
        with db.write(self._engine) as connection:
            pks = insert_logs(connection, rows)
        for record, pk in zip(records, pks, strict=True):
            record.pk = pk
        return pks

    def get(self, pk: int) -> LogRecord:
        table = schema.logs
        with db.read(self._engine) as connection:
            return _log_record(_get_one(connection, table, f"log record with pk {pk}", table.c.pk == _as_pk(pk)))

    def for_node(self, node_pk: int) -> list[LogRecord]:
        table = schema.logs
        query = select(table).where(table.c.node_pk == _as_pk(node_pk, "a node pk")).order_by(table.c.time,
                                                                                                 table.c.pk)
        with db.read(self._engine) as connection:
            return [_log_record(row) for row in connection.execute(query)]

    def delete_for_nodes(self, node_pks: Sequence[int]) -> int:
        pks = _pk_list(node_pks)
        with db.write(self._engine) as connection:
            result = connection.execute(
                text("DELETE FROM logs WHERE node_pk IN (SELECT value FROM json_each(:pks))"), {"pks": json_list(pks)}
            )
            return result.rowcount


class SqliteEntities:
    """The five entity collections of one sqlite backend (``.users .computers .groups .comments .logs``)."""

    def __init__(self, engine: Engine) -> None:
        self.users = SqliteUsers(engine)
        self.computers = SqliteComputers(engine)
        self.groups = SqliteGroups(engine)
        self.comments = SqliteComments(engine)
        self.logs = SqliteLogs(engine)
