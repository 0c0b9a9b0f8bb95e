"""OpenSSH server of the service kit: a loopback "remote computer".

Runs Debian's ``sshd`` (package ``openssh-server``) as
``sshd -D -e -f .services/ssh/sshd_config`` on ``127.0.0.1:port("ssh")`` with
its own ed25519 host key; the system sshd and ``/etc/ssh`` are not used.
Logins are by public key only and only for the dedicated local account
``provgraph-ssh`` (created with ``useradd`` when missing), whose
``~/.ssh/authorized_keys`` gets our generated ed25519 client key.

``.services/secrets/ssh.json`` holds ``host``, ``port``, ``username``,
``key_filename`` (the private key, mode 0600) and ``known_hosts`` (a file with
our host key for ``[127.0.0.1]:<port>``), e.g. for Fabric::

    Connection(c["host"], port=c["port"], user=c["username"],
               connect_kwargs={"key_filename": c["key_filename"]})

Usage: ``python3 services/svc_ssh.py install|start|stop|status``
"""

from __future__ import annotations

import os
import pwd
import socket
import string
import sys
from pathlib import Path

from _common import (
    HOST,
    ServiceError,
    Status,
    apt_install,
    debian_version,
    ensure_port_free,
    extra_bind,
    main,
    port,
    port_open,
    read_pid,
    run,
    secret,
    service_dir,
    spawn,
    terminate,
    wait_while_alive,
    which,
    write_secret,
)

NAME = "ssh"
USER = "provgraph-ssh"
TEMPLATE = Path(__file__).resolve().parent / "ssh" / "sshd_config"
PRIVSEP_DIR = Path("/run/sshd")  # sshd refuses to start without it
KEY_COMMENT = "provgraph-services@"  # + the service folder the client key belongs to


def _paths() -> dict[str, Path]:
    root = service_dir(NAME)
    return {
        "root": root,
        "config": root / "sshd_config",
        "host_key": root / "ssh_host_ed25519_key",
        "client_key": root / "id_ed25519",
        "known_hosts": root / "known_hosts",
        "log": root / "sshd.log",
        "pid": root / "sshd.pid",
    }


def _sshd() -> str | None:
    return which("sshd")


def _stop_system_instance() -> None:
    """Stop an sshd that Debian's postinst may have started (where no policy-rc.d forbids it)."""
    if read_pid(Path("/run/sshd.pid")) is not None and Path("/etc/init.d/ssh").exists():
        run(["/etc/init.d/ssh", "stop"], check=False)


def _keygen(path: Path, comment: str) -> None:
    """Create an ed25519 key pair at ``path`` unless it exists."""
    if not path.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    path.chmod(0o600)


def _still_used(key_line: str, ours: str) -> bool:
    """False for an older key of ours or one of a service folder that is gone."""
    comment = key_line.rsplit(" ", 1)[-1]
    if not comment.startswith(KEY_COMMENT):
        return True
    return comment != ours.rsplit(" ", 1)[-1] and Path(comment[len(KEY_COMMENT):]).exists()


def _ensure_account(public_key: str) -> None:
    """Create the login account if missing and authorise our client key."""
    try:
        account = pwd.getpwnam(USER)
    except KeyError:
        # password "*": no password login, yet not "locked" ("!") for sshd without PAM
        proc = run(["useradd", "--create-home", "--shell", "/bin/bash", "--password", "*",
                    "--comment", "provgraph service kit ssh account", USER], check=False)
        try:  # svc_slurm creates the same account, maybe concurrently: either may win
            account = pwd.getpwnam(USER)
        except KeyError:
            raise ServiceError(f"useradd {USER} failed: {proc.stderr.strip()}") from None
    shadow = run(["getent", "shadow", USER], check=False).stdout.split(":")
    if len(shadow) > 1 and shadow[1].startswith("!"):
        run(["usermod", "--password", "*", USER])
    home = Path(account.pw_dir)
    dot_ssh = home / ".ssh"
    for folder in (home, dot_ssh):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chown(folder, account.pw_uid, account.pw_gid)
    home.chmod(home.stat().st_mode & ~0o022)  # StrictModes: not group/world-writable
    keys = dot_ssh / "authorized_keys"
    old = keys.read_text().splitlines() if keys.exists() else []
    # other clones of the repo may use the same account: keep their keys, but
    # drop those whose service folder (named in the key comment) is gone
    lines = [line for line in old if _still_used(line, public_key)] + [public_key]
    if lines != old:
        keys.write_text("\n".join(lines) + "\n")
    keys.chmod(0o600)
    os.chown(keys, account.pw_uid, account.pw_gid)


def _credentials() -> dict:
    """Write (and return) what a client needs to log in."""
    p = _paths()
    number = port("ssh")
    data = {
        "host": HOST, "port": number, "username": USER,
        "key_filename": str(p["client_key"]),
        "public_key_filename": str(p["client_key"].with_suffix(".pub")),
        "known_hosts": str(p["known_hosts"]),
    }
    if secret(NAME, data) != data:  # stored earlier with another port or folder
        write_secret(NAME, data)
    return data


def install() -> None:
    """Install openssh-server, generate keys, account, config and credentials (idempotent)."""
    fresh = _sshd() is None
    apt_install("openssh-server")
    if fresh:
        _stop_system_instance()
    p = _paths()
    p["root"].chmod(0o700)
    _keygen(p["host_key"], "provgraph-sshd")
    _keygen(p["client_key"], f"{KEY_COMMENT}{p['root']}")
    number = port("ssh")
    host_key = p["host_key"].with_suffix(".pub").read_text().split()[:2]
    p["known_hosts"].write_text(f"[{HOST}]:{number},[localhost]:{number} {' '.join(host_key)}\n")
    _ensure_account(p["client_key"].with_suffix(".pub").read_text().strip())
    config = string.Template(TEMPLATE.read_text()).substitute(
        port=number, host_key=p["host_key"], user=USER,
        extra_listen=f"\nListenAddress {extra_bind()}" if extra_bind() else "")
    if not p["config"].exists() or p["config"].read_text() != config:
        p["config"].write_text(config)
    _credentials()


def _banner_ok(number: int) -> bool:
    try:
        with socket.create_connection((HOST, number), timeout=2) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def _wait_ready(pid: int, timeout: float = 30.0) -> None:
    """Wait until sshd greets on its port; fail early with the log tail if it died."""
    p = _paths()
    wait_while_alive(lambda: _banner_ok(port("ssh")), pid, p["pid"], p["log"], "sshd", timeout, interval=0.1)


def start() -> None:
    """Start our sshd if it is not running and wait until it answers."""
    install()
    p = _paths()
    pid = read_pid(p["pid"])
    if pid is None:
        ensure_port_free(port("ssh"), "ssh")
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        sshd = _sshd()
        run([sshd, "-t", "-f", str(p["config"])])  # a config error surfaces here, readably
        # sshd re-executes itself, so it must be started by absolute path
        pid = spawn([sshd, "-D", "-e", "-f", str(p["config"])], p["log"], p["pid"])
    _wait_ready(pid)


def stop() -> None:
    """Stop our sshd (and the sessions it forked); the system sshd is not touched."""
    terminate(_paths()["pid"])


def status() -> Status:
    """Report whether openssh-server is installed and our sshd is up."""
    installed = _sshd() is not None
    version = debian_version("openssh-server") if installed else None
    running = read_pid(_paths()["pid"]) is not None and port_open(port("ssh"))
    return Status(NAME, installed, running, port("ssh"), version)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__], sys.argv[1:]))
