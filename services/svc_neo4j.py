"""Neo4j Community 5.26 LTS for the local service kit (stdlib only).

The jars come from Maven Central: ``services/neo4j/pom.xml`` names
``org.neo4j:neo4j`` and ``org.neo4j.app:neo4j-server`` and Maven copies them
with their dependencies into a lib folder in the machine-wide cache.  The
server is the real one, ``org.neo4j.server.CommunityEntryPoint``, run directly
on Java 17 (the distribution's ``bin/neo4j`` would only add a second JVM).

* Bolt listens on ``127.0.0.1:port("neo4j")``; HTTP and HTTPS are off.
* Authentication is on: user ``neo4j`` with a generated password, set through
  ``neo4j-admin dbms set-initial-password`` before the first start and kept in
  ``.services/secrets/neo4j.json`` (keys ``uri``, ``user``, ``password``).
* Config, data and logs live in ``.services/neo4j/``; the Maven repository
  and the lib folder in ``~/.cache/provgraph-services/neo4j/``, keyed on the
  Neo4j version and a hash of the pom.
* Start-up is CPU-bound on a small machine, much of it class loading: install()
  boots a throwaway server once with ``-XX:ArchiveClassesAtExit`` and keeps
  the class-data-sharing archive beside the jars (keyed on the JVM build), which
  cut later starts by a third to a half here.  Without an archive it still works.

Run ``python3 services/svc_neo4j.py install|start|stop|status`` by hand.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import re
import shutil
import socket
import string
import struct
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from _common import (
    HOST,
    ServiceError,
    Status,
    apt_install,
    cache_dir,
    ensure_port_free,
    extra_bind,
    generate_password,
    port,
    port_open,
    read_pid,
    run,
    secret,
    service_dir,
    spawn,
    terminate,
    which,
    write_secret,
)

NAME = "neo4j"
HERE = Path(__file__).resolve().parent / "neo4j"
POM = HERE / "pom.xml"
CONF_TEMPLATE = HERE / "neo4j.conf.in"
MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"

HEAP_INITIAL, HEAP_MAX, PAGECACHE = "256m", "1g", "512m"
#: JVM flags the distribution's launcher would add (see its neo4j.conf).
JVM_FLAGS = [
    f"-Xms{HEAP_INITIAL}",
    f"-Xmx{HEAP_MAX}",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Dfile.encoding=UTF-8",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
]
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0


# ------------------------------------------------------------------- helpers


def version() -> str:
    """The Neo4j version pinned in the pom (``neo4j.version``)."""
    match = re.search(r"<neo4j\.version>\s*([^<\s]+)\s*</neo4j\.version>", POM.read_text())
    if not match:
        raise ServiceError(f"neo4j: no <neo4j.version> in {POM}")
    return match.group(1)


def lib_dir() -> Path:
    """Cached lib folder for this pom: ``lib-<version>-<pom hash>``."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return cache_dir(NAME) / f"lib-{version()}-{digest}"


def _home() -> Path:
    return service_dir(NAME)


def _pidfile() -> Path:
    return _home() / "neo4j.pid"


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on ``path`` (other processes wait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@functools.cache
def _java() -> tuple[str, str]:
    """Return (path, ``-version`` text) of a Java 17 or 21 runtime."""
    if not which("java"):
        apt_install("openjdk-17-jre-headless")
    candidates = [os.environ.get("PROVGRAPH_NEO4J_JAVA"), which("java")]
    for major in ("17", "21"):
        candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob(f"*{major}*/bin/java"))
    for java in filter(None, candidates):
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        match = re.search(r'version "(\d+)', out)
        if match and match.group(1) in ("17", "21"):
            return java, out
    raise ServiceError("neo4j: Neo4j 5.26 needs Java 17 or 21; none found (set PROVGRAPH_NEO4J_JAVA)")


def _cds_archive() -> Path:
    """Class-data-sharing archive for this lib folder and this exact JVM build."""
    java, text = _java()
    key = hashlib.sha256(f"{os.path.realpath(java)}\n{text}".encode()).hexdigest()[:12]
    return lib_dir() / f"classes-{key}.jsa"


