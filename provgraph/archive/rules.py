"""The traversal rules of an export: what a chosen node brings along so that it can be understood.

They follow AiiDA's export defaults. Some are fixed because without them the provenance
in the archive would be broken (a calculation always comes with its inputs and its
outputs, a workflow with its inputs and what it returns, a caller with what it called);
the others are switches (``--create-backward/--no-create-backward`` and so on).

===================  ========  ==========  ==================================================
rule                 default   switchable  what it brings along
===================  ========  ==========  ==================================================
input_calc_backward  on        no          the inputs of an exported calculation
create_forward       on        no          the outputs an exported calculation created
input_work_backward  on        no          the inputs of an exported workflow
return_forward       on        no          what an exported workflow returned
call_calc_forward    on        no          the calculations an exported workflow called
call_work_forward    on        no          the workflows an exported workflow called
create_backward      on        yes         the calculation that created exported data
call_calc_backward   on        yes         the workflow that called an exported calculation
call_work_backward   on        yes         the workflow that called an exported workflow
input_calc_forward   off       yes         the calculations that used exported data as input
input_work_forward   off       yes         the workflows that used exported data as input
return_backward      off       yes         the workflows that returned exported data
===================  ========  ==========  ==================================================
"""

from __future__ import annotations

from collections.abc import Mapping

from provgraph.common.links import Direction, LinkType, TraversalRule, active_rules
from provgraph.exceptions import ArchiveError

_F, _B = Direction.FORWARD, Direction.BACKWARD

EXPORT_RULES: tuple[TraversalRule, ...] = (
    TraversalRule(LinkType.INPUT_CALC, _B, True, False, "input_calc_backward"),
    TraversalRule(LinkType.CREATE, _F, True, False, "create_forward"),
    TraversalRule(LinkType.INPUT_WORK, _B, True, False, "input_work_backward"),
    TraversalRule(LinkType.RETURN, _F, True, False, "return_forward"),
    TraversalRule(LinkType.CALL_CALC, _F, True, False, "call_calc_forward"),
    TraversalRule(LinkType.CALL_WORK, _F, True, False, "call_work_forward"),
    TraversalRule(LinkType.CREATE, _B, True, True, "create_backward"),
    TraversalRule(LinkType.CALL_CALC, _B, True, True, "call_calc_backward"),
    TraversalRule(LinkType.CALL_WORK, _B, True, True, "call_work_backward"),
    TraversalRule(LinkType.INPUT_CALC, _F, False, True, "input_calc_forward"),
    TraversalRule(LinkType.INPUT_WORK, _F, False, True, "input_work_forward"),
    TraversalRule(LinkType.RETURN, _B, False, True, "return_backward"),
)

#: the rules a user may switch, by name
TOGGLEABLE = tuple(rule.name for rule in EXPORT_RULES if rule.toggleable)


def export_rules(overrides: Mapping[str, bool] | None = None) -> list[TraversalRule]:
    """Return the rules that apply after switching the toggleable ones per ``overrides``.

    :raises ArchiveError: when an override names an unknown rule or one that cannot be switched
    """
    try:
        return active_rules(EXPORT_RULES, dict(overrides or {}))
    except ValueError as exc:
        raise ArchiveError(str(exc)) from exc


def rule_states(overrides: Mapping[str, bool] | None = None) -> dict[str, bool]:
    """Return ``{rule name: on/off}`` for every export rule (what the archive's metadata records)."""
    active = {rule.name for rule in export_rules(overrides)}
    return {rule.name: rule.name in active for rule in EXPORT_RULES}
