"""CalcInfo and CodeInfo: what ``CalcJob.prepare_for_submission`` tells the engine to do.

A CalcJob writes its input files into a local sandbox folder and returns a :class:`CalcInfo`
saying which codes to run with which command line, which further files to copy in (from
nodes of the repository, from elsewhere on the computer, or as symbolic links there), and
which files to fetch back when the job ended. Both are plain dataclasses with a JSON round
trip (they travel in the CalcJob's checkpoint between steps run by different workers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

from provgraph.exceptions import ValidationError

__all__ = ["CalcInfo", "CodeInfo", "check_relative"]


def check_relative(path: str, what: str) -> str:
    """Return ``path`` if it is a relative POSIX path that stays inside the working directory.

    :raises ValidationError: naming ``what`` for an absolute path or one with ``..``
    """
    if not isinstance(path, str) or not path or PurePosixPath(path).is_absolute() or ".." in path.split("/"):
        raise ValidationError(f"{what} must be a relative path inside the working directory, not {path!r}")
    return path


@dataclass
class CodeInfo:
    """One run of an executable in the job.

    :param cmdline_params: arguments after the executable (the engine puts the code's executable first)
    :param code_uuid: uuid of the code node that runs (one of the CalcJob's code inputs)
    :param stdin_name: file (in the working directory) fed to standard input
    :param stdout_name: file standard output goes to
    :param stderr_name: file standard error goes to
    :param join_files: send standard error to the standard output file
    :param withmpi: run under the computer's mpirun command (None: the ``withmpi`` option decides)
    """

    cmdline_params: list[str] = field(default_factory=list)
    code_uuid: str | None = None
    stdin_name: str | None = None
    stdout_name: str | None = None
    stderr_name: str | None = None
    join_files: bool = False
    withmpi: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        data = asdict(self)
        data["cmdline_params"] = [str(param) for param in self.cmdline_params]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CodeInfo:
        """Undo :meth:`to_dict`."""
        return cls(**dict(data))


@dataclass
class CalcInfo:
    """What to do with the sandbox folder a CalcJob prepared (see the module docstring).

    :param codes_info: the executables to run, in order
    :param local_copy_list: ``(node uuid, path in the node's repository, relative target path)``:
        files (or whole folders with path ``""``/``.``) of stored nodes copied into the working directory
    :param remote_copy_list: ``(computer label, absolute source path, relative target path)`` copied on
        the computer itself (the computer must be the job's)
    :param remote_symlink_list: as ``remote_copy_list``, made as symbolic links instead of copies
    :param retrieve_list: relative paths or glob patterns fetched into the ``retrieved`` FolderData
    :param retrieve_temporary_list: as ``retrieve_list``, but only handed to the parser (not stored)
    :param provenance_exclude_list: sandbox files not kept in the CalcJob node's repository
    :param codes_run_mode: ``serial`` or ``parallel`` (each code in the background, then ``wait``)
    :param prepend_text: shell text before the code runs (after the computer's and the code's)
    :param append_text: shell text after the code runs
    """

    codes_info: list[CodeInfo] = field(default_factory=list)
    local_copy_list: list[tuple[str, str, str]] = field(default_factory=list)
    remote_copy_list: list[tuple[str, str, str]] = field(default_factory=list)
    remote_symlink_list: list[tuple[str, str, str]] = field(default_factory=list)
    retrieve_list: list[str] = field(default_factory=list)
    retrieve_temporary_list: list[str] = field(default_factory=list)
    provenance_exclude_list: list[str] = field(default_factory=list)
    codes_run_mode: str = "serial"
    prepend_text: str = ""
    append_text: str = ""

    def validate(self) -> CalcInfo:
        """Check the lists' shapes and paths; return self.

        :raises ValidationError: naming the offending entry
        """
        if not self.codes_info:
            raise ValidationError("a CalcInfo needs at least one CodeInfo in codes_info")
        if self.codes_run_mode not in ("serial", "parallel"):
            raise ValidationError(f"codes_run_mode must be 'serial' or 'parallel', not {self.codes_run_mode!r}")
        for name in ("local_copy_list", "remote_copy_list", "remote_symlink_list"):
            entries = getattr(self, name)
            for entry in entries:
                if not isinstance(entry, (list, tuple)) or len(entry) != 3:
                    raise ValidationError(f"{name} entries are triples, not {entry!r}")
            setattr(self, name, [tuple(str(part) for part in entry) for entry in entries])
        for _, source, target in self.remote_copy_list + self.remote_symlink_list:
            if not source.startswith("/"):
                raise ValidationError(f"remote copy sources must be absolute paths, not {source!r}")
            check_relative(target, "a remote copy target")
        for _, _, target in self.local_copy_list:
            if target not in ("", "."):
                check_relative(target, "a local copy target")
        for name in ("retrieve_list", "retrieve_temporary_list", "provenance_exclude_list"):
            values = [check_relative(str(item), name.replace("_", " ")) for item in getattr(self, name)]
            setattr(self, name, values)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        data = asdict(self)
        data["codes_info"] = [code.to_dict() for code in self.codes_info]
        for name in ("local_copy_list", "remote_copy_list", "remote_symlink_list"):
            data[name] = [list(entry) for entry in getattr(self, name)]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalcInfo:
        """Undo :meth:`to_dict`."""
        values = dict(data)
        values["codes_info"] = [CodeInfo.from_dict(code) for code in values.get("codes_info", [])]
        for name in ("local_copy_list", "remote_copy_list", "remote_symlink_list"):
            values[name] = [tuple(entry) for entry in values.get(name, [])]
        return cls(**values)

