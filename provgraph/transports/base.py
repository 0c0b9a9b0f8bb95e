"""The interface every transport implements.

A transport reaches one computer: it moves files and trees, lists and changes
paths, and runs shell commands there.  Every method raises
:class:`~provgraph.exceptions.TransportError` (never a third-party exception):
implementations translate errors where they enter, with ``raise ... from``.
:class:`TransportConnectionError` marks the failures worth retrying with
backoff (a lost or refused connection); each class lists them in
:attr:`Transport.retryable_errors`, so a caller retries without knowing the
library underneath (kombu's ``recoverable_connection_errors``).

Paths handed to a shell are always quoted with :func:`shlex.quote`.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from types import TracebackType
from typing import ClassVar

from provgraph.exceptions import TransportConnectionError, TransportError, ValidationError

__all__ = ["Transport", "TransportConnectionError", "TransportError", "quote"]


def quote(*words: object) -> str:
    """Return ``words`` joined by spaces, each quoted for a POSIX shell."""
    return " ".join(shlex.quote(str(word)) for word in words)


class Transport(ABC):
    """Files and commands on one computer; use it as a context manager (``with transport:``)."""

    #: Exception types after which a caller may retry the operation with backoff.
    retryable_errors: ClassVar[tuple[type[TransportError], ...]] = (TransportConnectionError,)
    #: Default for :attr:`safe_open_interval`, in seconds.
    default_safe_open_interval: ClassVar[float] = 0.0

    def __init__(self, *, safe_open_interval: float | None = None) -> None:
        """Set the minimum pause (seconds) between two connections opened to this computer.

        :raises ValidationError: when ``safe_open_interval`` is negative
        """
        interval = self.default_safe_open_interval if safe_open_interval is None else float(safe_open_interval)
        if interval < 0:
            raise ValidationError(f"safe_open_interval must be >= 0, not {interval}")
        #: Seconds that must pass between two opens of a connection to the same computer and user.
        self.safe_open_interval = interval

    def __enter__(self) -> Transport:
        """Open the transport (if it is not open yet) and return it."""
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Close the transport."""
        self.close()

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether the transport is open and usable."""

    @abstractmethod
    def open(self) -> None:
        """Open the connection.

        :raises TransportConnectionError: when the computer cannot be reached
        :raises TransportError: when it refuses us (authentication, unknown host key)
        """

    @abstractmethod
    def close(self) -> None:
        """Close the connection; closing a closed transport does nothing.

        :raises TransportError: never in practice; listed for symmetry with :meth:`open`
        """

    @abstractmethod
    def put(self, localpath: str, remotepath: str) -> None:
        """Copy the local file ``localpath`` to the file ``remotepath`` (overwritten if present).

        :raises TransportError: when ``localpath`` is not a file or the copy fails
        """

    @abstractmethod
    def get(self, remotepath: str, localpath: str) -> None:
        """Copy the remote file ``remotepath`` to the local file ``localpath`` (overwritten if present).

        :raises TransportError: when ``remotepath`` is not a file or the copy fails
        """

    @abstractmethod
    def puttree(self, localpath: str, remotepath: str) -> None:
        """Copy the contents of the local folder ``localpath`` into ``remotepath`` (created if missing).

        Symbolic links are copied as links.

        :raises TransportError: when ``localpath`` is not a folder or the copy fails
        """

    @abstractmethod
    def gettree(self, remotepath: str, localpath: str) -> None:
        """Copy the contents of the remote folder ``remotepath`` into ``localpath`` (created if missing).

        Symbolic links are copied as links.

        :raises TransportError: when ``remotepath`` is not a folder or the copy fails
        """

    @abstractmethod
    def listdir(self, path: str) -> list[str]:
        """Return the sorted names in the folder ``path`` (without ``.`` and ``..``).

        :raises TransportError: when ``path`` is not a readable folder
        """

    @abstractmethod
    def exec_command_wait(self, command: str, workdir: str | None = None,
                          stdin: str | None = None) -> tuple[int, str, str]:
        """Run the shell ``command`` (in ``workdir`` if given), wait, return (exit code, stdout, stderr).

        ``command`` is passed to the shell as is: the caller quotes its words
        (:func:`quote`).  A nonzero exit code is returned, not raised.

        :raises TransportError: when the command cannot be started or ``workdir`` does not exist
        """

    @abstractmethod
    def makedirs(self, path: str, ignore_existing: bool = False) -> None:
        """Create the folder ``path`` and any missing parents.

        :raises TransportError: when ``path`` exists and ``ignore_existing`` is false, or on failure
        """

    @abstractmethod
    def rmtree(self, path: str) -> None:
        """Remove ``path``: a folder with everything in it, or a file or link.

        :raises TransportError: when ``path`` does not exist or cannot be removed
        """

    @abstractmethod
    def symlink(self, source: str, target: str) -> None:
        """Create the symbolic link ``target`` pointing at ``source`` (like ``ln -s source target``).

        :raises TransportError: when ``target`` exists or the link cannot be made
        """

    @abstractmethod
    def path_exists(self, path: str) -> bool:
        """Whether ``path`` exists (following symbolic links, like :func:`os.path.exists`).

        :raises TransportError: when the check itself fails (e.g. connection lost)
        """

    @abstractmethod
    def isdir(self, path: str) -> bool:
        """Whether ``path`` is a folder (following symbolic links).

        :raises TransportError: when the check itself fails
        """

    @abstractmethod
    def isfile(self, path: str) -> bool:
        """Whether ``path`` is a regular file (following symbolic links).

        :raises TransportError: when the check itself fails
        """

    @abstractmethod
    def chmod(self, path: str, mode: int) -> None:
        """Set the permission bits of ``path`` to ``mode`` (e.g. ``0o755``).

        :raises TransportError: when ``path`` does not exist or cannot be changed
        """

    def copy(self, source: str, target: str) -> None:
        """Copy ``source`` (file or folder, recursively) to ``target``, both on the computer.

        Runs ``cp -R`` there, so no data travels through this process.

        :raises TransportError: when the copy fails (the message holds ``cp``'s stderr)
        """
        code, _, stderr = self.exec_command_wait(f"cp -R -- {quote(source, target)}")
        if code != 0:
            raise TransportError(f"copy {source!r} -> {target!r} failed (exit {code}): {stderr.strip()}")

    def whoami(self) -> str:
        """Return the name of the user the transport acts as on the computer.

        :raises TransportError: when ``whoami`` fails there
        """
        code, stdout, stderr = self.exec_command_wait("whoami")
        if code != 0:
            raise TransportError(f"whoami failed (exit {code}): {stderr.strip()}")
        return stdout.strip()
