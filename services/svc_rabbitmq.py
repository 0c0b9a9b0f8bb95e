"""RabbitMQ broker of the service kit (Debian's ``rabbitmq-server`` package).

We never use the Debian system instance (``/etc/init.d/rabbitmq-server``,
``/var/lib/rabbitmq``).  Our node runs as the calling user with its own
node name, Erlang cookie, config, mnesia and log folders, all under
``.services/rabbitmq``:

* AMQP on ``127.0.0.1:port("rabbitmq")``, Erlang distribution on
  ``127.0.0.1:port("rabbitmq_dist")``, epmd on loopback (``ERL_EPMD_ADDRESS``);
* vhost ``provgraph`` and user ``provgraph`` with a generated password, stored
  in ``.services/secrets/rabbitmq.json``; the ``guest`` user is deleted.

Usage: ``python3 services/svc_rabbitmq.py install|start|stop|status``
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

from _common import (
    HOST,
    Status,
    apt_install,
    debian_version,
    ensure_port_free,
    extra_bind,
    main,
    port,
    port_open,
    read_pid,
    read_secret,
    run,
    secret,
    service_dir,
    spawn,
    terminate,
    wait_while_alive,
    which,
    write_secret,
)

NAME = "rabbitmq"
VHOST = USER = "provgraph"
BIN = Path("/usr/lib/rabbitmq/bin")  # the real scripts, not the su-to-rabbitmq wrappers
TEMPLATE = Path(__file__).resolve().parent / "rabbitmq" / "rabbitmq.conf"
LOOPBACK_DIST = "-kernel inet_dist_use_interface {127,0,0,1}"


def _node() -> str:
    """Our Erlang node name; the AMQP port in it lets two clones run side by side."""
    return f"provgraph-{port('rabbitmq')}@localhost"


def _paths() -> dict[str, Path]:
    root = service_dir(NAME)
    return {
        "root": root,
        "home": root / "home",  # HOME: holds the Erlang cookie
        "mnesia": root / "mnesia",
        "logs": root / "log",
        "config": root / "rabbitmq.conf",
        "plugins": root / "enabled_plugins",
        "log": root / "rabbitmq.out",  # stdout/stderr of the node
        "pid": root / "rabbitmq.pid",
        "marker": root / "mnesia" / f"{_node()}-provgraph-provisioned",
    }


def _env() -> dict[str, str]:
    """Environment that points the server and rabbitmqctl at our node only."""
    p = _paths()
    ours = {
        "HOME": str(p["home"]),
        "RABBITMQ_NODENAME": _node(),
        "RABBITMQ_DIST_PORT": str(port("rabbitmq_dist")),
        "RABBITMQ_MNESIA_BASE": str(p["mnesia"]),
        "RABBITMQ_LOG_BASE": str(p["logs"]),
        "RABBITMQ_CONFIG_FILE": str(p["config"]),
        # keep /etc/rabbitmq out of the picture: these point at files we never create
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(p["root"] / "advanced.config"),
        "RABBITMQ_CONFIG_FILES": str(p["root"] / "conf.d"),
        "RABBITMQ_CONF_ENV_FILE": str(p["root"] / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(p["plugins"]),
        "RABBITMQ_PID_FILE": str(p["mnesia"] / f"{_node()}.pid"),
        "ERL_EPMD_ADDRESS": HOST,
        "ERL_CRASH_DUMP": str(p["logs"] / "erl_crash.dump"),
        # the server's and the CLI's distribution listeners bind to loopback too
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": LOOPBACK_DIST,
        "RABBITMQ_CTL_ERL_ARGS": LOOPBACK_DIST,
    }
    return dict(os.environ, **ours)


def _installed() -> bool:
    return (BIN / "rabbitmq-server").exists() and (BIN / "rabbitmqctl").exists()


def _stop_system_instance() -> None:
    """Stop a broker Debian's postinst may have started (where no policy-rc.d forbids it)."""
    pid = read_pid(Path("/run/rabbitmq/pid"))
    if pid is not None and Path("/etc/init.d/rabbitmq-server").exists():
        run(["/etc/init.d/rabbitmq-server", "stop"], check=False)
    _kill_idle_epmd()


