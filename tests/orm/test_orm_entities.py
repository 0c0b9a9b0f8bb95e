"""Front-end Group, User and Computer on the real Neo4j."""

from __future__ import annotations

import uuid

import pytest

from provgraph.exceptions import ModificationNotAllowed, NotExistent, StoringError, ValidationError
from provgraph.orm import Int
from provgraph.orm.computers import Computer, User
from provgraph.orm.groups import Group

pytestmark = [pytest.mark.requires_neo4j, pytest.mark.requires_s3]


@pytest.fixture(autouse=True)
def _orm_profile(backend_profile):
    """Run every test of this module on each storage backend (neo4j and sqlite), its profile current."""
    return backend_profile


def test_group_members():
    label = f"group-{uuid.uuid4().hex}"
    nodes = [Int(i).store() for i in range(3)]
    group = Group(label, description="three ints")
    with pytest.raises(ModificationNotAllowed):
        group.add_nodes(nodes)
    group.store()
    group.add_nodes(nodes)
    group.add_nodes(nodes[0])
    assert group.count() == 3
    group.remove_nodes(nodes[1])
    assert sorted(n.pk for n in Group.get(label=label).nodes) == sorted([nodes[0].pk, nodes[2].pk])
    with pytest.raises(StoringError):
        Group(label).store()
    with pytest.raises(ValidationError):
        group.add_nodes([Int(5)])
    with pytest.raises(NotExistent):
        Group.get(label=f"missing-{label}")


def test_user_and_computer():
    email = f"{uuid.uuid4().hex}@example.org"
    assert User.get_or_create(email, first_name="Ada").first_name == "Ada"
    assert User.get_or_create(email).email == email
    assert "@" in User.get_default().email
    label = f"cluster-{uuid.uuid4().hex[:8]}"
    computer = Computer(label, "localhost", scheduler_type="core.slurm", workdir="/tmp/{username}/runs").store()
    computer.configure(username="someone", port=22, safe_interval=2.0)
    loaded = Computer.get(label=label)
    assert (loaded.hostname, loaded.scheduler_type) == ("localhost", "core.slurm")
    assert loaded.workdir == "/tmp/{username}/runs"
    assert loaded.get_configuration() == {"username": "someone", "port": 22, "safe_interval": 2.0}
    with pytest.raises(StoringError):
        Computer(label, "elsewhere").store()
