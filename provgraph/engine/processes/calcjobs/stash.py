"""Stash a CalcJob's files on its computer after the job, and unstash them for a follow-up job.

``metadata.options.stash`` (as AiiDA's) is a dict:

- ``source_list``: the paths or glob patterns (relative to the working directory) to stash;
- ``target_base``: the absolute folder on the computer the stashes go below;
- ``stash_mode``: a :class:`~provgraph.orm.nodes.data.remote_stash.StashMode` value: ``copy``
  (the files are copied into ``target_base/<uuid[:2]>/<uuid[2:4]>/<uuid[4:]>``) or ``tar``,
  ``tar.gz``, ``tar.bz2``, ``tar.xz`` (one archive ``<that path>.<mode>``);
- ``dereference`` (tar modes only, default False): pack the targets of symbolic links.

:func:`stash_job` runs once the scheduler says the job is done, before the files are
retrieved (the retrieve step calls it; a repeated step finds the ``remote_stash`` output and
does nothing). It attaches a ``RemoteStashFolderData`` (copy) or ``RemoteStashCompressedData``
(tar modes) as output ``remote_stash``. A missing source is reported and skipped, as AiiDA does;
a failing archive command fails the step (it is retried with backoff like any transport error).

:func:`unstash` restores a stash: into a new folder on the computer (``NewRemoteData``, the
default; the result is a new ``RemoteData`` a follow-up job takes as input) or back into the
working directory of the job that made it (``OriginalPlace``). It runs as the calcfunction
``unstash_stash`` so the graph records stash → unstash → RemoteData.
"""

from __future__ import annotations

import posixpath
import shlex
import uuid as uuid_module
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from provgraph.exceptions import TransportError, ValidationError
from provgraph.orm.nodes.data.remote_stash import (
    RemoteStashCompressedData,
    RemoteStashData,
    RemoteStashFolderData,
    StashMode,
)

if TYPE_CHECKING:
    from provgraph.engine.processes.calcjobs.calcjob import CalcJob
    from provgraph.orm.nodes.data.remote import RemoteData
    from provgraph.transports.base import Transport

__all__ = ["UNSTASH_TARGET_MODES", "stash_job", "unstash", "validate_stash_options"]

#: how :func:`unstash` places the files (AiiDA's ``UnstashTargetMode`` values)
UNSTASH_TARGET_MODES = ("NewRemoteData", "OriginalPlace")
_TAR_FLAGS = {StashMode.COMPRESS_TAR: "", StashMode.COMPRESS_TARGZ: "z", StashMode.COMPRESS_TARBZ2: "j",
              StashMode.COMPRESS_TARXZ: "J"}
_KEYS = {"source_list", "target_base", "stash_mode", "dereference"}


def validate_stash_options(value: Any, _: Any = None) -> str | None:
    """The problem with a ``metadata.options.stash`` value, or None when it is valid."""
    if not isinstance(value, Mapping):
        return f"stash must be a dict with source_list, target_base and stash_mode, not {value!r}"
    unknown = set(value) - _KEYS
    if unknown:
        return f"stash: unknown keys {sorted(unknown)} (allowed: {sorted(_KEYS)})"
    sources = value.get("source_list")
    if not isinstance(sources, (list, tuple)) or not sources or not all(isinstance(s, str) and s for s in sources):
        return f"stash.source_list must be a non-empty list of relative paths, not {sources!r}"
    if any(s.startswith("/") or ".." in s.split("/") for s in sources):
        return f"stash.source_list holds paths outside the working directory: {list(sources)!r}"
    target = value.get("target_base")
    if not isinstance(target, str) or not target.startswith("/"):
        return f"stash.target_base must be an absolute path, not {target!r}"
    modes = [mode.value for mode in StashMode]
    if value.get("stash_mode") not in modes:
        return f"stash.stash_mode must be one of {modes}, not {value.get('stash_mode')!r}"
    if not isinstance(value.get("dereference", False), bool):
        return f"stash.dereference must be a bool, not {value.get('dereference')!r}"
    if value.get("dereference") and value["stash_mode"] == StashMode.COPY.value:
        return "stash.dereference applies to the tar modes only"
    return None


def stash_job(process: CalcJob, transport: Transport) -> RemoteStashData | None:
    """Stash the files the ``stash`` option names and attach output ``remote_stash`` (see the module docstring).

    :raises TransportError: when the archive cannot be written or the stash folder made
    """
    options = process.option("stash")
    if not options or "remote_stash" in process._outputs:
        return None
    from provgraph.engine.processes.calcjobs.lifecycle import _matches

    workdir, uuid = process._cp["workdir"], process.node.uuid
    base = posixpath.join(options["target_base"], uuid[:2], uuid[2:4], uuid[4:])
    mode, sources = StashMode(options["stash_mode"]), list(options["source_list"])
    found: list[str] = []
    for pattern in sources:
        matched = _matches(transport, workdir, pattern)
        if not matched:
            process.report(f"stash: nothing matches {pattern!r} in {workdir}; skipped")
        found += matched
    label = process.computer.label
    if mode is StashMode.COPY:
        transport.makedirs(base, ignore_existing=True)
        for relative in found:
            destination = posixpath.join(base, relative)
            transport.makedirs(posixpath.dirname(destination), ignore_existing=True)
            if transport.path_exists(destination):
                transport.rmtree(destination) if transport.isdir(destination) else _remove(transport, destination)
            transport.copy(posixpath.join(workdir, relative), destination)
        node: RemoteStashData = RemoteStashFolderData(mode, base, sources, computer=label)
    else:
        archive = f"{base}.{mode.value}"
        transport.makedirs(posixpath.dirname(archive), ignore_existing=True)
        dereference = bool(options.get("dereference", False))
        flags = ("h" if dereference else "") + _TAR_FLAGS[mode]
        command = (f"tar -c{flags}f {shlex.quote(archive)} -C {shlex.quote(workdir)} -- "
                   + " ".join(shlex.quote(item) for item in found))
        if not found:  # an empty archive still records that nothing was there
            command = f"tar -c{flags}f {shlex.quote(archive)} -T /dev/null"
        code, _, stderr = transport.exec_command_wait(command)
        if code != 0:
            raise TransportError(f"stash: {command!r} failed (exit {code}): {stderr.strip()}")
        node = RemoteStashCompressedData(mode, archive, sources, dereference=dereference, computer=label)
    process.out("remote_stash", node)
    process.report(f"stashed {len(found)} path(s) to {node.target_basepath} ({mode.value})")
    return node


