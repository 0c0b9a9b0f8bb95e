"""``node.base.links``: add and list the typed links of a node."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provgraph.common.links import LINK_RULES, Direction, LinkRecord, LinkType
from provgraph.exceptions import (
    LinkRuleError,
    MultipleObjectsError,
    NotExistent,
    NotExistentAttributeError,
    NotExistentKeyError,
    ValidationError,
)
from provgraph.orm.backend import get_backend

if TYPE_CHECKING:
    from provgraph.orm.nodes.node import Node

_LINK_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(__[A-Za-z0-9_]+)*$")


@dataclass(frozen=True)
class LinkTriple:
    """A link seen from one node: the node at the other end, the link type and the label."""

    node: Node
    link_type: LinkType
    link_label: str


class LinkManager:
    """The result of a link query: a list of :class:`LinkTriple` with helpers."""

    def __init__(self, triples: list[LinkTriple]) -> None:
        self._triples = triples

    def all(self) -> list[LinkTriple]:
        """Every link."""
        return list(self._triples)

    def all_nodes(self) -> list[Node]:
        """The nodes at the other ends."""
        return [triple.node for triple in self._triples]

    def all_link_labels(self) -> list[str]:
        """The link labels."""
        return [triple.link_label for triple in self._triples]

    def one(self) -> LinkTriple:
        """The only link.

        :raises NotExistent: when there is none
        :raises MultipleObjectsError: when there are several
        """
        if not self._triples:
            raise NotExistent("no link matches")
        if len(self._triples) > 1:
            raise MultipleObjectsError(f"{len(self._triples)} links match, expected one")
        return self._triples[0]

    def first(self) -> LinkTriple | None:
        """The first link, or None."""
        return self._triples[0] if self._triples else None

    def get_node_by_label(self, label: str) -> Node:
        """The node linked with ``label``."""
        return LinkManager([t for t in self._triples if t.link_label == label]).one().node

    def __len__(self) -> int:
        return len(self._triples)

    def __iter__(self):  # noqa: ANN204
        return iter(self._triples)


def validate_link_label(label: str) -> str:
    """Link labels are identifiers (with ``__`` as namespace separator)."""
    if not isinstance(label, str) or not _LINK_LABEL.match(label):
        raise ValidationError(f"invalid link label {label!r}: use letters, digits and '_', not starting with a digit")
    return label


class NodeLinks:
    """Add links to a node and list its incoming and outgoing links."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def add_incoming(self, source: Node, link_type: LinkType | str, link_label: str) -> None:
        """Link ``source`` -> this node.

        The source must be stored. If this node is not stored yet, the link is kept
        and written together with the node by ``store()``.

        :raises LinkRuleError: when the link breaks a rule (nothing is written)
        """
        from provgraph.orm.nodes.node import Node

        link_type = LinkType(link_type)
        validate_link_label(link_label)
        if not isinstance(source, Node):
            raise ValidationError(f"link source must be a Node, not {type(source).__name__}")
        if not source.is_stored:
            state = "are both unstored" if not self._node.is_stored else "has an unstored source"
            raise LinkRuleError(f"cannot link {source!r} -> {self._node!r}: the link {state}; store the source first")
        self._check_kinds(source, link_type)
        if link_type is LinkType.RETURN and not self._node.is_stored:
            raise LinkRuleError(f"rule broken: {LINK_RULES[link_type].description}; {self._node!r} is not stored")
        if self._node.is_stored:
            get_backend().nodes.add_links([LinkRecord(source.pk, self._node.pk, link_type, link_label)])
        else:
            self._check_pending(source, link_type, link_label)
            self._node._pending_links.append((source, link_type.value, link_label))

    def add_outgoing(self, target: Node, link_type: LinkType | str, link_label: str) -> None:
        """Link this node -> ``target`` (same rules as :meth:`add_incoming`)."""
        target.base.links.add_incoming(self._node, link_type, link_label)

    def _check_kinds(self, source: Node, link_type: LinkType) -> None:
        """Check the class-tree rule early, so an unstored target fails before store()."""
        rule = LINK_RULES[link_type]
        if rule.source not in source.class_tree() or rule.target not in self._node.class_tree():
            raise LinkRuleError(
                f"rule broken: {rule.description} (got {type(source).__name__} -> {type(self._node).__name__})"
            )

    def _check_pending(self, source: Node, link_type: LinkType, label: str) -> None:
        rule = LINK_RULES[link_type]
        for _source, other_type, other_label in self._node._pending_links:
            if other_type == link_type.value and rule.unique_label_per_target and other_label == label:
                raise LinkRuleError(f"rule broken: {rule.description}; label {label!r} is already used")
            if rule.single_incoming and LinkType(other_type) in rule.single_incoming:
                raise LinkRuleError(f"rule broken: {rule.description}; {self._node!r} already has one")

    def get_incoming(self, node_class: type | None = None, link_type: Sequence[LinkType | str] | LinkType | str = (),
                     link_label_filter: str | None = None) -> LinkManager:
        """The links into this node, optionally filtered by class of the source, type and label."""
        return self._get(Direction.BACKWARD, node_class, link_type, link_label_filter)

    def get_outgoing(self, node_class: type | None = None, link_type: Sequence[LinkType | str] | LinkType | str = (),
                     link_label_filter: str | None = None) -> LinkManager:
        """The links out of this node, optionally filtered by class of the target, type and label."""
        return self._get(Direction.FORWARD, node_class, link_type, link_label_filter)

    def _get(self, direction: Direction, node_class: type | None, link_type, label_filter: str | None) -> LinkManager:
        from provgraph.orm.utils import load_node

        types = [LinkType(link_type)] if isinstance(link_type, (str, LinkType)) else [LinkType(t) for t in link_type]
        triples = []
        if self._node.is_stored:
            for triple in get_backend().nodes.links(self._node.pk, direction, types):
                if label_filter is None or _like(triple.label, label_filter):
                    triples.append(LinkTriple(load_node(triple.node_pk), triple.link_type, triple.label))
        elif direction is Direction.BACKWARD:
            for source, kind, label in self._node._pending_links:
                if (not types or LinkType(kind) in types) and (label_filter is None or _like(label, label_filter)):
                    triples.append(LinkTriple(source, LinkType(kind), label))
        if node_class is not None:
            triples = [t for t in triples if isinstance(t.node, node_class)]
        return LinkManager(triples)


