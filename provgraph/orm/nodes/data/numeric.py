"""Int and Float: numbers with arithmetic that yields new (unstored) nodes, as in AiiDA."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.base import BaseType


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, NumericType) else value


def _wrap(result: Any) -> Any:
    if isinstance(result, int):
        return Int(result)
    if isinstance(result, float):
        return Float(result)
    return result


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False, wrap: bool = True) -> Callable[[Any, Any], Any]:
    def method(self: NumericType, other: Any) -> Any:
        if not isinstance(other, (NumericType, int, float)) or isinstance(other, bool):
            return NotImplemented
        left, right = (_plain(other), self.value) if reflected else (self.value, _plain(other))
        result = op(left, right)
        return _wrap(result) if wrap else result

    return method


def _unary(op: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda self: _wrap(op(self.value))


class NumericType(BaseType):
    """A number: ``Int(1) + Int(2)`` is an unstored ``Int(3)``; comparisons compare values."""

    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __floordiv__, __rfloordiv__ = _binary(operator.floordiv), _binary(operator.floordiv, True)
    __mod__, __rmod__ = _binary(operator.mod), _binary(operator.mod, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)
    __lt__, __le__ = _binary(operator.lt, wrap=False), _binary(operator.le, wrap=False)
    __gt__, __ge__ = _binary(operator.gt, wrap=False), _binary(operator.ge, wrap=False)
    __neg__, __pos__, __abs__ = _unary(operator.neg), _unary(operator.pos), _unary(abs)

    def __int__(self) -> int:
        return int(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __hash__(self) -> int:
        return hash(self.uuid)


class Int(NumericType):
    """An integer of any size."""

    _node_type = "data.core.int"
    _type = int

    def _convert(self, value: Any) -> int:
        value = _plain(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"Int needs an int, not {type(value).__name__} {value!r}")
        return int(value)

    def __index__(self) -> int:
        return int(self.value)


class Float(NumericType):
    """A finite floating-point number (NaN and infinities cannot be stored)."""

    _node_type = "data.core.float"
    _type = float

    def _convert(self, value: Any) -> float:
        value = _plain(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(f"Float needs a number, not {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise ValidationError(f"Float cannot store {value!r}: only finite numbers round-trip through JSON")
        return float(value)
