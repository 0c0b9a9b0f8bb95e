"""``core.local``: the computer this process runs on, through :mod:`subprocess` and :mod:`shutil`."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from provgraph.exceptions import TransportError
from provgraph.transports.base import Transport

__all__ = ["LocalTransport"]

_T = TypeVar("_T")


@contextmanager
def _translate(action: str) -> Iterator[None]:
    """Turn an :class:`OSError` (or :class:`shutil.Error`) raised inside into a TransportError."""
    try:
        yield
    except (OSError, shutil.Error) as exc:
        raise TransportError(f"{action} failed: {exc}") from exc


class LocalTransport(Transport):
    """Files and commands on this machine; commands run in ``bash`` like a login shell over ssh would."""

    def __init__(self, *, environment: Mapping[str, str] | None = None, shell: str = "/bin/bash",
                 safe_open_interval: float | None = None) -> None:
        """Create a (closed) local transport.

        :param environment: variables added to this process's environment for every command
        :param shell: the shell that runs commands
        :param safe_open_interval: see :class:`Transport`; 0 by default (opening costs nothing)
        """
        super().__init__(safe_open_interval=safe_open_interval)
        self._environment = dict(environment or {})
        self._shell = shell
        self._open = False

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` was called and :meth:`close` was not."""
        return self._open

    def open(self) -> None:
        """Mark the transport open (there is nothing to connect to)."""
        self._open = True

    def close(self) -> None:
        """Mark the transport closed."""
        self._open = False

    def _checked(self, action: str, call: Callable[[], _T]) -> _T:
        if not self._open:
            raise TransportError(f"{action}: the transport is not open")
        with _translate(action):
            return call()

    def put(self, localpath: str, remotepath: str) -> None:
        """Copy the file ``localpath`` to ``remotepath``; see :meth:`Transport.put`."""
        self._copy_file("put", localpath, remotepath)

    def get(self, remotepath: str, localpath: str) -> None:
        """Copy the file ``remotepath`` to ``localpath``; see :meth:`Transport.get`."""
        self._copy_file("get", remotepath, localpath)

    def _copy_file(self, verb: str, source: str, target: str) -> None:
        def run() -> None:
            if not os.path.isfile(source):
                raise TransportError(f"{verb} {source!r}: not a file")
            shutil.copyfile(source, target)
        self._checked(f"{verb} {source!r} -> {target!r}", run)

    def puttree(self, localpath: str, remotepath: str) -> None:
        """Copy the folder contents of ``localpath`` into ``remotepath``; see :meth:`Transport.puttree`."""
        self._copy_tree("puttree", localpath, remotepath)

    def gettree(self, remotepath: str, localpath: str) -> None:
        """Copy the folder contents of ``remotepath`` into ``localpath``; see :meth:`Transport.gettree`."""
        self._copy_tree("gettree", remotepath, localpath)

    def _copy_tree(self, verb: str, source: str, target: str) -> None:
        def run() -> None:
            if not os.path.isdir(source):
                raise TransportError(f"{verb} {source!r}: not a folder")
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        self._checked(f"{verb} {source!r} -> {target!r}", run)

    def listdir(self, path: str) -> list[str]:
        """Return the sorted names in ``path``."""
        return self._checked(f"listdir {path!r}", lambda: sorted(os.listdir(path)))

    def exec_command_wait(self, command: str, workdir: str | None = None,
                          stdin: str | None = None) -> tuple[int, str, str]:
        """Run ``command`` with the shell; see :meth:`Transport.exec_command_wait`."""
        def run() -> tuple[int, str, str]:
            proc = subprocess.run(
                [self._shell, "-c", command], cwd=workdir, input=stdin or "", capture_output=True,
                text=True, env={**os.environ, **self._environment},
            )
            return proc.returncode, proc.stdout, proc.stderr
        return self._checked(f"exec {command!r}", run)

    def makedirs(self, path: str, ignore_existing: bool = False) -> None:
        """Create the folder ``path`` and its parents."""
        self._checked(f"makedirs {path!r}", lambda: os.makedirs(path, exist_ok=ignore_existing))

    def rmtree(self, path: str) -> None:
        """Remove the folder, file or link ``path``."""
        def run() -> None:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        self._checked(f"rmtree {path!r}", run)

    def symlink(self, source: str, target: str) -> None:
        """Create the link ``target`` pointing at ``source``."""
        self._checked(f"symlink {source!r} -> {target!r}", lambda: os.symlink(source, target))

    def path_exists(self, path: str) -> bool:
        """Whether ``path`` exists (links followed)."""
        return self._checked(f"path_exists {path!r}", lambda: os.path.exists(path))

    def isdir(self, path: str) -> bool:
        """Whether ``path`` is a folder (links followed)."""
        return self._checked(f"isdir {path!r}", lambda: os.path.isdir(path))

    def isfile(self, path: str) -> bool:
        """Whether ``path`` is a regular file (links followed)."""
        return self._checked(f"isfile {path!r}", lambda: os.path.isfile(path))

    def chmod(self, path: str, mode: int) -> None:
        """Set the permission bits of ``path``."""
        self._checked(f"chmod {path!r}", lambda: os.chmod(path, mode))

    def __repr__(self) -> str:
        """Show the class and whether the transport is open."""
        return f"LocalTransport(open={self._open})"
