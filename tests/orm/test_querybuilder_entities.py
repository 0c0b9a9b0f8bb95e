"""Groups, users, computers, comments and logs are queryable, alone and joined to nodes."""

from __future__ import annotations

import uuid

import pytest

from provgraph.orm import CalcFunctionNode, Group, Int, QueryBuilder, RemoteData
from provgraph.orm.backend import get_backend
from provgraph.storage.entities import ComputerRecord, GroupRecord, LogRecord

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def test_group_membership_both_ways():
    label = f"g-{uuid.uuid4().hex}"
    members = [Int(i).store() for i in range(3)]
    backend = get_backend()
    group_pk = backend.groups.store(GroupRecord(label=label))
    backend.groups.add_nodes(group_pk, [n.pk for n in members[:2]])
    qb = QueryBuilder().append(entity_type="group", tag="g", filters={"label": label})
    qb.append(Int, with_group="g", project="pk")
    assert sorted(qb.all(flat=True)) == sorted(n.pk for n in members[:2])
    qb = QueryBuilder().append(Int, tag="n", filters={"pk": members[0].pk})
    qb.append(entity_type="group", with_node="n", project=["label", "*"])
    (found_label, group), = qb.all()
    assert found_label == label and isinstance(group, Group) and group.pk == group_pk
    assert QueryBuilder().append(Group, filters={"label": label}, project="pk").all(flat=True) == [group_pk]


def test_user_and_computer():
    email = f"{uuid.uuid4().hex}@example.org"
    backend = get_backend()
    backend.users.get_or_create(email)
    computer = f"c-{uuid.uuid4().hex[:12]}"
    backend.computers.store(ComputerRecord(label=computer, hostname="localhost", transport_type="core.local",
                                           scheduler_type="core.direct"))
    remote = RemoteData(remote_path="/tmp/x", computer=computer).store()
    qb = QueryBuilder().append(entity_type="computer", tag="c", filters={"label": computer})
    qb.append(RemoteData, with_computer="c", project="pk")
    assert qb.all(flat=True) == [remote.pk]
    qb = QueryBuilder().append(RemoteData, tag="r", filters={"pk": remote.pk})
    qb.append(entity_type="computer", with_node="r", project="hostname")
    assert qb.all(flat=True) == ["localhost"]
    qb = QueryBuilder().append(entity_type="user", tag="u", filters={"email": email}, project="email")
    assert qb.all(flat=True) == [email]
    qb = QueryBuilder().append(entity_type="user", tag="u", filters={"email": remote.user})
    qb.append(RemoteData, with_user="u", filters={"pk": remote.pk}, project="pk")
    backend.users.get_or_create(remote.user)
    assert qb.all(flat=True) == [remote.pk]


def test_comments_and_logs():
    node = CalcFunctionNode().store()
    marker = uuid.uuid4().hex
    node.base.comments.add(f"looks fine {marker}")
    get_backend().logs.add_many([LogRecord(node_pk=node.pk, message=f"step one {marker}", levelname="REPORT",
                                           loggername="provgraph.test")])
    qb = QueryBuilder().append(entity_type="comment", tag="c", filters={"content": {"like": f"%{marker}"}})
    qb.append(CalcFunctionNode, with_comment="c", project="pk")
    assert qb.all(flat=True) == [node.pk]
    qb = QueryBuilder().append(CalcFunctionNode, tag="n", filters={"pk": node.pk})
    qb.append(entity_type="log", with_node="n", project=["message", "levelname"])
    assert qb.all() == [[f"step one {marker}", "REPORT"]]


def test_with_log_and_comment_with_node():
    node = CalcFunctionNode().store()
    marker = uuid.uuid4().hex
    comment = node.base.comments.add(f"note {marker}")
    get_backend().logs.add_many([LogRecord(node_pk=node.pk, message=f"log {marker}", levelname="REPORT",
                                           loggername="provgraph.test")])
    qb = QueryBuilder().append(entity_type="log", tag="l", filters={"message": f"log {marker}"})
    qb.append(CalcFunctionNode, with_log="l", project="pk")
    assert qb.all(flat=True) == [node.pk]
    qb = QueryBuilder().append(CalcFunctionNode, tag="n", filters={"pk": node.pk})
    qb.append(entity_type="comment", with_node="n", project=["pk", "content"])
    assert qb.all() == [[comment.pk, f"note {marker}"]]
