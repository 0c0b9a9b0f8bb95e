"""Map node type strings to node classes (data types through the ``provgraph.data`` entry points)."""

from __future__ import annotations

from provgraph.exceptions import NotExistent, StoringError
from provgraph.plugins import entry_point_name, load_plugin


def _builtin_types() -> dict[str, type]:
    from provgraph.orm.nodes.data.data import Data
    from provgraph.orm.nodes.node import Node
    from provgraph.orm.nodes.process import process

    classes = [Node, Data, process.ProcessNode, process.CalculationNode, process.CalcFunctionNode,
               process.CalcJobNode, process.WorkflowNode, process.WorkFunctionNode, process.WorkChainNode]
    return {cls.__dict__["_node_type"]: cls for cls in classes}


def node_class(node_type: str) -> type:
    """Return the class of ``node_type``.

    :raises NotExistent: for an unknown node class (e.g. a plugin that is not installed)
    """
    builtin = _builtin_types()
    if node_type in builtin:
        return builtin[node_type]
    if node_type.startswith("data."):
        try:
            return load_plugin("data", node_type[len("data."):])
        except NotExistent as exc:
            raise NotExistent(f"unknown node class {node_type!r}: {exc}") from exc
    raise NotExistent(f"unknown node class {node_type!r}")


def node_type_of(cls: type) -> str:
    """Return the node type string a new node of ``cls`` is stored with.

    :raises StoringError: when ``cls`` is a data class registered nowhere, so it could not be loaded back
    """
    if "_node_type" in cls.__dict__:
        return cls.__dict__["_node_type"]
    name = entry_point_name("data", cls)
    if name is None:
        raise StoringError(
            f"unknown node class {cls.__module__}.{cls.__qualname__}: register it as a 'provgraph.data' "
            "entry point (or set _node_type) so that it can be loaded back"
        )
    return f"data.{name}"