def _log_tail(home: Path, lines: int = 30) -> str:
    parts = []
    for log in (home / "logs" / "neo4j.log", home / "logs" / "console.log"):
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log}\n" + "\n".join(tail))
    return "\n".join(parts)


# ---------------------------------------------------- minimal Bolt client


class BoltError(Exception):
    """The server answered a Bolt request with FAILURE (or not at all)."""

    def __init__(self, message: str, auth: bool = False):
        super().__init__(message)
        self.auth = auth


def _pack(value) -> bytes:
    """PackStream-encode the few value types the readiness check sends."""
    if isinstance(value, int):
        return struct.pack(">b", value) if -16 <= value < 128 else b"\xcb" + struct.pack(">q", value)
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) < 16:
            return bytes([0x80 + len(raw)]) + raw
        if len(raw) < 256:
            return b"\xd0" + bytes([len(raw)]) + raw
        return b"\xd1" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):  # fewer than 16 entries
        return bytes([0xA0 + len(value)]) + b"".join(_pack(k) + _pack(v) for k, v in value.items())
    raise TypeError(value)


def _send(sock: socket.socket, signature: int, *fields) -> None:
    body = bytes([0xB0 + len(fields), signature]) + b"".join(_pack(f) for f in fields)
    sock.sendall(struct.pack(">H", len(body)) + body + b"\x00\x00")


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise BoltError("connection closed by the server")
        data += chunk
    return data


def _expect_success(sock: socket.socket) -> None:
    """Read messages, skipping RECORDs; return on SUCCESS, raise on anything else."""
    while True:
        data = b""
        while True:  # chunks up to an empty one; a lone empty chunk is a no-op
            (size,) = struct.unpack(">H", _recv_exact(sock, 2))
            if size:
                data += _recv_exact(sock, size)
            elif data:
                break
        signature, payload = data[1], data[2:]
        if signature == 0x70:  # SUCCESS
            return
        if signature == 0x71:  # RECORD
            continue
        text = _failure_text(payload) or f"unexpected Bolt message 0x{signature:02x}"
        raise BoltError(text, auth="Security.Unauthorized" in text or "AuthenticationRateLimit" in text)


def _failure_text(payload: bytes) -> str:
    """Turn FAILURE metadata (a map of strings: code, message, ...) into text."""
    words, i = [], 1  # skip the map marker
    while i < len(payload):
        marker = payload[i]
        if 0x80 <= marker <= 0x8F:
            size, i = marker - 0x80, i + 1
        elif marker == 0xD0:
            size, i = payload[i + 1], i + 2
        elif marker == 0xD1:
            size, i = struct.unpack(">H", payload[i + 1 : i + 3])[0], i + 3
        else:  # not a string: stop at what was understood
            break
        words.append(payload[i : i + size].decode(errors="replace"))
        i += size
    return " ".join(f"{k}={v}" for k, v in zip(words[::2], words[1::2], strict=False))


def bolt_check(user: str, password: str, bolt_port: int | None = None, timeout: float = 10.0) -> None:
    """Log in over Bolt (5.0 or 4.4) and run ``RETURN 1``; raise :class:`BoltError` if refused."""
    with socket.create_connection((HOST, bolt_port or port(NAME)), timeout=timeout) as sock:
        # magic, then four version proposals: 5.0, 4.4, none, none
        sock.sendall(b"\x60\x60\xb0\x17" + b"\x00\x00\x00\x05" + b"\x00\x00\x04\x04" + b"\x00" * 8)
        if _recv_exact(sock, 4) == b"\x00" * 4:
            raise BoltError("server accepts neither Bolt 5.0 nor 4.4")
        _send(
            sock,
            0x01,
            {  # HELLO with basic auth
                "user_agent": "provgraph-services/1",
                "scheme": "basic",
                "principal": user,
                "credentials": password,
            },
        )
        _expect_success(sock)
        _send(sock, 0x10, "RETURN 1", {}, {})  # RUN
        _send(sock, 0x3F, {"n": -1})  # PULL
        _expect_success(sock)
        _expect_success(sock)
        _send(sock, 0x02)  # GOODBYE