def _remove(transport: Transport, path: str) -> None:
    code, _, stderr = transport.exec_command_wait(f"rm -f -- {shlex.quote(path)}")
    if code != 0:
        raise TransportError(f"could not replace {path}: {stderr.strip()}")


def unstash(stash: RemoteStashData, target_mode: str = "NewRemoteData",
            source_list: Sequence[str] | None = None) -> RemoteData | None:
    """Restore the files of ``stash`` on its computer; return the new RemoteData (None for ``OriginalPlace``).

    :param target_mode: ``NewRemoteData`` (a new folder) or ``OriginalPlace`` (the stashing job's workdir)
    :param source_list: restore only these paths or patterns (default: all stashed files)
    :raises ValidationError: for an unknown mode, an unstored stash or one that is not a folder/archive stash
    :raises TransportError: when the files cannot be restored
    """
    from provgraph.orm import List, Str

    if target_mode not in UNSTASH_TARGET_MODES:
        raise ValidationError(f"unstash target_mode must be one of {UNSTASH_TARGET_MODES}, not {target_mode!r}")
    if not isinstance(stash, RemoteStashFolderData) or not stash.is_stored:
        raise ValidationError(f"unstash needs a stored RemoteStashFolderData or RemoteStashCompressedData, "
                              f"not {stash!r}")
    inputs: dict[str, Any] = {"source_node": stash, "unstash_target_mode": Str(target_mode)}
    if source_list is not None:
        inputs["source_list"] = List(list(source_list))
    return _unstash_function()(**inputs).get("remote_folder")


def _unstash_function() -> Any:
    from provgraph.engine import calcfunction

    @calcfunction
    def unstash_stash(source_node: RemoteStashData, unstash_target_mode: Any, source_list: Any = None) -> dict:
        """Restore a stash on its computer (see :func:`unstash`)."""
        return _restore(source_node, unstash_target_mode.value, source_list.get_list() if source_list else None)

    return unstash_stash


def _restore(stash: RemoteStashFolderData, target_mode: str, source_list: list[str] | None) -> dict:
    from provgraph.engine.processes.calcjobs.connections import open_transport
    from provgraph.engine.processes.calcjobs.lifecycle import _matches
    from provgraph.orm.computers import Computer
    from provgraph.orm.nodes.data.remote import RemoteData
    from provgraph.orm.nodes.node import default_user
    from provgraph.tools.computers import resolve_workdir

    computer = Computer.get(label=stash.computer)
    transport = open_transport(computer, default_user())
    if target_mode == "OriginalPlace":
        creator = stash.creator
        if creator is None or "remote_workdir" not in creator.base.attributes.all:
            raise ValidationError(f"stash {stash.pk} has no creating CalcJob with a working directory")
        target = creator.base.attributes.get("remote_workdir")
    else:
        fresh = uuid_module.uuid4().hex
        root = resolve_workdir(computer, transport.whoami()).rstrip("/")
        target = f"{root}/unstash/{fresh[:2]}/{fresh[2:4]}/{fresh[4:]}"
    transport.makedirs(target, ignore_existing=True)
    if isinstance(stash, RemoteStashCompressedData):
        members = " ".join(shlex.quote(item) for item in source_list or [])
        wildcards = "--wildcards " if any(c in members for c in "*?[") else ""
        command = f"tar -x{'h' if stash.dereference else ''}f {shlex.quote(stash.target_basepath)} " \
                  f"-C {shlex.quote(target)} {wildcards}{'-- ' + members if members else ''}"
        code, _, stderr = transport.exec_command_wait(command)
        if code != 0:
            raise TransportError(f"unstash: {command!r} failed (exit {code}): {stderr.strip()}")
    else:
        base = stash.target_basepath
        wanted = [item for pattern in source_list for item in _matches(transport, base, pattern)] \
            if source_list else transport.listdir(base)
        for relative in wanted:
            destination = posixpath.join(target, relative)
            transport.makedirs(posixpath.dirname(destination), ignore_existing=True)
            if transport.isdir(destination):  # cp -R would copy into it
                transport.rmtree(destination)
            transport.copy(posixpath.join(base, relative), destination)
    if target_mode == "OriginalPlace":
        return {}
    return {"remote_folder": RemoteData(remote_path=target, computer=computer.label)}
