"""Shared helpers for the local service kit (stdlib only).

The service kit installs and runs the real servers provgraph's tests and the
``services`` profile talk to: Neo4j, RabbitMQ, MinIO, OpenSSH and SLURM.  Each
service module in this folder exposes the same four functions:

``install()``  idempotent; cheap when already installed
``start()``    idempotent; a running service is left alone; a port held by
               something else raises :class:`PortTaken` naming the port
``stop()``     idempotent
``status()``   returns :class:`Status`

Layout:

* ``<repo>/.services/<name>/``  data, logs, config of one service (git-ignored)
* ``<repo>/.services/secrets/<name>.json``  generated credentials, mode 0600
* ``~/.cache/provgraph-services/``  slow downloads and builds (Maven jars, the
  MinIO binary) kept outside the clone so a second clone reuses them.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("PROVGRAPH_SERVICES_DIR", REPO / ".services"))
CACHE = Path(
    os.environ.get(
        "PROVGRAPH_SERVICES_CACHE",
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "provgraph-services",
    )
)
HOST = "127.0.0.1"
#: Opt-in: one more IPv4 address the services listen on besides loopback (default: none). The fleet
#: test sets it to the link address of the network namespace it runs a server host in.
EXTRA_BIND_ENV = "PROVGRAPH_SERVICES_EXTRA_BIND"


def extra_bind() -> str | None:
    """The address in ``$PROVGRAPH_SERVICES_EXTRA_BIND`` (checked to be one IPv4 address), or None when unset."""
    import ipaddress

    value = os.environ.get(EXTRA_BIND_ENV, "").strip()
    if not value:
        return None
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ServiceError(f"{EXTRA_BIND_ENV}={value!r} is not one IPv4 address") from None

#: Default loopback ports; each can be overridden with PROVGRAPH_<NAME>_PORT.
DEFAULT_PORTS = {
    "neo4j": 47687,  # bolt
    "neo4j_http": 47474,
    "rabbitmq": 45672,  # amqp
    "rabbitmq_dist": 45673,  # erlang distribution
    "minio": 49000,  # S3 API
    "minio_console": 49001,
    "ssh": 42222,
    "slurmctld": 46817,
    "slurmd": 46818,
}


class ServiceError(RuntimeError):
    """A service could not be installed, started or stopped."""


class PortTaken(ServiceError):
    """A port the service needs is held by another program."""


@dataclass
class Status:
    """What ``make services-status`` prints for one service."""

    name: str
    installed: bool
    running: bool
    port: int
    version: str | None = None


def port(name: str) -> int:
    """Return the loopback port configured for ``name``."""
    return int(os.environ.get(f"PROVGRAPH_{name.upper()}_PORT", DEFAULT_PORTS[name]))


def service_dir(name: str) -> Path:
    """Return (and create) the project-local folder of one service."""
    path = STATE / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(name: str) -> Path:
    """Return (and create) the machine-local cache folder of one service."""
    path = CACHE / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def port_open(number: int, host: str = HOST) -> bool:
    """Return True when something accepts TCP connections on ``host:number``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, number)) == 0


def ensure_port_free(number: int, service: str) -> None:
    """Raise :class:`PortTaken` if ``number`` is already in use on loopback."""
    if port_open(number):
        raise PortTaken(
            f"{service}: port {number} on {HOST} is already taken by another program; "
            f"stop it or set PROVGRAPH_{service.upper()}_PORT to a free port"
        )


def wait_for_port(number: int, service: str, timeout: float = 120.0, log: Path | None = None) -> None:
    """Block until ``number`` accepts connections, or raise with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(number):
            return
        time.sleep(0.5)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise ServiceError(f"{service} did not open port {number} within {timeout:.0f}s{tail}")


def wait_while_alive(ready, pid: int, pidfile: Path, log: Path, service: str, timeout: float,
                     interval: float = 0.3) -> None:
    """Poll ``ready()`` until true; fail early, with the log's tail, if process ``pid`` died or time ran out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if read_pid(pidfile) != pid or time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""
            raise ServiceError(f"{service} did not start (see {log}):\n{tail}")
        time.sleep(interval)


