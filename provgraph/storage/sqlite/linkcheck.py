"""Enforce the link rules of ``provgraph.common.links`` inside a sqlite write transaction.

The same rule data and the same messages as the neo4j backend: every check reads the
database as the current transaction sees it (new nodes and links of the same batch
included), a failed check raises :class:`LinkRuleError`, the caller's transaction rolls
back and nothing is written. Lists of pks travel as one JSON parameter read with
``json_each``, so a batch of any size is one statement.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Sequence

from sqlalchemy import Connection, text

from provgraph.common.links import LINK_RULES, LinkRecord, LinkType
from provgraph.exceptions import LinkRuleError
from provgraph.storage.linkrules import ACYCLIC_FAMILIES, NewNodes, check_endpoint_labels, cycle_error
from provgraph.storage.sqlite.records import json_list, labels_of


def check_endpoints(connection: Connection, links: Sequence[LinkRecord], new: NewNodes) -> None:
    """Both ends exist, are distinct, and carry the labels their link type demands."""
    pks = sorted({pk for link in links for pk in (link.source, link.target)} - set(new))
    rows = connection.execute(
        text("SELECT pk, labels FROM nodes WHERE pk IN (SELECT value FROM json_each(:pks))"),
        {"pks": json_list(pks)},
    )
    labels: dict[int, set[str]] = {row.pk: set(labels_of(row.labels)) for row in rows}
    labels.update(new)
    check_endpoint_labels(links, labels)


def _stored_counts(connection: Connection, end: str, pks: set[int]) -> dict[tuple[int, str, str], int]:
    """Return the number of stored links per (node at ``end``, type, label) for the nodes ``pks``."""
    if not pks:
        return {}
    column = "target" if end == "target" else "source"
    rows = connection.execute(
        text(f"SELECT {column} AS pk, type, label, count(*) AS c FROM links "
             f"WHERE {column} IN (SELECT value FROM json_each(:pks)) GROUP BY {column}, type, label"),
        {"pks": json_list(sorted(pks))},
    )
    return {(row.pk, row.type, row.label): row.c for row in rows}


def check_single_incoming(connection: Connection, links: Sequence[LinkRecord], new: NewNodes) -> None:
    """A Data node has one creator; a process has one caller (counting stored and new links)."""
    limited = [link for link in links if LINK_RULES[link.link_type].single_incoming]
    if not limited:
        return
    batch = Counter((link.target, LINK_RULES[link.link_type].single_incoming) for link in limited)
    # nodes created in this batch have no stored links yet: only older nodes need a look
    stored_by_type: dict[int, Counter] = defaultdict(Counter)
    for (pk, link_type, _), count in _stored_counts(connection, "target", {pk for pk, _ in batch} - set(new)).items():
        stored_by_type[pk][link_type] += count
    for (pk, types), count in batch.items():
        total = count + sum(stored_by_type[pk][t.value] for t in types)
        if total > 1:
            link_type = next(link.link_type for link in limited if link.target == pk)
            raise LinkRuleError(
                f"rule broken: {LINK_RULES[link_type].description}; node {pk} would have "
                f"{total} incoming {'/'.join(sorted(t.value for t in types))} links"
            )


def check_unique_labels(connection: Connection, links: Sequence[LinkRecord], new: NewNodes) -> None:
    """Input labels are unique per target; output labels unique per source."""
    for end, flag in (("target", "unique_label_per_target"), ("source", "unique_label_per_source")):
        batch = Counter(
            (link.link_type.value, getattr(link, end), link.label)
            for link in links if getattr(LINK_RULES[link.link_type], flag)
        )
        if not batch:
            continue
        stored = _stored_counts(connection, end, {pk for _, pk, _ in batch} - set(new))
        for (link_type, pk, label), count in batch.items():
            if count + stored.get((pk, link_type, label), 0) > 1:
                raise LinkRuleError(
                    f"rule broken: {LINK_RULES[LinkType(link_type)].description}; {end} node {pk} "
                    f"would have two {link_type} links labelled {label!r}"
                )


def validate_before_write(connection: Connection, links: Sequence[LinkRecord], new: NewNodes | None = None) -> None:
    """Run every check that needs only the graph as it was before the new links.

    :param new: labels of the nodes created in this same transaction, by pk
    """
    new = new or {}
    check_endpoints(connection, links, new)
    check_single_incoming(connection, links, new)
    check_unique_labels(connection, links, new)


def check_acyclic(connection: Connection, links: Sequence[LinkRecord]) -> None:
    """After the links were written in this transaction, none of them closes a cycle.

    The graph was acyclic before, so a cycle must run through a new link s -> t, and then
    every node of it is reachable from t. One recursive query collects the nodes reachable
    from the new links' targets (``UNION`` visits each node once, so the cost grows with the
    nodes reached, never with the number of paths), and the family's links among them are
    checked for a cycle in memory (Kahn's algorithm).
    """
    for family in ACYCLIC_FAMILIES:
        pairs = [(link.source, link.target) for link in links if link.link_type in family]
        if not pairs:
            continue
        edges = _edges_reachable(connection, sorted({t for _, t in pairs}), sorted(t.value for t in family))
        culprit = _cycle_link(edges, pairs)
        if culprit is not None:
            raise cycle_error(*culprit)


def _edges_reachable(connection: Connection, starts: list[int], types: list[str]) -> list[tuple[int, int]]:
    rows = connection.execute(
        text(
            "WITH RECURSIVE reach(pk) AS ("
            " SELECT value FROM json_each(:starts)"
            " UNION SELECT l.target FROM links l JOIN reach r ON l.source = r.pk"
            " WHERE l.type IN (SELECT value FROM json_each(:types)))"
            " SELECT l.source, l.target FROM links l JOIN reach r ON l.source = r.pk"
            " WHERE l.type IN (SELECT value FROM json_each(:types))"
        ),
        {"starts": json_list(starts), "types": json_list(types)},
    )
    return [(row.source, row.target) for row in rows]


def _cycle_link(edges: list[tuple[int, int]], candidates: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Return one of ``candidates`` that lies on a cycle of ``edges``, or None when they are acyclic."""
    successors: dict[int, list[int]] = defaultdict(list)
    indegree: Counter = Counter()
    for source, target in edges:
        successors[source].append(target)
        indegree[target] += 1
    nodes = set(successors) | set(indegree)
    queue = deque(node for node in nodes if indegree[node] == 0)
    while queue:
        node = queue.popleft()
        nodes.discard(node)
        for target in successors[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                queue.append(target)
    if not nodes:
        return None
    for source, target in candidates:  # the leftover nodes hold a cycle: name a new link on it
        if source in nodes and target in nodes and _reaches(successors, target, source, nodes):
            return source, target
    return next(iter(candidates))  # pragma: no cover - a cycle always runs through a new link


def _reaches(successors: dict[int, list[int]], start: int, goal: int, within: set[int]) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in successors[node]:
            if nxt in within and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
