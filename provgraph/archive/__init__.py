"""Portable graph archives: export (``create_archive``), import (``import_archive``), inspect and browse.

An archive is a zip holding an sqlite database in the sqlite backend's schema, the
repository objects its nodes refer to, and ``metadata.json`` (see :mod:`provgraph.archive.format`).
``provgraph.archive.open(path)`` gives a read-only handle with ``querybuilder()`` and ``load_node()``.
"""

from __future__ import annotations

from provgraph.archive.create import create_archive
from provgraph.archive.format import FORMAT_VERSION, ArchiveMetadata, Limits
from provgraph.archive.importer import EXTRAS_POLICIES, ImportReport, import_archive
from provgraph.archive.inspect import ArchiveSummary, inspect_archive
from provgraph.archive.reader import ArchiveReader, open_archive
from provgraph.archive.source import validate_archive

#: ``provgraph.archive.open(path)``: the read-only handle of an archive
open = open_archive  # noqa: A001

__all__ = [
    "EXTRAS_POLICIES",
    "FORMAT_VERSION",
    "ArchiveMetadata",
    "ArchiveReader",
    "ArchiveSummary",
    "ImportReport",
    "Limits",
    "create_archive",
    "import_archive",
    "inspect_archive",
    "open",
    "open_archive",
    "validate_archive",
]
