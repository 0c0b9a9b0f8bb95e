"""Importing a job that already ran outside provgraph (AiiDA 2.x's ``remote_folder`` input and ``CalcJobImporter``).

A CalcJob given a ``remote_folder`` input (a :class:`RemoteData` naming the folder where the job
ran) is not uploaded, submitted or polled: :func:`perform_import` calls its
``prepare_for_submission`` into a sandbox (recorded in the node's repository, with the submit
script, as for a real job), retrieves the retrieve list from the remote folder through the
folder's computer's transport, runs the parser and ends with its exit code. The node gets the
attribute ``imported`` = True (set when it is created) and a ``remote_folder`` output naming the same folder.

The inputs of such a job are the user's to give; an importer recovers them from the folder.
Importers are :class:`CalcJobImporter` subclasses registered in the entry-point group
``provgraph.calculations.importers`` under the name of their CalcJob (``CalcJob.get_importer()``
finds it)::

    importer = ArithmeticAddCalculation.get_importer()
    inputs = importer.parse_remote_data(remote, code=code)      # {'x': Int(..), 'y': Int(..), 'code': ...}
    node = run_get_node(ArithmeticAddCalculation, remote_folder=remote, **inputs).node
"""

from __future__ import annotations

import re
import tempfile
from abc import ABC, abstractmethod
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provgraph.common.folders import Folder
from provgraph.engine.processes.calcjobs import connections, lifecycle
from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo
from provgraph.exceptions import NotExistent, TransportError, ValidationError
from provgraph.orm.nodes.data.files import FolderData
from provgraph.orm.nodes.data.remote import RemoteData

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcjob import CalcJob
    from provgraph.engine.state import Outcome
    from provgraph.orm.nodes.node import Node

__all__ = ["IMPORTERS_GROUP", "ArithmeticAddCalculationImporter", "CalcJobImporter", "get_importer",
           "perform_import", "read_remote_file"]

#: the entry-point group of importers (AiiDA's ``aiida.calculations.importers``)
IMPORTERS_GROUP = "provgraph.calculations.importers"
#: the node attribute marking an imported job (AiiDA's ``CalcJobNode.IMMIGRATED_KEY``)
IMPORTED_KEY = "imported"


class CalcJobImporter(ABC):
    """Recovers the inputs of a CalcJob from the folder of a job that ran outside provgraph."""

    @staticmethod
    @abstractmethod
    def parse_remote_data(remote_data: RemoteData, **kwargs: Any) -> dict[str, Any]:
        """The CalcJob's inputs (nodes, or mappings of them for namespaces) read from ``remote_data``'s folder.

        :param kwargs: importer-specific options (e.g. the ``code`` to record)
        """


