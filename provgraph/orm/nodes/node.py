"""Node: the root of the provenance graph's class tree.

An unstored node is freely editable. ``store()`` gives it a pk and makes its
attributes and files immutable; extras, label and description stay mutable.
Each facet of a node lives in its own small namespace under ``node.base``.

The stale-node rule: a stored node object never reports old state. Whatever may
still change in storage (label, description, mtime, extras, and the attributes of a
process node that is not sealed yet) is checked against the storage on every read:
the backend compares the one ``mtime`` field (``nodes.get_if_changed``) and the
object re-reads its whole record only when it moved. What cannot change (pk, uuid,
ctime, the attributes of data and of sealed processes) is read from memory, with
no query. Links (``node.outputs``, ``base.links``) are always queried. So a node
returned by ``submit()`` or ``load_node`` follows its process to the end, as in AiiDA.
"""

from __future__ import annotations

import getpass
import uuid as uuid_module
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from typing import Any, ClassVar, TypeVar

from provgraph.exceptions import ModificationNotAllowed, StoringError
from provgraph.orm.backend import get_backend
from provgraph.storage.base import NodeRecord

N = TypeVar("N", bound="Node")


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


def default_user() -> str:
    """The email recorded as a new node's user: the profile's default user or ``<login>@localhost``."""
    from provgraph.profiles import get_profile

    return get_profile().storage.get("config", {}).get("default_user") or _login_email()


@lru_cache(maxsize=1)
def _login_email() -> str:
    return f"{getpass.getuser()}@localhost"


class NodeBase:
    """The namespaces of a node: ``attributes``, ``extras``, ``links``, ``repository``, ``comments``, ``caching``."""

    def __init__(self, node: Node) -> None:
        self._node = node

    @cached_property
    def attributes(self):  # noqa: ANN201 - imports kept local to avoid cycles
        """The node's attributes (immutable once stored)."""
        from provgraph.orm.nodes.attributes import NodeAttributes

        return NodeAttributes(self._node)

    @cached_property
    def extras(self):  # noqa: ANN201
        """The node's extras (always mutable)."""
        from provgraph.orm.nodes.extras import NodeExtras

        return NodeExtras(self._node)

    @cached_property
    def links(self):  # noqa: ANN201
        """The node's incoming and outgoing links."""
        from provgraph.orm.nodes.links import NodeLinks

        return NodeLinks(self._node)

    @cached_property
    def repository(self):  # noqa: ANN201
        """The node's virtual file tree."""
        from provgraph.orm.nodes.repository import NodeRepository

        return NodeRepository(self._node)

    @cached_property
    def comments(self):  # noqa: ANN201
        """The comments on the node."""
        from provgraph.orm.nodes.comments import NodeComments

        return NodeComments(self._node)

    @cached_property
    def caching(self):  # noqa: ANN201
        """The node's hash and cache validity (see :mod:`provgraph.orm.nodes.caching`)."""
        from provgraph.orm.nodes.caching import NodeCaching

        return NodeCaching(self._node)