# ------------------------------------------------------------ launching


def _prepare_home(home: Path, bolt_port: int, password: str) -> Path:
    """Write ``home/conf/neo4j.conf``; set the initial password before a first start."""
    conf_dir = home / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    text = string.Template(CONF_TEMPLATE.read_text()).substitute(
        bolt_port=bolt_port,
        listen_address="0.0.0.0" if extra_bind() else HOST,
        home=home,
        lib=lib_dir(),
        heap_initial=HEAP_INITIAL,
        heap_max=HEAP_MAX,
        pagecache=PAGECACHE,
    )
    (conf_dir / "neo4j.conf").write_text(text)
    if not (home / "data" / "databases" / "system").exists():
        # neo4j-admin dbms set-initial-password: leaves data/dbms/auth.ini, which
        # the server turns into user neo4j when it creates the system database
        env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(conf_dir))
        run(
            # "--" ends the options: a password starting with "-" is still the password
            [_java()[0], "-cp", f"{lib_dir()}/*", ADMIN_CLASS, "dbms", "set-initial-password", "--", password],
            env=env,
            cwd=home,
        )
    return conf_dir


def _launch(home: Path, conf_dir: Path, pidfile: Path, extra: list[str]) -> int:
    """Spawn the server JVM detached; return its pid."""
    cmd = [
        _java()[0],
        *JVM_FLAGS,
        *extra,
        "-cp",
        f"{lib_dir()}/*",
        MAIN_CLASS,
        f"--home-dir={home}",
        f"--config-dir={conf_dir}",
    ]
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(conf_dir))
    return spawn(cmd, home / "logs" / "console.log", pidfile, env=env, cwd=home)


def _wait_ready(home: Path, pidfile: Path, pid: int, bolt_port: int, user: str, password: str) -> None:
    """Wait until Bolt accepts the login and answers a query (not just an open port)."""
    deadline = time.monotonic() + START_TIMEOUT
    last = "port not open"
    while time.monotonic() < deadline:
        if read_pid(pidfile) != pid:
            raise ServiceError(f"neo4j: server exited during start-up\n{_log_tail(home)}")
        if port_open(bolt_port):
            try:
                bolt_check(user, password, bolt_port)
                return
            except BoltError as exc:
                if exc.auth:
                    raise ServiceError(
                        f"neo4j: the server refuses the password in .services/secrets/{NAME}.json "
                        f"({exc}); its data was made with another one: stop it and delete "
                        f"{home / 'data'} to start afresh"
                    ) from None
                last = str(exc)
            except OSError as exc:
                last = str(exc)
        time.sleep(0.5)
    raise ServiceError(f"neo4j: not ready within {START_TIMEOUT:.0f}s ({last})\n{_log_tail(home)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _train_cds_archive(archive: Path) -> None:
    """Boot a throwaway server once so the JVM dumps the classes it loaded."""
    home = cache_dir(NAME) / f"cds-home-{os.getpid()}"
    pidfile = home / "neo4j.pid"
    shutil.rmtree(home, ignore_errors=True)
    partial = archive.with_suffix(".partial")
    try:
        password, bolt_port = generate_password(), _free_port()
        conf_dir = _prepare_home(home, bolt_port, password)
        pid = _launch(home, conf_dir, pidfile, [f"-XX:ArchiveClassesAtExit={partial}"])
        try:
            _wait_ready(home, pidfile, pid, bolt_port, "neo4j", password)
        finally:
            terminate(pidfile, timeout=120.0)  # the archive is written on exit
        if partial.exists() and partial.stat().st_size > 0:
            os.replace(partial, archive)
    except ServiceError as exc:  # an optimisation only: start without it
        print(f"neo4j: no class-data-sharing archive ({exc})", file=sys.stderr)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(home, ignore_errors=True)


# ------------------------------------------------------------------ public API


def install() -> None:
    """Fetch the Neo4j jars into the cache once (Maven Central), then make the CDS archive."""
    target = lib_dir()
    tried = target / f".{_cds_archive().name}.tried"
    if (target / ".complete").exists() and tried.exists():
        return
    with _locked(cache_dir(NAME) / ".install.lock"):
        if not (target / ".complete").exists():
            _fetch_jars(target)
        if not tried.exists():
            _train_cds_archive(_cds_archive())
            tried.touch()  # once per JVM build, whether or not it worked


def _fetch_jars(target: Path) -> None:
    """``mvn dependency:copy-dependencies`` into a scratch folder, then move it in place."""
    if not which("mvn"):
        apt_install("maven")
    build = target.with_name(target.name + ".build")
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    shutil.copy2(POM, build / "pom.xml")  # keeps Maven's output out of the clone
    run(
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(build / "pom.xml"),
            f"-Dmaven.repo.local={cache_dir(NAME) / 'm2'}",
            f"-Dneo4j.lib.dir={build / 'lib'}",
            "dependency:copy-dependencies",
        ]
    )
    if not any((build / "lib").glob("neo4j-server-*.jar")):
        raise ServiceError(f"neo4j: Maven left no neo4j-server jar in {build / 'lib'}")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(build / "lib", target)
    shutil.rmtree(build, ignore_errors=True)
    (target / ".complete").write_text(version() + "\n")


