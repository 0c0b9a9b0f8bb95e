"""BandsData: band energies on the k-points of a :class:`KpointsData` (AiiDA's ``core.array.bands``).

The k-points are set as for KpointsData; then :meth:`BandsData.set_bands` stores the ``bands``
array (``(nkpoints, nbands)`` or ``(nspins, nkpoints, nbands)``) and optionally ``occupations``
of the same shape, as ``.npy`` files; ``units`` and ``array_labels`` are attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm.nodes.data.kpoints import KpointsData

__all__ = ["BandsData"]


class BandsData(KpointsData):
    """Bands over k-points (see the module docstring)."""

    _node_type = "data.core.array.bands"

    def _kpoint_count(self) -> int:
        if "kpoints" in self.get_arraynames():
            return self.get_shape("kpoints")[0]
        if "mesh" in self.base.attributes:
            mesh = self.base.attributes.get("mesh")
            return mesh[0] * mesh[1] * mesh[2]
        raise NotExistent("set the k-points (set_kpoints or set_kpoints_mesh) before the bands")

    def set_bands(self, bands: Any, units: str | None = None, occupations: Any = None,
                  labels: str | Sequence[str] | None = None) -> None:
        """Store the band energies (and occupations) over the k-points already set.

        :raises ValidationError: when the shapes do not match the k-points
        """
        import numpy

        energies = numpy.array(bands, dtype=float)
        if energies.ndim not in (2, 3):
            raise ValidationError(f"bands must be (nkpoints, nbands) or (nspins, nkpoints, nbands), "
                                  f"not shape {energies.shape}")
        count = self._kpoint_count()
        if energies.shape[-2] != count:
            raise ValidationError(f"bands are given for {energies.shape[-2]} k-points, but there are {count}")
        if occupations is not None:
            filled = numpy.array(occupations, dtype=float)
            if filled.shape != energies.shape:
                raise ValidationError(f"occupations have shape {filled.shape}, the bands {energies.shape}")
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else list(labels)
            if not all(isinstance(label, str) for label in labels):
                raise ValidationError("band labels must be strings")
        self.set_array("bands", energies)
        if occupations is not None:
            self.set_array("occupations", filled)
        if units is not None:
            self.units = units
        if labels is not None:
            self.base.attributes.set("array_labels", labels)

    def get_bands(self, also_occupations: bool = False, also_labels: bool = False) -> Any:
        """The bands; with ``also_occupations``/``also_labels`` a tuple that adds them (None when unset).

        :raises NotExistent: when no bands were set
        """
        if "bands" not in self.get_arraynames():
            raise NotExistent("no bands have been set")
        result = [self.get_array("bands")]
        if also_occupations:
            result.append(self.get_array("occupations") if "occupations" in self.get_arraynames() else None)
        if also_labels:
            result.append(self.array_labels)
        return result[0] if len(result) == 1 else tuple(result)

    @property
    def array_labels(self) -> list[str] | None:
        """The labels of the band arrays, or None."""
        return self.base.attributes.get("array_labels", None)

    @property
    def units(self) -> str | None:
        """The energy units of the bands, or None."""
        return self.base.attributes.get("units", None)

    @units.setter
    def units(self, value: str) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"units must be a string, not {value!r}")
        self.base.attributes.set("units", value)
