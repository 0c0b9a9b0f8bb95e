"""Validation and quoting of the identifiers that end up in Cypher text.

Values always travel as parameters. Identifiers (labels, relationship types,
variables) cannot, so they pass through here and must be plain ASCII
identifiers. Property keys are either *plain* (ASCII letters, digits and ``_``
in ``.``-separated segments, optionally ``~json`` after the first: every key
the flattening codec makes from ordinary attribute names) and then written
backtick-quoted, or they never reach the statement text at all: they are read
by dynamic property access ``v0[$p3]`` with the key as a parameter.

Why not quote everything: Cypher's lexer rewrites Java-style unicode escapes
(``\\u0060``, also ``\\uu0060``) *before* it tokenises, so a backslash inside a
backtick-quoted name can become a closing backtick; doubling backticks is not
enough. An allow-list of characters that cannot start any escape, comment or
quote closes that door for good, whatever the lexer accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from provgraph.exceptions import ValidationError

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: keys written into the statement text (inside backticks); everything else goes as a parameter
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:~json)?(?:\.[A-Za-z0-9_]+)*")
_MAX_PLAIN = 1024


def label(name: str) -> str:
    """Return ``name`` quoted as a node label, refusing anything but a plain identifier."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValidationError(f"{name!r} is not a valid class or label name (letters, digits, '_')")
    return f"`{name}`"


def labels(names: tuple[str, ...] | list[str]) -> str:
    """Return ``:`A`:`B``` for a class tree."""
    return "".join(f":{label(name)}" for name in names)


def is_plain_key(key: object) -> bool:
    """Whether ``key`` may be written into Cypher text as a backtick-quoted property name."""
    return isinstance(key, str) and len(key) <= _MAX_PLAIN and _PLAIN_KEY.fullmatch(key) is not None


def property_key(key: str) -> str:
    """Return the plain property ``key`` backtick-quoted (``n.`attributes.x```); refuse any other key.

    :raises ValidationError: if ``key`` is not plain (see :func:`is_plain_key`); such keys
        must be read with :func:`property_access`, which passes them as parameters
    """
    if not is_plain_key(key):
        raise ValidationError(f"{key!r} cannot be written into a Cypher statement as a property key")
    return f"`{key}`"


def property_access(variable: str, key: str, param: Callable[[str], str]) -> str:
    """Cypher reading property ``key`` of ``variable``: ``v0.`key``` when plain, else ``v0[$pN]``.

    :param variable: a generated variable name (``v0``, ``e1``...), never user text
    :param param: registers a value as a query parameter and returns its placeholder (``$p3``)
    :raises ValidationError: if ``variable`` is not an identifier or ``key`` is not a string
        (or holds NUL, which no property key can)
    """
    if not isinstance(variable, str) or not _VARIABLE.fullmatch(variable):
        raise ValidationError(f"{variable!r} is not a Cypher variable")
    if not isinstance(key, str) or not key or "\x00" in key:
        raise ValidationError(f"{key!r} cannot be used as a property key")
    if is_plain_key(key):
        return f"{variable}.`{key}`"
    return f"{variable}[{param(key)}]"
