"""KpointsData: k-points as a mesh (``mesh`` + ``offset`` attributes) or as an explicit list.

As AiiDA's ``core.array.kpoints``: the cell is kept as attributes (``cell``, ``pbc1``..``pbc3``)
so that a density can be turned into a mesh and Cartesian k-points into crystal ones. An
explicit list is stored in crystal coordinates in the ``kpoints`` array (``.npy`` in the
repository), with an optional ``weights`` array and labels (``labels`` + ``label_numbers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm.nodes.data.array import ArrayData

__all__ = ["KpointsData"]


def _three(values: Any, kind: type, what: str) -> list[Any]:
    try:
        items = [kind(value) for value in values]
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what} must be three {kind.__name__}s, not {values!r}") from exc
    if len(items) != 3:
        raise ValidationError(f"{what} must be three {kind.__name__}s, not {values!r}")
    return items


class KpointsData(ArrayData):
    """k-points of a calculation (see the module docstring)."""

    _node_type = "data.core.array.kpoints"

    # -- cell ---------------------------------------------------------------------------------------

    def set_cell(self, cell: Sequence[Sequence[float]], pbc: Sequence[bool] | None = None) -> None:
        """Set the real-space cell (3 vectors, Å) and its periodicity (default: periodic along all three)."""
        import numpy

        rows = [_three(row, float, "a cell vector") for row in cell]
        if len(rows) != 3:
            raise ValidationError(f"the cell must have three vectors, not {len(rows)}")
        if abs(numpy.linalg.det(numpy.array(rows))) < 1e-12:
            raise ValidationError("the cell vectors are linearly dependent (zero volume)")
        flags = [True, True, True] if pbc is None else list(pbc)
        if len(flags) != 3 or not all(isinstance(flag, bool) for flag in flags):
            raise ValidationError(f"pbc must be three booleans, not {pbc!r}")
        self.base.attributes.set_many({"cell": rows, "pbc1": flags[0], "pbc2": flags[1], "pbc3": flags[2]})

    def set_cell_from_structure(self, structure: Any) -> None:
        """Take the cell and periodicity of a StructureData."""
        self.set_cell(structure.cell, [bool(flag) for flag in structure.pbc])

    @property
    def cell(self) -> list[list[float]]:
        """The real-space cell.

        :raises NotExistent: when none was set
        """
        if "cell" not in self.base.attributes:
            raise NotExistent("no cell has been set on this KpointsData (set_cell or set_cell_from_structure)")
        return self.base.attributes.get("cell")

    @property
    def pbc(self) -> tuple[bool, bool, bool]:
        """Periodicity along the three cell vectors (all True when no cell was set)."""
        return tuple(self.base.attributes.get(f"pbc{index}", True) for index in (1, 2, 3))  # type: ignore[return-value]

    @property
    def reciprocal_cell(self) -> Any:
        """The reciprocal cell ``2π (cell⁻¹)ᵀ`` (1/Å), rows are the reciprocal vectors."""
        import numpy

        return 2.0 * numpy.pi * numpy.linalg.inv(numpy.array(self.cell)).T

    # -- mesh ---------------------------------------------------------------------------------------

    def set_kpoints_mesh(self, mesh: Sequence[int], offset: Sequence[float] | None = None) -> None:
        """Set a Monkhorst-Pack mesh; ``offset`` is in units of the mesh spacing, each in [0, 1)."""
        grid = _three(mesh, int, "the mesh")
        if any(value < 1 for value in grid) or any(isinstance(value, bool) for value in mesh):
            raise ValidationError(f"the mesh must be three positive integers, not {mesh!r}")
        shift = _three(offset if offset is not None else (0.0, 0.0, 0.0), float, "the offset")
        if any(not 0.0 <= value < 1.0 for value in shift):
            raise ValidationError(f"each offset must be in [0, 1), not {offset!r}")
        self.base.attributes.set_many({"mesh": grid, "offset": shift})

    def get_kpoints_mesh(self, print_list: bool = False) -> Any:
        """``(mesh, offset)``; with ``print_list`` the full list of the mesh's k-points (crystal coordinates).

        :raises NotExistent: when no mesh was set
        """
        import numpy

        if "mesh" not in self.base.attributes:
            raise NotExistent("no k-points mesh has been set")
        mesh, offset = self.base.attributes.get("mesh"), self.base.attributes.get("offset")
        if not print_list:
            return mesh, offset
        grid = numpy.mgrid[0:mesh[0], 0:mesh[1], 0:mesh[2]].reshape(3, -1).T.astype(float)
        return (grid + numpy.array(offset)) / numpy.array(mesh, dtype=float)

    def set_kpoints_mesh_from_density(self, distance: float, offset: Sequence[float] | None = None,
                                      force_parity: bool = False) -> None:
        """Set the mesh with at most ``distance`` (1/Å) between k-points along each periodic direction.

        :param force_parity: round each periodic mesh count up to an even number
        :raises NotExistent: when no cell was set
        """
        import numpy

        if not distance > 0:
            raise ValidationError(f"distance must be positive, not {distance!r}")
        mesh = []
        for periodic, vector in zip(self.pbc, self.reciprocal_cell, strict=True):
            count = max(int(numpy.ceil(round(float(numpy.linalg.norm(vector)) / distance, 5))), 1) if periodic else 1
            mesh.append(count + count % 2 if periodic and force_parity else count)
        self.set_kpoints_mesh(mesh, offset)

    # -- explicit list ------------------------------------------------------------------------------

    def set_kpoints(self, kpoints: Any, cartesian: bool = False, labels: Sequence[tuple[int, str]] | None = None,
                    weights: Any = None, fill_values: float = 0.0) -> None:
        """Set an explicit list of k-points (rows; fewer than 3 columns are filled with ``fill_values``).

        :param cartesian: the k-points are Cartesian (1/Å); they are stored in crystal coordinates
        :param labels: ``[(index, label), ...]`` naming some of the k-points
        :param weights: one weight per k-point
        """
        import numpy

        points = numpy.array(kpoints, dtype=float)
        if points.ndim == 1:
            points = points.reshape(-1, 1)
        if points.ndim != 2 or not 1 <= points.shape[1] <= 3 or points.shape[0] == 0:
            raise ValidationError(f"k-points must be a non-empty list of up to 3 coordinates, not shape {points.shape}")
        if points.shape[1] < 3:
            points = numpy.hstack([points, numpy.full((points.shape[0], 3 - points.shape[1]), float(fill_values))])
        if cartesian:
            points = points @ numpy.linalg.inv(self.reciprocal_cell)
        self.set_array("kpoints", points)
        if weights is not None:
            weights = numpy.array(weights, dtype=float)
            if weights.shape != (points.shape[0],):
                raise ValidationError(f"give one weight per k-point ({points.shape[0]}), not shape {weights.shape}")
            self.set_array("weights", weights)
        if labels is not None:
            self.labels = labels

    def get_kpoints(self, also_weights: bool = False, cartesian: bool = False) -> Any:
        """The k-points (crystal coordinates, or Cartesian); with ``also_weights`` also the weights (or None).

        :raises NotExistent: when no explicit list was set
        """
        if "kpoints" not in self.get_arraynames():
            raise NotExistent("no explicit k-points have been set (a mesh is read with get_kpoints_mesh)")
        points = self.get_array("kpoints")
        if cartesian:
            points = points @ self.reciprocal_cell
        if not also_weights:
            return points
        weights = self.get_array("weights") if "weights" in self.get_arraynames() else None
        return points, weights

    @property
    def labels(self) -> list[tuple[int, str]] | None:
        """``[(index, label), ...]`` of the labelled k-points, or None."""
        numbers = self.base.attributes.get("label_numbers", None)
        if numbers is None:
            return None
        return list(zip(numbers, self.base.attributes.get("labels"), strict=True))

    @labels.setter
    def labels(self, value: Sequence[tuple[int, str]]) -> None:
        count = self.get_shape("kpoints")[0] if "kpoints" in self.get_arraynames() else None
        try:
            pairs = [(int(index), str(label)) for index, label in value]
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"labels must be (index, label) pairs, not {value!r}") from exc
        if count is not None and any(not 0 <= index < count for index, _ in pairs):
            raise ValidationError(f"a label index is outside the {count} k-points")
        self.base.attributes.set_many({"label_numbers": [index for index, _ in pairs],
                                       "labels": [label for _, label in pairs]})
