"""``to_provgraph_type``: turn a plain Python value into the data node that holds it.

The serializer of process ports (``spec.input('x', serializer=to_provgraph_type)``), also
known under AiiDA's name ``to_aiida_type``. ``bool`` -> ``Bool``, ``int`` -> ``Int``,
``float`` -> ``Float``, ``str`` -> ``Str``, ``dict`` -> ``Dict``, ``list``/``tuple`` -> ``List``;
a node is returned unchanged. Register more types with ``to_provgraph_type.register``.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.bool_ import Bool
from provgraph.orm.nodes.data.containers import Dict, List
from provgraph.orm.nodes.data.numeric import Float, Int
from provgraph.orm.nodes.data.str_ import Str
from provgraph.orm.nodes.node import Node


@singledispatch
def to_provgraph_type(value: Any) -> Node:
    """The data node holding ``value`` (see the module docstring).

    :raises ValidationError: for a type with no data node registered
    """
    raise ValidationError(f"cannot turn {type(value).__name__} {value!r:.80} into a data node: no serializer "
                          "registered for it (to_provgraph_type.register)")


@to_provgraph_type.register
def _(value: Node) -> Node:
    return value


@to_provgraph_type.register
def _(value: bool) -> Node:
    return Bool(value)


@to_provgraph_type.register
def _(value: int) -> Node:
    return Int(value)


@to_provgraph_type.register
def _(value: float) -> Node:
    return Float(value)


@to_provgraph_type.register
def _(value: str) -> Node:
    return Str(value)


@to_provgraph_type.register
def _(value: dict) -> Node:
    return Dict(dict(value))


@to_provgraph_type.register(list)
@to_provgraph_type.register(tuple)
def _(value: list | tuple) -> Node:
    return List(list(value))


#: AiiDA's name of the same function
to_aiida_type = to_provgraph_type
