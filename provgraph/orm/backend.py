"""The storage backend and repository of the current profile, opened once per profile."""

from __future__ import annotations

import threading
from typing import Any

from provgraph.plugins import load_plugin
from provgraph.profiles import Profile, get_profile
from provgraph.storage.base import StorageBackend

_LOCK = threading.Lock()
_OPEN: dict[str, tuple[StorageBackend, Any]] = {}


def _open(profile: Profile) -> tuple[StorageBackend, Any]:
    backend_cls = load_plugin("storage", _entry_name(profile.storage.get("backend", "")))
    repository_cls = load_plugin("repository", _entry_name(profile.repository.get("backend", "")))
    repository = repository_cls.from_config(profile.section_config("repository"))
    return backend_cls(profile.section_config("storage")), repository


def _entry_name(backend: str) -> str:
    return backend if "." in backend else f"core.{backend}"


def _opened(profile: Profile | None = None) -> tuple[StorageBackend, Any]:
    profile = profile or get_profile()
    with _LOCK:
        if profile.name not in _OPEN:
            _OPEN[profile.name] = _open(profile)
        return _OPEN[profile.name]


def get_backend(profile: Profile | None = None) -> StorageBackend:
    """Return the storage backend of ``profile`` (default: the current profile)."""
    return _opened(profile)[0]


def get_repository(profile: Profile | None = None) -> Any:
    """Return the file repository of ``profile`` (default: the current profile)."""
    return _opened(profile)[1]


def reset() -> None:
    """Close every opened backend (used when profiles change, e.g. in tests)."""
    with _LOCK:
        for backend, _ in _OPEN.values():
            backend.close()
        _OPEN.clear()
