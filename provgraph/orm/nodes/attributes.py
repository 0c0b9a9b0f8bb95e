"""``node.base.attributes``: the node's JSON-able properties, immutable once stored."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from provgraph.common.json import clean_value
from provgraph.exceptions import ModificationNotAllowed, NotExistent, ValidationError
from provgraph.orm.backend import get_backend

if TYPE_CHECKING:
    from provgraph.orm.nodes.node import Node

_MISSING = object()


def check_key(key: str) -> str:
    """Refuse keys that are not non-empty strings, or that contain a dot.

    A dot separates the levels of a query path (``attributes.a.b``), so a top-level key
    ``'a.b'`` could never be filtered on: it is refused, as AiiDA refuses it. Keys of nested
    dicts may hold dots (AiiDA allows them); reach them with ``has_key`` on their parent.
    """
    if not isinstance(key, str) or not key:
        raise ValidationError(f"attribute and extra keys must be non-empty strings, not {key!r}")
    if "." in key:
        raise ValidationError(f"invalid attribute or extra key {key!r}: keys cannot contain '.', which "
                              "separates the levels of a query path (use e.g. '_' instead)")
    return key


class NodeAttributes:
    """Read and (before store) write a node's attributes."""

    _section = "attributes"

    def __init__(self, node: Node) -> None:
        self._node = node

    @property
    def _data(self) -> dict[str, Any]:
        """The section of the node's record, re-read first when it may have changed in storage."""
        node = self._node
        if node._record.pk is not None and self._may_be_stale():
            node._refresh()
        return getattr(node._record, self._section)

    def _may_be_stale(self) -> bool:
        """Attributes change in storage only for unsealed process nodes (extras override this)."""
        return self._node._attributes_may_change()

    def _may_change(self, key: str) -> None:
        if self._node.is_stored and not self._node._attribute_mutable(key):
            raise ModificationNotAllowed(
                f"attribute {key!r} of stored node {self._node.pk} cannot be changed: "
                "attributes are immutable once stored"
            )

    def _persist(self) -> None:
        """Write the section to storage when the node is stored (only mutable parts get here)."""
        node = self._node
        if node.is_stored:
            from provgraph.orm.nodes.node import now

            record = node._record
            record.mtime = now()
            get_backend().nodes.update(node.pk, **{self._section: getattr(record, self._section),
                                                   "mtime": record.mtime})

    def _clean(self, key: str, value: Any) -> Any:
        """A normalised copy of ``value``; errors name the path, e.g. ``attribute 'a.b[2]'``."""
        return clean_value({key: value}, kind=self._section[:-1])[key]

    @property
    def all(self) -> dict[str, Any]:
        """A deep copy of all values."""
        return copy.deepcopy(self._data)

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """Return the value of ``key`` (a copy); ``default`` if given and absent.

        :raises NotExistent: when ``key`` is absent and no default is given
        """
        data = self._data
        if key in data:
            return copy.deepcopy(data[key])
        if default is _MISSING:
            raise NotExistent(f"{self._section[:-1]} {key!r} does not exist on {self._node!r}")
        return default

    def get_many(self, keys: list[str]) -> list[Any]:
        """Return the values of ``keys``.

        :raises NotExistent: when a key is absent
        """
        data = self._data
        missing = [key for key in keys if key not in data]
        if missing:
            raise NotExistent(f"{self._section[:-1]} {missing[0]!r} does not exist on {self._node!r}")
        return [copy.deepcopy(data[key]) for key in keys]

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` to a JSON-able ``value``.

        :raises ValidationError: when the value is not JSON-able (nothing is changed)
        :raises ModificationNotAllowed: when the node is stored and the key is immutable
        """
        self._may_change(check_key(key))
        cleaned = self._clean(key, value)
        self._data[key] = cleaned
        self._persist()

    def set_many(self, values: dict[str, Any]) -> None:
        """Set several keys at once; all are validated before any is changed."""
        cleaned = {}
        for key, value in values.items():
            self._may_change(check_key(key))
            cleaned[key] = self._clean(key, value)
        self._data.update(cleaned)
        self._persist()

    def reset(self, values: dict[str, Any]) -> None:
        """Replace all values by ``values``."""
        data = self._data
        for key in set(data) | set(values):
            self._may_change(key)
        cleaned = {check_key(k): self._clean(k, v) for k, v in values.items()}
        data.clear()
        data.update(cleaned)
        self._persist()

    def delete(self, key: str) -> None:
        """Remove ``key``.

        :raises NotExistent: when ``key`` is absent
        """
        self._may_change(key)
        data = self._data
        if key not in data:
            raise NotExistent(f"{self._section[:-1]} {key!r} does not exist on {self._node!r}")
        del data[key]
        self._persist()

    def keys(self) -> Iterator[str]:
        """The keys."""
        return iter(list(self._data))

    def items(self) -> Iterator[tuple[str, Any]]:
        """(key, value copy) pairs."""
        return iter(copy.deepcopy(self._data).items())

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)
