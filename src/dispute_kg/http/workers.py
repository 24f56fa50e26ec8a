"""Queries run in worker processes the HTTP process can kill.

A query can run for ever, take all memory, or overflow the parser's stack; none of that may touch the
process that answers HTTP. So every query (`/sparql`, the stored-query API, the web pages) goes to a pool of
pre-started workers, each holding the store open read-only, over a `multiprocessing` pipe:

- a request waits at most `timeout` seconds for its answer; then its worker is killed (SIGKILL ends the
  work and frees its memory at once), a fresh one takes its place, and the request gets a JSON 503;
- each worker's address space is capped (`RLIMIT_AS`), so a runaway query ends its own worker;
- a worker that dies (stack overflow on deep nesting, the memory cap) is replaced while the others go on
  answering, and the request that killed it gets a JSON 500;
- a worker cannot open an internet socket (`deny_network`, a seccomp filter) unless federation is allowed,
  so no query can make the server send a request anywhere.

The job handler (`handle`) is the single execution path; `InProcess` runs it without a pool for `serve --get`
and in-process tests, with `policy.refuse_service` standing in for the sandbox.
"""

from __future__ import annotations

import errno
import os
import pickle
import queue
import resource
import select
import socket
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import DisputeKGError
from .app import HTTPError, Settings, error_status
from .policy import SERVICE_REFUSED, names_dataset, refuse_service
from .protocol import choose_writer, render

# -- the sandbox ------------------------------------------------------------------------------------


def deny_network() -> bool:
    """Forbid this process to create IPv4/IPv6 sockets (and io_uring, which could create them unseen);
    Unix socket pairs to the parent stay usable. False when libseccomp is not available here."""
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        for family in (socket.AF_INET, socket.AF_INET6, getattr(socket, "AF_PACKET", 17)):
            rules.add_rule(seccomp.ERRNO(errno.EPERM), "socket", seccomp.Arg(0, seccomp.EQ, family))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "io_uring_setup")
        rules.load()
    except Exception:  # no libseccomp, or a kernel without seccomp: the caller checks queries itself
        return False
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return True
    return False


