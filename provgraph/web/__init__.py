"""The REST API and the browser explorer (``provgraph restapi``, ``provgraph web``).

:func:`provgraph.web.app.create_app` builds the ASGI application (FastAPI): a versioned
JSON API under ``/api/v1`` (OpenAPI schema at ``/api/v1/openapi.json``) and the explorer,
a single page served from ``/`` whose assets ship in ``provgraph/web/static`` (no CDN).

Every read goes through the QueryBuilder and the ORM, as a Python user would write it:
there is no second query layer and no query text in this package. Writes (submit,
pause/play/kill, extras) exist only when the app is created read-write, and then need
the bearer token kept in the profile's secrets (:mod:`provgraph.web.auth`).

Nothing here is imported by ``provgraph --help``: FastAPI is loaded when a server starts.
"""
