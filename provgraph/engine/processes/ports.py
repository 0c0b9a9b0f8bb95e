"""Ports: the typed, validated inputs and outputs a process spec declares.

A :class:`Port` holds one value; a :class:`PortNamespace` holds ports and nested
namespaces, and when ``dynamic`` also accepts keys it does not declare. Input
validation turns plain Python values into data nodes (``int`` -> ``Int``,
``float`` -> ``Float``, ``str`` -> ``Str``, ``bool`` -> ``Bool``, ``dict`` -> ``Dict``,
``list``/``tuple`` -> ``List``), applies defaults, checks types and runs validators;
every error is a :class:`~provgraph.exceptions.ValidationError` naming the port
by its dotted path (``inputs.relax.x``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from provgraph.engine.processes.utils import call_with_optional_context
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.bool_ import Bool
from provgraph.orm.nodes.data.containers import Dict, List
from provgraph.orm.nodes.data.data import Data
from provgraph.orm.nodes.data.numeric import Float, Int
from provgraph.orm.nodes.data.str_ import Str
from provgraph.orm.nodes.node import Node


class _Unspecified:
    """Marker for "no default given" (``None`` is a valid default)."""

    def __repr__(self) -> str:
        return "UNSPECIFIED"


UNSPECIFIED: Any = _Unspecified()

#: which plain Python types each wrapper accepts (bool before int: a bool is an int to Python)
_WRAPPABLE: tuple[tuple[type[Data], tuple[type, ...]], ...] = (
    (Bool, (bool,)), (Int, (int,)), (Float, (float, int)), (Str, (str,)), (Dict, (dict,)), (List, (list, tuple)),
)


def wrap_value(value: Any, valid_type: tuple[type, ...] | None = None) -> Any:
    """Return ``value`` as a data node if it is a plain Python value, else unchanged.

    A wrapper named by ``valid_type`` is preferred (so ``1`` for a ``Float`` port gives ``Float(1.0)``).
    """
    if isinstance(value, Node):
        return value
    preferred = [pair for pair in _WRAPPABLE if valid_type and pair[0] in valid_type]
    for wrapper, python_types in preferred + list(_WRAPPABLE):
        if isinstance(value, python_types) and not (isinstance(value, bool) and bool not in python_types):
            return wrapper(dict(value) if wrapper is Dict else value)
    return value


def _type_names(types: tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def _normalise_type(valid_type: type | Sequence[type] | None) -> tuple[type, ...] | None:
    if valid_type is None:
        return None
    types = tuple(valid_type) if isinstance(valid_type, (tuple, list)) else (valid_type,)
    if not all(isinstance(t, type) for t in types):
        raise ValidationError(f"valid_type must be a type or a tuple of types, not {valid_type!r}")
    return types


class Port:
    """One input or output of a process.

    :param name: the port name (an identifier)
    :param valid_type: accepted type(s); for db ports the value must also be a data node
    :param default: value used when none is given (a callable is called for a fresh value)
    :param required: whether a value must be given (a port with a default is never missing)
    :param validator: ``validator(value[, port]) -> str | None``: a returned string is the error
    :param help: description shown in ``provgraph process`` help
    :param non_db: the value is a plain JSON-able Python value, kept on the node instead of a link
    :param serializer: turns a value that is not a node into one before validation (e.g. ``to_aiida_type``)
    """

    def __init__(self, name: str, valid_type: type | Sequence[type] | None = None, default: Any = UNSPECIFIED,
                 required: bool = True, validator: Callable[..., str | None] | None = None,
                 help: str | None = None, non_db: bool = False,  # noqa: A002 - AiiDA's keyword
                 serializer: Callable[[Any], Any] | None = None) -> None:
        if not name.isidentifier():
            raise ValidationError(f"port name {name!r} is not an identifier")
        if serializer is not None and not callable(serializer):
            raise ValidationError(f"serializer of port {name!r} must be callable, not {serializer!r}")
        self.name, self.valid_type, self.default = name, _normalise_type(valid_type), default
        self.required, self.validator, self.help, self.non_db = required, validator, help, non_db
        self.serializer = serializer

    @property
    def has_default(self) -> bool:
        """Whether a default is declared."""
        return self.default is not UNSPECIFIED

    def get_default(self) -> Any:
        """A fresh default value (callables other than classes are called)."""
        if callable(self.default) and not isinstance(self.default, type):
            return self.default()
        return copy.copy(self.default) if isinstance(self.default, (dict, list)) else self.default

    def validate(self, value: Any, path: str, *, wrap: bool = True) -> Any:
        """Return ``value`` checked (and, for db inputs, wrapped into a node).

        :raises ValidationError: naming ``path`` when the value does not fit
        """
        given = value
        if wrap and self.serializer is not None and not isinstance(value, Node):
            try:
                value = self.serializer(value)
            except ValidationError as exc:
                raise ValidationError(f"port '{path}': {exc}") from exc
        if not self.non_db:
            value = wrap_value(value, self.valid_type) if wrap else value
            if not isinstance(value, Data):
                raise ValidationError(
                    f"port '{path}' takes a data node, not {type(given).__name__} {given!r:.80}"
                    + ("" if wrap else " (outputs are never wrapped: create the node, e.g. Int(3))")
                )
        if self.valid_type is not None and not isinstance(value, self.valid_type):
            raise ValidationError(
                f"port '{path}' takes {_type_names(self.valid_type)}, not {type(given).__name__} {given!r:.80}"
            )
        _run_validator(self.validator, value, self, path)
        return value

    def copy(self) -> Port:
        """A shallow copy (used by ``expose_inputs``)."""
        return copy.copy(self)


def _run_validator(validator: Callable[..., str | None] | None, value: Any, context: Any, path: str) -> None:
    if validator is None:
        return
    try:
        message = call_with_optional_context(validator, value, context)
    except ValidationError as exc:
        raise ValidationError(f"port '{path}': {exc}") from exc
    if message:
        raise ValidationError(f"port '{path}': {message}")


class PortNamespace:
    """A namespace of ports; ``dynamic`` namespaces also take undeclared keys of ``valid_type``.

    :param validator: run on the whole (validated) mapping of the namespace
    :param required: when False and no value is given for the namespace, it is left out unless its
        defaults fill it (see ``populate_defaults``), as AiiDA's ``input_namespace(..., required=False)``
    """

    def __init__(self, name: str, dynamic: bool = False, valid_type: type | Sequence[type] | None = None,
                 validator: Callable[..., str | None] | None = None, help: str | None = None,  # noqa: A002
                 non_db: bool = False, required: bool = True) -> None:
        self.name, self.dynamic, self.valid_type = name, dynamic, _normalise_type(valid_type)
        self.validator, self.help, self.non_db, self.required = validator, help, non_db, required
        #: whether the defaults of a namespace given no value are filled in (see ``_validate_absent``)
        self.populate_defaults = True
        self.ports: dict[str, Port | PortNamespace] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.ports

    def __getitem__(self, name: str) -> Port | PortNamespace:
        return self.ports[name]

    def get(self, dotted: str) -> Port | PortNamespace | None:
        """The port at a dotted path (``relax.x``), or None."""
        found: Port | PortNamespace | None = self
        for part in dotted.split("."):
            if not isinstance(found, PortNamespace) or part not in found.ports:
                return None
            found = found.ports[part]
        return found

    def namespace(self, dotted: str, **options: Any) -> PortNamespace:
        """Return the namespace at ``dotted``, creating missing levels with ``options``.

        :raises ValidationError: when a level exists as a plain port
        """
        current = self
        for part in dotted.split(".") if dotted else []:
            found = current.ports.get(part)
            if found is None:
                found = PortNamespace(part, non_db=current.non_db, **options)
                current.ports[part] = found
            elif not isinstance(found, PortNamespace):
                raise ValidationError(f"'{part}' is a port, not a namespace")
            current = found
        return current

    def add(self, dotted: str, port: Port | PortNamespace) -> None:
        """Add ``port`` at a dotted path, creating the parent namespaces."""
        parent, _, _ = dotted.rpartition(".")
        target = self.namespace(parent) if parent else self
        if target.non_db:
            port.non_db = True
        target.ports[port.name] = port

    def validate(self, values: Mapping[str, Any] | None, path: str, *, wrap: bool = True,
                 defaults: bool = True) -> dict[str, Any]:
        """Return ``values`` validated: defaults applied, plain values wrapped, types and validators checked.

        :raises ValidationError: naming the first port (by dotted path) that does not fit
        """
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise ValidationError(f"namespace '{path}' takes a mapping, not {type(values).__name__}")
        result = {key: self._validate_key(key, value, path, wrap, defaults) for key, value in values.items()}
        for name, port in self.ports.items():
            if name in result:
                continue
            if isinstance(port, PortNamespace):
                nested = port._validate_absent(f"{path}.{name}", wrap, defaults)
                if nested:
                    result[name] = nested
            elif defaults and port.has_default:
                result[name] = port.validate(port.get_default(), f"{path}.{name}", wrap=wrap)
            elif defaults and port.required:
                raise ValidationError(f"required port '{path}.{name}' was not given{_help(port)}")
        _run_validator(self.validator, result, self, path)
        return result

    def _validate_absent(self, path: str, wrap: bool, defaults: bool) -> dict[str, Any]:
        """The namespace's value when none was given (AiiDA's rules).

        A required namespace gets its defaults and must have its required ports. One that is not
        required is left out when ``populate_defaults`` is off or it has no defaults; otherwise its
        defaults fill it and then its required ports must be given.
        """
        if not self.required and (not self.populate_defaults or not self._has_defaults()):
            return {}
        return self.validate({}, path, wrap=wrap, defaults=defaults)

    def _has_defaults(self) -> bool:
        return any(port._has_defaults() if isinstance(port, PortNamespace) else port.has_default
                   for port in self.ports.values())

    def _validate_key(self, key: str, value: Any, path: str, wrap: bool, defaults: bool) -> Any:
        port = self.ports.get(key)
        where = f"{path}.{key}"
        if port is not None:
            if isinstance(port, PortNamespace):
                return port.validate(value, where, wrap=wrap, defaults=defaults)
            return port.validate(value, where, wrap=wrap)
        if not self.dynamic:
            known = ", ".join(sorted(self.ports)) or "none"
            raise ValidationError(f"unexpected port '{where}': namespace '{path}' is not dynamic (ports: {known})")
        if isinstance(value, Mapping) and not isinstance(value, Node) and not self.non_db:
            nested = PortNamespace(key, dynamic=True, valid_type=self.valid_type)
            return nested.validate(value, where, wrap=wrap, defaults=defaults)
        return Port(key, valid_type=self.valid_type, non_db=self.non_db).validate(value, where, wrap=wrap)

    def required_labels(self, prefix: str = "") -> list[str]:
        """The flattened (``a__b``) labels of every required port without a default."""
        labels: list[str] = []
        for name, port in self.ports.items():
            if isinstance(port, PortNamespace):
                if port.required:
                    labels += port.required_labels(f"{prefix}{name}__")
            elif port.required and not port.has_default:
                labels.append(f"{prefix}{name}")
        return labels

    def copy(self) -> PortNamespace:
        """A deep copy of the namespace tree (ports are copied, values are not)."""
        other = copy.copy(self)
        other.ports = {name: port.copy() for name, port in self.ports.items()}
        return other


def _help(port: Port) -> str:
    return f" ({port.help})" if port.help else ""


def split_non_db(namespace: PortNamespace, values: Mapping[str, Any], prefix: str = "") -> tuple[dict, dict]:
    """Split validated ``values`` into link-able nodes ``{"a__b": node}`` and nested non-db values."""
    db: dict[str, Any] = {}
    non_db: dict[str, Any] = {}
    for key, value in values.items():
        port = namespace.ports.get(key)
        if namespace.non_db or (port is not None and port.non_db):
            non_db[key] = value
        elif isinstance(value, Mapping) and not isinstance(value, Node):
            inner = port if isinstance(port, PortNamespace) else PortNamespace(key, dynamic=True)
            nested_db, nested_non_db = split_non_db(inner, value, f"{prefix}{key}__")
            db.update(nested_db)
            if nested_non_db:
                non_db[key] = nested_non_db
        else:
            db[f"{prefix}{key}"] = value
    return db, non_db
