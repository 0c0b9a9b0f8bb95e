"""The AiiDA group API round trip on Neo4j (the full set runs on sqlite in ``test_compat_groups.py``)."""

from __future__ import annotations

import uuid

import pytest

from provgraph.exceptions import NotExistent, StoringError
from provgraph.orm import Group, Int, load_group

pytestmark = [pytest.mark.requires_neo4j]


def test_group_api_round_trip_on_neo4j(neo4j_profile):
    name = f"neo4j-group-{uuid.uuid4().hex[:10]}"
    group, created = Group.collection.get_or_create(label=name, description="on neo4j")
    assert created and Group.collection.get_or_create(name) == (group, False)
    one, two = Int(1).store(), Int(2).store()
    group.add_nodes([one, two])
    assert group.count() == 2 and not group.is_empty
    group.remove_nodes(one)
    assert [n.pk for n in load_group(group.pk).nodes] == [two.pk]
    group.label = renamed = f"{name}-renamed"
    assert load_group(renamed).uuid == group.uuid == load_group(group.uuid[:12]).uuid
    with pytest.raises(StoringError):
        Group(label=renamed).store()
    group.base.extras.set("k", [1, None])
    assert load_group(group.pk).base.extras.all == {"k": [1, None]}
    group.clear()
    assert load_group(group.pk).is_empty
    Group.collection.delete(group.pk)
    with pytest.raises(NotExistent):
        load_group(renamed)