def limit_memory(extra_mb: int) -> None:
    """Cap the address space at what the worker uses now plus `extra_mb`."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
    except OSError:  # not Linux: no cap
        return
    limit = pages * resource.getpagesize() + extra_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# -- jobs -------------------------------------------------------------------------------------------
# A job is a tuple: ("sparql", text, default_graphs, named_graphs, limit, format, accept),
# ("stored", name, params, limit, offset, format, accept), ("query", text, bindings, limit),
# ("run", name, params, limit, offset).
# A reply is ("response", status, content type, body, headers), ("result", Result) or ("error", status, message).


def _sparql(kg: Any, text: str, default_graphs: list[str] | None, named_graphs: list[str] | None,
            limit: int | None) -> Any:
    """Run a protocol query on the dataset Oxigraph server would use: the protocol's graphs, else the query's
    FROM / FROM NAMED, else the union of all graphs."""
    protocol_dataset = default_graphs is not None or named_graphs is not None
    if kg.selector.scheme != "oxigraph":
        if protocol_dataset:
            raise HTTPError(400, f"default-graph-uri and named-graph-uri are not supported on {kg.store.name}; "
                                 "use FROM and FROM NAMED in the query")
        return kg.store.query(text, limit=limit)
    if protocol_dataset:
        return kg.store.query(text, limit=limit, default_graphs=default_graphs, named_graphs=named_graphs)
    return kg.store.query(text, limit=limit, union_default_graph=not names_dataset(text))


_BOUND: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}


def run_stored(kg: Any, name: str, params: dict[str, Any], limit: int | None, offset: int | None = None) -> Any:
    """`KnowledgeGraph.run_result`, remembering each bound text: a worker's store never changes (a new store
    gets new workers), so a label resolved once (`state=Japan`) stays resolved, which spares its lookups."""
    from ..query.binding import bind, bound_text, run_bound

    query = kg.catalog.get(name)
    key = (name, tuple(sorted((k, str(v)) for k, v in params.items())))
    text = _BOUND.get(key)
    if text is None:
        text = bound_text(query, bind(query, params, kg.store))
        if len(_BOUND) > 4096:
            _BOUND.clear()
        _BOUND[key] = text
    return run_bound(kg.store, query, text, limit=limit, offset=offset)


def handle(kg: Any, job: tuple[Any, ...], sandboxed: bool, allow_service: bool) -> tuple[Any, ...]:
    """Run one job on `kg`; never raises for a bad query (the reply carries the error)."""
    kind = job[0]
    try:
        if kind == "sparql":
            _, text, default_graphs, named_graphs, limit, fmt, accept = job
            if not sandboxed and not allow_service:
                refuse_service(text)
            result = _sparql(kg, text, default_graphs, named_graphs, limit)
            return ("response", *render(result, choose_writer(result.kind, fmt, accept)))
        if kind == "stored":
            _, name, params, limit, offset, fmt, accept = job
            if not sandboxed and not allow_service:
                refuse_service(kg.catalog.get(name).text)
            result = run_stored(kg, name, params, limit, offset)
            return ("response", *render(result, choose_writer(result.kind, fmt, accept), json_api=True))
        if kind == "query":
            _, text, bindings, limit = job
            if not sandboxed and not allow_service:
                refuse_service(text)
            return ("result", kg.store.query(text, bindings, limit=limit))
        if kind == "run":
            _, name, params, limit, offset = job
            return ("result", run_stored(kg, name, params, limit, offset))
        return ("error", 500, f"unknown job {kind!r}", [])
    except HTTPError as exc:
        return ("error", exc.status, exc.message, exc.headers)
    except DisputeKGError as exc:
        return ("error", error_status(exc), str(exc), [])
    except PermissionError as exc:
        if sandboxed:  # the sandbox refused a socket: the engine tried to reach another host
            return ("error", 403, SERVICE_REFUSED, [])
        return ("error", 502, f"the store failed: {exc}", [])
    except MemoryError:
        return ("error", 503, "the query needed more memory than a worker may use (--worker-memory)", [])
    except RecursionError:
        return ("error", 400, "the query is nested too deeply", [])
    except OSError as exc:
        return ("error", 502, f"the store failed: {exc}", [])
    except (RuntimeError, ValueError, TypeError) as exc:  # the engine refused to evaluate this query
        return ("error", 400, f"the query cannot be evaluated: {exc}", [])
    except Exception as exc:
        return ("error", 500, f"internal error: {type(exc).__name__}: {exc}", [])
    except BaseException as exc:  # pyo3's PanicException: a bug in the engine, answered, not fatal
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return ("error", 500, f"the query engine failed: {type(exc).__name__}: {exc}", [])


def reply_value(reply: tuple[Any, ...]) -> Any:
    """The Result of a ("result", ...) reply; an error reply raises its HTTPError."""
    if reply[0] == "error":
        raise HTTPError(reply[1], reply[2], list(reply[3]) if len(reply) > 3 else [])
    return reply[1]


@dataclass(frozen=True)
class WorkerSpec:
    store: str | None
    project: str
    allow_service: bool
    memory_mb: int


def worker_main(conn: Any, spec: WorkerSpec) -> None:
    """A worker: open the store read-only, seal the process, then answer jobs until the pipe closes."""
    try:
        from ..kg import KnowledgeGraph

        kg = KnowledgeGraph.open(spec.store, spec.project, auto_build=False)
        kg.follow = True  # a build or an add by another process publishes a new generation: read it
        kg.catalog.all()  # parse the stored queries now, not in the first request's time
        sandboxed = not spec.allow_service and kg.selector.scheme != "sparql" and deny_network()
        if spec.memory_mb:
            limit_memory(spec.memory_mb)
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid(), sandboxed))
    while True:  # jobs and replies are pickled here, not by the connection: plain pickle costs less
        try:
            job = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError, KeyboardInterrupt):
            return
        reply = handle(kg, job, sandboxed, spec.allow_service)
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an answer that cannot be pickled: say so rather than die
            data = pickle.dumps(("error", 500, f"internal error: the answer cannot be sent: {type(exc).__name__}",
                                 []))
        try:
            conn.send_bytes(data)
        except (EOFError, OSError):
            return


# -- the pool ---------------------------------------------------------------------------------------
class WorkerFailed(Exception):
    """A worker could not start (the store cannot be opened)."""


@dataclass(eq=False)
class Worker:
    process: Any
    conn: Any
    generation: int
    sandboxed: bool
    poller: Any = None  # a poll object on `conn`, made once (`conn.poll` builds a selector on every call)

    def wait(self, timeout: float) -> bool:
        """Whether the worker has answered (or hung up) within `timeout` seconds."""
        if self.poller is None:
            self.poller = select.poll()
            self.poller.register(self.conn.fileno(), select.POLLIN)
        return bool(self.poller.poll(max(0, int(timeout * 1000))))


class WorkerPool:
    """`size` workers; `call` lends one to a request, and kills and replaces it when it overruns or dies."""

    def __init__(self, spec: WorkerSpec, size: int, queue_timeout: float = 5.0) -> None:
        import multiprocessing

        self.spec, self.size, self.queue_timeout = spec, size, queue_timeout
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload(["dispute_kg.http.workers", "dispute_kg.kg", "pyoxigraph",
                                         "dispute_kg.query.binding", "dispute_kg.query.catalog", "rdflib"])
        self.idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self.generation = 0
        self.lock = threading.Lock()
        self.closed = False
        self.workers: set[Worker] = set()
        first = self._spawn()
        self.sandboxed = first.sandboxed
        self.idle.put(first)
        for _ in range(size - 1):
            self.idle.put(self._spawn())

    def _spawn(self) -> Worker:
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=worker_main, args=(child, self.spec), daemon=True,
                                   name="dispute-kg-query-worker")
        process.start()
        child.close()
        if not parent.poll(120):
            process.kill()
            raise WorkerFailed("a query worker did not start within 120 s")
        try:
            message = parent.recv()
        except EOFError:
            raise WorkerFailed(f"a query worker died on start (exit code {process.exitcode})") from None
        if message[0] != "ready":
            process.join(5)
            raise WorkerFailed(f"a query worker could not open the store: {message[1]}")
        worker = Worker(process, parent, self.generation, message[2])
        with self.lock:
            self.workers.add(worker)
        return worker

    def pids(self) -> list[int]:
        with self.lock:
            return sorted(w.process.pid for w in self.workers)

    def _discard(self, worker: Worker) -> None:
        """Kill a worker at once (its query, its memory) and start its replacement in the background."""
        with self.lock:
            self.workers.discard(worker)
        try:
            worker.process.kill()
        except (OSError, ValueError):
            pass
        worker.conn.close()
        worker.process.join(2)
        if not self.closed:
            threading.Thread(target=self._replace, daemon=True, name="dispute-kg-respawn").start()

    def _replace(self) -> None:
        try:
            self.idle.put(self._spawn())
        except (WorkerFailed, OSError):
            import traceback

            traceback.print_exc()

    def call(self, job: tuple[Any, ...], timeout: float) -> tuple[Any, ...]:
        """Send `job` to a free worker and wait at most `timeout` s for its reply."""
        try:
            worker = self.idle.get(timeout=self.queue_timeout)
        except queue.Empty:
            raise HTTPError(503, f"all {self.size} query workers are busy; try again shortly",
                            [("Retry-After", "1")]) from None
        try:
            worker.conn.send_bytes(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
            if not worker.wait(timeout):
                self._discard(worker)
                raise HTTPError(503, f"query stopped after {timeout:g} s (the limit is --timeout; _timeout= "
                                     "lowers it for one request)")
            reply = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError, BrokenPipeError):
            code = worker.process.exitcode if worker.process.exitcode is not None else "unknown"
            self._discard(worker)
            raise HTTPError(500, "the query ended its worker process (nested too deeply for the parser, or over "
                                 f"the memory limit of {self.spec.memory_mb} MB; exit status {code}); "
                                 "the server goes on answering") from None
        if worker.generation != self.generation:
            self._discard(worker)  # the store changed (an addition): a fresh worker opens the new one
        else:
            self.idle.put(worker)
        return reply

    def refresh(self) -> None:
        """Replace every worker, so that all open the store as it is now (after an addition)."""
        with self.lock:
            self.generation += 1
        stale = []
        while True:
            try:
                stale.append(self.idle.get_nowait())
            except queue.Empty:
                break
        for worker in stale:
            self._discard(worker)

    def close(self) -> None:
        self.closed = True
        with self.lock:
            workers = list(self.workers)
        for worker in workers:
            try:
                worker.process.kill()
                worker.process.join(2)
            except (OSError, ValueError):
                pass


# -- executors: what the views call -----------------------------------------------------------------
class InProcess:
    """Runs jobs in this process (no isolation): `serve --get` and in-process tests."""

    sandboxed = False

    def __init__(self, kg: Any, settings: Settings) -> None:
        self.kg, self.settings = kg, settings

    def call(self, job: tuple[Any, ...], timeout: float) -> tuple[Any, ...]:
        """Run the job on a thread and stop waiting after `timeout`; nothing can kill the thread, which is
        why `serve` uses the pool."""
        box: list[tuple[Any, ...]] = []
        thread = threading.Thread(target=lambda: box.append(handle(self.kg, job, False, self.settings.allow_service)),
                                  daemon=True, name="dispute-kg-in-process-query")
        thread.start()
        thread.join(timeout)
        if not box:
            return ("error", 503, f"query stopped after {timeout:g} s (raise --timeout to allow longer)", [])
        return box[0]

    def refresh(self) -> None:
        _BOUND.clear()  # the store changed under this process

    def close(self) -> None:
        pass


class Pooled:
    sandboxed: bool

    def __init__(self, pool: WorkerPool) -> None:
        self.pool, self.sandboxed = pool, pool.sandboxed

    def call(self, job: tuple[Any, ...], timeout: float) -> tuple[Any, ...]:
        return self.pool.call(job, timeout)

    def refresh(self) -> None:
        self.pool.refresh()

    def close(self) -> None:
        self.pool.close()


class PooledStore:
    """The store as the web pages see it: `query` runs on the executor, with the server's limits."""

    def __init__(self, served: ServedGraph) -> None:
        self.served = served
        self.name = served.kg.store.name

    def query(self, sparql: str, bindings: Any = None, *, limit: int | None = None,
              timeout: float | None = None) -> Any:
        s = self.served.settings
        return reply_value(self.served.executor.call(("query", sparql, dict(bindings or {}), limit or s.max_rows),
                                                     min(timeout or s.timeout, s.timeout)))