def _kill_idle_epmd() -> None:
    """Stop epmd if no Erlang node is registered with it any more."""
    epmd = which("epmd")
    if epmd is None:
        return
    names = run([epmd, "-names"], check=False, env=_env())
    if names.returncode == 0 and "name " not in names.stdout:
        run([epmd, "-kill"], check=False, env=_env())


def install() -> None:
    """Install the Debian package and lay out our node's folders (idempotent)."""
    fresh = not _installed()
    apt_install("rabbitmq-server")
    if fresh:
        _stop_system_instance()
    p = _paths()
    for key in ("home", "mnesia", "logs"):
        p[key].mkdir(parents=True, exist_ok=True)
    p["root"].chmod(0o700)
    cookie = p["home"] / ".erlang.cookie"
    if not cookie.exists():
        fd = os.open(cookie, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(20))
    if not p["plugins"].exists():
        p["plugins"].write_text("[].\n")
    config = string.Template(TEMPLATE.read_text()).substitute(
        amqp_port=port("rabbitmq"),
        extra_listener=f"\nlisteners.tcp.2 = {extra_bind()}:{port('rabbitmq')}" if extra_bind() else "")
    if not p["config"].exists() or p["config"].read_text() != config:
        p["config"].write_text(config)
    _credentials()


def _credentials() -> dict:
    """Return the stored credentials, generating the password once."""
    stored = secret(NAME, {"password": "<generate>"})
    number = port("rabbitmq")
    data = dict(
        stored, user=USER, vhost=VHOST, host=HOST, port=number,
        url=f"amqp://{USER}:{stored['password']}@{HOST}:{number}/{VHOST}",
    )
    if data != read_secret(NAME):
        write_secret(NAME, data)
    return data


def _ctl(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run([str(BIN / "rabbitmqctl"), "-n", _node(), "-q", *args],
               check=check, env=_env(), input=stdin)


def _provision() -> None:
    """Create vhost and user, set the password and permissions, delete guest.

    The rabbitmqctl calls take about two seconds each, so they run only when
    the marker beside the node's mnesia data is missing or records another
    password.
    """
    creds = _credentials()
    p = _paths()
    digest = hashlib.sha256(creds["password"].encode()).hexdigest()
    if p["marker"].exists() and p["marker"].read_text() == digest:
        return
    users = _ctl("list_users").stdout.split()
    _ctl("add_vhost", VHOST, check=False)  # fails harmlessly when it exists
    if USER not in users:
        # the password goes through stdin: it may start with "-" and stays out of ps
        _ctl("add_user", USER, stdin=creds["password"] + "\n")
    else:
        _ctl("change_password", USER, stdin=creds["password"] + "\n")
    _ctl("set_permissions", "-p", VHOST, USER, ".*", ".*", ".*")
    if "guest" in users:
        _ctl("delete_user", "guest")
    p["marker"].write_text(digest)


def _wait_ready(pid: int, timeout: float = 120.0) -> None:
    """Wait for the AMQP port; fail early with the log tail if the node died."""
    p = _paths()
    wait_while_alive(lambda: port_open(port("rabbitmq")), pid, p["pid"], p["log"], "rabbitmq", timeout)


def start() -> None:
    """Start our node if it is not running, wait until it serves AMQP, provision it."""
    install()
    p = _paths()
    pid = read_pid(p["pid"])
    if pid is None:
        ensure_port_free(port("rabbitmq"), "rabbitmq")
        ensure_port_free(port("rabbitmq_dist"), "rabbitmq_dist")
        pid = spawn([str(BIN / "rabbitmq-server")], p["log"], p["pid"], env=_env(), cwd=p["root"])
    _wait_ready(pid)
    _provision()


def stop() -> None:
    """Stop our node (SIGTERM is a graceful shutdown for RabbitMQ) and its idle epmd."""
    p = _paths()
    if read_pid(p["pid"]) is not None:
        terminate(p["pid"], timeout=60)
    p["pid"].unlink(missing_ok=True)
    if _installed():
        _kill_idle_epmd()


def status() -> Status:
    """Report whether the package is installed and our node is up."""
    installed = _installed()
    version = debian_version("rabbitmq-server") if installed else None
    running = read_pid(_paths()["pid"]) is not None and port_open(port("rabbitmq"))
    return Status(NAME, installed, running, port("rabbitmq"), version)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__], sys.argv[1:]))
