"""Store many new nodes and the links between them in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from provgraph.common.links import LinkRecord, LinkType
from provgraph.exceptions import StoringError
from provgraph.orm.backend import get_backend
from provgraph.orm.nodes.links import validate_link_label
from provgraph.orm.nodes.node import Node

#: a link between nodes of the batch, by position: (source index, target index, type, label),
#: or to an already stored node by passing the Node itself instead of an index
BulkLink = tuple[int | Node, int | Node, LinkType | str, str]


def store_graph(nodes: Sequence[Node], links: Sequence[BulkLink] = ()) -> list[int]:
    """Store ``nodes`` (all unstored) and ``links`` at once; return the new pks in order.

    Every link rule is checked inside the transaction; if one is broken nothing
    is written and the nodes stay unstored.

    :raises StoringError: when a node is already stored or invalid
    :raises LinkRuleError: when a link breaks a rule
    """
    for node in nodes:
        if node.is_stored:
            raise StoringError(f"{node!r} is already stored")
        node._validate()
    records = [_link(link, len(nodes)) for link in links]
    return get_backend().nodes.store([node._record for node in nodes], records)


def _link(link: BulkLink, count: int) -> LinkRecord:
    source, target, link_type, label = link
    return LinkRecord(_ref(source, count), _ref(target, count), LinkType(link_type), validate_link_label(label))


def _ref(end: int | Node, count: int) -> int:
    if isinstance(end, Node):
        if not end.is_stored:
            raise StoringError(f"link end {end!r} is neither in the batch nor stored")
        return end.pk
    if not 0 <= end < count:
        raise StoringError(f"link refers to node #{end} of a batch of {count}")
    return -(end + 1)
