"""serve: the graph over HTTP."""

from __future__ import annotations

import os
import sys

import click

from ..errors import CheckFailed, InputError
from .common import SECONDS, Context, cli, pass_ctx


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. The default answers only this machine: the server has no "
                   "rate limits and runs the queries it is sent, so expose it (0.0.0.0) only behind a proxy "
                   "you trust.")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one (printed on start).")
@click.option("--allow-update", is_flag=True,
              help="Accept SPARQL Update on /sparql from requests carrying `Authorization: Bearer TOKEN`, "
                   "TOKEN being the value of the environment variable DISPUTE_KG_UPDATE_TOKEN (required).")
@click.option("--allow-service", is_flag=True,
              help="Allow SERVICE clauses (refused by default: the server would send requests to any host "
                   "a query names).")
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds a query may run before it is stopped and answered with 503.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10000, show_default=True,
              help="Row cap per answer; a capped answer is marked truncated.")
@click.option("--get", "get_path", default=None, metavar="PATH",
              help="Answer one GET request for PATH in-process, print the body and exit (0 if status < 400).")
@click.option("--quiet/--log", default=True, help="Log each request to stderr with --log.")
@pass_ctx
def serve(ctx: Context, host: str, port: int, allow_update: bool, allow_service: bool, timeout: float,
          max_rows: int, get_path: str | None, quiet: bool) -> None:
    """Serve the graph over HTTP: a SPARQL 1.1 endpoint, the stored queries as a JSON API, OpenAPI.

    Routes: /sparql (SPARQL 1.1 Protocol, content negotiation, service description), /api/queries,
    /api/queries/NAME?param=value&_format=csv&_limit=10, /openapi.json. Read-only unless --allow-update.
    It listens on 127.0.0.1 unless --host says otherwise, so only this machine can reach it.

    Example: dispute-kg serve --get '/api/queries/claims?state=Japan&_format=csv'
    """
    from ..http.server import UPDATE_TOKEN_ENV, Settings, call, make_app, make_server
    from ..kg import KnowledgeGraph
    from ..stores.base import open_store, parse_selector

    token = os.environ.get(UPDATE_TOKEN_ENV) or None
    if allow_update and not token:
        raise InputError(f"--allow-update needs a bearer token: set the environment variable {UPDATE_TOKEN_ENV} "
                         "(never pass it on the command line)")
    settings = Settings(allow_update=allow_update, allow_service=allow_service, update_token=token,
                        timeout=timeout, max_rows=max_rows)
    kg = ctx.open()
    if allow_update and kg.selector.scheme == "oxigraph":
        # the embedded store is opened read-only for queries; updates need it writable
        kg.close()
        kg = KnowledgeGraph(kg.project, open_store(kg.selector, project=kg.project, read_only=False),
                            parse_selector(ctx.store))
    app = make_app(kg, settings)
    try:
        if get_path is not None:
            status, _, body = call(app, get_path)
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
            if status >= 400:
                raise CheckFailed(f"GET {get_path} answered HTTP {status}")
            return
        server = make_server(app, host, port, quiet=quiet)
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"dispute-kg serving {kg.project.root} from {kg.store.name}: at "
                   f"http://{shown}:{server.server_port}/sparql and /api/queries "
                   f"({'updates with token' if allow_update else 'read-only'}); Ctrl-C stops it")
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        kg.close()
