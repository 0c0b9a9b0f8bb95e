"""Bool: a boolean value node."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.base import BaseType


class Bool(BaseType):
    """A boolean; ``bool(Bool(False))`` is False."""

    _node_type = "data.core.bool"
    _type = bool

    def _convert(self, value: Any) -> bool:
        value = value.value if isinstance(value, BaseType) else value
        if not isinstance(value, bool):
            raise ValidationError(f"Bool needs True or False, not {type(value).__name__} {value!r}")
        return value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __hash__(self) -> int:
        return hash(self.uuid)
