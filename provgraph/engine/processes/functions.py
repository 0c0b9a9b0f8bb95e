"""``@calcfunction`` and ``@workfunction``: Python functions recorded as processes.

The decorated function's parameters become input ports (positional and keyword
arguments, defaults, ``**kwargs`` as dynamic inputs; a default of ``None`` makes the
input optional); plain Python values are wrapped into nodes. It returns a data node
(output ``result``), a (nested) mapping of them, an :class:`ExitCode`, or None.

- calcfunction: outputs are new data, linked CREATE; it may not call other processes.
- workfunction: outputs are existing data (stored, or created by a calculation it
  called), linked RETURN; it calls other processes, which run inline.

Calling the function runs it (``fn(...)``, ``fn.run(...)``, ``fn.run_get_node(...)``);
``submit(fn, ...)`` hands it to the workers like any process.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

from provgraph.common.json import dumps
from provgraph.common.links import LinkType
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.process import Process
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.processes.utils import flatten
from provgraph.engine.state import Outcome, ProcessState
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.process.process import CalcFunctionNode, ProcessNode, WorkFunctionNode


class ResultAndNode(NamedTuple):
    """What ``run_get_node`` returns: the outputs and the process node."""

    result: Any
    node: ProcessNode


class ResultAndPk(NamedTuple):
    """What ``run_get_pk`` returns: the outputs and the process node's pk."""

    result: Any
    pk: int


