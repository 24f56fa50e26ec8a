"""A new generation's listings, materialised in a process of its own (`query/views.py` says why they are).

pyoxigraph cannot stop a query once it runs: a stored listing that runs away would keep a thread busy
for as long as the process lives, which for `dispute-kg serve` (an addition over HTTP) is forever. So
the build, `add` and `retract` start `python -m dispute_kg.project.listings`, which answers each listing
with a time limit, writes the generation's views file and ends, taking any query still running with it.
"""

from __future__ import annotations

import os

from ..errors import InputError
from ..query.views import SECONDS, materialise, plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from ..query.binding import StoredQuery


def in_child(queries: Iterable[StoredQuery], generation: Path, *, point: str, previous: str | None = None) -> bool:
    """`materialise` for `generation` in a process of its own, which ends (and with it any query still
    running past its time) once the file is written; `previous` is the published generation's file, whose
    judgements of unchanged queries are reused. True when the file was written; False, with a note,
    when the process failed: the generation is then published without views (its listings are answered
    by the engine) and the next `build` writes them. A crash injected at one of its fault points ends
    this process the same way, as it would had the write been made here."""
    import marshal
    import subprocess
    import sys

    from ..rdf.durable import CRASH_EXIT

    seconds = os.environ.get("DISPUTE_KG_VIEW_SECONDS", str(SECONDS))
    try:
        if not float(seconds) > 0:
            raise ValueError(seconds)
    except ValueError:
        raise InputError(f"DISPUTE_KG_VIEW_SECONDS must be a positive number of seconds, not {seconds!r}") from None
    # which texts to answer is decided here, on rdflib's parse (loaded here already, a second in a new
    # process); the child needs only pyoxigraph
    job = marshal.dumps(plan(queries, previous))
    proc = subprocess.run([sys.executable, "-m", __name__, str(os.getpid()), os.fspath(generation), point, seconds],
                          input=job,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if proc.returncode == CRASH_EXIT:
        os._exit(CRASH_EXIT)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        print(f"note: the listings' answers were not materialised ({detail[-1] if detail else proc.returncode}); "
              "the engine answers them until the next build", file=sys.stderr)
        return False
    return True


def _follow_parent(parent: int) -> None:
    """End this process when the one that started it ends: a killed build leaves an unpublished
    generation that the next writer removes, and nothing may write into it after that. On Linux the
    kernel kills this process as its parent dies (PR_SET_PDEATHSIG), before anyone can wait for the
    parent; elsewhere a thread watches for the parent to go."""
    import signal

    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) != 0:  # PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        import _thread
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.05)
            os._exit(1)

        _thread.start_new_thread(watch, ())
    if os.getppid() != parent:  # the parent died before the kernel was told to follow it
        os._exit(1)


def _main(argv: list[str]) -> None:
    import marshal
    import sys
    from pathlib import Path

    from ..stores.oxigraph import OxigraphStore

    parent, generation, point, seconds = argv
    _follow_parent(int(parent))
    texts, covered = marshal.loads(sys.stdin.buffer.read())
    store = OxigraphStore.at(os.path.join(generation, "store"), read_only=True)
    materialise(store, texts, covered, Path(generation), point=point, seconds=float(seconds))


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)  # a query still running past its time is abandoned with the process
