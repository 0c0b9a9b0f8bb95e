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
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from provgraph.common.links import LinkType
from provgraph.engine.processes.exit_code import ExitCode
from provgraph.engine.processes.process import Process
from provgraph.engine.processes.spec import ProcessSpec
from provgraph.engine.state import Outcome, ProcessState
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data
from provgraph.orm.nodes.node import Node
from provgraph.orm.nodes.process.process import CalcFunctionNode, ProcessNode, WorkFunctionNode


class FunctionProcess(Process):
    """A process whose single step is a call of ``_function``."""

    _function: ClassVar[Callable[..., Any]]
    _signature: ClassVar[inspect.Signature]

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Inputs from the function's signature; outputs dynamic (any data)."""
        super().define(spec)
        for param in cls._signature.parameters.values():
            if param.kind is param.VAR_POSITIONAL:
                raise ValidationError(f"{cls.label()}: *{param.name} is not supported, use **kwargs")
            if param.name == "metadata":
                raise ValidationError(f"{cls.label()}: 'metadata' is reserved and cannot be a parameter name")
            if param.kind is param.VAR_KEYWORD:
                spec.inputs.dynamic, spec.inputs.valid_type = True, (Data,)
            elif param.default is param.empty:
                spec.input(param.name, valid_type=Data)
            elif param.default is None:
                spec.input(param.name, valid_type=Data, required=False)
            else:
                spec.input(param.name, valid_type=Data, default=param.default)
        spec.outputs.dynamic, spec.outputs.valid_type = True, (Data,)

    @classmethod
    def inputs_from_call(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Map a call's arguments to input port values (``metadata=`` is taken apart).

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
            if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                inputs.update(value)
            else:
                inputs[name] = value
        if metadata is not None:
            inputs["metadata"] = metadata
        return inputs

    def __init__(self, node: ProcessNode, inputs: Mapping[str, Any]) -> None:
        super().__init__(node, inputs)
        #: what the function returned (single node, mapping, exit code or None)
        self.result: Any = None

    def _run_step(self) -> Outcome:
        self._set_state(ProcessState.RUNNING)
        args, kwargs = self._call_arguments()
        self.result = self._function(*args, **kwargs)
        return self._finish(self._collect(self.result))

    def _call_arguments(self) -> tuple[list[Any], dict[str, Any]]:
        params = self._signature.parameters
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param in params.values():
            if param.kind is param.POSITIONAL_ONLY:
                args.append(self.inputs.get(param.name, param.default))
            elif param.kind is param.VAR_KEYWORD:
                kwargs.update({k: v for k, v in self.inputs.items() if k not in params and k != "metadata"})
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


class CalcFunctionProcess(FunctionProcess):
    """The process of a ``@calcfunction``: creates its outputs."""

    _node_class = CalcFunctionNode
    _input_link = LinkType.INPUT_CALC
    _output_link = LinkType.CREATE
    _call_link = LinkType.CALL_CALC

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

    def __init__(self, function: Callable[..., Any], base: type[FunctionProcess]) -> None:
        functools.update_wrapper(self, function)
        self.process_class: type[FunctionProcess] = type(function.__name__, (base,), {
            "_function": staticmethod(function), "_signature": inspect.signature(function),
            "__module__": function.__module__,
            "__qualname__": function.__qualname__, "__doc__": function.__doc__,
        })

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function as a process; return what it returned (its output nodes)."""
        return self.run_get_node(*args, **kwargs)[0]

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Same as calling the function."""
        return self.run_get_node(*args, **kwargs)[0]

    def run_get_node(self, *args: Any, **kwargs: Any) -> tuple[Any, ProcessNode]:
        """Run the function as a process; return what it returned and its process node.

        :raises ValidationError: when an argument does not fit (nothing is stored)
        :raises Exception: whatever the function raised (the node is stored as excepted first)
        """
        from provgraph.engine.launch import run_inline

        process = run_inline(self.process_class, self.process_class.inputs_from_call(args, kwargs))
        return process.result, process.node

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
