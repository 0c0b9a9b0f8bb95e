"""Dry runs of CalcJobs: prepare the input folder locally, store nothing, submit nothing.

``run(MyCalc, ..., metadata={"dry_run": True})`` validates the inputs as usual, calls
``prepare_for_submission`` into a new folder ``submit_test/<YYYYMMDD>-<NNNNN>`` of the current
directory (AiiDA's layout), writes the submit script there and copies the files of
``local_copy_list`` and of portable codes into it. No node, link or repository object is
stored and no transport is opened: the computer is only read. The returned node is the
*unstored* CalcJobNode, finished with status 0, whose ``dry_run_info`` (also an attribute)
gives ``{"folder": ..., "script_filename": ...}``. ``submit()`` of a dry run runs it the same
way (as AiiDA does, so a test needs no other launcher); inside another process a dry run is
refused.

``metadata.store_provenance=False`` is accepted together with ``dry_run``; without it a
CalcJob is refused, because a job's lifecycle needs its stored node (AiiDA fails such a job
with "calculation node is not stored" once it runs; provgraph says so before anything runs).
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provgraph.common.folders import Folder
from provgraph.exceptions import ValidationError

__all__ = ["BASE_FOLDER", "DryRunAllowance", "check_metadata", "is_dry_run", "perform_dry_run"]

#: the folder (in the current directory) that receives the dry runs' folders
BASE_FOLDER = "submit_test"
_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar("provgraph_dry_run_allowed", default=False)


class DryRunAllowance:
    """``CalcJob._unstored_allowed``: true only while :func:`perform_dry_run` creates the process."""

    def __get__(self, instance: Any, owner: type) -> bool:
        return _ALLOWED.get()


def is_dry_run(process_class: type, inputs: Mapping[str, Any]) -> bool:
    """Whether ``inputs`` ask a CalcJob class for a dry run."""
    from provgraph.engine.processes.calcjobs.calcjob import CalcJob

    metadata = inputs.get("metadata") or {}
    return issubclass(process_class, CalcJob) and isinstance(metadata, Mapping) and metadata.get("dry_run") is True


def check_metadata(metadata: Mapping[str, Any], label: str) -> None:
    """Refuse ``dry_run`` outside :func:`perform_dry_run` and ``store_provenance=False`` without a dry run.

    :raises ValidationError: naming the problem (nothing is stored)
    """
    if metadata.get("dry_run") and not _ALLOWED.get():
        raise ValidationError(f"{label}: a dry run cannot be launched from inside another process "
                              "(run it at the top level with run() or submit())")
    if metadata.get("store_provenance") is False and not metadata.get("dry_run"):
        raise ValidationError(f"{label}: store_provenance=False needs dry_run=True: a CalcJob runs as a stored "
                              "process")


def _new_folder(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    day = datetime.datetime.now().strftime("%Y%m%d")
    counter = 0
    while True:
        counter += 1
        folder = base / f"{day}-{counter:05d}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue


def perform_dry_run(process_class: type, inputs: Mapping[str, Any]) -> tuple[dict, Any]:
    """Do the dry run of a CalcJob (see the module docstring); return ``({}, unstored node)``.

    :raises ValidationError: when the inputs do not fit, or when called inside another process
    """
    from provgraph.engine.processes.calcjobs.calcinfo import CalcInfo
    from provgraph.engine.processes.calcjobs.staging import stage_inputs
    from provgraph.engine.unit import UnitOfWork, current_frame

    if current_frame() is not None:
        raise ValidationError(f"{process_class.__name__}: a dry run cannot be launched from inside another process")
    token = _ALLOWED.set(True)
    try:
        process = process_class.create(inputs, UnitOfWork())  # the unit of work is dropped: nothing is stored
    finally:
        _ALLOWED.reset(token)
    folder = _new_folder(Path.cwd() / BASE_FOLDER)
    calc_info = process.prepare_for_submission(Folder(folder.resolve()))
    if not isinstance(calc_info, CalcInfo):
        raise ValidationError(f"{process.label()}.prepare_for_submission returned {calc_info!r}, not a CalcInfo")
    calc_info.validate()
    script, executables = stage_inputs(process, calc_info, folder, str(folder), record=False)
    for executable in executables:
        (folder / executable).chmod(0o755)
    info = {"folder": str(folder), "script_filename": script}
    node = process.node
    node.base.attributes.set_many({"dry_run_info": info, "process_state": "finished", "exit_status": 0})
    node.dry_run_info = info
    return {}, node
