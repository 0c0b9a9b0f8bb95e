"""The configuration directory and the profiles it holds.

Layout of ``$PROVGRAPH_HOME`` (default ``~/.provgraph``)::

    config.json              {"default_profile": name, "profiles": {name: {...}}}
    secrets/<profile>.json   passwords and keys of one profile, mode 0600
    <profile>/               the local files of a profile (sqlite storage, repository, workers)

A profile names one storage, one repository and one broker, each as
``{"backend": <name>, "config": {...}}``. Secret values never go to
``config.json``: they are merged in from the profile's secrets file on load.

Modes are set only on what provgraph creates: a home or secrets folder it makes is 0700, the
files it writes 0600; an existing ``PROVGRAPH_HOME`` (a shared folder, say) keeps its mode.
Profile names that would name the home's own entries (``secrets``, ``config.json``...) are
refused, so a profile's folder is never one of them. Both files are read as UTF-8 JSON of the
documented shape; anything else (another encoding, a FIFO, a folder) is a ConfigurationError.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provgraph.exceptions import ConfigurationError, ProfileNotFound

CONFIG_FILE = "config.json"
SECRETS_DIR = "secrets"
PROFILE_SECTIONS = ("storage", "repository", "broker")
#: sections a profile's secrets file may hold: the profile's own, and the REST API's bearer token
SECRETS_SECTIONS = (*PROFILE_SECTIONS, "restapi")
#: names of the home's own entries (compared case-insensitively): no profile may be called so
RESERVED_NAMES = frozenset({SECRETS_DIR, CONFIG_FILE, f"{CONFIG_FILE}.tmp", "tmp", "cache", "logs", "lost+found"})
#: the largest config or secrets file read (a guard against a device or a huge file named by mistake)
MAX_FILE_BYTES = 16 * 1024 * 1024


def config_home() -> Path:
    """Return the configuration directory (``$PROVGRAPH_HOME`` or ``~/.provgraph``)."""
    return Path(os.environ.get("PROVGRAPH_HOME", Path.home() / ".provgraph")).expanduser()


@dataclass(frozen=True)
class Profile:
    """One named combination of storage, repository and broker settings.

    :param name: the profile's name
    :param storage: ``{"backend": "neo4j"|"sqlite", "config": {...}}``
    :param repository: ``{"backend": "local"|"s3", "config": {...}}``
    :param broker: ``{"backend": "rabbitmq"|..., "config": {...}}``
    :param secrets: per-section secret values, e.g. ``{"storage": {"password": ...}}``
    """

    name: str
    storage: dict[str, Any] = field(default_factory=dict)
    repository: dict[str, Any] = field(default_factory=dict)
    broker: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def section_config(self, section: str) -> dict[str, Any]:
        """Return the config of ``section`` with its secrets merged in."""
        if section not in PROFILE_SECTIONS:
            raise ConfigurationError(f"unknown profile section {section!r}; expected one of {PROFILE_SECTIONS}")
        merged = dict(getattr(self, section).get("config", {}))
        merged.update(self.secrets.get(section, {}))
        return merged

    def public_dict(self) -> dict[str, Any]:
        """Return the profile without its secrets (what ``profile show`` prints)."""
        return {section: getattr(self, section) for section in PROFILE_SECTIONS}


class Config:
    """Read and write the profiles of one configuration directory."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or config_home()

    @property
    def path(self) -> Path:
        """The ``config.json`` file."""
        return self.home / CONFIG_FILE

    def _read(self) -> dict[str, Any]:
        if not self.path.exists() and not self.path.is_symlink():
            return {"default_profile": None, "profiles": {}}
        data = read_json_file(self.path, "the configuration")
        _check_config_shape(data, self.path)
        return data

    def _write(self, data: dict[str, Any]) -> None:
        make_private_dir(self.home)
        _write_private(self.path, data)

    def profile_names(self) -> list[str]:
        """Return the names of all profiles, sorted."""
        return sorted(self._read()["profiles"])

    def default_profile_name(self) -> str | None:
        """Return the default profile's name, or None when there are no profiles."""
        return self._read().get("default_profile")

    def get(self, name: str) -> Profile:
        """Return the profile ``name`` with its secrets.

        :raises ProfileNotFound: when there is no such profile
        """
        profiles = self._read()["profiles"]
        if name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ProfileNotFound(f"no profile named {name!r} in {self.home} (profiles: {known})")
        entry = profiles[name]
        return Profile(
            name=name,
            secrets=self._read_secrets(name),
            **{section: entry.get(section, {}) for section in PROFILE_SECTIONS},
        )

    def store(self, profile: Profile, make_default: bool = False) -> None:
        """Create or replace ``profile``; the first profile becomes the default."""
        _validate_name(profile.name)
        data = self._read()
        data["profiles"][profile.name] = profile.public_dict()
        if make_default or not data.get("default_profile"):
            data["default_profile"] = profile.name
        secrets_path = self.home / SECRETS_DIR / f"{profile.name}.json"
        make_private_dir(self.home)
        make_private_dir(self.home / SECRETS_DIR)
        _write_private(secrets_path, profile.secrets)
        self._write(data)

    def set_default(self, name: str) -> None:
        """Make ``name`` the default profile."""
        data = self._read()
        if name not in data["profiles"]:
            raise ProfileNotFound(f"no profile named {name!r} in {self.home}")
        data["default_profile"] = name
        self._write(data)

    def delete(self, name: str) -> None:
        """Remove profile ``name`` and its secrets (its data stays where it is)."""
        data = self._read()
        if name not in data["profiles"]:
            raise ProfileNotFound(f"no profile named {name!r} in {self.home}")
        del data["profiles"][name]
        if data.get("default_profile") == name:
            data["default_profile"] = min(data["profiles"], default=None)
        (self.home / SECRETS_DIR / f"{name}.json").unlink(missing_ok=True)
        self._write(data)

    def _read_secrets(self, name: str) -> dict[str, dict[str, Any]]:
        path = self.home / SECRETS_DIR / f"{name}.json"
        if not path.exists() and not path.is_symlink():
            return {}
        data = read_json_file(path, f"the secrets of profile {name!r}", private=True)
        if not isinstance(data, dict) or not all(
                section in SECRETS_SECTIONS and isinstance(values, dict) for section, values in data.items()):
            raise ConfigurationError(f"{path} is not a provgraph secrets file: expected an object mapping "
                                     f"{', '.join(SECRETS_SECTIONS)} to objects")
        return data