class ServedGraph:
    """What views see as `app.kg`: the `KnowledgeGraph` API, with every query sent through the executor."""

    def __init__(self, kg: Any, executor: Any, settings: Settings) -> None:
        self.kg, self.executor, self.settings = kg, executor, settings
        self.store = PooledStore(self)
        self.project, self.selector = kg.project, kg.selector
        self.state_dir = str(kg.project.state_dir)  # read on every stored-query request: made once

    @property
    def catalog(self) -> Any:
        return self.kg.catalog

    def queries(self) -> list[Any]:
        return self.kg.queries()

    def run_result(self, name: str, params: dict[str, Any] | None = None, *, limit: int | None = None,
                   offset: int | None = None, timeout: float | None = None) -> Any:
        s = self.settings
        self.kg.catalog.get(name)  # an unknown name is a 400 naming close matches, before any worker
        return reply_value(self.executor.call(("run", name, dict(params or {}), limit or s.max_rows, offset),
                                              min(timeout or s.timeout, s.timeout)))

    def sparql(self, text: str, *, limit: int | None = None, timeout: float | None = None,
               allow_update: bool = False) -> Any:
        return self.store.query(text, limit=limit, timeout=timeout)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        """`KnowledgeGraph.add`; after a commit every worker is replaced by one that opens the new store."""
        report, addition = self.kg.add(*args, **kwargs)
        if addition is not None:
            self.executor.refresh()
        return report, addition

    def decide_links(self, decisions: list[Any], author: str | None, *, author_label: str = "") -> list[str]:
        """`links.decide`, the code path of `link accept|reject`, with items verified against the offline
        snapshot (as `--offline`: a server asks no remote endpoint on a click). A decision that changed the
        links file is followed by the build the next command would run, and every worker reopens the store.

        Decisions are serialised by the writer lock; builds need no lock of ours: `build` decides freshness
        under the writer lock, so decisions racing each other share one rebuild, and each request returns
        only once a store holding its own decision is published."""
        from ..links import decide, open_endpoint
        from ..project.build import build
        from ..project.state import read_pointer

        published = read_pointer(str(self.project.state_dir))
        lines = decide(self.project, decisions, author, lambda: open_endpoint(None, True, self.project),
                       author_label=author_label)
        if not self.project.is_fresh():  # as `KnowledgeGraph.open` decides; an `unchanged` decision builds nothing
            build(self.project)
        if read_pointer(str(self.project.state_dir)) != published:
            self.executor.refresh()
            self.kg.follow = True  # the in-process graph moves to the new generation on its next query
        return lines

    def close(self) -> None:
        self.executor.close()
        self.kg.close()
