"""The archive file format: member layout, format version, metadata, and the safety limits.

An archive is one zip file holding exactly these members::

    metadata.json     what the archive is (see :class:`ArchiveMetadata`); written last, read first
    db.sqlite3        the graph: an sqlite database in the schema of ``provgraph.storage.sqlite.schema``
    repo/<key>        one member per repository object, named by its sha256 hex digest (stored uncompressed
                      when small files would not shrink, deflated otherwise)

Any other member name is refused, and so is any name that could escape an extraction
directory (absolute, ``..``, backslashes, drive letters). The format version is an integer:
a reader refuses versions it does not know, and in particular versions newer than its own
(written by a newer provgraph).

Zip bombs are caught before anything is extracted: the member count, each member's declared
size, the total declared size and the compression ratio are checked against
:class:`Limits`, and every read is capped at the declared size while it streams.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from provgraph.exceptions import ArchiveError

#: the archive format this code writes; readers refuse anything else
FORMAT_VERSION = 1
#: the formats this code can read
SUPPORTED_VERSIONS = frozenset({1})

METADATA_NAME = "metadata.json"
DATABASE_NAME = "db.sqlite3"
REPO_PREFIX = "repo/"
_OBJECT_NAME = re.compile(r"repo/[0-9a-f]{64}")
_MAX_METADATA_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile archive from exhausting disk or memory (zip bombs).

    :param max_members: most members an archive may hold
    :param max_member_size: largest declared uncompressed size of one member, bytes
    :param max_total_size: largest sum of declared uncompressed sizes, bytes
    :param max_ratio: largest uncompressed/compressed ratio of a member bigger than ``ratio_floor``
    """

    max_members: int = 20_000_000
    max_member_size: int = 64 * 1024**3
    max_total_size: int = 1024**4
    max_ratio: float = 200.0
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ArchiveMetadata:
    """What ``metadata.json`` says about an archive.

    :param counts: entities in the archive, e.g. ``{"nodes": 12, "links": 10, ...}``
    :param nodes_by_type: node count per ``node_type``
    :param rules: the traversal rules that chose the nodes, ``{rule name: on/off}``
    :param entry: how the export started (``{"all": True}``, ``{"nodes": [...]}``, ``{"groups": [...]}``)
    """

    format_version: int
    created: str
    provgraph_version: str
    counts: dict[str, int] = field(default_factory=dict)
    nodes_by_type: dict[str, int] = field(default_factory=dict)
    rules: dict[str, bool] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)
    schema_version: int = 1

    def to_json(self) -> str:
        """Return the JSON text written as ``metadata.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: bytes) -> ArchiveMetadata:
        """Parse and check ``metadata.json``.

        :raises ArchiveError: when it is not a JSON object of the expected shape, or its format
            version is unknown or newer than this code's
        """
        try:
            data = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ArchiveError(f"{METADATA_NAME} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ArchiveError(f"{METADATA_NAME} is not a JSON object")
        check_version(data.get("format_version"))
        try:
            metadata = cls(**{name: data[name] for name in _FIELDS if name in data})
        except TypeError as exc:
            raise ArchiveError(f"{METADATA_NAME} lacks required fields: {exc}") from exc
        _check_shapes(metadata)
        return metadata


_FIELDS = ("format_version", "created", "provgraph_version", "counts", "nodes_by_type", "rules", "entry",
           "schema_version")


def _check_shapes(metadata: ArchiveMetadata) -> None:
    checks = (
        ("created", str), ("provgraph_version", str), ("counts", dict), ("nodes_by_type", dict),
        ("rules", dict), ("entry", dict), ("schema_version", int),
    )
    for name, kind in checks:
        value = getattr(metadata, name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ArchiveError(f"{METADATA_NAME}: {name} must be a {kind.__name__}, not {value!r}")
    for name in ("counts", "nodes_by_type"):
        for key, value in getattr(metadata, name).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ArchiveError(f"{METADATA_NAME}: {name}[{key!r}] must be a count, not {value!r}")


def check_version(version: Any) -> int:
    """Return ``version`` if this code reads that archive format.

    :raises ArchiveError: when the version is missing, not an integer, unknown, or newer than this code's
    """
    if isinstance(version, bool) or not isinstance(version, int):
        raise ArchiveError(f"unknown archive format version {version!r} (this provgraph reads version "
                           f"{FORMAT_VERSION})")
    if version > FORMAT_VERSION:
        raise ArchiveError(f"the archive has format version {version}, newer than this provgraph reads "
                           f"({FORMAT_VERSION}): upgrade provgraph to import it")
    if version not in SUPPORTED_VERSIONS:
        raise ArchiveError(f"unknown archive format version {version} (this provgraph reads "
                           f"{sorted(SUPPORTED_VERSIONS)})")
    return version


def now_text() -> str:
    """The current UTC time as the schema's ISO text."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def check_member_name(name: str) -> None:
    """Refuse a member name that is not one of the format's, in particular one escaping a directory.

    :raises ArchiveError: when the name is absolute, has ``..``, backslashes or a drive, or is unknown
    """
    parts = name.replace("\\", "/").split("/")
    if (name.startswith("/") or "\\" in name or ".." in parts or ":" in name or "\x00" in name
            or any(part == "" for part in parts[:-1])):
        raise ArchiveError(f"unsafe member path {name!r} in the archive: it would escape the target directory")
    if name not in (METADATA_NAME, DATABASE_NAME) and not _OBJECT_NAME.fullmatch(name):
        raise ArchiveError(f"unexpected member {name!r} in the archive")


def check_members(infos: list[zipfile.ZipInfo], limits: Limits = DEFAULT_LIMITS) -> None:
    """Check every member's name, size and compression ratio before anything is read.

    :raises ArchiveError: on an unsafe or unknown name, a duplicate, or an absurd size, count or ratio
    """
    if len(infos) > limits.max_members:
        raise ArchiveError(f"the archive has {len(infos)} members, more than the limit of {limits.max_members}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        check_member_name(info.filename)
        if info.filename in seen:
            raise ArchiveError(f"member {info.filename!r} appears twice in the archive")
        seen.add(info.filename)
        _check_size(info, limits)
        total += info.file_size
        if total > limits.max_total_size:
            raise ArchiveError(f"the archive's members add up to more than {limits.max_total_size} bytes")
    for name in (METADATA_NAME, DATABASE_NAME):
        if name not in seen:
            raise ArchiveError(f"the archive has no {name}: it is not a provgraph archive, or it is truncated")


def _check_size(info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size > limits.max_member_size or (
            info.filename == METADATA_NAME and info.file_size > _MAX_METADATA_BYTES):
        raise ArchiveError(f"member {info.filename!r} declares {info.file_size} bytes: too large")
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise ArchiveError(f"member {info.filename!r} expands {info.file_size / max(info.compress_size, 1):.0f}"
                           f" times: refused as a likely zip bomb")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"member {info.filename!r} is encrypted; provgraph archives are not")


def object_name(key: str) -> str:
    """Return the member name of repository object ``key``."""
    return REPO_PREFIX + key
