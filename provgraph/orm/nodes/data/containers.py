"""List and Dict: JSON-able containers stored as attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data

_ABSENT = object()


class List(Data):
    """A list of JSON-able values, kept in the attribute ``list``."""

    _node_type = "data.core.list"

    def __init__(self, value: list | tuple | None = None, *, list: list | None = None,  # noqa: A002
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if value is not None and list is not None:
            raise ValidationError("give the List's items once, as value or as list, not both")
        value = value if value is not None else list
        if value is not None and not isinstance(value, (type([]), tuple)):
            raise ValidationError(f"List needs a list, not {type(value).__name__}")
        self.base.attributes.set("list", [*(value or [])])

    def get_list(self) -> list:
        """A copy of the list."""
        return self.base.attributes.get("list")

    def set_list(self, value: list) -> None:
        """Replace the list (unstored nodes only)."""
        if not isinstance(value, (type([]), tuple)):
            raise ValidationError(f"List needs a list, not {type(value).__name__}")
        self.base.attributes.set("list", [*value])

    def _change(self, how: Any) -> Any:
        """Apply ``how`` to a copy of the list, store the copy; return what ``how`` returned."""
        items = self.get_list()
        result = how(items)
        self.set_list(items)
        return result

    @property
    def value(self) -> list:
        """A copy of the list."""
        return self.get_list()

    def append(self, item: Any) -> None:
        """Append ``item`` (unstored nodes only, like every change below)."""
        self._change(lambda items: items.append(item))

    def extend(self, items: list) -> None:
        """Append every item of ``items``."""
        self._change(lambda current: current.extend(items))

    def insert(self, index: int, item: Any) -> None:
        """Insert ``item`` before ``index``."""
        self._change(lambda items: items.insert(index, item))

    def remove(self, item: Any) -> None:
        """Remove the first occurrence of ``item`` (ValueError when absent)."""
        self._change(lambda items: items.remove(item))

    def pop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` (the last by default)."""
        return self._change(lambda items: items.pop(index))

    def sort(self, key: Any = None, reverse: bool = False) -> None:
        """Sort the items in place."""
        self._change(lambda items: items.sort(key=key, reverse=reverse))

    def reverse(self) -> None:
        """Reverse the items in place."""
        self._change(lambda items: items.reverse())

    def index(self, item: Any) -> int:
        """The index of the first occurrence of ``item``."""
        return self.get_list().index(item)

    def count(self, item: Any) -> int:
        """How often ``item`` occurs."""
        return self.get_list().count(item)

    def __setitem__(self, index: int, item: Any) -> None:
        def assign(items: list) -> None:
            items[index] = item

        self._change(assign)

    def __delitem__(self, index: int) -> None:
        def delete(items: list) -> None:
            del items[index]

        self._change(delete)

    def _repr_value(self) -> str:
        return f" value: {self.get_list()}"

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

    def set_dict(self, dictionary: dict) -> None:
        """Replace the whole content (unstored nodes only; nothing changes when a value is refused)."""
        if not isinstance(dictionary, type({})):
            raise ValidationError(f"Dict needs a dict, not {type(dictionary).__name__}")
        self.base.attributes.reset(dictionary)

    def update_dict(self, dictionary: dict) -> None:
        """Set every key of ``dictionary`` (unstored nodes only)."""
        if not isinstance(dictionary, type({})):
            raise ValidationError(f"Dict needs a dict, not {type(dictionary).__name__}")
        self.base.attributes.set_many(dictionary)

    @property
    def dict(self) -> DictAttributes:
        """The content with attribute access: ``d.dict.key`` (``d.dict.key = v`` sets it while unstored)."""
        return DictAttributes(self)

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
        from provgraph.exceptions import NotExistentKeyError

        value = self.base.attributes.get(key, _ABSENT) if isinstance(key, str) else _ABSENT
        if value is _ABSENT:
            raise NotExistentKeyError(f"{self!r} has no key {key!r}")
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.base.attributes.set(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self.base.attributes

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.base.attributes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dict):
            return self.get_dict() == other.get_dict()
        return self.get_dict() == other

    def __hash__(self) -> int:
        return hash(self.uuid)


class DictAttributes:
    """``Dict.dict``: the keys of a Dict node as attributes (a missing key is an AttributeError)."""

    def __init__(self, node: Dict) -> None:
        object.__setattr__(self, "_node", node)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        from provgraph.exceptions import NotExistentAttributeError

        node = object.__getattribute__(self, "_node")
        if name not in node.base.attributes:
            raise NotExistentAttributeError(f"{node!r} has no key {name!r}")
        return node.base.attributes.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__getattribute__(self, "_node").base.attributes.set(name, value)

    def __delattr__(self, name: str) -> None:
        object.__getattribute__(self, "_node").base.attributes.delete(name)

    def __getitem__(self, key: str) -> Any:
        return object.__getattribute__(self, "_node")[key]

    def __iter__(self) -> Iterator[str]:
        return iter(object.__getattribute__(self, "_node").keys())

    def __contains__(self, key: str) -> bool:
        return key in object.__getattribute__(self, "_node")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(object.__getattribute__(self, "_node").keys()))

    def __eq__(self, other: object) -> bool:
        mine = object.__getattribute__(self, "_node").get_dict()
        return mine == (other if isinstance(other, dict) else getattr(other, "get_dict", lambda: None)())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_node").get_dict())
