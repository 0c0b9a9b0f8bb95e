"""Hosts made of Linux network namespaces on a private link inside this machine (the fleet test's world).

:class:`Link` makes a bridge ``pgf<tag>-br`` in the root namespace holding ``10.213.<n>.254/24`` and,
per host, a namespace ``pgf<tag>-<name>`` with loopback up and a veth pair: ``<name>`` inside at
``10.213.<n>.<i>/24``, its peer on the bridge. Processes start in a host with
:meth:`Link.popen`, which also gives them a UTS namespace of their own whose hostname is the
host's name. :meth:`Link.cut` takes a host's cable out (its bridge port down) and puts it back;
:meth:`Link.kill_host` SIGKILLs every process in a host at once. :meth:`Link.destroy` removes
everything the link made and is safe to call twice; it is what the test's ``finally`` runs.

Only names with the test's own prefix and addresses of the link's own /24 are ever touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``ip ARGS``; raise with its stderr when ``check`` and it fails."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


@dataclass
class Host:
    """One namespace on the link."""

    name: str
    netns: str
    address: str
    bridge_port: str


@dataclass
class Link:
    """A private /24 with a bridge in the root namespace and one namespace per host."""

    subnet: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:4])
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        """The bridge's interface name."""
        return f"pgf{self.tag}-br"

    @property
    def gateway(self) -> str:
        """The root namespace's address on the link."""
        return f"10.213.{self.subnet}.254"

    def create(self, names: Sequence[str]) -> None:
        """Make the bridge and one host per name (addresses .1, .2, ... in order)."""
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for number, name in enumerate(names, start=1):
            host = Host(name, f"pgf{self.tag}-{name}", f"10.213.{self.subnet}.{number}", f"pgf{self.tag}{number}")
            self.hosts[name] = host
            ip("netns", "add", host.netns)
            ip("-n", host.netns, "link", "set", "lo", "up")
            # outgoing connections must not take a service's port (the kit's ports lie in Linux's default
            # ephemeral range 32768-60999): the namespace's own range is moved above them
            subprocess.run(["ip", "netns", "exec", host.netns, "sysctl", "-q", "-w",
                            "net.ipv4.ip_local_port_range=61000 65000"], check=True, capture_output=True)
            ip("link", "add", host.bridge_port, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
            ip("link", "set", host.bridge_port, "master", self.bridge)
            ip("link", "set", host.bridge_port, "up")
            ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
            ip("-n", host.netns, "link", "set", "eth0", "up")

    def command(self, host: str, argv: Sequence[str]) -> list[str]:
        """``argv`` run in ``host``'s network namespace with a UTS namespace named after the host."""
        netns = self.hosts[host].netns
        return ["ip", "netns", "exec", netns, "unshare", "--uts", "sh", "-c",
                f'hostname {host} && exec "$@"', "sh", *argv]

    def popen(self, host: str, argv: Sequence[str], env: dict[str, str], log: str) -> subprocess.Popen:
        """Start ``argv`` in ``host`` (a new session), output appended to ``log``."""
        with open(log, "ab") as out:
            return subprocess.Popen(self.command(host, argv), env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def run(self, host: str, argv: Sequence[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
        """Run ``argv`` in ``host`` to its end; its output is returned."""
        return subprocess.run(self.command(host, argv), env=env, capture_output=True, text=True, timeout=timeout)

    def pids(self, host: str) -> list[int]:
        """The processes in ``host``'s network namespace."""
        result = ip("netns", "pids", self.hosts[host].netns, check=False)
        return [int(word) for word in result.stdout.split() if word.isdigit()]

    def kill_host(self, host: str) -> int:
        """SIGKILL every process of ``host`` at once (repeated until none is left); return how many."""
        killed = 0
        for _ in range(20):
            pids = self.pids(host)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        return killed

    def cut(self, host: str, down: bool) -> None:
        """Take ``host``'s cable out of the bridge (``down``) or put it back."""
        ip("link", "set", self.hosts[host].bridge_port, "down" if down else "up")

    def destroy(self) -> None:
        """Kill every process of every host, delete the namespaces, veths and bridge (idempotent)."""
        for name, host in list(self.hosts.items()):
            if host.netns in ip("netns", "list", check=False).stdout.split():
                self.kill_host(name)
                ip("netns", "delete", host.netns, check=False)
            ip("link", "delete", host.bridge_port, check=False)
        ip("link", "delete", self.bridge, check=False)
