"""Plugins: every data type, storage, repository, scheduler, transport, parser,
calculation and workflow (built-ins included) is found through an entry point.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from provgraph.exceptions import NotExistent

GROUPS = {
    "data": "provgraph.data",
    "storage": "provgraph.storage",
    "repository": "provgraph.repository",
    "calculations": "provgraph.calculations",
    "parsers": "provgraph.parsers",
    "workflows": "provgraph.workflows",
    "transports": "provgraph.transports",
    "schedulers": "provgraph.schedulers",
}


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def plugin_names(kind: str) -> list[str]:
    """Return the registered names of one plugin kind (e.g. ``"data"``), sorted."""
    return sorted(_entry_points(GROUPS[kind]))


def load_plugin(kind: str, name: str) -> Any:
    """Return the object registered as ``name`` in the group of ``kind``.

    :raises NotExistent: when no plugin of that name is registered
    """
    if kind not in GROUPS:
        raise NotExistent(f"unknown plugin kind {kind!r}; known: {', '.join(GROUPS)}")
    found = _entry_points(GROUPS[kind]).get(name)
    if found is None:
        known = ", ".join(plugin_names(kind)) or "none"
        raise NotExistent(f"no {kind} plugin named {name!r} (registered: {known})")
    return found.load()


def entry_point_name(kind: str, obj: Any) -> str | None:
    """Return the name under which ``obj`` is registered in ``kind``, or None."""
    target = f"{obj.__module__}:{obj.__qualname__}"
    for name, ep in _entry_points(GROUPS[kind]).items():
        if ep.value == target:
            return name
    return None


def _factory(kind: str):  # noqa: ANN202 - returns a typed loader
    def load(name: str) -> Any:
        return load_plugin(kind, name)

    load.__name__ = f"{kind.capitalize()}Factory"
    load.__doc__ = f"Return the {kind} plugin registered as ``name`` (group ``{GROUPS[kind]}``)."
    return load


#: AiiDA-style factories: ``SchedulerFactory("core.slurm")`` returns the class
CalculationFactory = _factory("calculations")
DataFactory = _factory("data")
ParserFactory = _factory("parsers")
RepositoryFactory = _factory("repository")
SchedulerFactory = _factory("schedulers")
StorageFactory = _factory("storage")
TransportFactory = _factory("transports")
WorkflowFactory = _factory("workflows")
