"""Local folders as CalcJob plugins handle them (``aiida.common.folders`` translated).

``CalcJob.prepare_for_submission(folder)`` receives a :class:`Folder`: it speaks the API
AiiDA plugins use (``folder.open('aiida.in', 'w')``, ``get_abs_path``, ``get_subfolder``,
``create_file_from_filelike``, ``insert_path``, ``get_content_list``...) and, for code written
for provgraph, that of a :class:`pathlib.Path` (``folder / 'aiida.in'``, ``os.fspath(folder)``,
``folder.iterdir()``). No name given to a folder may leave it: absolute paths and ``..`` that
climb above the folder's limit raise :class:`ValueError`, as in AiiDA.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

__all__ = ["Folder", "SandboxFolder"]


class Folder:
    """A folder on the local disk, confined below ``folder_limit`` (by default itself).

    :param abspath: the folder's absolute path (it need not exist yet)
    :param folder_limit: the folder no path handed out by this object may leave
    """

    def __init__(self, abspath: str | os.PathLike, folder_limit: str | os.PathLike | None = None) -> None:
        path = Path(abspath)
        if not path.is_absolute():
            raise ValueError(f"a Folder needs an absolute path, not {str(path)!r}")
        self._path = Path(os.path.normpath(path))
        self._limit = Path(os.path.normpath(folder_limit)) if folder_limit is not None else self._path
        if not self._within_limit(self._path):
            raise ValueError(f"{self._path} is outside the folder limit {self._limit}")

    # -- the pathlib face ------------------------------------------------------------------------------

    def __fspath__(self) -> str:
        return str(self._path)

    def __truediv__(self, other: str | os.PathLike) -> Path:
        return Path(self.get_abs_path(os.fspath(other)))

    def __getattr__(self, name: str) -> Any:
        # everything else a Path offers (iterdir, glob, name, joinpath...) reads the same folder
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._path, name)

    def __str__(self) -> str:
        return str(self._path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._path)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Folder, Path, str)):
            return os.fspath(other) == str(self._path)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self._path))

    # -- AiiDA's Folder API ------------------------------------------------------------------------------

    @property
    def abspath(self) -> str:
        """The folder's absolute path."""
        return str(self._path)

    @property
    def folder_limit(self) -> str:
        """The folder no path of this object may leave."""
        return str(self._limit)

    def get_abs_path(self, relpath: str, check_existence: bool = False) -> str:
        """The absolute path of ``relpath`` inside this folder.

        :raises ValueError: for an absolute path or one leaving the folder limit
        :raises OSError: when ``check_existence`` and nothing is there
        """
        if not isinstance(relpath, str):
            raise ValueError(f"a path inside a folder is a string, not {type(relpath).__name__}")
        if os.path.isabs(relpath):
            raise ValueError(f"{relpath!r} is absolute: give a path relative to the folder")
        target = Path(os.path.normpath(self._path / relpath))
        if not self._within_limit(target):
            raise ValueError(f"{relpath!r} leaves the folder {self._limit}")
        if check_existence and not target.exists():
            raise OSError(f"{target} does not exist")
        return str(target)

    def open(self, path: str, mode: str = "r", check_existence: bool = False,
             encoding: str | None = "utf8") -> IO[Any]:
        """Open the file ``path`` of this folder (text mode in UTF-8 unless ``mode`` says binary)."""
        target = self.get_abs_path(path, check_existence=check_existence)
        if "b" in mode:
            encoding = None
        return open(target, mode, encoding=encoding)  # noqa: SIM115 - the caller closes it

    def get_subfolder(self, subfolder: str, create: bool = False, reset_limit: bool = False) -> Folder:
        """The Folder ``subfolder`` of this one, made if ``create``; its limit is this one's unless ``reset_limit``."""
        path = self.get_abs_path(subfolder)
        folder = Folder(path, folder_limit=path if reset_limit else self._limit)
        if create:
            folder.create()
        return folder

    def create(self) -> None:
        """Make the folder (and its parents) if missing."""
        self._path.mkdir(parents=True, exist_ok=True)

    def exists(self) -> bool:
        """True when the folder exists."""
        return self._path.exists()

    def isfile(self, relpath: str) -> bool:
        """True when ``relpath`` is a file of this folder."""
        return os.path.isfile(self.get_abs_path(relpath))

    def isdir(self, relpath: str) -> bool:
        """True when ``relpath`` is a folder inside this folder."""
        return os.path.isdir(self.get_abs_path(relpath))

    def get_content_list(self, pattern: str = "*", only_paths: bool = True) -> list[Any]:
        """The names of the entries matching ``pattern`` (with ``(name, is_file)`` pairs unless ``only_paths``)."""
        names = sorted(name for name in os.listdir(self._path) if fnmatch.fnmatch(name, pattern))
        if only_paths:
            return names
        return [(name, os.path.isfile(self._path / name)) for name in names]

    def create_file_from_filelike(self, filelike: IO[Any], filename: str, mode: str = "wb",
                                  encoding: str | None = None) -> str:
        """Copy the content of an open file into ``filename`` of this folder; return its absolute path."""
        target = self.get_abs_path(filename)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        with open(target, mode, encoding=None if "b" in mode else (encoding or "utf8")) as handle:
            shutil.copyfileobj(filelike, handle)
        return target

    def insert_path(self, src: str | os.PathLike, dest_name: str | None = None, overwrite: bool = True) -> str:
        """Copy the file or folder ``src`` into this folder (as ``dest_name``); return the new absolute path.

        :raises FileExistsError: when the destination exists and ``overwrite`` is False
        """
        source = Path(src)
        target = Path(self.get_abs_path(dest_name or source.name))
        if target.exists():
            if not overwrite:
                raise FileExistsError(f"{target} exists")
            shutil.rmtree(target) if target.is_dir() and not target.is_symlink() else target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
        return str(target)

    def remove_path(self, filename: str) -> None:
        """Remove the file or folder ``filename`` of this folder (nothing if missing)."""
        target = Path(self.get_abs_path(filename))
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()

    def erase(self, create_empty_folder: bool = False) -> None:
        """Remove the folder and everything in it (and make it again, empty, if asked)."""
        if self._path.exists():
            shutil.rmtree(self._path)
        if create_empty_folder:
            self.create()

    def _within_limit(self, path: Path) -> bool:
        return path == self._limit or self._limit in path.parents


class SandboxFolder(Folder):
    """A Folder in a new temporary directory, removed when the ``with`` block ends.

    :param filepath: the directory in which to make it (the system's temporary directory by default)
    """

    def __init__(self, filepath: str | os.PathLike | None = None) -> None:
        super().__init__(tempfile.mkdtemp(prefix="provgraph-sandbox-", dir=filepath))

    def __enter__(self) -> SandboxFolder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.erase()
