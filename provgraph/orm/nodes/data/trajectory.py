"""TrajectoryData: a sequence of atomic configurations (AiiDA's ``core.array.trajectory``).

Attribute ``symbols`` holds the element of each site; the arrays (``.npy`` in the repository)
are ``positions`` (nsteps, nsites, 3) and optionally ``steps`` (step ids), ``cells``
(nsteps, 3, 3), ``times`` (nsteps) and ``velocities`` (like positions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm.nodes.data.array import ArrayData

__all__ = ["TrajectoryData"]

_OPTIONAL = ("steps", "cells", "times", "velocities")


class TrajectoryData(ArrayData):
    """Configurations over steps (see the module docstring).

    :param structurelist: StructureData nodes (same atoms in each) to build the trajectory from
    """

    _node_type = "data.core.array.trajectory"

    def __init__(self, structurelist: Sequence[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if structurelist is not None:
            self.set_structurelist(structurelist)

    def set_trajectory(self, symbols: Sequence[str], positions: Any, stepids: Any = None, cells: Any = None,
                       times: Any = None, velocities: Any = None) -> None:
        """Store a trajectory; every optional array has one entry per step.

        :raises ValidationError: when the shapes do not agree
        """
        import numpy

        symbols = list(symbols)
        if not all(isinstance(symbol, str) for symbol in symbols):
            raise ValidationError("symbols must be strings")
        positions = numpy.array(positions, dtype=float)
        if positions.ndim != 3 or positions.shape[1:] != (len(symbols), 3):
            raise ValidationError(f"positions must have shape (nsteps, {len(symbols)}, 3), not {positions.shape}")
        steps = positions.shape[0]
        optional = {
            "steps": (stepids, int, (steps,)), "cells": (cells, float, (steps, 3, 3)),
            "times": (times, float, (steps,)), "velocities": (velocities, float, positions.shape),
        }
        arrays = {"positions": positions}
        for name, (value, dtype, shape) in optional.items():
            if value is None:
                continue
            array = numpy.array(value, dtype=dtype)
            if array.shape != shape:
                raise ValidationError(f"{name} must have shape {shape}, not {array.shape}")
            arrays[name] = array
        for name in _OPTIONAL:
            if name in self.get_arraynames():
                self.base.repository.delete_object(f"{name}.npy")
                self.base.attributes.delete(f"array|{name}")
        for name, array in arrays.items():
            self.set_array(name, array)
        self.base.attributes.set("symbols", symbols)

    def set_structurelist(self, structurelist: Sequence[Any]) -> None:
        """Build the trajectory from StructureData nodes with the same atoms (their cells become ``cells``)."""
        structures = list(structurelist)
        if not structures:
            raise ValidationError("give at least one structure")
        symbols = [site["symbol"] for site in structures[0].sites]
        if any([site["symbol"] for site in structure.sites] != symbols for structure in structures):
            raise ValidationError("every structure of a trajectory must have the same atoms in the same order")
        positions = [[site["position"] for site in structure.sites] for structure in structures]
        self.set_trajectory(symbols, positions, cells=[structure.cell for structure in structures])

    @property
    def symbols(self) -> list[str]:
        """The element of each site."""
        return self.base.attributes.get("symbols")

    @property
    def numsteps(self) -> int:
        """The number of steps."""
        return self.get_shape("positions")[0]

    @property
    def numsites(self) -> int:
        """The number of sites."""
        return self.get_shape("positions")[1]

    def _optional(self, name: str) -> Any:
        return self.get_array(name) if name in self.get_arraynames() else None

    def get_positions(self) -> Any:
        """The positions, (nsteps, nsites, 3)."""
        return self.get_array("positions")

    def get_stepids(self) -> Any:
        """The step ids (``0..nsteps-1`` when none were given)."""
        import numpy

        steps = self._optional("steps")
        return steps if steps is not None else numpy.arange(self.numsteps)

    def get_cells(self) -> Any:
        """The cells, (nsteps, 3, 3), or None."""
        return self._optional("cells")

    def get_times(self) -> Any:
        """The times, or None."""
        return self._optional("times")

    def get_velocities(self) -> Any:
        """The velocities, or None."""
        return self._optional("velocities")

    def get_index_from_stepid(self, stepid: int) -> int:
        """The index of the step with id ``stepid``.

        :raises NotExistent: when no step has that id
        """
        matches = [index for index, value in enumerate(self.get_stepids()) if int(value) == stepid]
        if not matches:
            raise NotExistent(f"no step with id {stepid}")
        return matches[0]

    def get_step_data(self, index: int) -> tuple[int, Any, Any, list[str], Any, Any]:
        """``(stepid, time, cell, symbols, positions, velocities)`` of step ``index`` (None where unset)."""
        if not -self.numsteps <= index < self.numsteps:
            raise IndexError(f"step index {index} out of range ({self.numsteps} steps)")
        pick = {name: (array[index] if array is not None else None)
                for name, array in (("times", self.get_times()), ("cells", self.get_cells()),
                                    ("velocities", self.get_velocities()))}
        return (int(self.get_stepids()[index]), pick["times"], pick["cells"], self.symbols,
                self.get_positions()[index], pick["velocities"])

    def get_step_structure(self, index: int) -> Any:
        """A new (unstored) StructureData of step ``index``.

        :raises NotExistent: when the trajectory has no cells
        """
        from provgraph.orm.nodes.data.structure import StructureData

        _, _, cell, symbols, positions, _ = self.get_step_data(index)
        if cell is None:
            raise NotExistent("the trajectory has no cells: a structure cannot be made")
        structure = StructureData(cell=cell.tolist())
        for symbol, position in zip(symbols, positions.tolist(), strict=True):
            structure.append_atom(symbol, position)
        return structure
