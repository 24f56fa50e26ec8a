"""The click group, the shared options and the context object passed to every command."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click

# `--traceback` is the older name of `--debug`, kept so that scripts using it still work.
DEBUG_FLAGS = ("--debug", "--traceback")

# Option value types shared by every command, so that a bad value fails at parse time with exit 2.
class FiniteRange(click.FloatRange):
    """A float range that also refuses nan and inf, which compare false with every bound."""

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class Seconds(click.FloatRange):
    """A number of seconds above 0; click's FloatRange lets `nan` and `inf` through."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds) or not seconds > 0:
            self.fail(f"{value!r} is not a number of seconds above 0", param, ctx)
        return seconds


SECONDS = Seconds()
COUNT = click.IntRange(min=0)
POSITIVE = click.IntRange(min=1)


class HttpUrl(click.ParamType):
    """An http(s) URL that is also a valid IRI (pyoxigraph's RFC 3987 parser decides), so that it can
    be stored as an RDF term and requested as it is."""

    name = "URL"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..rdf.terms import check_http_url

        try:
            return check_http_url(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


HTTP_URL = HttpUrl()


@dataclass
class Context:
    project: Path | None
    store: str | None
    verbose: int
    debug: bool

    def open(self, *, auto_build: bool = True):
        from ..kg import KnowledgeGraph

        show = self.verbose and sys.stderr.isatty()
        progress = (lambda msg: click.echo(f"  reading {msg}", err=True)) if show else None
        return KnowledgeGraph.open(store=self.store, project=self.project, auto_build=auto_build,
                                   progress=progress)

    def project_obj(self):
        from ..project.folder import Project

        return Project.open(self.project)


# Each command lives in the module named here and is imported only when it is invoked (or when
# help lists every command), so `dispute-kg query run` does not pay for build, reasoning or SHACL.
COMMAND_MODULES: dict[str, str] = {
    "build": "build", "check": "build", "coverage": "build", "export": "build",
    "query": "query", "sparql": "query",
    "link": "link", "wikidata": "link",
    "docs": "docs",
    "serve": "serve", "push": "push",
    "validate": "validate", "add": "add", "history": "add", "retract": "add", "source": "source",
    "extract": "extract",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            import importlib

            importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
        return self.commands.get(name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder (default: the current directory), as git works on a repository.")
@click.option("-s", "--store", default=None, metavar="SELECTOR",
              help="Store selector: oxigraph:PATH (default .dispute-kg/store), memory:, or sparql:URL.")
@click.option("-v", "--verbose", count=True, help="Say more; repeat for more.")
@click.option(*DEBUG_FLAGS, "debug", is_flag=True,
              help="Show the Python traceback of an error (also $DISPUTE_KG_DEBUG=1).")
@click.version_option(package_name="dispute-kg")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, store: str | None, verbose: int, debug: bool) -> None:
    """dispute-kg: a checked knowledge graph of territorial disputes between states.

    Exit codes: 0 ok, 1 a check or validation failed, 2 bad input or usage, 3 a store or endpoint
    unreachable or too slow (a timeout), 4 an internal error (run again with --debug to see it).
    """
    ctx.obj = Context(project, store, verbose, debug)


pass_ctx = click.make_pass_decorator(Context)
