"""StructureData: a periodic atomic structure (cell, periodicity and sites)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data

_SYMBOL = re.compile(r"^[A-Z][a-z]{0,2}$")


def _vector(value: Sequence[float], what: str) -> list[float]:
    try:
        vector = [float(x) for x in value]
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what} must be three numbers, not {value!r}") from exc
    if len(vector) != 3:
        raise ValidationError(f"{what} must be three numbers, not {value!r}")
    return vector


class StructureData(Data):
    """Atoms in a cell: attributes ``cell`` (3x3 Å), ``pbc`` (3 bools) and ``sites``."""

    _node_type = "data.core.structure"

    def __init__(self, cell: Sequence[Sequence[float]] | None = None, pbc: Sequence[bool] = (True, True, True),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_cell(cell if cell is not None else [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
        self.set_pbc(pbc)
        self.base.attributes.set("sites", [])

    def set_cell(self, cell: Sequence[Sequence[float]]) -> None:
        """Set the three cell vectors."""
        if len(cell) != 3:
            raise ValidationError(f"cell must have three vectors, not {cell!r}")
        self.base.attributes.set("cell", [_vector(row, "a cell vector") for row in cell])

    def set_pbc(self, pbc: Sequence[bool]) -> None:
        """Set periodicity along each cell vector."""
        if len(pbc) != 3 or not all(isinstance(flag, bool) for flag in pbc):
            raise ValidationError(f"pbc must be three booleans, not {pbc!r}")
        self.base.attributes.set("pbc", list(pbc))

    def append_atom(self, symbol: str, position: Sequence[float]) -> None:
        """Add an atom of element ``symbol`` at the Cartesian ``position`` (Å)."""
        if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
            raise ValidationError(f"{symbol!r} is not an element symbol")
        sites = self.base.attributes.get("sites")
        sites.append({"symbol": symbol, "position": _vector(position, "an atom position")})
        self.base.attributes.set("sites", sites)

    @property
    def cell(self) -> list[list[float]]:
        """The cell vectors."""
        return self.base.attributes.get("cell")

    @property
    def pbc(self) -> list[bool]:
        """Periodicity along each vector."""
        return self.base.attributes.get("pbc")

    @property
    def sites(self) -> list[dict[str, Any]]:
        """The atoms: ``{"symbol", "position"}`` each."""
        return self.base.attributes.get("sites")

    def get_formula(self) -> str:
        """The chemical formula, elements in alphabetical order (e.g. ``H2O``)."""
        counts = Counter(site["symbol"] for site in self.sites)
        return "".join(f"{el}{n if n > 1 else ''}" for el, n in sorted(counts.items()))

    def get_volume(self) -> float:
        """The cell volume in Å^3."""
        (a1, a2, a3), (b1, b2, b3), (c1, c2, c3) = self.cell
        return abs(a1 * (b2 * c3 - b3 * c2) - a2 * (b1 * c3 - b3 * c1) + a3 * (b1 * c2 - b2 * c1))