def _like(value: str, pattern: str) -> bool:
    """SQL-LIKE matching: ``%`` any run of characters, ``_`` one character."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value) is not None


#: separator of namespace levels in link labels (``parts__high`` is ``parts.high``)
NAMESPACE_SEPARATOR = "__"


class LinkNamespace(dict):
    """A nested namespace of :class:`NodeLinksManager`: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise NotExistentAttributeError(
                f"namespace has no {name!r}; it holds: {', '.join(sorted(self)) or 'nothing'}") from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self))


class NodeLinksManager:
    """``node.inputs`` / ``node.outputs``: the linked nodes by label, as in AiiDA.

    ``outputs.result`` and ``outputs['result']`` give the node linked with label ``result``;
    labels with ``__`` are namespaces (``outputs.parts.high`` for ``parts__high``, which also
    works as a flat label). Iteration, ``in`` and ``dir()`` see the top level of the
    namespaces; ``keys()``, ``values()``, ``items()`` and ``len()`` the flat link labels.
    A missing label raises :class:`NotExistentAttributeError` / :class:`NotExistentKeyError`
    (also ``AttributeError`` / ``KeyError``). The links are queried at every access.
    """

    def __init__(self, node: Node, link_types: Sequence[LinkType], incoming: bool) -> None:
        self._node = node
        self._link_types = tuple(LinkType(t) for t in link_types)
        self._incoming = incoming

    def _flat(self) -> dict[str, Node]:
        links = self._node.base.links
        found = (links.get_incoming if self._incoming else links.get_outgoing)(link_type=self._link_types)
        return {triple.link_label: triple.node for triple in found}

    def _nested(self) -> dict[str, Any]:
        nested: dict[str, Any] = {}
        for label, node in self._flat().items():
            *parents, last = label.split(NAMESPACE_SEPARATOR)
            target = nested
            for part in parents:
                target = target.setdefault(part, LinkNamespace())
            target[last] = node
        return nested

    def _get_keys(self) -> list[str]:
        """The top-level labels and namespaces."""
        return list(self._nested())

    def _lookup(self, name: str) -> Any:
        nested = self._nested()
        if name in nested:
            return nested[name]
        flat = self._flat()
        if name in flat:
            return flat[name]
        raise LookupError(name)

    def _missing(self, name: str) -> str:
        direction = "an input" if self._incoming else "an output"
        return f"Node<{self._node.pk}> does not have {direction} with link label {name!r}"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._lookup(name)
        except LookupError:
            raise NotExistentAttributeError(self._missing(name)) from None

    def __getitem__(self, name: str) -> Any:
        try:
            return self._lookup(name)
        except LookupError:
            raise NotExistentKeyError(self._missing(name)) from None

    def get(self, name: str, default: Any = None) -> Any:
        """The node (or namespace) ``name``, or ``default``."""
        try:
            return self._lookup(name)
        except LookupError:
            return default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._nested() or name in self._flat())

    def __iter__(self) -> Iterator[str]:
        return iter(self._get_keys())

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._get_keys()))

    def keys(self) -> list[str]:
        """The flat link labels (``parts__high``)."""
        return list(self._flat())

    def values(self) -> list[Node]:
        """The linked nodes."""
        return list(self._flat().values())

    def items(self) -> list[tuple[str, Node]]:
        """(flat link label, node) pairs."""
        return list(self._flat().items())

    def __len__(self) -> int:
        return len(self._flat())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NodeLinksManager):
            return self._flat() == other._flat()
        if isinstance(other, dict):
            return self._flat() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        direction = "incoming" if self._incoming else "outgoing"
        kinds = ", ".join(t.name for t in self._link_types)
        return f"<NodeLinksManager: Manager for {direction} {kinds} links for node pk={self._node.pk}>"
