"""Group: a named set of nodes (membership never changes the nodes themselves).

The API follows AiiDA 2.x: ``Group(label=...)``, ``Group.collection.get / get_or_create /
delete / all / count / find``, :func:`load_group`, a settable ``label`` and ``description``,
``add_nodes`` / ``remove_nodes`` / ``clear`` / ``is_empty`` / ``count`` / ``nodes`` and the
``base.extras`` namespace.  A non-node member is a ``TypeError``, an unstored one a
``ValueError`` (:class:`~provgraph.exceptions.ValidationError`), as in AiiDA.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from provgraph.exceptions import ModificationNotAllowed, MultipleObjectsError, NotExistent, ValidationError
from provgraph.orm.backend import get_backend
from provgraph.storage.entities import GroupRecord


class GroupCollection:
    """The stored groups, reached as ``Group.collection`` (AiiDA's collection API).

    Calling it (``Group.collection()``) still returns the list of every group, as before.
    """

    def __init__(self, cls: type[Group]) -> None:
        self._cls = cls

    def __call__(self, type_string: str | None = None) -> list[Group]:
        """Every stored group (of ``type_string`` if given), by pk."""
        return [self._cls._from_record(r) for r in get_backend().groups.list(type_string=type_string)]

    def get(self, **filters: Any) -> Group:
        """The one group matching ``label``, ``pk`` (or ``id``), ``uuid`` and ``type_string`` (default core).

        :raises NotExistent: when no group matches
        :raises MultipleObjectsError: when several match
        """
        if "id" in filters:
            filters["pk"] = filters.pop("id")
        type_string = filters.pop("type_string", "core")
        unknown = sorted(set(filters) - {"label", "pk", "uuid"})
        if unknown:
            raise ValidationError(f"cannot look groups up by {unknown}; use label, pk (id), uuid, type_string")
        if len(filters) == 1:
            return self._cls._from_record(get_backend().groups.get(type_string=type_string, **filters))
        found = self.find(filters={**filters, "type_string": type_string})
        if not found:
            raise NotExistent(f"no group matches {filters}")
        if len(found) > 1:
            raise MultipleObjectsError(f"{len(found)} groups match {filters}")
        return found[0]

    def get_or_create(self, label: str | None = None, **kwargs: Any) -> tuple[Group, bool]:
        """The group ``label`` and False, or a new stored one and True.

        :raises ValidationError: when no label is given
        """
        if not label:
            raise ValidationError("Group label must be provided")
        type_string = kwargs.get("type_string") or "core"
        try:
            return self._cls._from_record(get_backend().groups.get(label=label, type_string=type_string)), False
        except NotExistent:
            return self._cls(label=label, **kwargs).store(), True

    def delete(self, pk: int) -> None:
        """Delete the group ``pk``; its member nodes stay.

        :raises NotExistent: when there is no such group
        """
        get_backend().groups.delete(pk)

    def all(self) -> list[Group]:
        """Every stored group, by pk."""
        return self()

    def count(self) -> int:
        """The number of stored groups."""
        return len(get_backend().groups.list())

    def find(self, filters: dict[str, Any] | None = None, order_by: str | None = None,
             limit: int | None = None) -> list[Group]:
        """Groups whose fields equal ``filters`` (label, pk/id, uuid, type_string, description, user).

        :param order_by: a field name to sort by (``-name`` for descending)
        """
        wanted = dict(filters or {})
        if "id" in wanted:
            wanted["pk"] = wanted.pop("id")
        unknown = sorted(set(wanted) - {"label", "pk", "uuid", "type_string", "description", "user"})
        if unknown:
            raise ValidationError(f"cannot filter groups by {unknown}")
        records = [r for r in get_backend().groups.list() if all(getattr(r, k) == v for k, v in wanted.items())]
        if order_by:
            field = order_by.lstrip("-")
            records.sort(key=lambda r: getattr(r, field), reverse=order_by.startswith("-"))
        return [self._cls._from_record(r) for r in records[:limit]]


class _CollectionDescriptor:
    """Gives each Group class its own :class:`GroupCollection` on class access."""

    def __get__(self, instance: Any, owner: type[Group]) -> GroupCollection:
        return GroupCollection(owner)


class GroupExtras:
    """``group.base.extras``: free JSON-able key/values, changeable at any time."""

    def __init__(self, group: Group) -> None:
        self._group = group

    @property
    def all(self) -> dict[str, Any]:
        """A copy of every extra."""
        return dict(self._group._record.extras)

    def get(self, key: str, default: Any = ...) -> Any:
        """The extra ``key`` (``default`` when missing, else KeyError)."""
        extras = self._group._record.extras
        if key not in extras and default is ...:
            raise KeyError(f"group {self._group.label!r} has no extra {key!r}")
        return extras.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Set one extra."""
        self.set_many({key: value})

    def set_many(self, values: dict[str, Any]) -> None:
        """Set several extras at once."""
        self._write({**self._group._record.extras, **values})

    def reset(self, values: dict[str, Any]) -> None:
        """Replace every extra by ``values``."""
        self._write(dict(values))

    def delete(self, key: str) -> None:
        """Remove one extra (KeyError when missing)."""
        extras = dict(self._group._record.extras)
        if key not in extras:
            raise KeyError(f"group {self._group.label!r} has no extra {key!r}")
        del extras[key]
        self._write(extras)

    def keys(self) -> list[str]:
        """The extra names."""
        return list(self._group._record.extras)

    def items(self) -> list[tuple[str, Any]]:
        """The (name, value) pairs."""
        return list(self._group._record.extras.items())

    def _write(self, extras: dict[str, Any]) -> None:
        self._group._update(extras=extras)


class GroupBase:
    """The namespaces of a group (``extras``), as ``group.base``."""

    def __init__(self, group: Group) -> None:
        self.extras = GroupExtras(group)


class Group:
    """A labelled collection of stored nodes; labels are unique per ``type_string``.

    :param label: the group's name (required)
    :param description: free text
    :param type_string: the kind of group (``core`` for user groups)
    :param user: the owner (a User or an email; default: the profile's default user)
    :param extras: initial extras
    """

    collection = _CollectionDescriptor()

    def __init__(self, label: str | None = None, description: str = "", type_string: str | None = None,
                 user: Any = None, extras: dict[str, Any] | None = None) -> None:
        from provgraph.orm.nodes.node import default_user

        if not label:
            raise ValidationError("Group label must be provided")
        if not isinstance(label, str) or not label.strip():
            raise ValidationError(f"a group label is a non-empty string, not {label!r}")
        email = getattr(user, "email", user) or default_user()
        self._record = GroupRecord(label=label, type_string=type_string or "core", description=description,
                                   user=email, extras=dict(extras or {}))

    @classmethod
    def _from_record(cls, record: GroupRecord) -> Group:
        group = cls.__new__(cls)
        group._record = record
        return group

    @classmethod
    def get(cls, *, label: str | None = None, pk: int | None = None, uuid: str | None = None,
            type_string: str = "core", id: int | None = None) -> Group:
        """Load a stored group.

        :raises NotExistent: when there is no such group
        """
        pk = id if pk is None else pk
        return cls._from_record(get_backend().groups.get(label=label, pk=pk, uuid=uuid, type_string=type_string))

    @property
    def base(self) -> GroupBase:
        """The ``extras`` namespace."""
        return GroupBase(self)

    @property
    def pk(self) -> int | None:
        """The integer id (None before store)."""
        return self._record.pk

    @property
    def id(self) -> int | None:
        """The integer id, as ``pk``."""
        return self._record.pk

    @property
    def uuid(self) -> str:
        """The universally unique id."""
        return self._record.uuid

    @property
    def label(self) -> str:
        """The group's name; setting it on a stored group renames it at once.

        :raises StoringError: when another group of the same type has the new label
        """
        return self._record.label

    @label.setter
    def label(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"a group label is a non-empty string, not {value!r}")
        self._update(label=value)

    @property
    def description(self) -> str:
        """Free text; setting it on a stored group writes it at once."""
        return self._record.description

    @description.setter
    def description(self, value: str) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"a group description is a string, not {value!r}")
        self._update(description=value)

    @property
    def type_string(self) -> str:
        """The kind of group."""
        return self._record.type_string

    @property
    def time(self) -> Any:
        """When the group was made (aware datetime)."""
        return self._record.time

    @property
    def user(self) -> Any:
        """The owner, a :class:`~provgraph.orm.User`."""
        from provgraph.orm.computers import User
        from provgraph.storage.entities import UserRecord

        try:
            return User(get_backend().users.get(self._record.user))
        except NotExistent:  # recorded before any user record was written: nothing is written on a read
            return User(UserRecord(self._record.user))

    @property
    def is_stored(self) -> bool:
        """Whether the group is in the storage."""
        return self._record.pk is not None

    def _update(self, **fields: Any) -> None:
        if self.is_stored:
            self._record = get_backend().groups.update(self._record.pk, **fields)
        else:
            for name, value in fields.items():
                setattr(self._record, name, value)

    def store(self) -> Group:
        """Store the group; return it.

        :raises StoringError: when a group of this label and type exists already
        """
        if not self.is_stored:
            get_backend().users.get_or_create(self._record.user)
            self._record.pk = get_backend().groups.store(self._record)
        return self

    def _require_stored(self, action: str) -> int:
        if not self.is_stored:
            raise ModificationNotAllowed(f"cannot {action} an unstored group ({self.label!r}): store it first")
        return self._record.pk

    def add_nodes(self, nodes: Any | Iterable[Any]) -> None:
        """Add stored nodes (adding a member twice is harmless).

        :raises TypeError: for something that is not a node
        :raises ValidationError: (a ValueError) for an unstored node; nothing is added
        :raises ModificationNotAllowed: when the group is not stored
        """
        pk = self._require_stored("add nodes to")
        pks = _pks(nodes)
        if pks:
            get_backend().groups.add_nodes(pk, pks)

    def remove_nodes(self, nodes: Any | Iterable[Any]) -> None:
        """Remove nodes from the group (the nodes stay; non-members are ignored)."""
        pk = self._require_stored("remove nodes from")
        pks = _pks(nodes)
        if pks:
            get_backend().groups.remove_nodes(pk, pks)

    def clear(self) -> None:
        """Remove every member (the nodes stay)."""
        pk = self._require_stored("clear")
        members = get_backend().groups.node_pks(pk)
        if members:
            get_backend().groups.remove_nodes(pk, members)

    @property
    def nodes(self) -> list[Any]:
        """The member nodes, by pk (none for an unstored group)."""
        from provgraph.orm.utils import load_node

        if not self.is_stored:
            return []
        return [load_node(pk) for pk in get_backend().groups.node_pks(self._record.pk)]

    def count(self) -> int:
        """The number of members (0 for an unstored group)."""
        return len(get_backend().groups.node_pks(self._record.pk)) if self.is_stored else 0

    @property
    def is_empty(self) -> bool:
        """Whether the group has no member."""
        return self.count() == 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and other.uuid == self.uuid

    def __hash__(self) -> int:
        return hash(self._record.uuid)

    def __str__(self) -> str:
        return f"{type(self).__name__}<{self.label}>"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.label!r} [type {self.type_string}], of user {self._record.user}>"


