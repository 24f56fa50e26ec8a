"""Running the application on waitress: HTTP/1.1 with keep-alive, a bounded thread pool, limits on header and
body size, an idle timeout and a deadline for receiving a whole request, and JSON for the errors waitress
answers itself (a malformed request line, headers too large, a bad Content-Length).

Waitress reads requests on its event loop and hands a thread only a complete request, so clients that send
headers slowly hold a connection slot (bounded by `connection_limit`) but never a thread.

A request the application can answer from memory (`App.immediate`: a kept stored-query answer, an error the
shell answers) is answered on the event loop itself. Handing it to a request thread costs two thread wake-ups
and a contest for the interpreter lock with the loop, which on a busy 2-core machine took longer than the
answer (`bench/serve_load.py`); every other request goes to the thread pool as before.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask, WSGITask

from .app import PREPARED


@dataclass
class Limits:
    """The listener's limits; `docs/scaling.md` lists their defaults and why."""

    threads: int = 8  # requests handled at once (each waits on a query worker, or serves a page)
    connection_limit: int = 1000  # open connections; more wait in the listen backlog
    idle_timeout: float = 30.0  # seconds a keep-alive connection may sit idle
    request_timeout: float = 10.0  # seconds a client has to send a whole request (headers and body)
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024


class JSONErrorTask(ErrorTask):
    """The errors waitress answers before the application sees a request, as the API's JSON."""

    def execute(self) -> None:
        e = self.request.error
        self.status = f"{e.code} {e.reason}"
        body = json.dumps({"error": f"{e.reason}: {e.body}".rstrip(": "), "status": e.code}).encode() + b"\n"
        self.response_headers.append(("Content-Type", "application/json; charset=utf-8"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class Task(WSGITask):
    """A WSGI task whose environment may have been made already, on the event loop, by `Immediate`."""

    def get_environment(self) -> dict[str, Any]:
        made = getattr(self.request, "environ", None)
        if made is not None and self.environ is None:
            self.environ = made
        return super().get_environment()


class Channel(HTTPChannel):
    error_task_class = JSONErrorTask
    task_class = Task
    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()  # the first byte of a new request
        self.server.loop_thread = threading.get_ident()
        done = super().received(data)
        self.server.answer_queued()  # outside `requests_lock`, which `service` takes
        return done


class Immediate:
    """The server's `add_task`: a request the application answers from memory is served on the event loop
    (after `received` lets go of the channel's lock), any other goes to the thread pool.

    An answer goes to the loop only while the channel's unsent output stays under waitress's high-water mark,
    so writing it never waits for the loop (which would be waiting for itself)."""

    def __init__(self, server: Any, immediate: Callable[[dict[str, Any]], Any]) -> None:
        self.server, self.immediate = server, immediate
        self.pool_add = server.add_task
        self.queued: deque[Any] = deque()

    def add_task(self, channel: Any) -> None:
        request = channel.requests[0]
        if threading.get_ident() == self.server.loop_thread and not request.error:
            try:
                environ = Task(channel, request).get_environment()
                request.environ = environ
                response = self.immediate(environ)
            except Exception:  # the request thread answers it, with the application's JSON error
                response = None
            if response is not None:
                environ[PREPARED] = response
                if channel.total_outbufs_len + len(response.body) < channel.adj.outbuf_high_watermark:
                    self.queued.append(channel)
                    return
        self.pool_add(channel)

    def answer_queued(self) -> None:
        while self.queued:
            self.queued.popleft().service()


def make_listener(app: Any, host: str, port: int, limits: Limits,
                  immediate: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """A waitress server bound to host:port (port 0 picks a free one: `server.effective_port`).

    `immediate` (`App.immediate`) answers from memory on the event loop what it can; None sends every request
    to the thread pool. Raises OSError (address in use, cannot bind) or socket.gaierror (unknown host) before
    serving."""
    server = create_server(
        app, host=host.strip("[]"), port=port, threads=limits.threads, connection_limit=limits.connection_limit,
        channel_timeout=limits.idle_timeout, cleanup_interval=1, max_request_header_size=limits.max_header_bytes,
        # waitress refuses bodies over its own limit with its 413; ours (a JSON 413) applies first
        max_request_body_size=limits.max_body_bytes + 1, asyncore_use_poll=True, expose_tracebacks=False,
        ident="dispute-kg", clear_untrusted_proxy_headers=True)
    server.channel_class = Channel
    server.loop_thread = None
    if immediate is None:
        server.answer_queued = lambda: None
    else:
        on_loop = Immediate(server, immediate)
        server.add_task, server.answer_queued = on_loop.add_task, on_loop.answer_queued
    idle = server.maintenance

    def maintenance(now: float) -> None:
        idle(now)
        cutoff = now - limits.request_timeout
        for channel in list(server.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if channel.request is not None and started is not None and started < cutoff:
                channel.will_close = True  # a request still arriving after the deadline: slowloris

    server.maintenance = maintenance
    return server
