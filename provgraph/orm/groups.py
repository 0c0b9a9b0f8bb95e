"""Group: a named set of nodes (membership never changes the nodes themselves)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from provgraph.exceptions import ModificationNotAllowed, ValidationError
from provgraph.orm.backend import get_backend
from provgraph.storage.entities import GroupRecord


class Group:
    """A labelled collection of stored nodes; labels are unique per ``type_string``.

    :param label: the group's name
    :param type_string: the kind of group (``core`` for user groups)
    """

    def __init__(self, label: str, description: str = "", type_string: str = "core") -> None:
        from provgraph.orm.nodes.node import default_user

        if not isinstance(label, str) or not label.strip():
            raise ValidationError("a group needs a non-empty label")
        self._record = GroupRecord(label=label, type_string=type_string, description=description,
                                   user=default_user())

    @classmethod
    def _from_record(cls, record: GroupRecord) -> Group:
        group = cls.__new__(cls)
        group._record = record
        return group

    @classmethod
    def get(cls, *, label: str | None = None, pk: int | None = None, uuid: str | None = None,
            type_string: str = "core") -> Group:
        """Load a stored group.

        :raises NotExistent: when there is no such group
        """
        return cls._from_record(get_backend().groups.get(label=label, pk=pk, uuid=uuid, type_string=type_string))

    @classmethod
    def collection(cls, type_string: str | None = None) -> list[Group]:
        """Every stored group (of ``type_string`` if given)."""
        return [cls._from_record(r) for r in get_backend().groups.list(type_string=type_string)]

    @property
    def pk(self) -> int | None:
        """The integer id (None before store)."""
        return self._record.pk

    @property
    def uuid(self) -> str:
        """The universally unique id."""
        return self._record.uuid

    @property
    def label(self) -> str:
        """The group's name."""
        return self._record.label

    @property
    def type_string(self) -> str:
        """The kind of group."""
        return self._record.type_string

    @property
    def description(self) -> str:
        """Free text."""
        return self._record.description

    @property
    def is_stored(self) -> bool:
        """Whether the group is in the storage."""
        return self._record.pk is not None

    def store(self) -> Group:
        """Store the group.

        :raises StoringError: when a group of this label and type exists already
        """
        if not self.is_stored:
            self._record.pk = get_backend().groups.store(self._record)
        return self

    def _require_stored(self) -> int:
        if not self.is_stored:
            raise ModificationNotAllowed(f"store group {self.label!r} before changing its members")
        return self._record.pk

    def add_nodes(self, nodes: Any | Iterable[Any]) -> None:
        """Add stored nodes (adding a member twice is harmless)."""
        get_backend().groups.add_nodes(self._require_stored(), _pks(nodes))

    def remove_nodes(self, nodes: Any | Iterable[Any]) -> None:
        """Remove nodes from the group (the nodes stay)."""
        get_backend().groups.remove_nodes(self._require_stored(), _pks(nodes))

    @property
    def nodes(self) -> list[Any]:
        """The member nodes, by pk."""
        from provgraph.orm.utils import load_node

        return [load_node(pk) for pk in get_backend().groups.node_pks(self._require_stored())]

    def count(self) -> int:
        """The number of members."""
        return len(get_backend().groups.node_pks(self._require_stored()))

    def __repr__(self) -> str:
        return f"<Group: {self.label!r} [type {self.type_string}], pk {self.pk}>"


def _pks(nodes: Any) -> list[int]:
    from provgraph.orm.nodes.node import Node

    items = [nodes] if isinstance(nodes, Node) else list(nodes)
    pks = []
    for item in items:
        if not isinstance(item, Node) or not item.is_stored:
            raise ValidationError(f"only stored nodes can be group members, not {item!r}")
        pks.append(item.pk)
    return pks
