"""provgraph.storage.sqlite.entities: users, computers, groups, comments and logs (neo4j semantics)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from provgraph.exceptions import (
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    StoringError,
    ValidationError,
)
from provgraph.storage.entities import CommentRecord, ComputerRecord, GroupRecord, LogRecord


def test_users(sqlite_backend):
    users = sqlite_backend.users
    created = users.get_or_create("ada@example.org", first_name="Ada")
    assert users.get_or_create("ada@example.org", first_name="Other") == created  # existing is unchanged
    assert users.update("ada@example.org", last_name="Lovelace").last_name == "Lovelace"
    users.get_or_create("bob@example.org")
    assert [u.email for u in users.list()] == ["ada@example.org", "bob@example.org"]
    with pytest.raises(NotExistent):
        users.get("nobody@example.org")
    with pytest.raises(NotExistent):
        users.update("nobody@example.org", first_name="x")
    with pytest.raises(ValidationError):
        users.update("ada@example.org", email="x@y")
    with pytest.raises(ValidationError):
        users.get_or_create("not-an-email")


def test_computers_and_auth(sqlite_backend, make_node):
    computers = sqlite_backend.computers
    record = ComputerRecord("cluster", "login.example.org", "core.ssh", "core.slurm", metadata={"big": 2 ** 80})
    pk = computers.store(record)
    assert record.pk == pk
    assert computers.get(label="cluster") == record
    assert computers.get(uuid=record.uuid[:8]).pk == pk and computers.get(pk=pk).label == "cluster"
    with pytest.raises(StoringError, match="already exists"):
        computers.store(ComputerRecord("cluster", "h", "core.local", "core.direct"))
    with pytest.raises(StoringError):
        computers.store(record)
    with pytest.raises(ValidationError):
        computers.get(label="cluster", pk=pk)
    other = ComputerRecord("another", "h", "core.local", "core.direct")
    computers.store(other)
    assert [c.label for c in computers.list()] == ["another", "cluster"]
    sqlite_backend.users.get_or_create("ada@example.org")
    with pytest.raises(NotExistent, match="not configured"):
        computers.get_auth(pk, "ada@example.org")
    computers.set_auth(pk, "ada@example.org", {"port": 22})
    computers.set_auth(pk, "ada@example.org", {"port": 2222, "key": "~/.ssh/id"})
    assert computers.get_auth(pk, "ada@example.org") == {"port": 2222, "key": "~/.ssh/id"}
    with pytest.raises(NotExistent):
        computers.set_auth(pk, "nobody@example.org", {})
    with pytest.raises(NotExistent):
        computers.set_auth(10 ** 9, "ada@example.org", {})
    with pytest.raises(ValidationError):
        computers.set_auth(pk, "ada@example.org", {"bad": float("nan")})
    sqlite_backend.nodes.store([make_node("int", computer="cluster")])
    with pytest.raises(ModificationNotAllowed):
        computers.delete(pk)
    computers.delete(other.pk)
    with pytest.raises(NotExistent):
        computers.get(pk=other.pk)


def test_groups(sqlite_backend, make_node):
    groups = sqlite_backend.groups
    pks = sqlite_backend.nodes.store([make_node("int") for _ in range(3)])
    group = GroupRecord("g", extras={"a": [1, {}]})
    groups.store(group)
    assert groups.get(label="g") == group
    assert groups.get(pk=group.pk).extras == {"a": [1, {}]}
    with pytest.raises(StoringError, match="already exists"):
        groups.store(GroupRecord("g"))
    groups.store(GroupRecord("g", type_string="other"))  # labels are unique per type_string only
    with pytest.raises(NotExistent):
        groups.get(label="g", type_string="missing")
    groups.add_nodes(group.pk, pks)
    groups.add_nodes(group.pk, pks[:1])  # idempotent
    with pytest.raises(NotExistent, match="nothing was written"):
        groups.add_nodes(group.pk, [pks[0], 10 ** 9])
    assert groups.node_pks(group.pk) == pks
    groups.remove_nodes(group.pk, [pks[1], 10 ** 9])
    assert groups.node_pks(group.pk) == [pks[0], pks[2]]
    assert [g.pk for g in groups.groups_of(pks[0])] == [group.pk] and groups.groups_of(10 ** 9) == []
    updated = groups.update(group.pk, label="h", description="d", extras={})
    assert (updated.label, updated.description, updated.extras) == ("h", "d", {})
    groups.store(GroupRecord("taken"))
    with pytest.raises(StoringError):
        groups.update(group.pk, label="taken")
    assert [g.label for g in groups.list()] == ["h", "g", "taken"]
    assert [g.label for g in groups.list("other")] == ["g"]
    groups.delete(group.pk)
    with pytest.raises(NotExistent):
        groups.node_pks(group.pk)
    sqlite_backend.nodes.get(pk=pks[0])  # members are kept
    with pytest.raises(NotExistent):
        groups.delete(group.pk)


def test_comments(sqlite_backend, make_node):
    comments = sqlite_backend.comments
    pk = sqlite_backend.nodes.store([make_node("int")])[0]
    first = CommentRecord(node_pk=pk, content="first", user="ada@example.org")
    comments.add(first)
    second = CommentRecord(node_pk=pk, content="second", user="ada@example.org",
                           ctime=first.ctime - timedelta(hours=1))
    comments.add(second)
    assert [c.content for c in comments.for_node(pk)] == ["second", "first"]
    assert comments.for_node(10 ** 9) == []
    changed = comments.update(first.pk, "changed")
    assert changed.content == "changed" and changed.mtime > first.mtime
    with pytest.raises(NotExistent):
        comments.add(CommentRecord(node_pk=10 ** 9, content="x", user="a@b"))
    with pytest.raises(StoringError):
        comments.add(CommentRecord(node_pk=pk, content="x", user="a@b", uuid=first.uuid))
    comments.delete(first.pk)
    with pytest.raises(NotExistent):
        comments.get(first.pk)


def test_logs(sqlite_backend, make_node):
    logs = sqlite_backend.logs
    a, b = sqlite_backend.nodes.store([make_node("calc"), make_node("calc")])
    now = datetime.now(timezone.utc)
    records = [LogRecord(a, "late", "INFO", "x", time=now), LogRecord(a, "early", "INFO", "x",
                                                                      time=now - timedelta(seconds=1)),
               LogRecord(b, "other", "WARNING", "y", metadata={"n": 1})]
    pks = logs.add_many(records)
    assert [r.pk for r in records] == pks and pks == sorted(pks)
    assert [r.message for r in logs.for_node(a)] == ["early", "late"]
    assert logs.get(pks[2]).metadata == {"n": 1}
    bad = [LogRecord(a, "kept out", "INFO", "x"), LogRecord(10 ** 9, "x", "INFO", "x")]
    with pytest.raises(NotExistent):
        logs.add_many(bad)
    assert bad[0].pk is None and len(logs.for_node(a)) == 2
    with pytest.raises(StoringError):
        logs.add_many([LogRecord(a, "dup", "INFO", "x", uuid=records[0].uuid)])
    assert logs.delete_for_nodes([a, 10 ** 9]) == 2
    assert logs.for_node(a) == [] and len(logs.for_node(b)) == 1


def test_uuid_prefix_ambiguity_of_entities(sqlite_backend):
    for label, uuid in (("one", "abc00000-0000-4000-8000-000000000001"),
                        ("two", "abc00000-0000-4000-8000-000000000002")):
        sqlite_backend.groups.store(GroupRecord(label, uuid=uuid))
    with pytest.raises(MultipleObjectsError):
        sqlite_backend.groups.get(uuid="abc")
    assert sqlite_backend.groups.get(uuid="abc00000-0000-4000-8000-000000000002").label == "two"
