"""The configuration directory and the profiles it holds.

Layout of ``$PROVGRAPH_HOME`` (default ``~/.provgraph``, mode 0700)::

    config.json              {"default_profile": name, "profiles": {name: {...}}}
    secrets/<profile>.json   passwords and keys of one profile, mode 0600

A profile names one storage, one repository and one broker, each as
``{"backend": <name>, "config": {...}}``. Secret values never go to
``config.json``: they are merged in from the profile's secrets file on load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provgraph.exceptions import ConfigurationError, ProfileNotFound

CONFIG_FILE = "config.json"
SECRETS_DIR = "secrets"
PROFILE_SECTIONS = ("storage", "repository", "broker")


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
        if not self.path.exists():
            return {"default_profile": None, "profiles": {}}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read {self.path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            raise ConfigurationError(f"{self.path} is not a provgraph configuration (no 'profiles' mapping)")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
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
        (self.home / SECRETS_DIR).mkdir(parents=True, exist_ok=True)
        (self.home / SECRETS_DIR).chmod(0o700)
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
        if not path.exists():
            return {}
        if path.stat().st_mode & 0o077:
            raise ConfigurationError(f"{path} is readable by other users; run: chmod 600 {path}")
        return json.loads(path.read_text())


def _validate_name(name: str) -> None:
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
        raise ConfigurationError(
            f"invalid profile name {name!r}: use letters, digits, '-', '_' or '.', not starting with '.'"
        )


def _write_private(path: Path, data: Any) -> None:
    """Write JSON atomically to a file only its owner can read."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


