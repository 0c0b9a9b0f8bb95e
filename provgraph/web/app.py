"""The ASGI application: the JSON API under ``/api/v1`` and the explorer page at ``/``."""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from provgraph.exceptions import ProvgraphError
from provgraph.profiles import Profile
from provgraph.web.errors import error_body, status_of

API_PREFIX = "/api/v1"
LOGGER = logging.getLogger(__name__)


def create_app(profile: Profile, *, read_write: bool = False, token: str | None = None) -> FastAPI:
    """Build the app serving ``profile``.

    :param read_write: expose the write endpoints (submit, pause/play/kill, extras)
    :param token: the bearer token the write endpoints demand (required with ``read_write``)
    """
    import provgraph
    from provgraph.web import api_entities, api_nodes, api_processes, api_query

    if read_write and not token:
        raise ValueError("a read-write API needs a bearer token")
    app = FastAPI(title="provgraph REST API", version=provgraph.__version__, redoc_url=None,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs",
                  description="Read the provenance graph of one profile; write endpoints need --read-write.")
    app.state.profile = profile
    app.state.token = token if read_write else None
    app.state.read_write = read_write
    app.add_middleware(ProfileMiddleware, profile=profile)
    _add_error_handlers(app)
    for module in (api_nodes, api_processes, api_entities, api_query):
        app.include_router(module.router, prefix=API_PREFIX)
    static = files("provgraph.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", include_in_schema=False)
    def explorer() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html")

    @app.get(API_PREFIX, include_in_schema=False)
    def api_root() -> RedirectResponse:
        return RedirectResponse(f"{API_PREFIX}/docs")

    @app.get(f"{API_PREFIX}/info", tags=["server"])
    def info() -> dict[str, Any]:
        """The profile served, its storage backend and whether writes are enabled."""
        return {"profile": profile.name, "backend": profile.storage.get("backend"), "read_write": read_write,
                "api": API_PREFIX}

    return app


class ProfileMiddleware:
    """Make the served profile current in the context every request runs in (threads inherit it)."""

    def __init__(self, app: Any, profile: Profile) -> None:
        self.app = app
        self.profile = profile

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        # the current profile is a ContextVar (provgraph.profiles); set it for this request's context
        from provgraph.profiles import _CURRENT

        _CURRENT.set(self.profile)
        await self.app(scope, receive, send)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProvgraphError)
    async def provgraph_error(request: Request, exc: ProvgraphError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            LOGGER.warning("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse(error_body(status, type(exc).__name__, str(exc)), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(item) for item in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse(error_body(422, "RequestValidationError", "; ".join(parts)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, "HTTPError", str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