def write_secret(name: str, data: dict) -> Path:
    """Write credentials for ``name`` to a file only the owner can read."""
    folder = STATE / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)
    return path


def read_secret(name: str) -> dict | None:
    """Return the stored credentials of ``name``, or None if none were generated."""
    path = STATE / "secrets" / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


#: characters of generated passwords: nothing a command line or a URL could read as special
PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 24) -> str:
    """A random password of letters and digits, starting with a letter.

    Never ``-`` first (``neo4j-admin`` took such a password for an option, about one
    ``token_urlsafe`` in 64), nor any character a shell, URL or option parser treats
    specially. 24 characters of 62 give 142 bits.
    """
    first = secrets.choice(string.ascii_letters)
    return first + "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length - 1))


def secret(name: str, defaults: dict) -> dict:
    """Return the credentials of ``name``, generating and storing them once.

    Values equal to ``"<generate>"`` in ``defaults`` are replaced by :func:`generate_password`.
    """
    existing = read_secret(name)
    if existing is not None:
        return existing
    data = {k: (generate_password() if v == "<generate>" else v) for k, v in defaults.items()}
    write_secret(name, data)
    return data


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capturing output; raise :class:`ServiceError` with it on failure."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise ServiceError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return proc


def apt_install(*packages: str) -> None:
    """Install Debian packages that are missing (runs apt-get update once if needed)."""
    missing = [p for p in packages if not _dpkg_installed(p)]
    if not missing:
        return
    # dpkg allows one installer at a time; services install in parallel
    with open("/tmp/provgraph-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _apt_get_install([p for p in missing if not _dpkg_installed(p)])


def _apt_get_install(missing: list[str]) -> None:
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    proc = subprocess.run(
        sudo + ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", *missing],
        capture_output=True, text=True, env=env,
    )
    if proc.returncode != 0:
        run(sudo + ["apt-get", "update"], env=env)
        run(sudo + ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", *missing],
            env=env)


def debian_version(package: str) -> str | None:
    """The installed version of a Debian package, or None."""
    proc = run(["dpkg-query", "-W", "-f=${Version}", package], check=False)
    return proc.stdout.strip() or None


def main(service: Any, argv: list[str]) -> int:
    """Run ``install|start|stop|status`` of a service module from the command line."""
    actions = {"install": service.install, "start": service.start, "stop": service.stop,
               "status": lambda: print(service.status())}
    if len(argv) != 1 or argv[0] not in actions:
        print(f"usage: {service.__file__} {'|'.join(actions)}", file=sys.stderr)
        return 2
    try:
        actions[argv[0]]()
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _dpkg_installed(package: str) -> bool:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def read_pid(path: Path) -> int | None:
    """Return the pid in ``path`` if that process is alive, else None."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # a zombie or a recycled pid of another program does not count
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        if state == "Z":
            return None
    except OSError:
        pass
    return pid


def spawn(cmd: list[str], log: Path, pidfile: Path, env: dict | None = None, cwd: Path | None = None) -> int:
    """Start ``cmd`` detached (own session), output to ``log``, pid to ``pidfile``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )
    pidfile.write_text(str(proc.pid))
    return proc.pid


def terminate(pidfile: Path, timeout: float = 30.0) -> None:
    """Stop the process recorded in ``pidfile`` (TERM, then KILL) and remove the file."""
    pid = read_pid(pidfile)
    if pid is not None:
        try:
            os.killpg(pid, 15)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and read_pid(pidfile) is not None:
            time.sleep(0.2)
        if read_pid(pidfile) is not None:
            try:
                os.killpg(pid, 9)
            except ProcessLookupError:
                pass
    pidfile.unlink(missing_ok=True)


def which(program: str) -> str | None:
    """Return the path of ``program`` on PATH or in /usr/sbin, or None."""
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin:/usr/local/sbin")
