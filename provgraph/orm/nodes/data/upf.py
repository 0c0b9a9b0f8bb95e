"""UpfData: a pseudopotential in the Unified Pseudopotential Format (AiiDA's ``core.upf``).

The file is kept as is (a :class:`SinglefileData`); attributes ``md5`` (its checksum) and
``element`` (read from the file: ``element="Fe"`` in the ``PP_HEADER`` of UPF v2, the
``... Element`` line of UPF v1) are set when the file is. A file naming no element is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.files import SinglefileData
from provgraph.orm.nodes.data.md5_files import Md5Lookup, md5_of

__all__ = ["UpfData", "parse_upf"]

_ELEMENT_V1 = re.compile(r"(?P<element>[a-zA-Z]{1,2})\s+Element")
_ELEMENT_V2 = re.compile(r"\selement\s*=\s*['\"]\s*(?P<element>[a-zA-Z]{1,2})\s*['\"]", re.IGNORECASE)
_VERSION = re.compile(r"<UPF\s+version\s*=\s*['\"](?P<version>[^'\"]+)['\"]", re.IGNORECASE)


def parse_upf(text: str) -> dict[str, str]:
    """``{"element": "Fe", "version": "2.0.1"}`` read from a UPF file (version "1" without a UPF tag).

    :raises ValidationError: when no element can be found
    """
    version_match = _VERSION.search(text)
    version = version_match.group("version") if version_match else "1"
    match = (_ELEMENT_V2 if version_match else _ELEMENT_V1).search(text) or _ELEMENT_V1.search(text)
    if match is None:
        raise ValidationError("no element found in the UPF file (element=\"..\" in PP_HEADER, or an 'Element' line)")
    element = match.group("element")
    return {"element": element[0].upper() + element[1:].lower(), "version": version}


class UpfData(SinglefileData, Md5Lookup):
    """A UPF pseudopotential (see the module docstring)."""

    _node_type = "data.core.upf"

    def __init__(self, file: str | Path | BinaryIO, filename: str | None = None, **kwargs: Any) -> None:
        super().__init__(file, filename, **kwargs)

    def set_file(self, file: str | Path | BinaryIO, filename: str | None = None) -> None:
        """Set the file and read ``md5`` and ``element`` from it.

        :raises ValidationError: when the file names no element
        """
        super().set_file(file, filename)
        content = self.base.repository.get_object_content(self.filename, "rb")
        parsed = parse_upf(content.decode("utf-8", errors="replace"))
        self.base.attributes.set_many({"md5": md5_of(content),
                                       "element": parsed["element"]})

    @property
    def element(self) -> str:
        """The element of the pseudopotential."""
        return self.base.attributes.get("element")

    @property
    def md5sum(self) -> str:
        """The md5 checksum of the file."""
        return self.base.attributes.get("md5")

    @classmethod
    def get_or_create(cls, filepath: str | Path, use_first: bool = False,
                      store_upf: bool = True) -> tuple[UpfData, bool]:
        """The stored UpfData with the same content as ``filepath``, or a new one; and whether it is new.

        :raises ValidationError: when several nodes have this content and ``use_first`` is False
        """
        return cls._get_or_create(filepath, use_first, store_upf)
