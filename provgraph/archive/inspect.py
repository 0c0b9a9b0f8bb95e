"""What an archive holds, without importing it: metadata and counts per type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from provgraph.archive.database import translated
from provgraph.archive.format import DEFAULT_LIMITS, ArchiveMetadata, Limits
from provgraph.archive.source import OpenedArchive
from provgraph.storage.sqlite import schema


@dataclass(frozen=True)
class ArchiveSummary:
    """The metadata of an archive and what its database actually holds."""

    path: str
    size: int
    metadata: ArchiveMetadata
    nodes_by_type: dict[str, int]
    links_by_type: dict[str, int]
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the summary."""
        from dataclasses import asdict

        return asdict(self)


def inspect_archive(path: Path | str, *, limits: Limits = DEFAULT_LIMITS) -> ArchiveSummary:
    """Check the archive's structure and count what it holds.

    :raises ArchiveError: when the archive is broken, unsafe or of an unknown format
    """
    with OpenedArchive(path, limits=limits, verify_objects=False) as archive:
        assert archive.engine is not None
        with translated("counting its contents"), archive.engine.connect() as connection:
            nodes = dict(connection.execute(select(schema.nodes.c.node_type, func.count())
                                            .group_by(schema.nodes.c.node_type)).all())
            links = dict(connection.execute(select(schema.links.c.type, func.count())
                                            .group_by(schema.links.c.type)).all())
            counts = {name: connection.execute(select(func.count()).select_from(schema.metadata.tables[name]))
                      .scalar() or 0
                      for name in ("nodes", "links", "groups", "group_nodes", "comments", "logs", "users",
                                   "computers")}
        counts["objects"] = len(archive.object_keys)
        return ArchiveSummary(str(archive.path), archive.path.stat().st_size, archive.metadata, nodes, links, counts)
