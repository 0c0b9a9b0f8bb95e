"""XyData: one x array and any number of y arrays of the same length, with names and units.

The arrays go to the repository as ``.npy`` files (``x_array``, ``y_array_0``, ``y_array_1``...)
through :class:`~provgraph.orm.nodes.data.array.ArrayData`; names and units are attributes
(``x_name``, ``x_units``, ``y_names``, ``y_units``), as in AiiDA's ``core.array.xy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm.nodes.data.array import ArrayData

__all__ = ["XyData", "check_convert_single_to_tuple"]


def check_convert_single_to_tuple(item: Any) -> list[Any]:
    """``item`` as a list: a list or tuple stays, anything else becomes a one-item list."""
    return list(item) if isinstance(item, (list, tuple)) else [item]


def _as_array(values: Any, what: str) -> Any:
    import numpy

    array = numpy.asarray(values)
    if array.dtype.hasobject or array.ndim != 1:
        raise ValidationError(f"{what} must be a one-dimensional numeric array, not shape {array.shape} "
                              f"of {array.dtype}")
    return array


class XyData(ArrayData):
    """An x array with y arrays over it (see the module docstring)."""

    _node_type = "data.core.array.xy"

    def set_x(self, x_array: Any, x_name: str, x_units: str) -> None:
        """Set the x array, its name and its units."""
        array = _as_array(x_array, "the x array")
        if not isinstance(x_name, str) or not isinstance(x_units, str):
            raise ValidationError("x_name and x_units must be strings")
        self.set_array("x_array", array)
        self.base.attributes.set_many({"x_name": x_name, "x_units": x_units})

    def set_y(self, y_arrays: Any, y_names: str | Sequence[str], y_units: str | Sequence[str]) -> None:
        """Set the y arrays (one array or a list), each with a name and units, all as long as x.

        :raises NotExistent: when no x array was set first
        """
        arrays = check_convert_single_to_tuple(y_arrays)
        names, units = check_convert_single_to_tuple(y_names), check_convert_single_to_tuple(y_units)
        if not (len(arrays) == len(names) == len(units)):
            raise ValidationError(f"give as many y names ({len(names)}) and units ({len(units)}) as y arrays "
                                  f"({len(arrays)})")
        if not all(isinstance(text, str) for text in names + units):
            raise ValidationError("y names and units must be strings")
        length = self.get_shape("x_array")[0] if "x_array" in self.get_arraynames() else None
        if length is None:
            raise NotExistent("set the x array (set_x) before the y arrays")
        checked = [_as_array(array, f"y array {index}") for index, array in enumerate(arrays)]
        for index, array in enumerate(checked):
            if array.shape[0] != length:
                raise ValidationError(f"y array {index} has {array.shape[0]} values, the x array {length}")
        for name in [name for name in self.get_arraynames() if name.startswith("y_array_")]:
            self.base.repository.delete_object(f"{name}.npy")
            self.base.attributes.delete(f"array|{name}")
        for index, array in enumerate(checked):
            self.set_array(f"y_array_{index}", array)
        self.base.attributes.set_many({"y_names": names, "y_units": units})

    def get_x(self) -> tuple[str, Any, str]:
        """``(x_name, x_array, x_units)``.

        :raises NotExistent: when no x array was set
        """
        if "x_name" not in self.base.attributes:
            raise NotExistent("no x array has been set")
        return self.base.attributes.get("x_name"), self.get_array("x_array"), self.base.attributes.get("x_units")

    def get_y(self) -> list[tuple[str, Any, str]]:
        """``[(y_name, y_array, y_units), ...]``.

        :raises NotExistent: when no y arrays were set
        """
        if "y_names" not in self.base.attributes:
            raise NotExistent("no y arrays have been set")
        names, units = self.base.attributes.get("y_names"), self.base.attributes.get("y_units")
        return [(name, self.get_array(f"y_array_{index}"), unit)
                for index, (name, unit) in enumerate(zip(names, units, strict=True))]
