"""ProcessSpec: what a process declares in ``define(cls, spec)``.

Inputs and outputs (ports and namespaces, possibly nested and dynamic), exit codes,
inputs and outputs exposed from other processes, and for a WorkChain its outline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from provgraph.engine.processes.exit_code import ExitCode, ExitCodesNamespace
from provgraph.engine.processes.expose import absorb, apply_options, take_properties
from provgraph.engine.processes.outline import Block, _splice
from provgraph.engine.processes.ports import UNSPECIFIED, Port, PortNamespace
from provgraph.exceptions import ValidationError

if TYPE_CHECKING:
    from provgraph.engine.processes.process import Process


class ProcessSpec:
    """The declaration of a process's inputs, outputs, exit codes and outline."""

    def __init__(self) -> None:
        self.inputs = PortNamespace("inputs")
        self.outputs = PortNamespace("outputs")
        self.exit_codes = ExitCodesNamespace()
        self._outline: Block | None = None
        #: (direction, namespace, process class) -> names of the ports exposed from it
        self._exposed: dict[tuple[str, str | None, type], list[str]] = {}

    def input(self, name: str, valid_type: type | Sequence[type] | None = None, default: Any = UNSPECIFIED,
              required: bool = True, validator: Callable[..., str | None] | None = None,
              help: str | None = None, non_db: bool = False,  # noqa: A002
              serializer: Callable[[Any], Any] | None = None) -> None:
        """Declare an input port; ``name`` may be dotted (``relax.x``) to place it in a namespace.

        :param serializer: turns a plain value into a node (e.g. ``to_aiida_type``); plain ``int``,
            ``float``, ``str``, ``bool``, ``dict`` and ``list`` values are wrapped even without one
        """
        port = Port(name.rpartition(".")[2], valid_type, default, required, validator, help, non_db, serializer)
        self.inputs.add(name, port)

    def input_namespace(self, name: str, dynamic: bool = False, valid_type: type | Sequence[type] | None = None,
                        validator: Callable[..., str | None] | None = None, help: str | None = None,  # noqa: A002
                        non_db: bool = False, required: bool = True, populate_defaults: bool = True
                        ) -> PortNamespace:
        """Declare (or update) an input namespace; return it.

        :param required: when False, a namespace given no value is left out without asking for its
            required ports, unless its defaults fill it
        :param populate_defaults: whether the defaults of a namespace given no value are filled in
            (as in AiiDA: an optional namespace with defaults inside needs ``populate_defaults=False``
            to stay out)
        """
        namespace = _declare_namespace(self.inputs, name, dynamic, valid_type, validator, help, non_db)
        namespace.required, namespace.populate_defaults = required, populate_defaults
        return namespace

    def output(self, name: str, valid_type: type | Sequence[type] | None = None, required: bool = True,
               help: str | None = None) -> None:  # noqa: A002
        """Declare an output port; a required output missing at the end gives exit status 11."""
        self.outputs.add(name, Port(name.rpartition(".")[2], valid_type, required=required, help=help))

    def output_namespace(self, name: str, dynamic: bool = False, valid_type: type | Sequence[type] | None = None,
                         help: str | None = None, required: bool = True) -> PortNamespace:  # noqa: A002
        """Declare (or update) an output namespace; return it.

        :param required: when False, the required outputs inside it may be missing at the end
        """
        namespace = _declare_namespace(self.outputs, name, dynamic, valid_type, None, help, False)
        namespace.required = required
        return namespace

    def exit_code(self, status: int, label: str, message: str, invalidates_cache: bool = False) -> None:
        """Declare an exit code reachable as ``self.exit_codes.<label>``."""
        self.exit_codes.add(ExitCode(status, message, label, invalidates_cache))

    def expose_inputs(self, process_class: type[Process], namespace: str | None = None,
                      exclude: Sequence[str] | None = None, include: Sequence[str] | None = None,
                      namespace_options: dict[str, Any] | None = None) -> None:
        """Copy the inputs of ``process_class`` into this spec (into ``namespace`` if given), AiiDA's rules
        (see :mod:`provgraph.engine.processes.expose`: dotted ``exclude``/``include``, ``namespace_options``).

        Without a namespace the other process's ``metadata`` is not exposed (this process has its own).
        Pass them on with ``self.exposed_inputs(process_class, namespace)``.
        """
        self._expose("inputs", process_class.spec().inputs, process_class, namespace, exclude, include,
                     namespace_options)

    def expose_outputs(self, process_class: type[Process], namespace: str | None = None,
                       exclude: Sequence[str] | None = None, include: Sequence[str] | None = None,
                       namespace_options: dict[str, Any] | None = None) -> None:
        """Copy the outputs of ``process_class`` into this spec; forward them with ``self.exposed_outputs``."""
        self._expose("outputs", process_class.spec().outputs, process_class, namespace, exclude, include,
                     namespace_options)

    def _expose(self, direction: str, source: PortNamespace, process_class: type, namespace: str | None,
                exclude: Sequence[str] | None, include: Sequence[str] | None,
                options: dict[str, Any] | None) -> None:
        root: PortNamespace = getattr(self, direction)
        if namespace:
            target = root.namespace(namespace)
            take_properties(target, source, options)
        else:
            target = root
            apply_options(target, options)
        names = absorb(target, source, exclude, include, skip=() if namespace else ("metadata",))
        self._exposed[(direction, namespace, process_class)] = names

    def exposed(self, direction: str, process_class: type, namespace: str | None) -> list[str]:
        """The port names exposed from ``process_class`` into ``namespace``.

        :raises ValidationError: when nothing was exposed from it there
        """
        key = (direction, namespace, process_class)
        if key not in self._exposed:
            raise ValidationError(f"no {direction} of {process_class.__name__} exposed in namespace {namespace!r}")
        return self._exposed[key]

    def exposed_levels(self, direction: str, process_class: type, namespace: str | None,
                       agglomerate: bool = True) -> list[tuple[str | None, list[str]]]:
        """The (namespace, exposed port names) of ``process_class`` to gather for ``namespace``.

        With ``agglomerate`` the parent namespaces count too, outermost first (as in AiiDA: ports of
        lower-lying namespaces take precedence when the caller merges them in this order).

        Levels where nothing was exposed from the class are left out (so the result may be empty, as in AiiDA).

        :raises ValidationError: when the namespace does not exist
        """
        levels: list[str | None] = [namespace]
        if agglomerate:
            parts = namespace.split(".") if namespace else []
            levels = [None] + [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
        if namespace and not isinstance(getattr(self, direction).get(namespace), PortNamespace):
            raise ValidationError(f"this process has no {direction} namespace {namespace!r}")
        found = [(level, self._exposed[(direction, level, process_class)]) for level in levels
                 if (direction, level, process_class) in self._exposed]
        return found

    def outline(self, *instructions: Any) -> None:
        """Declare the WorkChain outline: steps, ``if_``, ``while_`` and ``return_``."""
        if not instructions:
            raise ValidationError("an outline needs at least one step")
        self._outline = Block(_splice(instructions))

    def get_outline(self) -> Block | None:
        """The outline (None for processes without one)."""
        return self._outline

    def copy(self) -> ProcessSpec:
        """A copy that a subclass can extend without changing the parent class's spec."""
        other = ProcessSpec()
        other.inputs, other.outputs = self.inputs.copy(), self.outputs.copy()
        other.exit_codes = self.exit_codes.copy()
        other._outline, other._exposed = self._outline, dict(self._exposed)
        return other


def _declare_namespace(root: PortNamespace, name: str, dynamic: bool, valid_type: Any, validator: Any,
                       help: str | None, non_db: bool) -> PortNamespace:  # noqa: A002
    namespace = root.namespace(name)
    namespace.dynamic = dynamic or namespace.dynamic
    if valid_type is not None:
        namespace.valid_type = valid_type if isinstance(valid_type, tuple) else (valid_type,)
    namespace.validator = validator or namespace.validator
    namespace.help = help or namespace.help
    namespace.non_db = non_db or namespace.non_db
    return namespace
