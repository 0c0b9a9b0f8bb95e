"""Parser: turns the files a CalcJob retrieved into output nodes and an exit code.

A parser plugin (entry point group ``provgraph.parsers``) subclasses :class:`Parser` and
implements :meth:`Parser.parse`. It reads ``self.retrieved`` (the ``retrieved`` FolderData)
and, when the CalcJob asked for a temporary retrieve list, the local folder given as
``retrieved_temporary_folder``; it attaches outputs with ``self.out(label, node)`` (or returns
them as a dict) and returns an :class:`ExitCode` (None means success)::

    class AddParser(Parser):
        def parse(self, **kwargs):
            text = self.retrieved.get_object_content(self.option("output_filename"))
            self.out("sum", Int(int(text)))

The outputs are checked against the CalcJob's output ports when they are attached.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from provgraph.engine.processes.exit_code import ExitCode, ExitCodesNamespace
from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data

if TYPE_CHECKING:
    from provgraph.orm.nodes.data.files import FolderData
    from provgraph.orm.nodes.process.process import CalcJobNode

__all__ = ["Parser"]


class Parser:
    """The base of parser plugins (see the module docstring).

    :param node: the CalcJob's node (its options are attributes: ``node.base.attributes.get('output_filename')``)
    :param retrieved: the retrieved files (not stored yet while parsing)
    :param exit_codes: the CalcJob's exit codes
    """

    #: raise it when a change of the parser makes old results invalid caches (see CalcJob.CACHE_VERSION)
    CACHE_VERSION: ClassVar[int | None] = None

    def __init__(self, node: CalcJobNode, retrieved: FolderData, exit_codes: ExitCodesNamespace) -> None:
        self.node = node
        self.retrieved = retrieved
        self.exit_codes = exit_codes
        self._outputs: dict[str, Data] = {}

    @property
    def outputs(self) -> dict[str, Data]:
        """The outputs attached so far."""
        return dict(self._outputs)

    def out(self, label: str, node: Data) -> None:
        """Attach output ``node`` under ``label`` (a new Data node; checked against the CalcJob's outputs).

        :raises ValidationError: when ``node`` is not a Data node or the label is taken
        """
        if not isinstance(node, Data):
            raise ValidationError(f"parser output '{label}' must be a Data node, not {type(node).__name__}")
        if label in self._outputs:
            raise ValidationError(f"parser output '{label}' was already attached")
        self._outputs[label] = node

    def option(self, name: str, default: Any = None) -> Any:
        """The CalcJob's option ``name`` (e.g. ``output_filename``), or ``default``."""
        return self.node.base.attributes.get(name, default)

    def parse(self, **kwargs: Any) -> ExitCode | Mapping[str, Data] | tuple[Mapping[str, Data], ExitCode] | None:
        """Parse the retrieved files; attach outputs, return an exit code (None: success).

        :param kwargs: ``retrieved_temporary_folder`` (a :class:`pathlib.Path`) when the CalcJob
            retrieved temporary files
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement parse()")

    def run(self, retrieved_temporary_folder: Path | None = None) -> ExitCode:
        """Call :meth:`parse` and normalise what it returns: the outputs end in :attr:`outputs`.

        :raises ValidationError: when parse returns something else than outputs and/or an exit code
        """
        folder = retrieved_temporary_folder
        kwargs = {} if folder is None else {"retrieved_temporary_folder": folder}
        result = self.parse(**kwargs)
        code: Any = result
        if isinstance(result, tuple) and len(result) == 2:
            outputs, code = result
            self._add_all(outputs)
        elif isinstance(result, Mapping):
            self._add_all(result)
            code = None
        if code is None:
            return ExitCode(0)
        if isinstance(code, ExitCode):
            return code
        raise ValidationError(f"{type(self).__name__}.parse() returned {result!r}: return None, an ExitCode, "
                              "a dict of outputs or (outputs, ExitCode)")

    def _add_all(self, outputs: Mapping[str, Data]) -> None:
        for label, node in outputs.items():
            self.out(label, node)
