"""Str: a text value node."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.base import BaseType


class Str(BaseType):
    """A unicode string."""

    _node_type = "data.core.str"
    _type = str

    def _convert(self, value: Any) -> str:
        value = value.value if isinstance(value, BaseType) else value
        if not isinstance(value, str):
            raise ValidationError(f"Str needs a str, not {type(value).__name__} {value!r}")
        return value

    def __len__(self) -> int:
        return len(self.value)

    def __hash__(self) -> int:
        return hash(self.uuid)
