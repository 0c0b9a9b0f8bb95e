"""Caching switches (AiiDA's ``aiida.manage.caching``).

Caching is off by default. It is switched on or off globally, per process class or entry point,
or for a block of code::

    from provgraph.manage.caching import enable_caching

    with enable_caching():                                          # everything
        run(...)
    with enable_caching(identifier="provgraph.calculations:core.arithmetic.*"):
        run(...)

An identifier is an entry point (``provgraph.calculations:core.arithmetic.add_job``), a
process class path (``provgraph.engine.examples_calcjobs.ArithmeticAddCalculation``, or its
``module:QualName`` process type), and may hold ``*`` wildcards. The lasting defaults come from
:func:`configure` or the environment: ``PROVGRAPH_CACHING_DEFAULT_ENABLED`` (``1``/``0``),
``PROVGRAPH_CACHING_ENABLED_FOR`` and ``PROVGRAPH_CACHING_DISABLED_FOR`` (comma-separated
identifiers); a worker started with them caches too. Blocks nest, the innermost decides; the
switches are per context (thread), so a block in one thread changes nothing in another.

Precedence as in AiiDA: a ``disabled_for`` match beats an ``enabled_for`` match, which beats
the default; within ``with`` blocks the innermost block decides.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from provgraph.exceptions import ValidationError

__all__ = ["configure", "disable_caching", "enable_caching", "get_use_cache", "identifiers_of"]

DEFAULT_ENV = "PROVGRAPH_CACHING_DEFAULT_ENABLED"
ENABLED_ENV = "PROVGRAPH_CACHING_ENABLED_FOR"
DISABLED_ENV = "PROVGRAPH_CACHING_DISABLED_FOR"


@dataclass(frozen=True)
class _Settings:
    default_enabled: bool = False
    enabled_for: tuple[str, ...] = ()
    disabled_for: tuple[str, ...] = ()


@dataclass
class _Configured:
    settings: _Settings | None = None


_CONFIGURED = _Configured()
#: the ``with`` blocks in force in this context: ``(enabled, identifier or None)``, innermost last
_BLOCKS: contextvars.ContextVar[tuple[tuple[bool, str | None], ...]] = contextvars.ContextVar(
    "provgraph_caching_blocks", default=())


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _settings() -> _Settings:
    if _CONFIGURED.settings is not None:
        return _CONFIGURED.settings
    return _Settings(os.environ.get(DEFAULT_ENV, "0").strip().lower() in ("1", "true", "yes"),
                     _split(os.environ.get(ENABLED_ENV)), _split(os.environ.get(DISABLED_ENV)))


def _check(identifier: str | None) -> None:
    if identifier is not None and (not isinstance(identifier, str) or not identifier.strip()
                                   or any(char.isspace() for char in identifier)):
        raise ValidationError(f"a caching identifier must be a non-empty string without spaces, not {identifier!r}")


def configure(default_enabled: bool = False, enabled_for: Sequence[str] = (),
              disabled_for: Sequence[str] = ()) -> None:
    """Set the process-wide defaults (replacing the environment's) until :func:`configure` is called again."""
    for identifier in [*enabled_for, *disabled_for]:
        _check(identifier)
    _CONFIGURED.settings = _Settings(bool(default_enabled), tuple(enabled_for), tuple(disabled_for))


def reset_configuration() -> None:
    """Forget :func:`configure`: the environment decides again."""
    _CONFIGURED.settings = None


def identifiers_of(process_type: str) -> list[str]:
    """The names a process can be matched by: its process type, its dotted path and its entry points."""
    from provgraph.plugins import GROUPS, _entry_points

    names = [process_type, process_type.replace(":", ".")]
    for kind in ("calculations", "workflows"):
        group = GROUPS[kind]
        for name, entry_point in _entry_points(group).items():
            if entry_point.value == process_type:
                names.append(f"{group}:{name}")
    return names


def _matches(pattern: str, names: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for name in names)


def get_use_cache(*, identifier: str | None = None) -> bool:
    """Whether caching is on for the process ``identifier`` (its process type), or in general when None."""
    names = identifiers_of(identifier) if identifier else []
    for enabled, pattern in reversed(_BLOCKS.get()):
        if pattern is None or _matches(pattern, names):
            return enabled
    settings = _settings()
    if names and any(_matches(pattern, names) for pattern in settings.disabled_for):
        return False
    if names and any(_matches(pattern, names) for pattern in settings.enabled_for):
        return True
    return settings.default_enabled


@contextlib.contextmanager
def _block(enabled: bool, identifier: str | None) -> Iterator[None]:
    _check(identifier)
    token = _BLOCKS.set((*_BLOCKS.get(), (enabled, identifier)))
    try:
        yield
    finally:
        _BLOCKS.reset(token)


def enable_caching(*, identifier: str | None = None) -> contextlib.AbstractContextManager[None]:
    """A block in which caching is on (for ``identifier`` only, when given)."""
    return _block(True, identifier)


def disable_caching(*, identifier: str | None = None) -> contextlib.AbstractContextManager[None]:
    """A block in which caching is off (for ``identifier`` only, when given)."""
    return _block(False, identifier)
