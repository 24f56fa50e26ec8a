"""serve: the graph over HTTP."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ..errors import BackendUnavailable, CheckFailed, InputError
from .common import SECONDS, Context, cli, pass_ctx


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. The default answers only this machine; to publish the endpoint, "
                   "read docs/scaling.md first (limits, --allowed-host, --cors, a proxy in front).")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one (printed on start).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A Host name this server answers besides localhost, 127.0.0.1 and ::1 (repeatable; '*' "
                   "answers any). Other names get 421, which stops DNS-rebinding pages reading the server.")
@click.option("--cors", is_flag=True,
              help="Send Access-Control-Allow-Origin: * so pages on any site may query this endpoint.")
@click.option("--allow-update", is_flag=True,
              help="Accept POST /api/additions (Turtle, validated and recorded like `dispute-kg add`) and "
                   "POST /api/links/accept|reject (like `dispute-kg link accept|reject --offline`, with buttons "
                   "on the entity pages) from requests carrying `Authorization: Bearer TOKEN`, TOKEN being the "
                   "value of the environment variable DISPUTE_KG_UPDATE_TOKEN (required). SPARQL Update is never "
                   "applied over HTTP.")
@click.option("--allow-service", is_flag=True,
              help="Allow SERVICE clauses (federation). Without it the query workers cannot open a network "
                   "socket, so no query makes the server send a request anywhere.")
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds a query may run; then its worker process is killed and the answer is 503.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10000, show_default=True,
              help="Row cap per answer; a capped answer is marked truncated.")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=None,
              help="Query worker processes (default: the number of cores, at least 2).")
@click.option("--worker-memory", type=click.IntRange(min=64), default=2048, show_default=True, metavar="MB",
              help="Memory a query worker may take beyond its size at start; a query over it ends its worker "
                   "(answered 500) and a fresh one takes its place.")
@click.option("--threads", type=click.IntRange(min=1, max=256), default=8, show_default=True,
              help="Requests handled at once; a repeat of a kept stored-query answer needs none of these threads "
                   "(it is answered on the event loop).")
@click.option("--connection-limit", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Open connections at once (slow clients hold one each, never a thread).")
@click.option("--idle-timeout", type=SECONDS, default=30.0, show_default=True,
              help="Seconds an idle keep-alive connection stays open.")
@click.option("--request-timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds a client has to send a whole request (headers and body).")
@click.option("--max-body", type=click.IntRange(min=1024), default=1024 * 1024, show_default=True, metavar="BYTES",
              help="Largest request body (a query, a form, a Turtle addition).")
@click.option("--cache-mb", type=click.IntRange(min=0), default=64, show_default=True, metavar="MB",
              help="Memory for stored-query answers kept until the next store generation (repeats are answered "
                   "without running the query; ETag and If-None-Match work on them). 0 keeps none.")
@click.option("--get", "get_path", default=None, metavar="PATH",
              help="Answer one GET request for PATH in-process, print the body and exit (0 if status < 400).")
@click.option("--quiet/--log", default=True, help="Log each request to stderr with --log.")
@pass_ctx
def serve(ctx: Context, host: str, port: int, allowed_hosts: tuple[str, ...], cors: bool, allow_update: bool,
          allow_service: bool, timeout: float, max_rows: int, workers: int | None, worker_memory: int,
          threads: int, connection_limit: int, idle_timeout: float, request_timeout: float, max_body: int,
          cache_mb: int, get_path: str | None, quiet: bool) -> None:
    """Serve the graph over HTTP: web pages, a SPARQL 1.1 endpoint, the stored queries as a JSON API, OpenAPI.

    Routes: /sparql (SPARQL 1.1 Protocol, content negotiation, service description), /api/queries,
    /api/queries/NAME?param=value&_format=csv&_limit=10, /api/additions and /api/links/accept|reject
    (with --allow-update),
    /openapi.json, and the HTML pages. Queries run in worker processes that are killed when they overrun
    --timeout or --worker-memory. It listens on 127.0.0.1 unless --host says otherwise, so only this
    machine can reach it.

    Example: dispute-kg serve --get '/api/queries/claims?state=Japan&_format=csv'
    """
    import signal
    import socket

    from ..http.app import LOOPBACK_HOSTS
    from ..http.server import UPDATE_TOKEN_ENV, Settings, call, make_app

    token = os.environ.get(UPDATE_TOKEN_ENV) or None
    if allow_update and not token:
        raise InputError(f"--allow-update needs a bearer token: set the environment variable {UPDATE_TOKEN_ENV} "
                         "(never pass it on the command line)")
    settings = Settings(allow_update=allow_update, allow_service=allow_service, update_token=token,
                        timeout=timeout, max_rows=max_rows, max_body=max_body, cors=cors,
                        allowed_hosts=(*LOOPBACK_HOSTS, *allowed_hosts, *bound_name(host)),
                        workers=workers or max(2, os.cpu_count() or 2), worker_memory_mb=worker_memory,
                        cache_mb=cache_mb)
    kg = ctx.open()  # builds a stale store first, so the workers open a fresh one
    kg.follow = True  # in-process requests (--get) read the newest published store generation
    if get_path is not None:
        try:
            status, _, body = call(make_app(kg, settings), get_path)
        finally:
            kg.close()
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        if status >= 400:
            raise CheckFailed(f"GET {get_path} answered HTTP {status}")
        return

    from ..http.listener import Limits, make_listener
    from ..http.workers import Pooled, WorkerFailed, WorkerPool, WorkerSpec

    limits = Limits(threads=threads, connection_limit=connection_limit, idle_timeout=idle_timeout,
                    request_timeout=request_timeout, max_body_bytes=max_body)
    raise_file_limit(connection_limit + 256)
    pool = None
    try:
        try:
            listener = make_listener(lambda e, s: app(e, s), host, port, limits, lambda e: served.immediate(e))
        except (socket.gaierror, ValueError):
            raise InputError(f"--host {host!r} is not an address or a name this machine can resolve") from None
        except OSError as exc:
            what = "is already in use" if exc.errno == 98 else f"cannot be used ({exc.strerror})"
            raise BackendUnavailable(f"port {port} on {host} {what}; choose another with -p (0 picks a free one)"
                                     ) from None
        try:
            pool = WorkerPool(WorkerSpec(ctx.store, str(kg.project.root), allow_service, worker_memory),
                              settings.workers, settings.queue_timeout)
        except WorkerFailed as exc:
            raise BackendUnavailable(str(exc)) from None
        app = served = make_app(kg, settings, Pooled(pool))
        guard = ("federation allowed" if allow_service else
                 "workers cannot open network sockets" if pool.sandboxed else "SERVICE refused on the parsed query")
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"dispute-kg serving {kg.project.root} from {kg.store.name}: at "
                   f"http://{shown}:{listener.effective_port}/sparql and /api/queries "
                   f"({'additions with token' if allow_update else 'read-only'}; {settings.workers} query workers, "
                   f"{guard}); Ctrl-C stops it")
        sys.stdout.flush()
        if not quiet:
            app = logged(app)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop as on Ctrl-C: workers and listener closed
        try:
            listener.run()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            listener.close()
    finally:
        if pool is not None:
            pool.close()
        kg.close()


def raise_file_limit(wanted: int) -> None:
    """Let the process hold `wanted` open files (each connection is one), up to the hard limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))


def bound_name(host: str) -> tuple[str, ...]:
    """The address `--host` names, when it is one address (clients that dial it send it as Host)."""
    name = host.strip("[]").lower()
    return () if name in ("0.0.0.0", "::", "") else (name,)


def logged(app: Any) -> Any:
    """`app` with one line per request on stderr: method, path, status, milliseconds."""
    import time

    def wrapped(environ, start_response):
        started = time.perf_counter()
        seen: list[str] = []

        def start(status, headers, exc_info=None):
            seen.append(status.split()[0])
            return start_response(status, headers, exc_info)

        body = app(environ, start)
        print(f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} {seen[0] if seen else '-'} "
              f"{(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr, flush=True)
        return body

    return wrapped
