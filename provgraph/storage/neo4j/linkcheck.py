"""Enforce the link rules of ``provgraph.common.links`` inside a Neo4j transaction.

Every check reads the graph as the current transaction sees it, so links in
the same batch and links already stored are treated alike. A failed check
raises :class:`LinkRuleError`; the caller's transaction then rolls back and
nothing is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from provgraph.common.links import LINK_RULES, LinkRecord, LinkType
from provgraph.exceptions import LinkRuleError
from provgraph.storage.linkrules import ACYCLIC_FAMILIES, NewNodes, check_endpoint_labels, cycle_error

if TYPE_CHECKING:
    import neo4j


def check_endpoints(tx: neo4j.ManagedTransaction, links: Sequence[LinkRecord], new: NewNodes) -> None:
    """Both ends exist, are distinct, and carry the labels their link type demands."""
    pks = sorted({pk for link in links for pk in (link.source, link.target)} - set(new))
    labels: dict[int, set[str]] = {}
    if pks:
        records = tx.run("UNWIND $pks AS pk MATCH (n:Node {pk: pk}) RETURN n.pk AS pk, labels(n) AS labels", pks=pks)
        labels = {record["pk"]: set(record["labels"]) for record in records}
    labels.update(new)
    check_endpoint_labels(links, labels)


def check_single_incoming(tx: neo4j.ManagedTransaction, links: Sequence[LinkRecord], new: NewNodes) -> None:
    """A Data node has one creator; a process has one caller (counting stored and new links)."""
    limited = [link for link in links if LINK_RULES[link.link_type].single_incoming]
    if not limited:
        return
    batch = Counter((link.target, LINK_RULES[link.link_type].single_incoming) for link in limited)
    # nodes created in this batch have no stored links yet: only older nodes need a look
    items = [{"pk": pk, "types": sorted(t.value for t in types)} for pk, types in batch if pk not in new]
    stored = {} if not items else {
        (record["pk"], tuple(record["types"])): record["c"]
        for record in tx.run(
            "UNWIND $items AS it MATCH (t:Node {pk: it.pk}) "
            "RETURN it.pk AS pk, it.types AS types, COUNT { (t)<-[r]-() WHERE type(r) IN it.types } AS c",
            items=items,
        )
    }
    for (pk, types), count in batch.items():
        total = count + stored.get((pk, tuple(sorted(t.value for t in types))), 0)
        if total > 1:
            link_type = next(link.link_type for link in limited if link.target == pk)
            raise LinkRuleError(
                f"rule broken: {LINK_RULES[link_type].description}; node {pk} would have "
                f"{total} incoming {'/'.join(sorted(t.value for t in types))} links"
            )


def check_unique_labels(tx: neo4j.ManagedTransaction, links: Sequence[LinkRecord], new: NewNodes) -> None:
    """Input labels are unique per target; output labels unique per source."""
    for end, flag in (("target", "unique_label_per_target"), ("source", "unique_label_per_source")):
        batch = Counter(
            (link.link_type.value, getattr(link, end), link.label)
            for link in links if getattr(LINK_RULES[link.link_type], flag)
        )
        if not batch:
            continue
        pattern = "(n)<-[r]-()" if end == "target" else "(n)-[r]->()"
        items = [{"type": t, "pk": pk, "label": label} for t, pk, label in batch if pk not in new]
        records = [] if not items else tx.run(
            "UNWIND $items AS it MATCH (n:Node {pk: it.pk}) "
            f"RETURN it.type AS type, it.pk AS pk, it.label AS label, "
            f"COUNT {{ {pattern} WHERE type(r) = it.type AND r.label = it.label }} AS c",
            items=items,
        )
        stored = {(r["type"], r["pk"], r["label"]): r["c"] for r in records}
        for key, count in batch.items():
            if count + stored.get(key, 0) > 1:
                link_type, pk, label = key
                raise LinkRuleError(
                    f"rule broken: {LINK_RULES[LinkType(link_type)].description}; {end} node {pk} "
                    f"would have two {link_type} links labelled {label!r}"
                )


def check_acyclic(tx: neo4j.ManagedTransaction, links: Sequence[LinkRecord], new: NewNodes | None = None) -> None:
    """After the links were written in this transaction, none of them closes a cycle.

    A link s -> t closes a cycle when t already reaches s through links of the
    same family. ``shortestPath`` answers that with a bidirectional breadth-first
    search, visiting each node at most once, so the check stays cheap however
    many paths a dense provenance graph holds.

    When no link of a family points at a node stored before this transaction (the usual
    step of a process: old inputs -> new calculation -> new outputs), a cycle could only run
    through new nodes and new links (stored links never lead to a new node), so it is
    checked on the batch in memory, without a query.
    """
    new = new or {}
    for family in ACYCLIC_FAMILIES:
        batch = [link for link in links if link.link_type in family]
        if not batch:
            continue
        if all(link.target in new for link in batch):
            cycle = _cycle_in(batch)
            if cycle is not None:
                raise cycle_error(cycle.source, cycle.target)
            continue
        pairs = [{"s": link.source, "t": link.target} for link in batch]
        types = "|".join(sorted(t.value for t in family))
        record = tx.run(
            "UNWIND $pairs AS p MATCH (s:Node {pk: p.s}), (t:Node {pk: p.t}) "
            f"MATCH path = shortestPath((t)-[:{types}*1..]->(s)) RETURN p.s AS s, p.t AS t LIMIT 1",
            pairs=pairs,
        ).single()
        if record is not None:
            raise cycle_error(record["s"], record["t"])


def _cycle_in(links: Sequence[LinkRecord]) -> LinkRecord | None:
    """Return a link of ``links`` that lies on a cycle of the graph they form, or None."""
    outgoing: dict[int, list[LinkRecord]] = {}
    for link in links:
        outgoing.setdefault(link.source, []).append(link)
    done: set[int] = set()
    for root in list(outgoing):
        if root in done:
            continue
        on_path, stack = {root}, [(root, iter(outgoing.get(root, ())))]
        while stack:
            node, edges = stack[-1]
            link = next(edges, None)
            if link is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
            elif link.target in on_path:
                return link
            elif link.target not in done:
                on_path.add(link.target)
                stack.append((link.target, iter(outgoing.get(link.target, ()))))
    return None


def validate_before_write(tx: neo4j.ManagedTransaction, links: Sequence[LinkRecord],
                          new: NewNodes | None = None) -> None:
    """Run every check that needs only the graph as it was before the new links.

    :param new: labels of the nodes created in this same transaction, by pk
    """
    new = new or {}
    check_endpoints(tx, links, new)
    check_single_incoming(tx, links, new)
    check_unique_labels(tx, links, new)
