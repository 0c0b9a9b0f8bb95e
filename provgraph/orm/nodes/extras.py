"""``node.base.extras``: JSON-able annotations, mutable also once the node is stored."""

from __future__ import annotations

from provgraph.orm.nodes.attributes import NodeAttributes


class NodeExtras(NodeAttributes):
    """Read and write a node's extras; changes to a stored node are saved immediately."""

    _section = "extras"

    def _may_change(self, key: str) -> None:
        """Extras are always mutable."""

    def _may_be_stale(self) -> bool:
        """Extras of a stored node may change in storage at any time: always checked."""
        return True
