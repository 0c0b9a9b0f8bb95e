"""Exposing the ports of another process in a spec (``spec.expose_inputs``/``expose_outputs``), AiiDA's rules.

- ``include``/``exclude`` (mutually exclusive) name ports, nested ones by dotted path
  (``exclude=('base.structure',)`` keeps ``base`` without its ``structure``);
- an exposed port replaces a port of the same name already in the target namespace;
- exposed into a namespace, that namespace takes the properties of the source's top
  namespace (dynamic, valid type, help, required, ...), overridden by ``namespace_options``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from provgraph.engine.processes.ports import PortNamespace
from provgraph.exceptions import ValidationError

#: the namespace properties ``namespace_options`` may set
NAMESPACE_OPTIONS = ("dynamic", "valid_type", "help", "required", "validator", "populate_defaults", "non_db")


def absorb(target: PortNamespace, source: PortNamespace, exclude: Sequence[str] | None,
           include: Sequence[str] | None, skip: Sequence[str] = ()) -> list[str]:
    """Copy the ports of ``source`` into ``target`` following the rules; return the top-level names copied."""
    if exclude is not None and include is not None:
        raise ValidationError("give exclude or include, not both")
    for rules in (exclude, include):
        if rules is not None and (isinstance(rules, str) or not isinstance(rules, Sequence)):
            raise ValidationError(f"exclude/include take a list or tuple of port names, not {rules!r}")
    copied: list[str] = []
    for name, port in source.ports.items():
        if name in skip or (exclude and name in exclude):
            continue
        if isinstance(port, PortNamespace):
            if include and not any(rule == name or rule.startswith(f"{name}.") for rule in include):
                continue
            nested = copy.copy(port)
            nested.ports = {}
            absorb(nested, port, _strip(name, exclude), _strip(name, include))
            target.ports[name] = nested
        else:
            if include and name not in include:
                continue
            target.ports[name] = port.copy()
        copied.append(name)
    return copied


def _strip(name: str, rules: Sequence[str] | None) -> list[str] | None:
    if rules is None:
        return None
    prefix = f"{name}."
    return [rule[len(prefix):] for rule in rules if rule.startswith(prefix)]


def take_properties(target: PortNamespace, source: PortNamespace, options: Mapping[str, Any] | None) -> None:
    """Give ``target`` the namespace properties of ``source``, overridden by ``options``.

    :raises ValidationError: for an option that is not a namespace property
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(NAMESPACE_OPTIONS))
    if unknown:
        raise ValidationError(f"namespace_options {unknown} are not namespace properties "
                              f"(known: {', '.join(NAMESPACE_OPTIONS)})")
    for attribute in NAMESPACE_OPTIONS:
        value = options.get(attribute, getattr(source, attribute))
        if attribute == "valid_type" and value is not None and not isinstance(value, tuple):
            value = tuple(value) if isinstance(value, list) else (value,)
        setattr(target, attribute, value)


def apply_options(target: PortNamespace, options: Mapping[str, Any] | None) -> None:
    """Set the namespace properties given in ``options`` on ``target`` (exposing at the top level)."""
    if options:
        take_properties(target, target, options)
