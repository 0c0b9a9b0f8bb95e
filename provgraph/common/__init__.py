"""Pure helpers with no provgraph imports beyond exceptions: JSON cleaning, link rules, hashing."""

from typing import Any

#: names AiiDA users import from ``aiida.common``, loaded on first use (they live in higher layers)
_LAZY = {
    "AttributeDict": "provgraph.engine.processes.utils",
    "LinkType": "provgraph.common.links",
    "CalcInfo": "provgraph.common.datastructures",
    "CodeInfo": "provgraph.common.datastructures",
    "CodeRunMode": "provgraph.common.datastructures",
    "StashMode": "provgraph.common.datastructures",
    "Folder": "provgraph.common.folders",
    "SandboxFolder": "provgraph.common.folders",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'provgraph.common' has no attribute {name!r}")