def get_importer(calcjob_class: type, entry_point_name: str | None = None) -> CalcJobImporter:
    """An instance of the importer ``entry_point_name`` (default: the CalcJob's own entry-point name).

    :raises NotExistent: when the CalcJob has no entry point or no importer is registered under the name
    """
    from provgraph.plugins import entry_point_name as name_of

    name = entry_point_name or name_of("calculations", calcjob_class)
    if name is None:
        raise NotExistent(f"{calcjob_class.__name__} has no entry point: name the importer to use")
    found = {ep.name: ep for ep in entry_points(group=IMPORTERS_GROUP)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise NotExistent(f"no CalcJob importer named {name!r} in {IMPORTERS_GROUP} (registered: {known})")
    importer = found[name].load()
    if not (isinstance(importer, type) and issubclass(importer, CalcJobImporter)):
        raise NotExistent(f"importer {name!r} is {importer!r}, not a CalcJobImporter subclass")
    return importer()


def _transport_of(remote: RemoteData, user: str) -> Any:
    if not remote.computer:
        raise ValidationError(f"remote_folder {remote!r} names no computer: the folder cannot be reached")
    try:
        computer = connections.computer(remote.computer)
    except NotExistent as exc:
        raise ValidationError(f"remote_folder: no computer labelled {remote.computer!r}") from exc
    return connections.open_transport(computer, user)


def read_remote_file(remote: RemoteData, relative: str, user: str | None = None) -> str:
    """The text of the file ``relative`` inside ``remote``'s folder (through its computer's transport).

    :raises NotExistent: when the file does not exist there
    """
    from provgraph.orm.nodes.node import default_user

    transport = _transport_of(remote, user or default_user())
    path = f"{remote.get_remote_path().rstrip('/')}/{relative}"
    if not transport.isfile(path):
        raise NotExistent(f"{remote.computer}:{path} does not exist")
    with tempfile.TemporaryDirectory(prefix="provgraph-import-") as folder:
        local = Path(folder, "file")
        transport.get(path, str(local))
        return local.read_text()


def perform_import(process: CalcJob) -> Outcome:
    """Record the job of ``process.inputs.remote_folder`` as if provgraph had run it (see the module docstring).

    :raises TransportError: when the folder cannot be read (the step is retried)
    :raises ValidationError: when the folder does not exist or the inputs cannot make a job
    """
    from provgraph.engine.processes.calcjobs.staging import stage_inputs

    remote: RemoteData = process.inputs.remote_folder
    workdir = remote.get_remote_path()
    transport = _transport_of(remote, process.node.user)
    if not transport.isdir(workdir):
        raise ValidationError(f"remote_folder: {remote.computer}:{workdir} is not a folder")
    with tempfile.TemporaryDirectory(prefix="provgraph-calcjob-") as sandbox:
        calc_info = process.prepare_for_submission(Folder(sandbox))
        if not isinstance(calc_info, CalcInfo):
            raise ValidationError(f"{process.label()}.prepare_for_submission returned {calc_info!r}, not a CalcInfo")
        calc_info.validate()
        script, _ = stage_inputs(process, calc_info, Path(sandbox), workdir)
    retrieve = calc_info.retrieve_list + [str(p) for p in process.option("additional_retrieve_list", [])]
    retrieve += [process.option(name) for name in ("scheduler_stdout", "scheduler_stderr")]
    retrieve = list(dict.fromkeys(item for item in retrieve if item))
    process._cp.update(stage="retrieve", workdir=workdir, script=script, retrieve_list=retrieve,
                       retrieve_temporary_list=calc_info.retrieve_temporary_list)
    process._updates.update(remote_workdir=workdir, retrieve_list=retrieve,
                            retrieve_temporary_list=calc_info.retrieve_temporary_list)
    process.out("remote_folder", RemoteData(remote_path=workdir, computer=remote.computer))
    return process.finish_with(_retrieve_and_parse(process, transport, workdir, retrieve,
                                                   list(calc_info.retrieve_temporary_list)))


def _retrieve_and_parse(process: CalcJob, transport: Any, workdir: str, retrieve: list[str],
                        temporary: list[str]) -> Any:
    """Fetch the files, attach ``retrieved``, run the parser (if any) and attach its outputs; its exit code."""
    from provgraph.plugins import ParserFactory

    with tempfile.TemporaryDirectory(prefix="provgraph-retrieve-") as folder:
        retrieved_dir, temporary_dir = Path(folder, "retrieved"), Path(folder, "temporary")
        retrieved_dir.mkdir()
        try:
            lifecycle.retrieve(transport, workdir, retrieve, retrieved_dir)
            if temporary:
                temporary_dir.mkdir()
                lifecycle.retrieve(transport, workdir, temporary, temporary_dir)
        except OSError as exc:
            raise TransportError(f"reading {workdir}: {exc}") from exc
        retrieved = FolderData(tree=retrieved_dir)
        process.out("retrieved", retrieved)
        parser_name = process.option("parser_name")
        if not parser_name:  # no parser and no scheduler record: the files are all there is
            return None
        parser = ParserFactory(parser_name)(process.node, retrieved, process.exit_codes)
        exit_code = parser.run(temporary_dir if temporary else None)
        for label, node in parser.outputs.items():
            process.out(label, node)
        return exit_code


class ArithmeticAddCalculationImporter(CalcJobImporter):
    """``x`` and ``y`` of a ``core.arithmetic.add`` job from its input script (``echo $((x + y))``)."""

    _PATTERN = re.compile(r"echo\s+\$\(\(\s*(-?\d+)\s*\+\s*(-?\d+)\s*\)\)")

    @staticmethod
    def parse_remote_data(remote_data: RemoteData, **kwargs: Any) -> dict[str, Node | Any]:
        """``{'x': Int, 'y': Int}`` (plus the given ``code``) from the input file ``input_filename`` (``aiida.in``).

        :raises ValidationError: when the input file does not hold ``echo $((x + y))``
        """
        from provgraph.orm.nodes.data.numeric import Int

        name = kwargs.get("input_filename", "aiida.in")
        text = read_remote_file(remote_data, name)
        match = ArithmeticAddCalculationImporter._PATTERN.search(text)
        if match is None:
            raise ValidationError(f"{name} in {remote_data.get_remote_path()} does not hold 'echo $((x + y))'")
        inputs: dict[str, Any] = {"x": Int(int(match.group(1))), "y": Int(int(match.group(2)))}
        if kwargs.get("code") is not None:
            inputs["code"] = kwargs["code"]
        return inputs
