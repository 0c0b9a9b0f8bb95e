"""Data: the nodes that hold values, files and structures."""

from __future__ import annotations

from provgraph.orm.nodes.node import Node


class Data(Node):
    """A node holding data; created by a calculation or given as input."""

    _node_type = "data"

    @property
    def creator(self) -> Node | None:
        """The calculation that created this node, or None for an input made by a user."""
        from provgraph.common.links import LinkType

        found = self.base.links.get_incoming(link_type=LinkType.CREATE).first()
        return found.node if found else None
