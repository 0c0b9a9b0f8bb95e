"""RemoteData: a folder on a computer (e.g. a CalcJob's working directory)."""

from __future__ import annotations

from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data


class RemoteData(Data):
    """A reference to ``remote_path`` on the computer labelled ``computer``."""

    _node_type = "data.core.remote"

    def __init__(self, remote_path: str | None = None, computer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if remote_path is not None:
            self.set_remote_path(remote_path)
        if computer is not None:
            self.computer = computer

    def set_remote_path(self, path: str) -> None:
        """Set the absolute path of the folder on the computer."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValidationError(f"remote_path must be an absolute path, not {path!r}")
        self.base.attributes.set("remote_path", path)

    def get_remote_path(self) -> str:
        """The absolute path of the folder on the computer."""
        return self.base.attributes.get("remote_path")

    @property
    def computer(self) -> str | None:
        """Label of the computer holding the folder."""
        return self._record.computer

    @computer.setter
    def computer(self, value: Any) -> None:
        self._check_mutable("computer")
        label = getattr(value, "label", value)
        if not isinstance(label, str) or not label:
            raise ValidationError(f"computer must be a Computer or its label, not {value!r}")
        self._record.computer = label

    def _validate(self) -> None:
        if "remote_path" not in self.base.attributes or not self.computer:
            raise ValidationError("RemoteData needs a remote_path and a computer before it is stored")
