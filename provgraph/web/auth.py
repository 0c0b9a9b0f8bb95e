"""The bearer token of a read-write API, kept in the profile's secrets file (mode 0600).

``provgraph restapi --read-write`` calls :func:`ensure_token`: the first time it generates a
random token and stores it as ``{"restapi": {"token": ...}}`` in
``$PROVGRAPH_HOME/secrets/<profile>.json``, which only the user can read; later starts reuse it.
Clients send it as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets

from provgraph.profiles import Config, Profile
from provgraph.web.errors import ApiError

SECTION = "restapi"


def ensure_token(profile: Profile, config: Config | None = None) -> str:
    """Return the profile's API token, generating and storing it on first use."""
    config = config or Config()
    stored = config.get(profile.name)
    token = stored.secrets.get(SECTION, {}).get("token")
    if isinstance(token, str) and token:
        return token
    token = secrets.token_urlsafe(32)
    config.store(dataclasses.replace(stored, secrets={**stored.secrets, SECTION: {"token": token}}))
    return token


def check_bearer(authorization: str | None, token: str | None) -> None:
    """Accept a request only with the right ``Authorization: Bearer`` header.

    :raises ApiError: 403 when the API is read-only, 401 for a missing or wrong token
    """
    if token is None:
        raise ApiError(403, "this API is read-only: start it with `provgraph restapi --read-write` to change things")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise ApiError(401, "send the token of the profile's secrets as 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "wrong bearer token")
