"""CifData: a crystallographic information file (AiiDA's ``core.cif``).

The file is kept as is in the repository (a :class:`SinglefileData`); the attribute ``md5``
holds its checksum and, parsed when the file is set, ``formulae`` (``_chemical_formula_sum``
of each data block) and ``spacegroup_numbers``. The small parser here reads CIF 1.1 tags,
``loop_`` tables, quoted values and ``;``-delimited text fields; it is no validator (AiiDA uses
PyCifRW, an optional dependency; provgraph needs none).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, BinaryIO

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.files import SinglefileData
from provgraph.orm.nodes.data.md5_files import Md5Lookup, md5_of

__all__ = ["CifData", "parse_cif"]

_TOKEN = re.compile(r"""'(?:[^']|'(?=\S))*'(?=\s|$)|"(?:[^"]|"(?=\S))*"(?=\s|$)|\S+""")
_SPACEGROUP_TAGS = ("_space_group_IT_number", "_symmetry_Int_Tables_number")
_OCCUPANCY = re.compile(r"^[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")


def _tokens(text: str) -> list[str]:
    """The CIF tokens of ``text``: comments dropped, ``;`` text fields as one token."""
    tokens: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(";"):
            field = [line[1:]]
            index += 1
            while index < len(lines) and not lines[index].startswith(";"):
                field.append(lines[index])
                index += 1
            tokens.append("\n".join(field).strip())
            index += 1
            continue
        for token in _TOKEN.findall(line):
            if token.startswith("#"):
                break
            tokens.append(token[1:-1] if len(token) > 1 and token[0] in "'\"" and token[-1] == token[0] else token)
        index += 1
    return tokens


def parse_cif(text: str) -> dict[str, dict[str, Any]]:
    """Data blocks of a CIF: ``{block: {tag: value or list of values (looped)}}`` (tags lower-cased).

    :raises ValidationError: when the text is not CIF (a tag or loop outside a data block, a
        loop whose values do not fill its rows)
    """
    blocks: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    tokens, position = _tokens(text), 0
    while position < len(tokens):
        token = tokens[position]
        lower = token.lower()
        if lower.startswith("data_"):
            current = blocks.setdefault(token[5:], {})
            position += 1
        elif current is None:
            raise ValidationError(f"not a CIF file: {token!r} comes before any data_ block")
        elif lower == "loop_":
            position = _read_loop(tokens, position + 1, current)
        elif token.startswith("_"):
            if position + 1 >= len(tokens):
                raise ValidationError(f"CIF tag {token} has no value")
            current[lower] = tokens[position + 1]
            position += 2
        else:
            raise ValidationError(f"unexpected CIF token {token!r}")
    return blocks


def _read_loop(tokens: list[str], position: int, block: dict[str, Any]) -> int:
    tags = []
    while position < len(tokens) and tokens[position].startswith("_"):
        tags.append(tokens[position].lower())
        position += 1
    values = []
    while position < len(tokens) and not tokens[position].startswith("_") \
            and tokens[position].lower() not in ("loop_",) and not tokens[position].lower().startswith("data_"):
        values.append(tokens[position])
        position += 1
    if not tags or len(values) % len(tags):
        raise ValidationError(f"a CIF loop of {len(tags)} tags has {len(values)} values (not whole rows)")
    for column, tag in enumerate(tags):
        block[tag] = values[column::len(tags)]
    return position


class CifData(SinglefileData, Md5Lookup):
    """A CIF file (see the module docstring).

    :param file: a path or binary file object; ``filename`` defaults as for SinglefileData
    """

    _node_type = "data.core.cif"

    def __init__(self, file: str | Path | BinaryIO | None = None, filename: str | None = None,
                 **kwargs: Any) -> None:
        if file is None:
            file, filename = io.BytesIO(b""), filename or "file.cif"
        super().__init__(file, filename, **kwargs)

    def set_file(self, file: str | Path | BinaryIO, filename: str | None = None) -> None:
        """Set the CIF file and (re)parse ``md5``, ``formulae`` and ``spacegroup_numbers``."""
        super().set_file(file, filename)
        content = self.base.repository.get_object_content(self.filename, "rb")
        blocks = parse_cif(content.decode("utf-8", errors="replace")) if content.strip() else {}
        self._blocks = blocks
        self.base.attributes.set_many({
            "md5": md5_of(content),
            "formulae": [block.get("_chemical_formula_sum") for block in blocks.values()],
            "spacegroup_numbers": [_spacegroup(block) for block in blocks.values()],
        })

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        """The parsed data blocks (see :func:`parse_cif`)."""
        if getattr(self, "_blocks", None) is None:
            self._blocks = parse_cif(str(self.get_content()))
        return self._blocks

    @property
    def md5(self) -> str:
        """The md5 checksum of the file."""
        return self.base.attributes.get("md5")

    def get_formulae(self, mode: str = "sum") -> list[str | None]:
        """The ``_chemical_formula_<mode>`` of each data block (None where absent)."""
        if mode == "sum":
            return self.base.attributes.get("formulae")
        return [block.get(f"_chemical_formula_{mode}") for block in self.values.values()]

    def get_spacegroup_numbers(self) -> list[int | None]:
        """The space group number of each data block (None where absent)."""
        return self.base.attributes.get("spacegroup_numbers")

    def has_partial_occupancies(self) -> bool:
        """Whether some site has an occupancy below 1 (within 1e-6)."""
        for block in self.values.values():
            for value in _as_list(block.get("_atom_site_occupancy")):
                match = _OCCUPANCY.match(value)
                if match and abs(float(match.group()) - 1.0) > 1e-6:
                    return True
        return False

    def has_atomic_sites(self) -> bool:
        """Whether some data block lists atomic sites with coordinates."""
        tags = ("_atom_site_fract_x", "_atom_site_cartn_x")
        return any(_as_list(block.get(tag)) for block in self.values.values() for tag in tags)

    @classmethod
    def get_or_create(cls, filename: str | Path, use_first: bool = False,
                      store_cif: bool = True) -> tuple[CifData, bool]:
        """The stored CifData with the same content as ``filename``, or a new one; and whether it is new.

        :raises ValidationError: when several nodes have this content and ``use_first`` is False
        """
        return cls._get_or_create(filename, use_first, store_cif)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _spacegroup(block: dict[str, Any]) -> int | None:
    for tag in _SPACEGROUP_TAGS:
        value = block.get(tag.lower())
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None
