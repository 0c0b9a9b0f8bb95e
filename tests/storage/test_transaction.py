"""``with provgraph.transaction():`` on both backends: one commit for many stores, nothing on error, nesting."""

from __future__ import annotations

import pytest

import provgraph
from provgraph.common.links import LinkType
from provgraph.exceptions import LinkRuleError, NotExistent, StorageError, StoringError
from provgraph.orm import CalcFunctionNode, Dict
from provgraph.orm.backend import get_backend


@pytest.fixture
def outsider(backend_profile):
    """A second connection to the same storage, as another process would see it."""
    backend = type(get_backend())(backend_profile.section_config("storage"))
    yield backend
    backend.close()


def visible(backend, uuid: str) -> bool:
    """Whether ``backend`` (the outsider) sees a committed node ``uuid``."""
    try:
        backend.nodes.get(uuid=uuid)
    except NotExistent:
        return False
    return True


def test_stores_inside_share_one_commit(outsider):
    with provgraph.transaction():
        nodes = [Dict({"i": i}).store() for i in range(3)]
        assert all(node.is_stored for node in nodes)
        # the block sees its own writes, through loads and queries; the rest of the world does not yet
        assert provgraph.load_node(nodes[1].pk).get_dict() == {"i": 1}
        assert not any(visible(outsider, node.uuid) for node in nodes)
    assert all(visible(outsider, node.uuid) for node in nodes)
    assert outsider.nodes.get(pk=nodes[2].pk).attributes == {"i": 2}


def test_an_exception_writes_nothing_and_unstores_the_nodes(outsider):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), provgraph.transaction():
        first = Dict({"a": 1}).store()
        second = Dict({"b": 2}).store()
        pks = [first.pk, second.pk]
        raise Boom
    assert not first.is_stored and not second.is_stored
    assert not visible(outsider, first.uuid) and not visible(outsider, second.uuid)
    for pk in pks:
        with pytest.raises(NotExistent):
            outsider.nodes.get(pk=pk)
    first.store()  # the node can be stored again afterwards, outside any transaction
    assert visible(outsider, first.uuid)


def test_nested_blocks_join_the_outer_transaction(outsider):
    with provgraph.transaction():
        outer = Dict({"o": 1}).store()
        with provgraph.transaction():
            inner = Dict({"i": 1}).store()
        assert not visible(outsider, inner.uuid)  # the inner block's end commits nothing
    assert visible(outsider, outer.uuid) and visible(outsider, inner.uuid)


def test_a_failure_in_a_nested_block_dooms_the_whole_transaction(outsider):
    with pytest.raises(StorageError, match="nested"), provgraph.transaction():
        outer = Dict({"o": 2}).store()
        with pytest.raises(KeyError), provgraph.transaction():
            inner = Dict({"i": 2}).store()
            raise KeyError("caught by the outer block")
    assert not outer.is_stored and not inner.is_stored
    assert not visible(outsider, outer.uuid) and not visible(outsider, inner.uuid)


def test_a_broken_link_rule_inside_dooms_the_transaction(outsider):
    with pytest.raises(StorageError, match="rolled back"), provgraph.transaction():
        data = Dict({"x": 1}).store()
        calc = CalcFunctionNode(process_label="t")
        calc.base.links.add_incoming(data, LinkType.INPUT_CALC, "x")
        calc.store()
        second = CalcFunctionNode(process_label="t")
        second.base.links.add_incoming(data, LinkType.INPUT_CALC, "y")
        second.store()
        with pytest.raises(LinkRuleError):  # a second creator for the same Data: refused
            get_backend().nodes.add_links([_link(calc.pk, second.pk)])
    assert not visible(outsider, data.uuid) and not data.is_stored


def _link(source: int, target: int):
    from provgraph.common.links import LinkRecord

    return LinkRecord(source, target, LinkType.CALL_CALC, "call")


def test_many_stores_inside_are_all_written_and_readable(outsider):
    from provgraph.orm import QueryBuilder

    marker = f"many-{id(outsider)}-{__import__('uuid').uuid4().hex[:8]}"
    with provgraph.transaction():
        nodes = [Dict({"i": i, "marker": marker}).store() for i in range(2500)]
        # a query in the block sees every node stored so far (on Neo4j, queued ones are sent first)
        inside = QueryBuilder().append(Dict, filters={"attributes.marker": marker}).count()
        assert inside == 2500
    assert len({node.pk for node in nodes}) == 2500
    assert outsider.nodes.get(pk=nodes[-1].pk).attributes == {"i": 2499, "marker": marker}
    assert outsider.nodes.get(pk=nodes[0].pk).attributes == {"i": 0, "marker": marker}


def test_a_duplicate_found_at_commit_writes_nothing(outsider):
    first = Dict({"d": 1})
    twin = Dict({"d": 2})
    twin._record.uuid = first.uuid  # the database refuses a second node with the same uuid
    # sqlite refuses it at the store, Neo4j (its creations sent in batches) at the latest at the commit
    with pytest.raises((StoringError, StorageError), match="(?i)uuid|constraint|already exists"), \
            provgraph.transaction():
        first.store()
        twin.store()
    assert not first.is_stored and not twin.is_stored
    assert not visible(outsider, first.uuid)
