"""ArrayData: named numpy arrays, each stored as an ``.npy`` file in the repository."""

from __future__ import annotations

import io
import re
from typing import Any

from provgraph.exceptions import NotExistent, ValidationError
from provgraph.orm.nodes.data.data import Data

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


class ArrayData(Data):
    """Named arrays; attribute ``array|<name>`` holds each array's shape.

    :param arrays: an array, or a mapping of names to arrays (a single array is named ``default``)
    """

    _node_type = "data.core.array"

    def __init__(self, arrays: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if arrays is None:
            return
        items = arrays.items() if isinstance(arrays, dict) else [("default", arrays)]
        for name, array in items:
            self.set_array(name, array)

    def set_array(self, name: str, array: Any) -> None:
        """Store ``array`` (a numpy array, not of object dtype) under ``name``."""
        import numpy

        if not isinstance(name, str) or not _NAME.match(name):
            raise ValidationError(f"invalid array name {name!r}")
        if not isinstance(array, numpy.ndarray):
            raise ValidationError(f"ArrayData needs numpy arrays, not {type(array).__name__}")
        if array.dtype.hasobject:
            raise ValidationError(f"array {name!r} has dtype object, which cannot be stored safely")
        buffer = io.BytesIO()
        numpy.save(buffer, array, allow_pickle=False)
        buffer.seek(0)
        self.base.repository.put_object_from_filelike(buffer, f"{name}.npy")
        self.base.attributes.set(f"array|{name}", list(array.shape))

    def get_arraynames(self) -> list[str]:
        """The names of the arrays, sorted."""
        return sorted(key.split("|", 1)[1] for key in self.base.attributes.keys() if key.startswith("array|"))

    def get_shape(self, name: str) -> tuple[int, ...]:
        """The shape of array ``name``."""
        return tuple(self.base.attributes.get(f"array|{name}"))

    def get_array(self, name: str | None = None) -> Any:
        """The array ``name`` (or the only array when there is just one)."""
        import numpy

        names = self.get_arraynames()
        if name is None:
            if len(names) != 1:
                raise ValidationError(f"give an array name; this node has {names}")
            name = names[0]
        if name not in names:
            raise NotExistent(f"no array named {name!r}; arrays: {names}")
        with self.base.repository.open(f"{name}.npy", "rb") as handle:
            return numpy.load(io.BytesIO(handle.read()), allow_pickle=False)
