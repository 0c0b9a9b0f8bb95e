"""The backend-neutral part of enforcing the link rules: what every backend checks the same way.

Each backend (``storage/neo4j/linkcheck.py``, ``storage/sqlite/linkcheck.py``) fetches what it
needs from its own database inside the storing transaction and hands it to these functions, so
the rules and their messages are written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from provgraph.common.links import LINK_RULES, LinkRecord, LinkType
from provgraph.exceptions import LinkRuleError

#: labels of the nodes a transaction creates, by pk
NewNodes = dict[int, set[str]]

#: the link families that must stay acyclic: data provenance, and the call tree. Logical
#: provenance (INPUT_WORK, RETURN) may loop back, as in AiiDA: a workflow can return its input.
ACYCLIC_FAMILIES = (
    frozenset({LinkType.INPUT_CALC, LinkType.CREATE}),
    frozenset({LinkType.CALL_CALC, LinkType.CALL_WORK}),
)


def check_endpoint_labels(links: Sequence[LinkRecord], labels: Mapping[int, set[str]]) -> None:
    """Both ends of every link exist (have ``labels``), are distinct, and carry the labels their type demands.

    :param labels: the class-tree labels of every stored or new node the links touch, by pk
    :raises LinkRuleError: naming the first link that breaks a rule
    """
    for link in links:
        rule = LINK_RULES[link.link_type]
        for end, pk in (("source", link.source), ("target", link.target)):
            if pk not in labels:
                raise LinkRuleError(f"{link.link_type.value} link: {end} node {pk} is not stored")
        if link.source == link.target:
            raise LinkRuleError(f"{link.link_type.value} link from node {link.source} to itself: the graph is acyclic")
        if rule.source not in labels[link.source] or rule.target not in labels[link.target]:
            raise LinkRuleError(
                f"rule broken: {rule.description} (got {_kind(labels[link.source])} {link.source} -> "
                f"{_kind(labels[link.target])} {link.target})"
            )


def _kind(labels: set[str]) -> str:
    for name in ("CalculationNode", "WorkflowNode", "Data"):
        if name in labels:
            return name
    return "Node"


def cycle_error(source: int, target: int) -> LinkRuleError:
    """The error for a new link ``source -> target`` that closes a cycle."""
    return LinkRuleError(f"rule broken: the graph is acyclic, but a link {source} -> {target} closes a cycle")
