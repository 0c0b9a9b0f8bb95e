"""BaseType: data nodes wrapping one Python value in the ``value`` attribute."""

from __future__ import annotations

from typing import Any, ClassVar

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data


class BaseType(Data):
    """A node wrapping a single value of ``_type`` (Int, Float, Str, Bool)."""

    _type: ClassVar[type] = object

    def __init__(self, value: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = self._type() if value is None else value

    @property
    def value(self) -> Any:
        """The wrapped value."""
        return self.base.attributes.get("value", None)

    @value.setter
    def value(self, value: Any) -> None:
        self.base.attributes.set("value", self._convert(value))

    def _convert(self, value: Any) -> Any:
        if isinstance(value, BaseType):
            value = value.value
        try:
            return self._type(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{type(self).__name__} cannot hold {value!r}: {exc}") from exc

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BaseType):
            return self.value == other.value
        return self.value == other

    def __hash__(self) -> int:
        return hash(self.uuid)

    def _repr_value(self) -> str:
        return f" value: {self.value}"
