"""Deleting nodes together with everything the provenance rules make depend on them."""

from __future__ import annotations

from collections.abc import Sequence

from provgraph.common.links import DELETE_RULES, active_rules
from provgraph.exceptions import ValidationError
from provgraph.orm.backend import get_backend


def delete_closure(pks: Sequence[int], **rule_overrides: bool) -> set[int]:
    """Return ``pks`` plus every node their deletion takes along (DESIGN §2).

    :param rule_overrides: switch toggleable rules, e.g. ``create_backward=False``
    :raises NotExistent: when a pk does not exist
    """
    backend = get_backend()
    for pk in pks:
        backend.nodes.get(pk=pk)
    try:
        rules = active_rules(DELETE_RULES, rule_overrides)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    return backend.nodes.traverse(list(pks), rules)


def delete_nodes(pks: Sequence[int], dry_run: bool = True, **rule_overrides: bool) -> set[int]:
    """Delete ``pks`` and their provenance closure; with ``dry_run`` only return that set.

    Comments and logs of deleted nodes go with them; groups lose them as members.
    File objects stay in the repository until ``provgraph storage maintain``.
    """
    closure = delete_closure(pks, **rule_overrides)
    if not dry_run:
        get_backend().nodes.delete(sorted(closure))
    return closure