def load_group(identifier: int | str | None = None, *, pk: int | None = None, uuid: str | None = None,
               label: str | None = None) -> Group:
    """Load a stored (``core``) group by pk, uuid (or a unique prefix) or label, as AiiDA's ``load_group``.

    An int ``identifier`` is a pk; a string one is a pk when all digits, else a label, else a uuid prefix.

    :raises NotExistent: when no group matches
    :raises ValidationError: (a ValueError) when not exactly one way of finding the group is given
    """
    given = [value for value in (identifier, pk, uuid, label) if value is not None]
    if len(given) != 1:
        raise ValidationError("give exactly one of identifier, pk, uuid or label to load a group")
    backend = get_backend().groups
    if pk is not None or uuid is not None or label is not None:
        return Group._from_record(backend.get(pk=pk, uuid=uuid, label=label))
    if isinstance(identifier, bool) or not isinstance(identifier, (int, str)):
        raise ValidationError(f"a group identifier is a pk, uuid or label, not {identifier!r}")
    if isinstance(identifier, int):
        return Group._from_record(backend.get(pk=identifier))
    attempts: list[dict[str, Any]] = [{"label": identifier}]
    if identifier.isdigit():
        attempts.insert(0, {"pk": int(identifier)})
    if len(identifier) >= 4 and all(ch in "0123456789abcdef-" for ch in identifier.lower()):
        attempts.append({"uuid": identifier.lower()})
    for attempt in attempts:
        try:
            return Group._from_record(backend.get(**attempt))
        except NotExistent:
            continue
    raise NotExistent(f"no group with pk, label or uuid {identifier!r}")


def _pks(nodes: Any) -> list[int]:
    from provgraph.orm.nodes.node import Node

    if isinstance(nodes, Node):
        items = [nodes]
    elif isinstance(nodes, Iterable) and not isinstance(nodes, (str, bytes, dict)):
        items = list(nodes)
    else:
        raise TypeError(f"expected a node or a list of nodes, got {type(nodes).__name__}")
    for item in items:
        if not isinstance(item, Node):
            raise TypeError(f"group members are nodes, not {type(item).__name__}")
    if any(not item.is_stored for item in items):
        raise ValidationError("at least one of the given nodes is unstored: store them before adding them to a group")
    return [item.pk for item in items]
