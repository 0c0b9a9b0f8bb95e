"""``core.ssh``: a remote computer over SSH, built on Fabric (commands) and its SFTP client (files).

Host keys are checked against a ``known_hosts`` file with paramiko's
``RejectPolicy``: an unknown host is refused, never added silently.  No
``~/.ssh/config`` is read; every setting is explicit.
"""

from __future__ import annotations

import errno
import io
import os
import socket
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import paramiko
from fabric import Config, Connection
from invoke.exceptions import ThreadException

from provgraph.exceptions import TransportError
from provgraph.transports.base import Transport, TransportConnectionError, quote

__all__ = ["SshTransport"]

_T = TypeVar("_T")
_CONNECTION_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE,
                      errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}


def _is_refusal(exc: paramiko.SSHException) -> bool:
    """Whether the server refused *us* (auth, host key): retrying will not help."""
    return isinstance(exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException)) \
        or "known_hosts" in str(exc)


def translate_error(action: str, exc: BaseException) -> TransportError:
    """Return the TransportError (retryable or not) that stands for ``exc`` raised during ``action``."""
    if isinstance(exc, TransportError):
        return exc
    message = f"{action} failed: {type(exc).__name__}: {exc}"
    if isinstance(exc, ThreadException):  # an I/O thread of a running command died: the channel broke
        return TransportConnectionError(message)
    if isinstance(exc, paramiko.SSHException):
        return TransportError(message) if _is_refusal(exc) else TransportConnectionError(message)
    connection_lost = isinstance(exc, (EOFError, TimeoutError, ConnectionError, socket.gaierror,
                                       paramiko.ssh_exception.NoValidConnectionsError))
    if connection_lost or (isinstance(exc, OSError) and (exc.errno is None or exc.errno in _CONNECTION_ERRNOS)):
        return TransportConnectionError(message)
    return TransportError(message)


@contextmanager
def _translate(action: str) -> Iterator[None]:
    """Re-raise paramiko, socket and SFTP errors raised inside as TransportErrors."""
    try:
        yield
    except (OSError, EOFError, paramiko.SSHException, ThreadException) as exc:
        raise translate_error(action, exc) from exc


def _parse_jump(spec: str) -> tuple[str | None, str, int]:
    """Split ``[user@]host[:port]`` into (user, host, port)."""
    user, _, hostport = spec.rpartition("@")
    host, _, port = hostport.partition(":")
    return user or None, host, int(port or 22)


