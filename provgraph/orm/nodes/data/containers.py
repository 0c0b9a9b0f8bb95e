"""List and Dict: JSON-able containers stored as attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data


class List(Data):
    """A list of JSON-able values, kept in the attribute ``list``."""

    _node_type = "data.core.list"

    def __init__(self, value: list | tuple | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if value is not None and not isinstance(value, (list, tuple)):
            raise ValidationError(f"List needs a list, not {type(value).__name__}")
        self.base.attributes.set("list", list(value or []))

    def get_list(self) -> list:
        """A copy of the list."""
        return self.base.attributes.get("list")

    def set_list(self, value: list) -> None:
        """Replace the list (unstored nodes only)."""
        self.base.attributes.set("list", list(value))

    @property
    def value(self) -> list:
        """A copy of the list."""
        return self.get_list()

    def append(self, item: Any) -> None:
        """Append ``item`` (unstored nodes only)."""
        self.set_list(self.get_list() + [item])

    def extend(self, items: list) -> None:
        """Append every item of ``items`` (unstored nodes only)."""
        self.set_list(self.get_list() + list(items))

    def __getitem__(self, index: int) -> Any:
        return self.get_list()[index]

    def __len__(self) -> int:
        return len(self.get_list())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.get_list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, List):
            return self.get_list() == other.get_list()
        return self.get_list() == other

    def __hash__(self) -> int:
        return hash(self.uuid)


class Dict(Data):
    """A dictionary of JSON-able values; each top-level key is one attribute."""

    _node_type = "data.core.dict"

    def __init__(self, value: dict | None = None, *, dict: dict | None = None, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(**kwargs)
        content = value if value is not None else dict
        if content is not None and not isinstance(content, type({})):
            raise ValidationError(f"Dict needs a dict, not {type(content).__name__}")
        self.base.attributes.set_many(content or {})

    def get_dict(self) -> dict:
        """A copy of the dictionary."""
        return self.base.attributes.all

    @property
    def dict(self) -> dict:
        """A copy of the dictionary."""
        return self.get_dict()

    @property
    def value(self) -> dict:
        """A copy of the dictionary."""
        return self.get_dict()

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` or ``default``."""
        return self.base.attributes.get(key, default)

    def keys(self) -> list[str]:
        """The keys."""
        return list(self.base.attributes.keys())

    def items(self) -> Iterator[tuple[str, Any]]:
        """(key, value) pairs."""
        return self.base.attributes.items()

    def __getitem__(self, key: str) -> Any:
        return self.base.attributes.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.base.attributes.set(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self.base.attributes

    def __len__(self) -> int:
        return len(self.base.attributes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dict):
            return self.get_dict() == other.get_dict()
        return self.get_dict() == other

    def __hash__(self) -> int:
        return hash(self.uuid)