class Node:
    """A node of the provenance graph.

    :param label: a short free-text label
    :param description: a longer free-text description
    """

    #: the dotted type string plugins use; set by every concrete class
    _node_type: ClassVar[str] = "node"
    #: attributes that may change after store (process bookkeeping); none for most nodes
    _updatable_attributes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, label: str = "", description: str = "", **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {', '.join(sorted(kwargs))}")
        from provgraph.orm.nodes.registry import node_type_of

        stamp = now()
        self._record = NodeRecord(
            uuid=str(uuid_module.uuid4()), node_type=node_type_of(type(self)), labels=self.class_tree(),
            ctime=stamp, mtime=stamp, user=default_user(), label=label, description=description,
        )
        self._pending_links: list[tuple[Node, str, str]] = []

    @classmethod
    def class_tree(cls) -> tuple[str, ...]:
        """The class names from ``Node`` down to this class: the node's labels in Neo4j."""
        return tuple(klass.__name__ for klass in reversed(cls.__mro__) if issubclass(klass, Node))

    @classmethod
    def _from_record(cls: type[N], record: NodeRecord) -> N:
        node = cls.__new__(cls)
        node._record = record
        node._pending_links = []
        return node

    def _refresh(self) -> NodeRecord:
        """Re-read the record if it changed in storage since this object last read it; return it.

        :raises NotExistent: when the stored node was deleted meanwhile
        """
        record = self._record
        if record.pk is not None:
            fresh = get_backend().nodes.get_if_changed(record.pk, record.mtime)
            if fresh is not None:
                self._record = record = fresh
        return record

    def _attributes_may_change(self) -> bool:
        """Whether the stored attributes can still change (bookkeeping of a process not sealed yet)."""
        return bool(self._updatable_attributes) and not self._record.attributes.get("sealed", False)

    @cached_property
    def base(self) -> NodeBase:
        """The node's namespaces (attributes, extras, links, repository, comments)."""
        return NodeBase(self)

    @property
    def pk(self) -> int | None:
        """The integer id, allocated by the backend on store (None before)."""
        return self._record.pk

    @property
    def uuid(self) -> str:
        """The universally unique id."""
        return self._record.uuid

    @property
    def node_type(self) -> str:
        """The dotted type string (e.g. ``data.core.int``)."""
        return self._record.node_type

    @property
    def is_stored(self) -> bool:
        """Whether the node is in the storage."""
        return self._record.pk is not None

    @property
    def ctime(self) -> datetime:
        """Creation time."""
        return self._record.ctime

    @property
    def mtime(self) -> datetime:
        """Last modification time (re-read from storage)."""
        return self._refresh().mtime

    @property
    def user(self):  # noqa: ANN201 - User is imported lazily (cycle)
        """The user who created the node: a :class:`~provgraph.orm.computers.User`, which is also its email."""
        from provgraph.orm.computers import User

        return User(self._record.user)

    @property
    def label(self) -> str:
        """A short free-text label (mutable, also once stored; re-read from storage)."""
        return self._refresh().label

    @label.setter
    def label(self, value: str) -> None:
        self._set_mutable_field("label", value)

    @property
    def description(self) -> str:
        """A longer free-text description (mutable, also once stored; re-read from storage)."""
        return self._refresh().description

    @description.setter
    def description(self, value: str) -> None:
        self._set_mutable_field("description", value)

    def _set_mutable_field(self, name: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        record = self._refresh()
        setattr(record, name, value)
        if self.is_stored:
            record.mtime = now()
            get_backend().nodes.update(self.pk, **{name: value, "mtime": record.mtime})

    def _check_mutable(self, what: str) -> None:
        """Refuse changes to ``what`` once the node is stored."""
        if self.is_stored:
            raise ModificationNotAllowed(f"the {what} of stored node {self.pk} cannot be changed")

    def _attribute_mutable(self, key: str) -> bool:
        """Whether attribute ``key`` may still change once stored (never, except process bookkeeping)."""
        return False

    def _validate(self) -> None:
        """Check the node is complete before storing; subclasses extend it."""

    def store(self: N) -> N:
        """Store the node (and links added to it while unstored) in one transaction.

        :raises StoringError: when the node is invalid or a link source is not stored
        :raises LinkRuleError: when a pending link breaks a provenance rule
        """
        if self.is_stored:
            return self
        self._validate()
        from provgraph.common.links import LinkRecord, LinkType

        links = []
        for source, link_type, link_label in self._pending_links:
            if not source.is_stored:
                raise StoringError(f"cannot store node: its {link_type} link source {source!r} is not stored")
            links.append(LinkRecord(source.pk, -1, LinkType(link_type), link_label))
        get_backend().nodes.store([self._record], links)
        self._pending_links = []
        return self

    def clone(self: N) -> N:
        """An unstored copy: same class, attributes, extras, label, description and files; new uuid, no links.

        Cloning a process node is refused (a process record is not copied, as in AiiDA).
        """
        import copy

        from provgraph.exceptions import ValidationError

        if "ProcessNode" in self.class_tree():
            raise ValidationError(f"cannot clone {self!r}: process nodes are not cloned")
        record = self._refresh()
        clone = type(self).__new__(type(self))
        stamp = now()
        clone._record = NodeRecord(
            uuid=str(uuid_module.uuid4()), node_type=record.node_type, labels=record.labels, ctime=stamp,
            mtime=stamp, user=default_user(), label=record.label, description=record.description,
            attributes=copy.deepcopy(record.attributes), extras=copy.deepcopy(record.extras),
            repository=dict(record.repository), computer=record.computer,
        )
        clone._pending_links = []
        return clone

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other.uuid == self.uuid

    def __hash__(self) -> int:
        return hash(self.uuid)

    def _repr_value(self) -> str:
        """What follows the pk in ``str()``/``repr()`` (AiiDA style): a process's type, a value..."""
        process_type = self._record.attributes.get("process_type") if "ProcessNode" in self.class_tree() else None
        return f" ({process_type})" if process_type else ""

    def __str__(self) -> str:
        state = f"pk: {self.pk}" if self.is_stored else "unstored"
        return f"uuid: {self.uuid} ({state}){self._repr_value()}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"
