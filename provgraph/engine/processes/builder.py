"""Process builders: fill a process's inputs attribute by attribute (``Cls.get_builder()``).

Each value is validated against its port when it is set (unknown names, wrong types and
validators fail at once, naming the port); plain Python values are wrapped into nodes.
``run(builder)`` and ``submit(builder)`` launch the process with the inputs set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from provgraph.engine.processes.ports import Port, PortNamespace
from provgraph.exceptions import ValidationError

if TYPE_CHECKING:
    from provgraph.engine.processes.process import Process


class ProcessBuilderNamespace:
    """The inputs of one namespace of a builder; nested namespaces are builders of their own."""

    def __init__(self, namespace: PortNamespace, path: str) -> None:
        object.__setattr__(self, "_namespace", namespace)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_values", {})
        for name, port in namespace.ports.items():
            if isinstance(port, PortNamespace):
                self._values[name] = ProcessBuilderNamespace(port, f"{path}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise AttributeError(f"cannot set private attribute {name!r} on a process builder")
        self[name] = value

    def __setitem__(self, name: str, value: Any) -> None:
        port = self._namespace.ports.get(name)
        where = f"{self._path}.{name}"
        if port is None and not self._namespace.dynamic:
            known = ", ".join(sorted(self._namespace.ports)) or "none"
            raise AttributeError(f"'{self._path}' has no input '{name}' (inputs: {known})")
        if isinstance(port, PortNamespace):
            if not isinstance(value, Mapping):
                raise ValidationError(f"'{where}' is a namespace: assign a mapping")
            nested = ProcessBuilderNamespace(port, where)
            for key, item in value.items():
                nested[key] = item
            self._values[name] = nested
            return
        if port is None:
            port = Port(name if name.isidentifier() else "value", valid_type=self._namespace.valid_type,
                        non_db=self._namespace.non_db)
        self._values[name] = port.validate(value, where)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            if name in self._namespace.ports:
                return None
            raise AttributeError(f"'{self._path}' has no input '{name}'") from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __delattr__(self, name: str) -> None:
        self._values.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __dir__(self) -> list[str]:
        return sorted(set(self._namespace.ports) | set(self._values))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path}: {self._inputs()!r}>"

    def _update(self, *args: Mapping[str, Any], **kwargs: Any) -> None:
        """Set many inputs at once from a mapping and/or keywords; nested namespaces are updated, not replaced.

        :raises ValidationError: as setting each value one by one would
        """
        if len(args) > 1:
            raise TypeError(f"_update takes at most one mapping, got {len(args)}")
        for key, value in {**(dict(args[0]) if args else {}), **kwargs}.items():
            current = self._values.get(key)
            if isinstance(current, ProcessBuilderNamespace) and isinstance(value, Mapping):
                current._update(value)
            else:
                self[key] = value

    def _merge(self, *args: Mapping[str, Any], **kwargs: Any) -> None:
        """Merge a (nested) mapping into the inputs: the same as :meth:`_update`."""
        self._update(*args, **kwargs)

    def __len__(self) -> int:
        return len(self._inputs())

    def _inputs(self, prune: bool = True) -> dict[str, Any]:
        """The values set, as a nested dict (empty namespaces left out when ``prune``)."""
        result: dict[str, Any] = {}
        for name, value in self._values.items():
            if isinstance(value, ProcessBuilderNamespace):
                nested = value._inputs(prune)
                if nested or not prune:
                    result[name] = nested
            else:
                result[name] = value
        return result


class ProcessBuilder(ProcessBuilderNamespace):
    """A builder bound to a process class (see the module docstring)."""

    def __init__(self, process_class: type[Process]) -> None:
        super().__init__(process_class.spec().inputs, "inputs")
        object.__setattr__(self, "process_class", process_class)

    def __repr__(self) -> str:
        return f"<ProcessBuilder of {self.process_class.__name__}: {self._inputs()!r}>"
