"""EnumData: one member of a Python :class:`enum.Enum` (AiiDA's ``core.enum``).

Attributes: ``name`` and ``value`` of the member and ``identifier``, the importable path
``module:QualName`` of its enum class. The member comes back with :meth:`EnumData.get_member`
as long as the class can be imported; ``name`` and ``value`` can always be read.
"""

from __future__ import annotations

import importlib
from enum import Enum
from typing import Any

from provgraph.common.json import clean_value
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data

__all__ = ["EnumData"]


def _identifier(enum_class: type) -> str:
    return f"{enum_class.__module__}:{enum_class.__qualname__}"


class EnumData(Data):
    """A stored enum member (see the module docstring).

    :param member: the member to store; its value must be JSON-able
    """

    _node_type = "data.core.enum"
    KEY_NAME = "name"
    KEY_VALUE = "value"
    KEY_IDENTIFIER = "identifier"

    def __init__(self, member: Enum, **kwargs: Any) -> None:
        if not isinstance(member, Enum):
            raise ValidationError(f"EnumData needs an Enum member, not {type(member).__name__} {member!r:.60}")
        super().__init__(**kwargs)
        self.base.attributes.set_many({
            self.KEY_NAME: member.name,
            self.KEY_VALUE: clean_value(member.value, kind="enum value"),
            self.KEY_IDENTIFIER: _identifier(type(member)),
        })

    @property
    def name(self) -> str:
        """The member's name."""
        return self.base.attributes.get(self.KEY_NAME)

    @property
    def value(self) -> Any:
        """The member's value."""
        return self.base.attributes.get(self.KEY_VALUE)

    @property
    def identifier(self) -> str:
        """The importable path of the enum class."""
        return self.base.attributes.get(self.KEY_IDENTIFIER)

    def get_enum(self) -> type[Enum]:
        """The enum class.

        :raises ImportError: when it cannot be imported here
        """
        module, _, qualname = self.identifier.partition(":")
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            try:
                target = getattr(target, part)
            except AttributeError as exc:
                raise ImportError(f"cannot import the enum {self.identifier}: {exc}") from exc
        return target

    def get_member(self) -> Enum:
        """The enum member.

        :raises ImportError: when the class cannot be imported
        :raises ValueError: when the class no longer has a member with this value
        """
        enum_class = self.get_enum()
        try:
            return enum_class(self.value)
        except ValueError as exc:
            raise ValueError(f"{self.identifier} has no member with value {self.value!r} any more") from exc

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Enum):
            other_data = (other.name, other.value, _identifier(type(other)))
            return (self.name, self.value, self.identifier) == other_data
        if isinstance(other, EnumData):
            return (self.name, self.value, self.identifier) == (other.name, other.value, other.identifier)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.uuid)
