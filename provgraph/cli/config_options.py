"""Configuration options (``provgraph config``): named settings with a type, a default and a scope.

An option is set for one profile or globally; a profile's value wins over the global one,
which wins over the default.  Values live in ``$PROVGRAPH_HOME/config.json`` beside the
profiles: ``{"options": {...}, "profile_options": {profile: {...}}}`` (top-level keys the
profile code keeps untouched).  Every option listed here is read by a command:

- ``daemon.default_workers``, ``daemon.worker_concurrency``, ``daemon.timeout``,
  ``logging.provgraph_loglevel``: ``provgraph daemon start|stop|restart``;
- ``autofill.user.*``: the defaults ``provgraph user configure`` offers;
- ``verdi.shell.auto_import``: modules ``provgraph shell`` and ``provgraph run`` import into the namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.profiles import Config

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be an integer >= 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a number > 0")
    return value


def _log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return text.lower()


def _text(text: str) -> str:
    return str(text)


@dataclass(frozen=True)
class Option:
    """One option: its name, how a command-line value becomes its value, its default and help."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    description: str


OPTIONS = {option.name: option for option in (
    Option("daemon.default_workers", _positive_int, 1, "Workers `provgraph daemon start` starts without NUMBER."),
    Option("daemon.worker_concurrency", _positive_int, 1, "Pool processes of each daemon worker."),
    Option("daemon.timeout", _positive_float, 30.0, "Seconds `daemon stop` waits for workers before killing them."),
    Option("logging.provgraph_loglevel", _log_level, "info", "Log level of the daemon workers."),
    Option("autofill.user.email", _text, None, "Default email offered by `provgraph user configure`."),
    Option("autofill.user.first_name", _text, None, "Default first name offered by `provgraph user configure`."),
    Option("autofill.user.last_name", _text, None, "Default last name offered by `provgraph user configure`."),
    Option("autofill.user.institution", _text, None, "Default institution offered by `provgraph user configure`."),
    Option("verdi.shell.auto_import", _text, "",
           "Colon-separated modules imported into `provgraph shell` and `provgraph run` (e.g. numpy:os)."),
)}


def get_option_spec(name: str) -> Option:
    """The option ``name``.

    :raises ValidationError: when there is no such option
    """
    if name not in OPTIONS:
        raise ValidationError(f"{name!r} is not a configuration option (see `provgraph config list`)")
    return OPTIONS[name]


def parse_value(name: str, text: str) -> Any:
    """The value of option ``name`` written as ``text``.

    :raises ValidationError: when ``text`` is not a valid value
    """
    try:
        return get_option_spec(name).parse(text)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"invalid value {text!r} for {name}: {exc}") from None


def _stored(profile_name: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    data = Config()._read()
    profile_values = data.get("profile_options", {}).get(profile_name, {}) if profile_name else {}
    return dict(profile_values), dict(data.get("options", {}))


def get_option(name: str, profile_name: str | None = None) -> tuple[Any, str]:
    """The value of option ``name`` for ``profile_name`` and where it comes from (profile, global, default)."""
    spec = get_option_spec(name)
    profile_values, global_values = _stored(profile_name)
    if name in profile_values:
        return profile_values[name], "profile"
    if name in global_values:
        return global_values[name], "global"
    return spec.default, "default"


def option_value(name: str, profile_name: str | None = None) -> Any:
    """The value of option ``name`` (its default when nothing is set)."""
    return get_option(name, profile_name)[0]


def set_option(name: str, value: Any, profile_name: str | None) -> None:
    """Store ``value`` for ``name``: for ``profile_name``, or globally when it is None."""
    get_option_spec(name)
    config = Config()
    data = config._read()
    if profile_name is None:
        data.setdefault("options", {})[name] = value
    else:
        data.setdefault("profile_options", {}).setdefault(profile_name, {})[name] = value
    config._write(data)


def unset_option(name: str, profile_name: str | None) -> bool:
    """Remove the value of ``name`` (of ``profile_name``, or the global one); whether there was one."""
    get_option_spec(name)
    config = Config()
    data = config._read()
    holder = data.get("options", {}) if profile_name is None else \
        data.get("profile_options", {}).get(profile_name, {})
    if name not in holder:
        return False
    del holder[name]
    config._write(data)
    return True
