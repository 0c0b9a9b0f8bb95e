"""provgraph.storage.neo4j.entities: users, computers, groups, comments and logs on the real Neo4j.

Every test makes its own entities with uuid4-based names, so reruns and other
test modules sharing the database never collide.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from provgraph.exceptions import (
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    StoringError,
    ValidationError,
)
from provgraph.storage.base import NodeRecord
from provgraph.storage.entities import CommentRecord, ComputerRecord, GroupRecord, LogRecord
from provgraph.storage.neo4j import models
from provgraph.storage.neo4j.nodes import BATCH

pytestmark = pytest.mark.requires_neo4j


def unique(prefix: str) -> str:
    """Return a name no other test run uses."""
    return f"{prefix}-{uuid.uuid4()}"


def make_nodes(backend, count: int = 1, computer: str | None = None) -> list[int]:
    """Store ``count`` Int nodes and return their pks."""
    now = datetime.now(timezone.utc)
    records = [
        NodeRecord(uuid=str(uuid.uuid4()), node_type="data.core.int", labels=("Node", "Data", "Int"),
                   ctime=now, mtime=now, user="tests@provgraph.example", attributes={"value": i},
                   computer=computer)
        for i in range(count)
    ]
    return backend.nodes.store(records)


@pytest.fixture
def user(neo4j_backend) -> str:
    """The email of a fresh user."""
    email = f"{uuid.uuid4().hex}@provgraph.example"
    neo4j_backend.users.get_or_create(email, "Ada", "Lovelace", "Analytical Engines")
    return email


@pytest.fixture
def computer(neo4j_backend) -> ComputerRecord:
    """A fresh stored computer."""
    record = ComputerRecord(unique("computer"), "localhost", "core.local", "core.direct")
    neo4j_backend.computers.store(record)
    return record


@pytest.fixture
def group(neo4j_backend, user) -> GroupRecord:
    """A fresh stored group of type ``core``."""
    record = GroupRecord(unique("group"), user=user)
    neo4j_backend.groups.store(record)
    return record


# --- users ---------------------------------------------------------------------------------------

def test_user_get_or_create_returns_existing_unchanged(neo4j_backend, user):
    again = neo4j_backend.users.get_or_create(user, "Someone", "Else")
    assert (again.email, again.first_name, again.last_name, again.institution) == (
        user, "Ada", "Lovelace", "Analytical Engines")
    assert neo4j_backend.users.get(user) == again
    assert user in [u.email for u in neo4j_backend.users.list()]


def test_user_update_and_errors(neo4j_backend, user):
    updated = neo4j_backend.users.update(user, institution="EPFL")
    assert updated.institution == "EPFL" and neo4j_backend.users.get(user).institution == "EPFL"
    with pytest.raises(NotExistent, match="no user with email"):
        neo4j_backend.users.get(f"nobody-{uuid.uuid4().hex}@provgraph.example")
    with pytest.raises(ValidationError, match="cannot update user fields"):
        neo4j_backend.users.update(user, email="x@y.z")
    with pytest.raises(ValidationError, match="not an email"):
        neo4j_backend.users.get_or_create("not-an-email")


# --- computers -----------------------------------------------------------------------------------

def test_computer_round_trip_and_lookups(neo4j_backend):
    record = ComputerRecord(
        unique("cluster"), "cluster.example.org", "core.ssh", "core.slurm", description="a cluster",
        mpirun_command=[], default_mpiprocs_per_machine=36, prepend_text="module load x",
        append_text="echo done", metadata={"shebang": "#!/bin/bash", "nested": {"list": [1, 2.5, None]}},
    )
    pk = neo4j_backend.computers.store(record)
    assert record.pk == pk
    for key in ({"label": record.label}, {"pk": pk}, {"uuid": record.uuid}, {"uuid": record.uuid[:18]}):
        assert neo4j_backend.computers.get(**key) == record
    assert record.label in [c.label for c in neo4j_backend.computers.list()]


def test_computer_pks_are_unique_and_increasing(neo4j_backend, computer):
    second = ComputerRecord(unique("computer"), "localhost", "core.local", "core.direct")
    assert neo4j_backend.computers.store(second) > computer.pk


def test_duplicate_computer_label_is_refused(neo4j_backend, computer):
    clone = ComputerRecord(computer.label, "elsewhere", "core.local", "core.direct")
    with pytest.raises(StoringError, match=f"a computer labelled '{computer.label}' already exists"):
        neo4j_backend.computers.store(clone)
    assert clone.pk is None
    assert neo4j_backend.computers.get(label=computer.label).hostname == "localhost"


def test_duplicate_computer_uuid_is_refused(neo4j_backend, computer):
    clone = ComputerRecord(unique("computer"), "localhost", "core.local", "core.direct", uuid=computer.uuid)
    with pytest.raises(StoringError, match="already exists"):
        neo4j_backend.computers.store(clone)
    with pytest.raises(NotExistent):
        neo4j_backend.computers.get(label=clone.label)


def test_computer_lookup_errors(neo4j_backend, computer):
    with pytest.raises(NotExistent, match="no computer labelled"):
        neo4j_backend.computers.get(label=unique("missing"))
    with pytest.raises(ValidationError, match="exactly one"):
        neo4j_backend.computers.get()
    with pytest.raises(ValidationError, match="exactly one"):
        neo4j_backend.computers.get(label=computer.label, pk=computer.pk)
    with pytest.raises(StoringError, match="stored already"):
        neo4j_backend.computers.store(computer)
    with pytest.raises(ValidationError, match="mpirun_command"):
        neo4j_backend.computers.store(ComputerRecord("x", "h", "t", "s", mpirun_command="mpirun"))


def test_computer_uuid_prefix_matching_several(neo4j_backend):
    prefix = str(uuid.uuid4())[:30]
    for end in ("aaaaaa", "bbbbbb"):
        neo4j_backend.computers.store(ComputerRecord(unique("c"), "h", "core.local", "core.direct",
                                                     uuid=prefix + end))
    with pytest.raises(MultipleObjectsError):
        neo4j_backend.computers.get(uuid=prefix)


def test_computer_delete(neo4j_backend, computer, user):
    neo4j_backend.computers.set_auth(computer.pk, user, {"username": "ada"})
    neo4j_backend.computers.delete(computer.pk)
    with pytest.raises(NotExistent):
        neo4j_backend.computers.get(pk=computer.pk)
    with pytest.raises(NotExistent):
        neo4j_backend.computers.delete(computer.pk)
    assert neo4j_backend.users.get(user).email == user


def test_computer_used_by_nodes_cannot_be_deleted(neo4j_backend, computer):
    make_nodes(neo4j_backend, 1, computer=computer.label)
    with pytest.raises(ModificationNotAllowed, match="used by 1 node"):
        neo4j_backend.computers.delete(computer.pk)
    assert neo4j_backend.computers.get(pk=computer.pk).label == computer.label


def test_authinfo_set_replace_get(neo4j_backend, computer, user):
    with pytest.raises(NotExistent, match="not configured for user"):
        neo4j_backend.computers.get_auth(computer.pk, user)
    neo4j_backend.computers.set_auth(computer.pk, user, {"username": "ada", "port": 22})
    settings = {"username": "ada", "port": 2222, "proxy": None}
    neo4j_backend.computers.set_auth(computer.pk, user, settings)
    assert neo4j_backend.computers.get_auth(computer.pk, user) == settings
    count = neo4j_backend.driver.execute_query(
        "MATCH (:User {email: $email})-[a:AUTHINFO]->(:Computer {pk: $pk}) RETURN count(a) AS n",
        email=user, pk=computer.pk, database_=neo4j_backend.database,
    ).records[0]["n"]
    assert count == 1


def test_authinfo_errors(neo4j_backend, computer, user):
    with pytest.raises(NotExistent, match="no user"):
        neo4j_backend.computers.set_auth(computer.pk, unique("ghost") + "@x.example", {})
    with pytest.raises(NotExistent, match="no computer"):
        neo4j_backend.computers.set_auth(-1, user, {})
    with pytest.raises(NotExistent, match="no computer"):
        neo4j_backend.computers.get_auth(-1, user)
    with pytest.raises(ValidationError):
        neo4j_backend.computers.set_auth(computer.pk, user, {"key": {1, 2}})


# --- groups --------------------------------------------------------------------------------------

def test_group_round_trip(neo4j_backend, user):
    record = GroupRecord(unique("group"), type_string="core.auto", description="d", user=user,
                         time=datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
                         extras={"a": {"b": [1, "x", None]}, "": 1.5})
    pk = neo4j_backend.groups.store(record)
    loaded = neo4j_backend.groups.get(pk=pk)
    assert loaded == record
    assert neo4j_backend.groups.get(label=record.label, type_string="core.auto") == record
    assert neo4j_backend.groups.get(uuid=record.uuid) == record
    assert record in neo4j_backend.groups.list(type_string="core.auto")
    assert record not in neo4j_backend.groups.list(type_string="core")


def test_group_label_unique_per_type_string(neo4j_backend, group, user):
    with pytest.raises(StoringError, match=f"a group labelled '{group.label}' of type 'core' already exists"):
        neo4j_backend.groups.store(GroupRecord(group.label, user=user))
    other_type = GroupRecord(group.label, type_string="core.import", user=user)
    neo4j_backend.groups.store(other_type)
    assert neo4j_backend.groups.get(label=group.label, type_string="core.import").pk == other_type.pk
    assert neo4j_backend.groups.get(label=group.label).pk == group.pk


def test_group_label_unique_even_against_a_race(neo4j_backend, group, user):
    """The composite constraint, not only the pre-check, refuses a duplicate label."""
    import neo4j.exceptions

    with pytest.raises(neo4j.exceptions.ConstraintError):
        neo4j_backend.driver.execute_query(
            "CREATE (:Group {label: $label, type_string: 'core', uuid: $uuid, pk: -7})",
            label=group.label, uuid=str(uuid.uuid4()), database_=neo4j_backend.database,
        )


def test_unknown_group(neo4j_backend):
    for call in (
        lambda: neo4j_backend.groups.get(pk=-1),
        lambda: neo4j_backend.groups.get(label=unique("missing")),
        lambda: neo4j_backend.groups.delete(-1),
        lambda: neo4j_backend.groups.add_nodes(-1, []),
        lambda: neo4j_backend.groups.remove_nodes(-1, []),
        lambda: neo4j_backend.groups.node_pks(-1),
        lambda: neo4j_backend.groups.update(-1, label="x"),
    ):
        with pytest.raises(NotExistent, match="no group"):
            call()


def test_group_membership(neo4j_backend, group):
    pks = make_nodes(neo4j_backend, 4)
    neo4j_backend.groups.add_nodes(group.pk, pks[:3])
    neo4j_backend.groups.add_nodes(group.pk, pks[1:] + pks[1:])  # idempotent, duplicates ignored
    assert neo4j_backend.groups.node_pks(group.pk) == sorted(pks)
    neo4j_backend.groups.remove_nodes(group.pk, [pks[0], pks[0]])
    neo4j_backend.groups.remove_nodes(group.pk, [pks[0]])  # non-members are ignored
    assert neo4j_backend.groups.node_pks(group.pk) == sorted(pks[1:])
    assert [g.pk for g in neo4j_backend.groups.groups_of(pks[1])] == [group.pk]
    assert neo4j_backend.groups.groups_of(pks[0]) == []
    assert neo4j_backend.groups.groups_of(-1) == []


def test_group_add_unknown_node_writes_nothing(neo4j_backend, group):
    pks = make_nodes(neo4j_backend, 2)
    with pytest.raises(NotExistent, match="no node with pk -5"):
        neo4j_backend.groups.add_nodes(group.pk, [pks[0], -5, pks[1]])
    assert neo4j_backend.groups.node_pks(group.pk) == []


def test_group_add_many_nodes_in_batches(neo4j_backend, group):
    pks = make_nodes(neo4j_backend, BATCH + 7)
    neo4j_backend.groups.add_nodes(group.pk, pks)
    assert neo4j_backend.groups.node_pks(group.pk) == sorted(pks)


def test_delete_group_keeps_its_nodes(neo4j_backend, group):
    pks = make_nodes(neo4j_backend, 2)
    neo4j_backend.groups.add_nodes(group.pk, pks)
    neo4j_backend.groups.delete(group.pk)
    with pytest.raises(NotExistent):
        neo4j_backend.groups.get(pk=group.pk)
    assert [neo4j_backend.nodes.get(pk=pk).pk for pk in pks] == pks
    assert neo4j_backend.groups.groups_of(pks[0]) == []


def test_group_update(neo4j_backend, group, user):
    new_label = unique("renamed")
    updated = neo4j_backend.groups.update(group.pk, label=new_label, description="new", extras={"k": [1]})
    assert (updated.label, updated.description, updated.extras) == (new_label, "new", {"k": [1]})
    assert neo4j_backend.groups.get(label=new_label) == updated
    other = GroupRecord(unique("group"), user=user)
    neo4j_backend.groups.store(other)
    with pytest.raises(StoringError, match="already exists"):
        neo4j_backend.groups.update(other.pk, label=new_label)
    assert neo4j_backend.groups.get(pk=other.pk).label == other.label


def test_group_pks_unique_under_concurrency(neo4j_backend, user):
    stored: list[int] = []
    errors: list[BaseException] = []

    def store_some() -> None:
        try:
            for _ in range(5):
                stored.append(neo4j_backend.groups.store(GroupRecord(unique("conc"), user=user)))
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=store_some) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(stored)) == 30


# --- comments ------------------------------------------------------------------------------------

def test_comments(neo4j_backend, user):
    node = make_nodes(neo4j_backend, 1)[0]
    t0 = datetime.now(timezone.utc)
    first = CommentRecord(node, "first", user, ctime=t0, mtime=t0)
    second = CommentRecord(node, "second", user, ctime=t0 + timedelta(seconds=1), mtime=t0)
    neo4j_backend.comments.add(second)
    neo4j_backend.comments.add(first)
    assert neo4j_backend.comments.for_node(node) == [first, second]
    assert neo4j_backend.comments.get(first.pk) == first
    updated = neo4j_backend.comments.update(first.pk, "edited")
    assert updated.content == "edited" and updated.mtime > first.mtime and updated.ctime == first.ctime
    neo4j_backend.comments.delete(second.pk)
    assert [c.pk for c in neo4j_backend.comments.for_node(node)] == [first.pk]
    assert neo4j_backend.comments.for_node(-1) == []


def test_comment_errors(neo4j_backend, user):
    with pytest.raises(NotExistent, match="no node with pk -3"):
        neo4j_backend.comments.add(CommentRecord(-3, "x", user))
    for call in (lambda: neo4j_backend.comments.get(-1), lambda: neo4j_backend.comments.delete(-1),
                 lambda: neo4j_backend.comments.update(-1, "x")):
        with pytest.raises(NotExistent, match="no comment"):
            call()
    with pytest.raises(ValidationError, match="timezone-aware"):
        neo4j_backend.comments.add(CommentRecord(1, "x", user, ctime=datetime(2024, 1, 1)))


# --- logs ----------------------------------------------------------------------------------------

def test_logs_ordered_by_time(neo4j_backend):
    node = make_nodes(neo4j_backend, 1)[0]
    t0 = datetime.now(timezone.utc)
    records = [LogRecord(node, f"message {i}", "INFO", "provgraph.engine", time=t0 - timedelta(seconds=i),
                         metadata={"i": i}) for i in range(5)]
    pks = neo4j_backend.logs.add_many(records)
    assert pks == [r.pk for r in records] and len(set(pks)) == 5
    assert neo4j_backend.logs.for_node(node) == list(reversed(records))
    assert neo4j_backend.logs.get(pks[0]) == records[0]
    assert neo4j_backend.logs.add_many([]) == []


def test_logs_in_batches_and_delete_for_nodes(neo4j_backend):
    nodes = make_nodes(neo4j_backend, 2)
    records = [LogRecord(nodes[i % 2], f"m{i}", "DEBUG", "x") for i in range(BATCH + 11)]
    neo4j_backend.logs.add_many(records)
    assert len(neo4j_backend.logs.for_node(nodes[0])) == (BATCH + 12) // 2
    assert neo4j_backend.logs.delete_for_nodes([nodes[0], -1]) == (BATCH + 12) // 2
    assert neo4j_backend.logs.for_node(nodes[0]) == []
    assert len(neo4j_backend.logs.for_node(nodes[1])) == (BATCH + 11) // 2


def test_log_errors_write_nothing(neo4j_backend):
    node = make_nodes(neo4j_backend, 1)[0]
    with pytest.raises(NotExistent, match="no node with pk -9"):
        neo4j_backend.logs.add_many([LogRecord(node, "ok", "INFO", "x"), LogRecord(-9, "bad", "INFO", "x")])
    assert neo4j_backend.logs.for_node(node) == []
    same_uuid = str(uuid.uuid4())
    with pytest.raises(StoringError, match="uuid"):
        neo4j_backend.logs.add_many([LogRecord(node, "a", "INFO", "x", uuid=same_uuid),
                                     LogRecord(node, "b", "INFO", "x", uuid=same_uuid)])
    assert neo4j_backend.logs.for_node(node) == []
    with pytest.raises(NotExistent, match="no log record"):
        neo4j_backend.logs.get(-1)


def test_comments_and_logs_are_removed_with_their_node(neo4j_backend, user, group):
    node, other = make_nodes(neo4j_backend, 2)
    comment = CommentRecord(node, "bye", user)
    neo4j_backend.comments.add(comment)
    neo4j_backend.logs.add_many([LogRecord(node, "bye", "INFO", "x"), LogRecord(other, "stay", "INFO", "x")])
    neo4j_backend.groups.add_nodes(group.pk, [node, other])
    neo4j_backend.nodes.delete([node])
    with pytest.raises(NotExistent):
        neo4j_backend.comments.get(comment.pk)
    assert neo4j_backend.comments.for_node(node) == [] and neo4j_backend.logs.for_node(node) == []
    assert [log.message for log in neo4j_backend.logs.for_node(other)] == ["stay"]
    assert neo4j_backend.groups.node_pks(group.pk) == [other]


# --- the neomodel fence --------------------------------------------------------------------------

def test_neomodel_follows_the_backend_in_use(neo4j_backend, services_profile, computer):
    """neomodel's process-wide ``db`` is re-pointed to whichever backend makes the call."""
    from provgraph.storage.neo4j.backend import Neo4jBackend

    second = Neo4jBackend(services_profile.section_config("storage"), check_schema=False)
    try:
        assert second.computers.get(pk=computer.pk) == computer
        assert models.db.driver is second.driver
    finally:
        second.close()
    assert neo4j_backend.computers.get(pk=computer.pk) == computer
    assert models.db.driver is neo4j_backend.driver


def test_migrations_create_what_the_models_declare(neo4j_backend):
    def run(query):
        return neo4j_backend.driver.execute_query(query, database_=neo4j_backend.database).records

    unique = {(r["labelsOrTypes"][0], tuple(r["properties"])) for r in run("SHOW CONSTRAINTS")
              if r["type"] == "UNIQUENESS"}
    indexed = {(r["labelsOrTypes"][0], tuple(r["properties"])) for r in run("SHOW INDEXES")
               if r["labelsOrTypes"]}
    for label, name, kind in models.declared_schema():
        assert (label, (name,)) in (unique if kind == "unique" else indexed), (label, name, kind)
    assert ("Group", ("label", "type_string")) in unique
