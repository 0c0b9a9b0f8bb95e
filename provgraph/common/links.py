"""Link types, the rules every link must obey, and the provenance traversal rules.

The rules are data (one table) read by every backend when it stores links, by
node deletion and by archive export, so they are stated exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class LinkType(str, Enum):
    """The six typed relationships of the provenance graph."""

    INPUT_CALC = "INPUT_CALC"
    INPUT_WORK = "INPUT_WORK"
    CREATE = "CREATE"
    RETURN = "RETURN"
    CALL_CALC = "CALL_CALC"
    CALL_WORK = "CALL_WORK"


@dataclass(frozen=True)
class LinkRule:
    """What a link of one type may connect, and its uniqueness constraints.

    :param source: class-tree label the source must carry
    :param target: class-tree label the target must carry
    :param unique_label_per_target: no two links of this type into one target share a label
    :param unique_label_per_source: no two links of this type out of one source share a label
    :param single_incoming: link types of which a target may have at most one incoming link in total
    """

    link_type: LinkType
    source: str
    target: str
    unique_label_per_target: bool = False
    unique_label_per_source: bool = False
    single_incoming: frozenset[LinkType] = frozenset()
    description: str = ""


_CALLS = frozenset({LinkType.CALL_CALC, LinkType.CALL_WORK})

LINK_RULES: dict[LinkType, LinkRule] = {
    rule.link_type: rule
    for rule in (
        LinkRule(LinkType.INPUT_CALC, "Data", "CalculationNode", unique_label_per_target=True,
                 description="INPUT_CALC links Data to a CalculationNode; input labels are unique per calculation"),
        LinkRule(LinkType.INPUT_WORK, "Data", "WorkflowNode", unique_label_per_target=True,
                 description="INPUT_WORK links Data to a WorkflowNode; input labels are unique per workflow"),
        LinkRule(LinkType.CREATE, "CalculationNode", "Data", unique_label_per_source=True,
                 single_incoming=frozenset({LinkType.CREATE}),
                 description="CREATE links a CalculationNode to Data; a Data node has at most one creator"),
        LinkRule(LinkType.RETURN, "WorkflowNode", "Data", unique_label_per_source=True,
                 description="RETURN links a WorkflowNode to Data that already exists"),
        LinkRule(LinkType.CALL_CALC, "WorkflowNode", "CalculationNode", single_incoming=_CALLS,
                 description="CALL_CALC links a WorkflowNode to a CalculationNode; a process has one caller"),
        LinkRule(LinkType.CALL_WORK, "WorkflowNode", "WorkflowNode", single_incoming=_CALLS,
                 description="CALL_WORK links a WorkflowNode to a WorkflowNode; a process has one caller"),
    )
}

#: links followed by with_ancestors / with_descendants (data provenance only)
PROVENANCE_LINKS = (LinkType.INPUT_CALC, LinkType.CREATE)


@dataclass(frozen=True)
class LinkRecord:
    """One link to store: ``source`` and ``target`` are node pks."""

    source: int
    target: int
    link_type: LinkType
    label: str


@dataclass(frozen=True)
class LinkTriple:
    """A link seen from one node: the node at the other end, the type and the label."""

    node_pk: int
    link_type: LinkType
    label: str


class Direction(str, Enum):
    """Which way a traversal follows a link."""

    FORWARD = "forward"
    BACKWARD = "backward"


@dataclass(frozen=True)
class TraversalRule:
    """Follow links of ``link_type`` in ``direction``; ``toggleable`` rules can be switched off."""

    link_type: LinkType
    direction: Direction
    default: bool
    toggleable: bool
    name: str


#: What deleting a node takes with it (AiiDA's delete rules): its created data, the
#: processes that consumed it, their outputs, and the callers of any deleted process.
DELETE_RULES: tuple[TraversalRule, ...] = (
    TraversalRule(LinkType.INPUT_CALC, Direction.FORWARD, True, False, "input_calc_forward"),
    TraversalRule(LinkType.CREATE, Direction.FORWARD, True, False, "create_forward"),
    TraversalRule(LinkType.INPUT_WORK, Direction.FORWARD, True, False, "input_work_forward"),
    TraversalRule(LinkType.RETURN, Direction.FORWARD, False, True, "return_forward"),
    TraversalRule(LinkType.CALL_CALC, Direction.FORWARD, True, False, "call_calc_forward"),
    TraversalRule(LinkType.CALL_WORK, Direction.FORWARD, True, False, "call_work_forward"),
    TraversalRule(LinkType.CALL_CALC, Direction.BACKWARD, True, False, "call_calc_backward"),
    TraversalRule(LinkType.CALL_WORK, Direction.BACKWARD, True, False, "call_work_backward"),
    TraversalRule(LinkType.CREATE, Direction.BACKWARD, True, True, "create_backward"),
    TraversalRule(LinkType.RETURN, Direction.BACKWARD, False, True, "return_backward"),
)


def active_rules(rules: tuple[TraversalRule, ...], overrides: dict[str, bool] | None = None) -> list[TraversalRule]:
    """Return the rules that apply, after switching toggleable ones per ``overrides``.

    :raises ValueError: when an override names an unknown rule or a rule that cannot be switched
    """
    overrides = overrides or {}
    by_name = {rule.name: rule for rule in rules}
    for name in overrides:
        if name not in by_name:
            raise ValueError(f"unknown traversal rule {name!r}; known: {', '.join(by_name)}")
        if not by_name[name].toggleable:
            raise ValueError(f"traversal rule {name!r} cannot be switched off")
    return [rule for rule in rules if overrides.get(rule.name, rule.default)]
