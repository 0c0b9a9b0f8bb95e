"""Codes: the executables CalcJobs run, installed on a computer or carried in the repository."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data


class AbstractCode(Data):
    """An executable with a default calculation plugin and text to run before/after it."""

    _node_type = "data.core.code"

    def __init__(self, default_calc_job_plugin: str | None = None, prepend_text: str = "", append_text: str = "",
                 use_double_quotes: bool = False, with_mpi: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base.attributes.set_many({
            "input_plugin": default_calc_job_plugin, "prepend_text": prepend_text, "append_text": append_text,
            "use_double_quotes": use_double_quotes, "with_mpi": with_mpi,
        })

    @property
    def default_calc_job_plugin(self) -> str | None:
        """Entry point of the CalcJob this code runs by default."""
        return self.base.attributes.get("input_plugin", None)

    @property
    def prepend_text(self) -> str:
        """Shell text run before the executable."""
        return self.base.attributes.get("prepend_text", "")

    @property
    def append_text(self) -> str:
        """Shell text run after the executable."""
        return self.base.attributes.get("append_text", "")

    @property
    def full_label(self) -> str:
        """``label@computer`` for installed codes, ``label`` otherwise."""
        return self.label

    def get_builder(self) -> Any:
        """A builder of the code's default CalcJob with ``code`` already set (AiiDA's ``Code.get_builder``).

        :raises ValidationError: when the code names no default calculation plugin
        :raises NotExistent: when that plugin is not installed
        """
        from provgraph.plugins import load_plugin

        plugin = self.default_calc_job_plugin
        if not plugin:
            raise ValidationError(f"{self!r} has no default_calc_job_plugin: use the CalcJob's own get_builder()")
        builder = load_plugin("calculations", plugin).get_builder()
        builder.code = self
        return builder


class InstalledCode(AbstractCode):
    """An executable already installed at ``filepath_executable`` on ``computer``."""

    _node_type = "data.core.code.installed"

    def __init__(self, computer: Any = None, filepath_executable: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if computer is not None:
            label = getattr(computer, "label", computer)
            if not isinstance(label, str) or not label:
                raise ValidationError(f"computer must be a Computer or its label, not {computer!r}")
            self._record.computer = label
        if filepath_executable is not None:
            if not PurePosixPath(filepath_executable).is_absolute():
                raise ValidationError(f"filepath_executable must be absolute, not {filepath_executable!r}")
            self.base.attributes.set("filepath_executable", str(filepath_executable))

    @property
    def computer(self) -> str | None:
        """Label of the computer the code is installed on."""
        return self._record.computer

    @property
    def filepath_executable(self) -> str:
        """Absolute path of the executable on the computer."""
        return self.base.attributes.get("filepath_executable")

    @property
    def full_label(self) -> str:
        return f"{self.label}@{self.computer}"

    def _validate(self) -> None:
        if not self.computer or "filepath_executable" not in self.base.attributes:
            raise ValidationError("InstalledCode needs a computer and filepath_executable before it is stored")


class PortableCode(AbstractCode):
    """An executable carried in the repository with its files, copied to the computer on each run."""

    _node_type = "data.core.code.portable"

    def __init__(self, filepath_executable: str | None = None, filepath_files: str | Path | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if filepath_files is not None:
            self.base.repository.put_object_from_tree(filepath_files)
        if filepath_executable is not None:
            if PurePosixPath(filepath_executable).is_absolute():
                raise ValidationError(f"filepath_executable must be relative to the files, not {filepath_executable!r}")
            self.base.attributes.set("filepath_executable", str(filepath_executable))

    @property
    def filepath_executable(self) -> str:
        """Path of the executable relative to the code's files."""
        return self.base.attributes.get("filepath_executable")

    def _validate(self) -> None:
        if "filepath_executable" not in self.base.attributes:
            raise ValidationError("PortableCode needs filepath_executable before it is stored")
        if self.filepath_executable not in self.base.repository.walk_files():
            raise ValidationError(f"PortableCode's executable {self.filepath_executable!r} is not among its files")