class FunctionProcess(Process):
    """A process whose single step is a call of ``_function``."""

    _function: ClassVar[Callable[..., Any]]
    _signature: ClassVar[inspect.Signature]

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs from the function's signature (annotations give types, ``:param x:`` help); outputs dynamic."""
        super().define(spec)
        types = annotated_types(cls._function)
        helps = docstring_help(cls._function.__doc__)
        for param in cls._signature.parameters.values():
            if param.name == "metadata":
                raise ValidationError(f"{cls.label()}: 'metadata' is reserved and cannot be a parameter name")
            valid_type = types.get(param.name, (Data,))
            if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                spec.inputs.dynamic, spec.inputs.valid_type = True, (Data,)
            elif param.default is param.empty:
                spec.input(param.name, valid_type=valid_type, help=helps.get(param.name))
            elif param.default is None:
                spec.input(param.name, valid_type=valid_type, required=False, help=helps.get(param.name))
            else:
                spec.input(param.name, valid_type=valid_type, default=param.default, help=helps.get(param.name))
        spec.outputs.dynamic, spec.outputs.valid_type = True, (Data,)

    @classmethod
    def inputs_from_call(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Map a call's arguments to input port values (``metadata=`` is taken apart).

        Extra positional arguments of a ``*args`` parameter become inputs ``<name>_0``, ``<name>_1``...

        :raises ValidationError: when the arguments do not fit the signature
        """
        kwargs = dict(kwargs)
        metadata = kwargs.pop("metadata", None)
        signature = cls._signature
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ValidationError(f"{cls.label()}(): {exc}") from exc
        inputs: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                inputs.update(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                for index, item in enumerate(value):
                    label = f"{name}_{index}"
                    if label in signature.parameters or label in kwargs:
                        raise ValidationError(f"{cls.label()}(): positional argument {label} clashes with an argument")
                    inputs[label] = item
            else:
                inputs[name] = value
        if metadata is not None:
            inputs["metadata"] = metadata
        return inputs

    @classmethod
    def create(cls, inputs: Mapping[str, Any] | None, work: Any, caller: Process | None = None) -> Process:
        """As :meth:`Process.create`, and record the function's name, namespace and first line on the node."""
        process = super().create(inputs, work, caller)
        function = cls._function
        attributes: dict[str, Any] = {"function_name": function.__name__,
                                      "function_namespace": function.__globals__.get("__name__")}
        try:
            lines, first = inspect.getsourcelines(function)
            attributes.update(function_starting_line_number=first, function_number_of_lines=len(lines))
        except (OSError, TypeError):
            pass
        process.node.base.attributes.set_many(attributes)
        return process

    def __init__(self, node: ProcessNode, inputs: Mapping[str, Any]) -> None:
        super().__init__(node, inputs)
        #: what the function returned (single node, mapping, exit code or None)
        self.result: Any = None

    def _run_step(self) -> Outcome:
        self._set_state(ProcessState.RUNNING)
        self._store_inputs()
        args, kwargs = self._call_arguments()
        self.result = self._function(*args, **kwargs)
        return self._finish(self._collect(self.result))

    def function_outputs(self) -> Any:
        """What a call returns: the single ``result`` node, else the outputs nested by namespace."""
        outputs = self.outputs
        if set(outputs) == {"result"} and isinstance(outputs["result"], Node):
            return outputs["result"]
        return outputs

    def _store_inputs(self) -> None:
        """Store the input data nodes now, so the body sees their pks (as in AiiDA); see ``UnitOfWork.store_early``."""
        if not self.stores_provenance:
            return
        self.require_work().store_early([value for value in flatten(self.inputs).values() if isinstance(value, Data)])

    def _call_arguments(self) -> tuple[list[Any], dict[str, Any]]:
        params = self._signature.parameters
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        taken: set[str] = set()
        positional = True
        for param in params.values():
            if param.kind is param.VAR_POSITIONAL:
                extra = sorted((key for key in self.inputs if _var_index(key, param.name) is not None),
                               key=lambda key: _var_index(key, param.name))
                args += [self.inputs[key] for key in extra]
                taken |= set(extra)
                positional = False
            elif param.kind is param.VAR_KEYWORD:
                kwargs.update({k: v for k, v in self.inputs.items()
                               if k not in params and k not in taken and k != "metadata"})
            elif param.kind is param.POSITIONAL_ONLY or (positional and _has_var_positional(params)
                                                           and param.kind is param.POSITIONAL_OR_KEYWORD):
                args.append(self.inputs.get(param.name, None if param.default is param.empty else param.default))
            elif param.name in self.inputs:
                kwargs[param.name] = self.inputs[param.name]
        return args, kwargs

    def _collect(self, result: Any) -> ExitCode | None:
        if result is None:
            return None
        if isinstance(result, ExitCode):
            return result
        if isinstance(result, Node):
            self.out("result", result)
        elif isinstance(result, Mapping):
            self.out_many(result)
        else:
            raise ValidationError(
                f"{self.label()} returned {type(result).__name__} {result!r:.80}: return a data node "
                "(e.g. Int(3)), a dict of data nodes, an ExitCode or None"
            )
        return None


def _has_var_positional(params: Mapping[str, inspect.Parameter]) -> bool:
    return any(param.kind is param.VAR_POSITIONAL for param in params.values())


def _var_index(key: str, name: str) -> int | None:
    prefix, _, index = key.rpartition("_")
    return int(index) if prefix == name and index.isdigit() else None


def annotated_types(function: Callable[..., Any]) -> dict[str, tuple[type, ...]]:
    """The data types each parameter's annotation allows, as AiiDA infers them.

    A data class counts as itself, ``bool``/``int``/``float``/``str``/``dict``/``list`` as
    ``Bool``/``Int``/``Float``/``Str``/``Dict``/``List``; unions (``Int | Float``, ``Optional[Int]``)
    give each member that maps. Annotations that map to nothing leave the parameter taking any
    data; annotations that cannot be resolved are ignored.
    """
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - an unresolvable annotation must not break the decorator
        hints = {}
    found: dict[str, tuple[type, ...]] = {}
    for name, hint in hints.items():
        members = typing.get_args(hint) if _is_union(hint) else (hint,)
        data_types = tuple(dict.fromkeys(t for t in map(_data_type, members) if t is not None))
        if data_types and name != "return":
            found[name] = data_types
    return found


def _data_type(annotation: Any) -> type | None:
    """The data class an annotation stands for, or None."""
    if isinstance(annotation, type) and issubclass(annotation, Data):
        return annotation
    from provgraph.orm.nodes.data.bool_ import Bool
    from provgraph.orm.nodes.data.containers import Dict, List
    from provgraph.orm.nodes.data.numeric import Float, Int
    from provgraph.orm.nodes.data.str_ import Str

    builtin = {bool: Bool, int: Int, float: Float, str: Str, dict: Dict, list: List,
               typing.Dict: Dict, typing.List: List}  # noqa: UP006 - the pre-PEP-585 spellings map too
    try:
        return builtin.get(annotation)
    except TypeError:  # an unhashable annotation
        return None


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def docstring_help(doc: str | None) -> dict[str, str]:
    """The ``:param name: text`` lines of a docstring (continuation lines kept on new lines, as AiiDA does)."""
    helps: dict[str, str] = {}
    current: str | None = None
    for line in inspect.cleandoc(doc or "").splitlines():
        match = re.match(r"\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)", line)
        if match:
            current = match.group(1)
            helps[current] = match.group(2).strip()
        elif current and line.strip() and not line.lstrip().startswith(":"):
            helps[current] = f"{helps[current]}\n{line.strip()}".strip()
        else:
            current = None
    return helps


class CalcFunctionProcess(FunctionProcess):
    """The process of a ``@calcfunction``: creates its outputs; may be served from the cache.

    Its hash covers the inputs' hashes, the function's name, module, source lines and source
    digest (``function_source_sha256``) and ``CACHE_VERSION`` (``fn.process_class.CACHE_VERSION = 2``
    makes earlier runs miss). With caching on for its process type (see :mod:`provgraph.manage.caching`)
    a finished, valid node with the same hash makes the call skip the body: the outputs are cloned.
    """

    _node_class = CalcFunctionNode
    _unstored_allowed = True
    _input_link = LinkType.INPUT_CALC
    _output_link = LinkType.CREATE
    _call_link = LinkType.CALL_CALC
    #: raise it when a change of the function makes old results invalid caches (recorded as ``cache_version``)
    CACHE_VERSION: ClassVar[int | None] = None

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """As :meth:`FunctionProcess.define`, with ``metadata.disable_cache``."""
        super().define(spec)
        spec.input("metadata.disable_cache", valid_type=bool, default=False, non_db=True,
                   help="run the function even when caching is on and a cached result exists")

    @classmethod
    def create(cls, inputs: Mapping[str, Any] | None, work: Any, caller: Process | None = None) -> Process:
        """As :meth:`FunctionProcess.create`, and record the source digest and cache version (part of the hash)."""
        process = super().create(inputs, work, caller)
        try:
            source = inspect.getsource(cls._function)
        except (OSError, TypeError):
            source = None
        if source is not None:
            digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
            process.node.base.attributes.set("function_source_sha256", digest)
        if cls.CACHE_VERSION is not None:
            process.node.base.attributes.set("cache_version", {"calc_function": cls.CACHE_VERSION})
        return process

    def _run_step(self) -> Outcome:
        self._set_state(ProcessState.RUNNING)
        self._store_inputs()
        if self.stores_provenance:
            source = self._cache_source(self._store_hash())
            if source is not None:
                from provgraph.engine.processes.calcjobs.caching import clone_outputs_from

                clone_outputs_from(self, source)
                status = source.exit_status or 0
                return self._finish(ExitCode(status, source.exit_message or "") if status else None)
        return super()._run_step()

    def _store_hash(self) -> str:
        """Compute the node's hash from its inputs' hashes and keep it on the node (stored with it)."""
        caching = self.node.base.caching
        if self.node.is_stored:  # a submitted function: its input links are stored
            return caching.rehash()
        objects = caching.get_objects_to_hash()
        objects["inputs"] = {label: source.base.caching.compute_hash()
                             for source, target, link_type, label in self.require_work().links
                             if target is self.node and link_type is self._input_link}
        value = hashlib.sha256(dumps(objects).encode("utf-8")).hexdigest()
        self.node._record.hash = value
        return value

    def _cache_source(self, value: str) -> Any:
        """The finished, valid node with hash ``value`` to clone, or None (caching off or no match)."""
        caching = self.node.base.caching
        if self.inputs.get("metadata", {}).get("disable_cache") or not caching.should_use_cache():
            return None
        return caching.get_same_node(value)

    def _attach(self, label: str, value: Data) -> None:
        work = self.require_work()
        if value.is_stored or value.uuid in work.created:
            raise ValidationError(
                f"calcfunction {self.label()} returned existing data for output '{label}' ({value!r}): a "
                "calculation creates new data; return a new node, or use a workfunction to return existing data"
            )
        work.link(self.node, value, LinkType.CREATE, label)


class WorkFunctionProcess(FunctionProcess):
    """The process of a ``@workfunction``: calls other processes and returns existing data."""

    _node_class = WorkFunctionNode


class ProcessFunction:
    """A decorated function: call it to run it; ``process_class`` is its process."""

    #: AiiDA's marker of decorated functions
    is_process_function = True

    def __init__(self, function: Callable[..., Any], base: type[FunctionProcess]) -> None:
        functools.update_wrapper(self, function)
        self.node_class = base._node_class
        self.process_class: type[FunctionProcess] = type(function.__name__, (base,), {
            "_function": staticmethod(function), "_signature": inspect.signature(function),
            "__module__": function.__module__,
            "__qualname__": function.__qualname__, "__doc__": function.__doc__,
        })

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function as a process; return its outputs (see :meth:`run_get_node`)."""
        return self.run_get_node(*args, **kwargs)[0]

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Same as calling the function."""
        return self.run_get_node(*args, **kwargs)[0]

    def run_get_node(self, *args: Any, **kwargs: Any) -> ResultAndNode:
        """Run the function as a process; return its outputs and its process node.

        The outputs are, as in AiiDA, the single node when the function returned one (output
        ``result``), else the outputs nested by namespace (``{'a.b': x}`` gives ``out['a']['b']``).

        :raises ValidationError: when an argument does not fit (nothing is stored)
        :raises Exception: whatever the function raised (the node is stored as excepted first)
        """
        from provgraph.engine.launch import run_inline

        process = run_inline(self.process_class, self.process_class.inputs_from_call(args, kwargs))
        return ResultAndNode(process.function_outputs(), process.node)

    def run_get_pk(self, *args: Any, **kwargs: Any) -> ResultAndPk:
        """As :meth:`run_get_node`, with the node's pk instead of the node."""
        result, node = self.run_get_node(*args, **kwargs)
        return ResultAndPk(result, node.pk)

    def get_builder(self) -> Any:
        """A builder for the function's inputs."""
        return self.process_class.get_builder()

    def spec(self) -> ProcessSpec:
        """The spec derived from the signature."""
        return self.process_class.spec()


def calcfunction(function: Callable[..., Any]) -> ProcessFunction:
    """Record each call of ``function`` as a CalcFunctionNode creating its outputs."""
    return ProcessFunction(function, CalcFunctionProcess)


def workfunction(function: Callable[..., Any]) -> ProcessFunction:
    """Record each call of ``function`` as a WorkFunctionNode returning existing data."""
    return ProcessFunction(function, WorkFunctionProcess)
