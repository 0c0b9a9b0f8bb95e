"""``provgraph restapi`` (the JSON API and the explorer) and ``provgraph web`` (the explorer's address first).

FastAPI and uvicorn are imported only when a server starts, so ``provgraph --help`` stays fast.
"""

from __future__ import annotations

import click

from provgraph.cli.params import load_cli_profile, provgraph_errors


def _serve(ctx: click.Context, host: str, port: int, read_write: bool, explorer: bool) -> None:
    profile = load_cli_profile(ctx)
    import uvicorn

    from provgraph.web.app import create_app

    token = None
    with provgraph_errors():
        if read_write:
            from provgraph.web.auth import ensure_token

            token = ensure_token(profile)
        app = create_app(profile, read_write=read_write, token=token)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    click.echo(f"profile {profile.name!r} ({profile.storage.get('backend')}), "
               f"{'read-write' if read_write else 'read-only'}")
    if explorer:
        click.echo(f"explorer: {base}/")
    click.echo(f"API: {base}/api/v1  (OpenAPI schema: {base}/api/v1/openapi.json, docs: {base}/api/v1/docs)")
    if read_write:
        click.echo("write endpoints need 'Authorization: Bearer <token>'; the token is in the profile's secrets "
                   f"file ($PROVGRAPH_HOME/secrets/{profile.name}.json, key restapi.token)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


_host = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
_port = click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port.")
_rw = click.option("--read-write", is_flag=True,
                   help="Enable the write endpoints (submit, pause/play/kill, extras), behind a bearer token.")


@click.command()
@_host
@_port
@_rw
@click.pass_context
def restapi(ctx: click.Context, host: str, port: int, read_write: bool) -> None:
    """Serve the REST API (and the explorer at /) of the profile; read-only unless --read-write."""
    _serve(ctx, host, port, read_write, explorer=False)


@click.command()
@_host
@_port
@_rw
@click.pass_context
def web(ctx: click.Context, host: str, port: int, read_write: bool) -> None:
    """Serve the provenance explorer in the browser (the same server as restapi)."""
    _serve(ctx, host, port, read_write, explorer=True)