def read_json_file(path: Path, what: str, private: bool = False) -> Any:
    """The JSON value in the regular file ``path``, read as UTF-8 without ever blocking.

    :param what: how the file is named in errors, e.g. ``"the configuration"``
    :param private: refuse the file if other users may read it
    :raises ConfigurationError: if ``path`` is not a regular file (a FIFO, a folder, a device), cannot
        be read, is larger than :data:`MAX_FILE_BYTES`, is not UTF-8, or is not JSON
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} in {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"cannot read {what} in {path}: not a regular file")
        if private and info.st_mode & 0o077:
            raise ConfigurationError(f"{path} is readable by other users; run: chmod 600 {path}")
        if info.st_size > MAX_FILE_BYTES:
            raise ConfigurationError(f"cannot read {what} in {path}: {info.st_size} bytes is no provgraph file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} in {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"cannot read {what} in {path}: not UTF-8 text (byte {exc.start})") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigurationError(f"cannot read {what} in {path}: not valid JSON ({exc})") from exc


def _check_config_shape(data: Any, path: Path) -> None:
    """Refuse a configuration whose shape is not ``{"default_profile": str|null, "profiles": {name: {...}}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ConfigurationError(f"{path} is not a provgraph configuration (no 'profiles' mapping)")
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigurationError(f"{path}: 'default_profile' must be a profile name, not {default!r}")
    for name, entry in data["profiles"].items():
        if not isinstance(entry, dict) or not all(_section_shape(entry.get(part, {})) for part in PROFILE_SECTIONS):
            raise ConfigurationError(f"{path}: profile {name!r} is malformed; each of {', '.join(PROFILE_SECTIONS)} "
                                     "must be {'backend': <name>, 'config': {...}} (or absent)")


def _section_shape(part: Any) -> bool:
    if not isinstance(part, dict):
        return False
    return not part or (isinstance(part.get("backend"), str) and isinstance(part.get("config", {}), dict))


def make_private_dir(path: Path) -> None:
    """Create folder ``path`` with mode 0700 if it does not exist; an existing folder keeps its mode.

    :raises ConfigurationError: if ``path`` exists and is not a folder, or cannot be created
    """
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not path.is_dir():
            raise ConfigurationError(f"{path} exists and is not a folder") from None
        return
    except OSError as exc:
        raise ConfigurationError(f"cannot create {path}: {exc.strerror or exc}") from exc
    path.chmod(0o700)  # mkdir's mode is masked by the umask; ours must be exactly 0700


def is_reserved_name(name: str) -> bool:
    """Whether ``name`` names one of the home's own entries (so no profile may take it)."""
    return name.casefold() in RESERVED_NAMES or name.casefold().endswith(".tmp")


def _validate_name(name: str) -> None:
    if (not isinstance(name, str) or not name or len(name) > 100 or name.startswith(".")
            or not all(ch.isalnum() or ch in "-_." for ch in name)):
        raise ConfigurationError(
            f"invalid profile name {name!r}: use letters, digits, '-', '_' or '.' (at most 100), "
            "not starting with '.'"
        )
    if is_reserved_name(name):
        raise ConfigurationError(
            f"invalid profile name {name!r}: it names an entry of the configuration folder itself "
            f"(reserved: {', '.join(sorted(RESERVED_NAMES))}, and names ending in '.tmp')"
        )


def _write_private(path: Path, data: Any) -> None:
    """Write JSON atomically to a file only its owner can read."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from exc


