"""Small helpers shared by the process modules: attribute dicts and namespace flattening."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: separator between namespace levels in link labels (``relax__structure``)
NAMESPACE_SEPARATOR = "__"


class AttributeDict(dict):
    """A dict whose keys can also be read and written as attributes (``self.ctx.result``)."""

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no key {key!r} (present: {', '.join(sorted(map(str, self))) or 'none'})") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {str(key) for key in self})


def to_attribute_dict(value: Mapping[str, Any]) -> AttributeDict:
    """Return ``value`` with every nested plain mapping turned into an :class:`AttributeDict`."""
    return AttributeDict({
        key: to_attribute_dict(item) if isinstance(item, Mapping) and not _is_node(item) else item
        for key, item in value.items()
    })


def _is_node(value: Any) -> bool:
    from provgraph.orm.nodes.node import Node

    return isinstance(value, Node)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to ``{"ns__key": value}`` (the link-label form)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        label = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _is_node(value):
            flat.update(flatten(value, label + NAMESPACE_SEPARATOR))
        else:
            flat[label] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Undo :func:`flatten`: ``{"ns__key": v}`` becomes ``{"ns": {"key": v}}``."""
    nested: dict[str, Any] = {}
    for label, value in flat.items():
        *parents, last = label.split(NAMESPACE_SEPARATOR)
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return nested


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into ``base`` recursively (mappings merged, other values replaced); return ``base``."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def call_with_optional_context(function: Any, value: Any, context: Any) -> Any:
    """Call a validator as ``function(value, context)``, or ``function(value)`` if it takes one argument."""
    import inspect

    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return function(value, context)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    return function(value, context) if len(positional) >= 2 or takes_varargs else function(value)