class SshTransport(Transport):
    """Files and commands on a computer reached over SSH with key authentication."""

    default_safe_open_interval = 5.0

    def __init__(self, host: str, *, port: int = 22, username: str | None = None,
                 key_filename: str | None = None, known_hosts: str | None = None,
                 proxy_jump: str | None = None, connect_timeout: float = 10.0,
                 safe_open_interval: float | None = None) -> None:
        """Describe the connection; nothing is opened until :meth:`open`.

        :param host: host name or address
        :param port: SSH port
        :param username: remote account (default: the local user name)
        :param key_filename: private key file (default: paramiko's usual keys and the agent)
        :param known_hosts: file of accepted host keys (default ``~/.ssh/known_hosts``)
        :param proxy_jump: ``[user@]host[:port]`` hops, comma-separated, like ssh's ProxyJump
        :param connect_timeout: seconds to wait for the TCP connection and the SSH banner
        :param safe_open_interval: see :class:`Transport`; 5 s by default
        """
        super().__init__(safe_open_interval=safe_open_interval)
        self.host, self.port, self.username = host, int(port), username
        self.key_filename, self.proxy_jump, self.connect_timeout = key_filename, proxy_jump, connect_timeout
        self.known_hosts = known_hosts or os.path.expanduser("~/.ssh/known_hosts")
        self._connection: Connection | None = None

    # -- connection -------------------------------------------------------------------------------------

    def _make_connection(self, host: str, port: int, user: str | None, gateway: Connection | None) -> Connection:
        """A Fabric connection that verifies the host key against :attr:`known_hosts`."""
        connect_kwargs: dict[str, Any] = {"banner_timeout": self.connect_timeout,
                                          "auth_timeout": self.connect_timeout}
        if self.key_filename:
            connect_kwargs.update(key_filename=self.key_filename, look_for_keys=False, allow_agent=False)
        config = Config(ssh_config=paramiko.SSHConfig(), overrides={"run": {"in_stream": False}})
        connection = Connection(host, user=user, port=port, config=config, gateway=gateway,
                                connect_timeout=self.connect_timeout, connect_kwargs=connect_kwargs)
        if Path(self.known_hosts).exists():
            connection.client.load_host_keys(self.known_hosts)
        connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        return connection

    def _build(self) -> Connection:
        gateway = None
        for hop in filter(None, (self.proxy_jump or "").split(",")):
            user, host, port = _parse_jump(hop.strip())
            gateway = self._make_connection(host, port, user or self.username, gateway)
        return self._make_connection(self.host, self.port, self.username, gateway)

    @property
    def is_open(self) -> bool:
        """Whether the SSH connection is up."""
        return self._connection is not None and bool(self._connection.is_connected)

    def open(self) -> None:
        """Connect and authenticate (a no-op when open); see :meth:`Transport.open`."""
        if self.is_open:
            return
        self.close()  # drop what is left of a lost connection
        connection = self._build()
        with _translate(f"ssh connection to {self.username or ''}@{self.host}:{self.port}"):
            try:
                connection.open()
            except BaseException:
                self._close_chain(connection)
                raise
        self._connection = connection

    @staticmethod
    def _close_chain(connection: Connection) -> None:
        while isinstance(connection, Connection):
            connection.close()
            connection = connection.gateway

    def close(self) -> None:
        """Close the connection and any proxy hops."""
        if self._connection is not None:
            self._close_chain(self._connection)
            self._connection = None

    def _conn(self, action: str) -> Connection:
        """The open connection; a lost one is reported, never silently reopened.

        Fabric reconnects on its own in ``run()``/``sftp()``; that would bypass the
        pool's safe interval, so this check comes first.
        """
        if self._connection is None:
            raise TransportError(f"{action}: the transport is not open")
        if not self._connection.is_connected:
            raise TransportConnectionError(f"{action}: the connection to {self.host}:{self.port} was lost")
        return self._connection

    def _sftp(self, action: str, call: Callable[[paramiko.SFTPClient], _T]) -> _T:
        """Run ``call`` with the SFTP client, translating its errors."""
        connection = self._conn(action)
        with _translate(action):
            return call(connection.sftp())

    # -- files ------------------------------------------------------------------------------------------

    def _stat(self, path: str, follow: bool = True) -> os.stat_result | None:
        """``stat`` (or ``lstat``) of ``path``, or None when it does not exist."""
        def run(sftp: paramiko.SFTPClient) -> Any:
            try:
                return sftp.stat(path) if follow else sftp.lstat(path)
            except FileNotFoundError:
                return None
        return self._sftp(f"stat {path!r}", run)

    def _mode(self, path: str, follow: bool = True) -> int | None:
        found = self._stat(path, follow)
        return None if found is None or found.st_mode is None else found.st_mode

    def put(self, localpath: str, remotepath: str) -> None:
        """Upload the file ``localpath`` to ``remotepath``; see :meth:`Transport.put`."""
        if not os.path.isfile(localpath):
            raise TransportError(f"put {localpath!r}: not a local file")
        self._sftp(f"put {localpath!r} -> {remotepath!r}", lambda sftp: sftp.put(localpath, remotepath))

    def get(self, remotepath: str, localpath: str) -> None:
        """Download the file ``remotepath`` to ``localpath``; see :meth:`Transport.get`."""
        mode = self._mode(remotepath)
        if mode is None or not stat.S_ISREG(mode):
            raise TransportError(f"get {remotepath!r}: not a remote file")
        self._sftp(f"get {remotepath!r} -> {localpath!r}", lambda sftp: sftp.get(remotepath, localpath))

    def puttree(self, localpath: str, remotepath: str) -> None:
        """Upload the contents of the folder ``localpath`` into ``remotepath``; see :meth:`Transport.puttree`."""
        if not os.path.isdir(localpath):
            raise TransportError(f"puttree {localpath!r}: not a local folder")
        self.makedirs(remotepath, ignore_existing=True)
        self._sftp(f"puttree {localpath!r} -> {remotepath!r}",
                   lambda sftp: self._upload_tree(sftp, localpath, remotepath))

    def _upload_tree(self, sftp: paramiko.SFTPClient, local: str, remote: str) -> None:
        for entry in sorted(os.scandir(local), key=lambda e: e.name):
            target = f"{remote}/{entry.name}"
            if entry.is_symlink():
                sftp.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                if self._mode(target) is None:
                    sftp.mkdir(target)
                self._upload_tree(sftp, entry.path, target)
            else:
                sftp.put(entry.path, target)

    def gettree(self, remotepath: str, localpath: str) -> None:
        """Download the contents of the folder ``remotepath`` into ``localpath``; see :meth:`Transport.gettree`."""
        if not self.isdir(remotepath):
            raise TransportError(f"gettree {remotepath!r}: not a remote folder")
        try:
            os.makedirs(localpath, exist_ok=True)
        except OSError as exc:
            raise TransportError(f"gettree: cannot create {localpath!r}: {exc}") from exc
        self._sftp(f"gettree {remotepath!r} -> {localpath!r}",
                   lambda sftp: self._download_tree(sftp, remotepath, localpath))

    def _download_tree(self, sftp: paramiko.SFTPClient, remote: str, local: str) -> None:
        for attr in sorted(sftp.listdir_attr(remote), key=lambda a: a.filename):
            source, target = f"{remote}/{attr.filename}", os.path.join(local, attr.filename)
            mode = attr.st_mode or 0
            if stat.S_ISLNK(mode):
                os.symlink(sftp.readlink(source), target)
            elif stat.S_ISDIR(mode):
                os.makedirs(target, exist_ok=True)
                self._download_tree(sftp, source, target)
            else:
                sftp.get(source, target)

    def listdir(self, path: str) -> list[str]:
        """Return the sorted names in the remote folder ``path``."""
        return self._sftp(f"listdir {path!r}", lambda sftp: sorted(sftp.listdir(path)))

    def makedirs(self, path: str, ignore_existing: bool = False) -> None:
        """Create the remote folder ``path`` and its parents; see :meth:`Transport.makedirs`."""
        if self._mode(path) is not None:
            if ignore_existing and self.isdir(path):
                return
            raise TransportError(f"makedirs {path!r}: the path exists")
        prefix = "/" if path.startswith("/") else ""
        current = ""
        for part in filter(None, path.split("/")):
            current = f"{current}/{part}" if current else f"{prefix}{part}"
            if self._mode(current) is None:
                self._sftp(f"mkdir {current!r}", lambda sftp, c=current: sftp.mkdir(c))

    def rmtree(self, path: str) -> None:
        """Remove the remote folder, file or link ``path`` (``rm -r`` there)."""
        if self._mode(path, follow=False) is None:
            raise TransportError(f"rmtree {path!r}: no such path")
        code, _, stderr = self.exec_command_wait(f"rm -r -- {quote(path)}")
        if code != 0:
            raise TransportError(f"rmtree {path!r} failed (exit {code}): {stderr.strip()}")

    def symlink(self, source: str, target: str) -> None:
        """Create the remote link ``target`` pointing at ``source``."""
        if self._mode(target, follow=False) is not None:
            raise TransportError(f"symlink {source!r} -> {target!r}: the target exists")
        self._sftp(f"symlink {source!r} -> {target!r}", lambda sftp: sftp.symlink(source, target))

    def path_exists(self, path: str) -> bool:
        """Whether the remote ``path`` exists (links followed)."""
        return self._mode(path) is not None

    def isdir(self, path: str) -> bool:
        """Whether the remote ``path`` is a folder (links followed)."""
        mode = self._mode(path)
        return mode is not None and stat.S_ISDIR(mode)

    def isfile(self, path: str) -> bool:
        """Whether the remote ``path`` is a regular file (links followed)."""
        mode = self._mode(path)
        return mode is not None and stat.S_ISREG(mode)

    def chmod(self, path: str, mode: int) -> None:
        """Set the permission bits of the remote ``path``."""
        self._sftp(f"chmod {path!r}", lambda sftp: sftp.chmod(path, mode))

    # -- commands ---------------------------------------------------------------------------------------

    def exec_command_wait(self, command: str, workdir: str | None = None,
                          stdin: str | None = None) -> tuple[int, str, str]:
        """Run ``command`` in the remote login shell; see :meth:`Transport.exec_command_wait`."""
        connection = self._conn(f"exec {command!r}")
        if workdir is not None:
            if not self.isdir(workdir):
                raise TransportError(f"exec {command!r}: the working directory {workdir!r} does not exist")
            command = f"cd {quote(workdir)} && {command}"
        # Never the local sys.stdin (in_stream=False is the connection default, which matters under
        # pytest), yet always a stream that ends, so the remote stdin is closed and ``cat`` cannot hang.
        with _translate(f"exec {command!r}"):
            result = connection.run(command, in_stream=io.StringIO(stdin or ""), hide=True, warn=True, pty=False)
        return int(result.exited), result.stdout, result.stderr

    def __repr__(self) -> str:
        """Show where the transport connects and whether it is open."""
        return f"SshTransport({self.username or ''}@{self.host}:{self.port}, open={self.is_open})"
