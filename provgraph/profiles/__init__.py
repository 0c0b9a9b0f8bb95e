"""Profiles: how every part of provgraph finds its storage, repository and broker.

``load_profile(name=None)`` picks ``name``, else ``$PROVGRAPH_PROFILE``, else the
configuration's default profile, and makes it the current profile of this
context; ``get_profile()`` returns the current one (loading the default once).
"""

from __future__ import annotations

import os
from contextvars import ContextVar

from provgraph.exceptions import ConfigurationError
from provgraph.profiles.config import Config, Profile, config_home

__all__ = ["Config", "Profile", "config_home", "get_profile", "load_profile"]

_CURRENT: ContextVar[Profile | None] = ContextVar("provgraph_profile", default=None)


def load_profile(name: str | None = None) -> Profile:
    """Load a profile and make it the current one.

    :param name: profile name; defaults to ``$PROVGRAPH_PROFILE``, then the default profile
    :raises ProfileNotFound: when the named profile does not exist
    :raises ConfigurationError: when no name is given and there is no default profile
    """
    config = Config()
    chosen = name or os.environ.get("PROVGRAPH_PROFILE") or config.default_profile_name()
    if not chosen:
        raise ConfigurationError(
            f"no profile given and no default profile in {config.home}; "
            "create one (e.g. `make services-up` writes the 'services' profile)"
        )
    profile = config.get(chosen)
    _CURRENT.set(profile)
    return profile


def get_profile() -> Profile:
    """Return the current profile, loading the default one on first use."""
    profile = _CURRENT.get()
    return profile if profile is not None else load_profile()
