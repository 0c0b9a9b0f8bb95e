"""JsonableData: any object with ``as_dict()`` (e.g. a pymatgen object), stored as attributes.

The dictionary returned by ``obj.as_dict()`` is stored as the attributes, with ``@module`` and
``@class`` added (unless present) so that :attr:`JsonableData.obj` can rebuild the object:
``cls.from_dict(d)`` when the class has it, else ``cls(**d)`` without the ``@`` keys. Floats
JSON cannot hold (NaN, ±Infinity) are stored as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` and turned back into floats when the object is rebuilt, as in AiiDA.
"""

from __future__ import annotations

import importlib
import json
import math
from typing import Any

from provgraph.common.json import clean_value
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data

__all__ = ["JsonableData"]

_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _encode_constants(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _encode_constants(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_constants(item) for item in value]
    return value


def _decode_constants(value: Any) -> Any:
    if isinstance(value, str) and value in _CONSTANTS:
        return _CONSTANTS[value]
    if isinstance(value, dict):
        return {key: _decode_constants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode_constants(item) for item in value]
    return value


class JsonableData(Data):
    """An object that can be turned into a JSON-able dict and back (see the module docstring).

    :param obj: an object with an ``as_dict()`` method returning a JSON-able dict
    """

    _node_type = "data.core.jsonable"

    def __init__(self, obj: Any, **kwargs: Any) -> None:
        as_dict = getattr(obj, "as_dict", None)
        if not callable(as_dict):
            raise ValidationError(f"JsonableData needs an object with an as_dict() method, not {type(obj).__name__}")
        dictionary = as_dict()
        if not isinstance(dictionary, dict):
            raise ValidationError(f"{type(obj).__name__}.as_dict() returned {type(dictionary).__name__}, not a dict")
        super().__init__(**kwargs)
        dictionary = dict(dictionary)
        dictionary.setdefault("@module", type(obj).__module__)
        dictionary.setdefault("@class", type(obj).__qualname__)
        try:  # json's own view first: it also turns tuples into lists and refuses what it cannot write
            dictionary = json.loads(json.dumps(_encode_constants(dictionary)))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{type(obj).__name__}.as_dict() is not JSON-able: {exc}") from exc
        self.base.attributes.set_many(clean_value(dictionary, kind="as_dict() value"))
        self._obj = obj

    @property
    def obj(self) -> Any:
        """The object, rebuilt from the attributes (once per loaded node).

        :raises ImportError: when its class cannot be imported here
        """
        if getattr(self, "_obj", None) is None:
            self._obj = self._rebuild()
        return self._obj

    def _rebuild(self) -> Any:
        dictionary = _decode_constants(self.base.attributes.all)
        module, name = dictionary["@module"], dictionary["@class"]
        target: Any = importlib.import_module(module)
        for part in name.split("."):
            try:
                target = getattr(target, part)
            except AttributeError as exc:
                raise ImportError(f"cannot import {module}.{name} to rebuild the object: {exc}") from exc
        from_dict = getattr(target, "from_dict", None)
        if callable(from_dict):
            return from_dict(dictionary)
        return target(**{key: value for key, value in dictionary.items() if not key.startswith("@")})
