"""Checkpoints: the JSON-able state a process needs to continue in another interpreter.

The checkpoint of a WorkChain is stored in its node's ``checkpoint`` attribute after
every step, and ``checkpoint_version`` is incremented with it::

    {
      "format": 1,
      "outline": "3f5c0a9e1b2d4c6f",          # fingerprint of the outline it belongs to
      "cursor": [2, 0, 1],                      # path of indices to the next instruction
      "ctx": {"n": 3, "child": {"@node": "<uuid>"}, "runs": [{"@node": "<uuid>"}]},
      "awaiting": [{"uuid": "<uuid>", "key": "child", "append": false}],
      "outputs": {"result": "<uuid>"}           # outputs already attached (link label -> uuid)
    }

Node references are written as ``{"@node": uuid}``; a user dict whose keys start with
``@`` is escaped as ``{"@dict": {...}}``. Values that are not JSON-able are refused
with the ctx key named. Function processes have no checkpoint: they run in one step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provgraph.engine.processes.utils import AttributeDict
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.node import Node

FORMAT = 1


def encode(value: Any, path: str, on_node: Callable[[Node], None]) -> Any:
    """Return the JSON-able form of a ctx value; ``on_node`` sees every node met (to store unstored ones).

    :raises ValidationError: naming ``path`` for a value that cannot be checkpointed
    """
    if isinstance(value, Node):
        on_node(value)
        return {"@node": value.uuid}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"ctx.{path} has a key {key!r} that is not a string: it cannot be checkpointed")
            encoded[key] = encode(item, f"{path}.{key}", on_node)
        return {"@dict": encoded} if any(key.startswith("@") for key in encoded) else encoded
    if isinstance(value, (list, tuple)):
        return [encode(item, f"{path}[{index}]", on_node) for index, item in enumerate(value)]
    raise ValidationError(
        f"ctx.{path} holds a {type(value).__name__}, which cannot be checkpointed: keep JSON-able values "
        "and nodes in the context"
    )


def decode(value: Any, load: Callable[[str], Node]) -> Any:
    """Undo :func:`encode`, loading nodes with ``load(uuid)``; mappings become AttributeDicts."""
    if isinstance(value, list):
        return [decode(item, load) for item in value]
    if isinstance(value, dict):
        if set(value) == {"@node"}:
            return load(value["@node"])
        if set(value) == {"@dict"}:
            value = value["@dict"]
        return AttributeDict({key: decode(item, load) for key, item in value.items()})
    return value


def encode_ctx(ctx: Mapping[str, Any], on_node: Callable[[Node], None]) -> dict[str, Any]:
    """The JSON-able form of a whole context."""
    return {key: encode(value, key, on_node) for key, value in ctx.items()}


def decode_ctx(data: Mapping[str, Any], load: Callable[[str], Node]) -> AttributeDict:
    """The context back from its JSON-able form."""
    return AttributeDict({key: decode(value, load) for key, value in data.items()})
