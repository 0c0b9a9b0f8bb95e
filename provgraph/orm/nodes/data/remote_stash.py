"""RemoteStashData and RemoteStashFolderData: files a CalcJob stashed on its computer.

As AiiDA's ``core.remote.stash`` / ``core.remote.stash.folder``: a stash records how it was made
(attribute ``stash_mode``, a :class:`StashMode` value) and, for a folder stash, the folder it
went to (``target_basepath``) and the paths copied there (``source_list``). The computer is the
node's ``computer``, as for RemoteData.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from provgraph.exceptions import ValidationError
from provgraph.orm.nodes.data.data import Data

__all__ = ["RemoteStashCompressedData", "RemoteStashData", "RemoteStashFolderData", "StashMode"]


class StashMode(Enum):
    """How files are stashed (AiiDA's ``common.datastructures.StashMode``)."""

    COPY = "copy"
    COMPRESS_TAR = "tar"
    COMPRESS_TARBZ2 = "tar.bz2"
    COMPRESS_TARGZ = "tar.gz"
    COMPRESS_TARXZ = "tar.xz"


class RemoteStashData(Data):
    """The base of stashes (see the module docstring).

    :param stash_mode: how the files were stashed
    :param computer: the Computer (or its label) holding the stash
    """

    _node_type = "data.core.remote.stash"

    def __init__(self, stash_mode: StashMode, computer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stash_mode = stash_mode
        if computer is not None:
            self.computer = computer

    @property
    def stash_mode(self) -> StashMode:
        """How the files were stashed."""
        return StashMode(self.base.attributes.get("stash_mode"))

    @stash_mode.setter
    def stash_mode(self, value: StashMode) -> None:
        if not isinstance(value, StashMode):
            raise ValidationError(f"stash_mode must be a StashMode, not {value!r}")
        self.base.attributes.set("stash_mode", value.value)

    @property
    def computer(self) -> str | None:
        """Label of the computer holding the stash."""
        return self._record.computer

    @computer.setter
    def computer(self, value: Any) -> None:
        self._check_mutable("computer")
        label = getattr(value, "label", value)
        if not isinstance(label, str) or not label:
            raise ValidationError(f"computer must be a Computer or its label, not {value!r}")
        self._record.computer = label


class RemoteStashFolderData(RemoteStashData):
    """Files copied into the folder ``target_basepath`` on the computer.

    :param target_basepath: the absolute path of the stash folder
    :param source_list: the paths (relative to the job's working directory) that were stashed
    """

    _node_type = "data.core.remote.stash.folder"

    def __init__(self, stash_mode: StashMode, target_basepath: str, source_list: Sequence[str],
                 computer: Any = None, **kwargs: Any) -> None:
        super().__init__(stash_mode, computer, **kwargs)
        self.target_basepath = target_basepath
        self.source_list = source_list

    @property
    def target_basepath(self) -> str:
        """The absolute path of the stash folder."""
        return self.base.attributes.get("target_basepath")

    @target_basepath.setter
    def target_basepath(self, value: str) -> None:
        if not isinstance(value, str) or not value.startswith("/"):
            raise ValidationError(f"target_basepath must be an absolute path, not {value!r}")
        self.base.attributes.set("target_basepath", value)

    @property
    def source_list(self) -> list[str]:
        """The stashed paths."""
        return self.base.attributes.get("source_list")

    @source_list.setter
    def source_list(self, value: Sequence[str]) -> None:
        if isinstance(value, str) or not all(isinstance(item, str) for item in value):
            raise ValidationError(f"source_list must be a list of strings, not {value!r}")
        self.base.attributes.set("source_list", list(value))


class RemoteStashCompressedData(RemoteStashFolderData):
    """Files packed into one tar archive (``target_basepath`` is the archive's path) on the computer.

    :param dereference: whether symbolic links were followed (their targets packed) when archiving
    """

    _node_type = "data.core.remote.stash.compress"

    def __init__(self, stash_mode: StashMode, target_basepath: str, source_list: Sequence[str],
                 dereference: bool = False, computer: Any = None, **kwargs: Any) -> None:
        if stash_mode is StashMode.COPY:
            raise ValidationError("a compressed stash needs a tar stash_mode, not 'copy'")
        super().__init__(stash_mode, target_basepath, source_list, computer, **kwargs)
        self.dereference = dereference

    @property
    def dereference(self) -> bool:
        """Whether symbolic links were followed when archiving."""
        return bool(self.base.attributes.get("dereference", False))

    @dereference.setter
    def dereference(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValidationError(f"dereference must be a bool, not {value!r}")
        self.base.attributes.set("dereference", value)
