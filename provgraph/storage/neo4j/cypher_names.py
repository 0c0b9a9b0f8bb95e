"""Validation and quoting of the identifiers that end up in Cypher text.

Values always travel as parameters. Identifiers (labels, relationship types,
property keys) cannot, so they pass through here: labels and types must be
plain identifiers; property keys are backtick-quoted with backticks doubled.
"""

from __future__ import annotations

import re

from provgraph.exceptions import ValidationError

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")


def label(name: str) -> str:
    """Return ``name`` quoted as a node label, refusing anything but a plain identifier."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValidationError(f"{name!r} is not a valid class or label name (letters, digits, '_')")
    return f"`{name}`"


def labels(names: tuple[str, ...] | list[str]) -> str:
    """Return ``:`A`:`B``` for a class tree."""
    return "".join(f":{label(name)}" for name in names)


def property_key(key: str) -> str:
    """Return ``key`` backtick-quoted for use as a property name (``n.`attributes.x```)."""
    if not isinstance(key, str) or "\x00" in key:
        raise ValidationError(f"{key!r} cannot be used as a property key")
    return "`" + key.replace("`", "``") + "`"