def credentials() -> dict:
    """The stored credentials (``uri``, ``user``, ``password``), made on first use."""
    uri = f"bolt://{HOST}:{port(NAME)}"
    data = secret(NAME, {"uri": uri, "user": "neo4j", "password": "<generate>"})
    if data.get("uri") != uri:  # the port was overridden since
        data["uri"] = uri
        write_secret(NAME, data)
    return data


def _our_pid() -> int | None:
    """The pid of our running server, if the pidfile names a live one."""
    pid = read_pid(_pidfile())
    if pid is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if MAIN_CLASS.encode() in cmdline else None


def start() -> None:
    """Start the server if needed and wait until an authenticated query works."""
    install()
    home, bolt_port = _home(), port(NAME)
    with _locked(home / ".lock"):
        creds = credentials()
        pid = _our_pid()
        if pid is not None:  # running (or still starting): just make sure it answers
            _wait_ready(home, _pidfile(), pid, bolt_port, creds["user"], creds["password"])
            return
        ensure_port_free(bolt_port, NAME)
        conf_dir = _prepare_home(home, bolt_port, creds["password"])
        archive = _cds_archive()
        extra = [f"-XX:SharedArchiveFile={archive}"] if archive.exists() else []
        pid = _launch(home, conf_dir, _pidfile(), extra)
        try:
            _wait_ready(home, _pidfile(), pid, bolt_port, creds["user"], creds["password"])
        except BaseException:
            terminate(_pidfile(), timeout=STOP_TIMEOUT)
            raise
        # the initial-password file has done its job once the user exists
        (home / "data" / "dbms" / "auth.ini").unlink(missing_ok=True)


def stop() -> None:
    """Stop the server gracefully (TERM, then KILL after a minute); no-op when stopped."""
    with _locked(_home() / ".lock"):
        if _our_pid() is None:
            _pidfile().unlink(missing_ok=True)
            return
        terminate(_pidfile(), timeout=STOP_TIMEOUT)


def status() -> Status:
    """Installed (jars cached), running (our server holds its port), version."""
    running = _our_pid() is not None and port_open(port(NAME))
    return Status(NAME, (lib_dir() / ".complete").exists(), running, port(NAME), version())


def main(argv: list[str]) -> int:
    actions = {"install": install, "start": start, "stop": stop}
    if len(argv) != 1 or argv[0] not in (*actions, "status"):
        print(f"usage: {Path(__file__).name} install|start|stop|status", file=sys.stderr)
        return 2
    if argv[0] == "status":
        print(status())
        return 0
    try:
        actions[argv[0]]()
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    if argv[0] == "start":
        print(f"neo4j {version()} ready on bolt://{HOST}:{port(NAME)} (credentials in .services/secrets/{NAME}.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
