"""``%hotmesh`` (line) and ``%%hotmesh deploy`` (cell): HotMesh from notebook cells.

Subcommands live in a table (:data:`SUBCOMMANDS`); another module can add one
with :func:`register_subcommand` and it shows up in ``%hotmesh?`` and
``%hotmesh help``. Bad arguments raise IPython's ``UsageError`` with the
usage line, which IPython prints without a traceback.

The line magic expands ``$name`` and ``{expr}`` like other IPython magics
(JSON bodies are left alone: they are not valid Python format fields); the
cell magic's YAML body is never expanded.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import html
import json
import re
import shlex
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand

from ..errors import DeployError, HotMeshError, ValidationError
from ..model import load_app
from ..runtime import get_runtime, shutdown
from . import _notebook_api as api
from . import _probe as probe
from . import _tracebacks as tracebacks
from ._session import Session
from ._tracebacks import WaitInterrupted
from ._views import GraphView, Notice, RunResult

_UNEXPANDED = re.compile(r"\{[A-Za-z_][^{}\"':]*\}|\$[A-Za-z_]\w*")
"""``{expr}`` or ``$name`` left in a line: IPython leaves them when expanding failed."""

Runner = Callable[["HotMeshMagics", str], Any]
"""A subcommand: ``run(magics, argument_text)`` returns what the cell displays."""


@dataclass(frozen=True)
class Subcommand:
    """One ``%hotmesh`` subcommand."""

    name: str
    """The word after ``%hotmesh``."""
    usage: str
    """The usage line without ``%hotmesh`` (``graph [APP] [--job ID]``)."""
    summary: str
    """One line for the help text."""
    run: Runner
    """Called with the magics and the text after the subcommand's name."""


SUBCOMMANDS: dict[str, Subcommand] = {}
"""Registered subcommands, in help order."""

RESERVED = {
    "search": "searching job data needs MeshData (hotmesh_nb.meshdata), which registers "
    "'%hotmesh search' when it is available; this installation does not have it yet",
}
"""Subcommands the design names that another module has to provide."""

_HEADER = """HotMesh from notebook cells.

Usage: %hotmesh SUBCOMMAND [ARGS]   |   %%hotmesh deploy [--activate]  (YAML cell)

"""
_FOOTER = """
JSON is the job data: a JSON object, or a dict from `$name`; options may follow it.
Line magics expand `$name` and `{expression}`; the YAML of %%hotmesh deploy is
never expanded. APP defaults to the app the last command used. Graphs display as
SVG (a text DAG without Graphviz); jobs and workers come as DataFrames.
"""


HELP_WIDTH = 100
"""Most characters per line of ``%hotmesh?`` and ``%hotmesh help``."""


def help_text() -> str:
    """The text of ``%hotmesh?`` and ``%hotmesh help``."""
    # Usage and summary on lines of their own: every line stays within HELP_WIDTH.
    lines = []
    for sub in SUBCOMMANDS.values():
        lines.extend(
            textwrap.wrap(
                f"%hotmesh {sub.usage}",
                HELP_WIDTH - 2,
                initial_indent="  ",
                subsequent_indent="      ",
            )
        )
        lines.extend(
            textwrap.wrap(
                sub.summary, HELP_WIDTH - 6, initial_indent="      ", subsequent_indent="      "
            )
        )
    return _HEADER + "\n".join(lines) + "\n" + _FOOTER


def register_subcommand(sub: Subcommand) -> None:
    """Add (or replace) a subcommand; ``%hotmesh?`` lists it from then on."""
    SUBCOMMANDS[sub.name] = sub
    _set_help()


def subcommand(name: str, usage: str, summary: str) -> Callable[[Runner], Runner]:
    """Decorator form of :func:`register_subcommand` for the built-in subcommands."""

    def register(run: Runner) -> Runner:
        SUBCOMMANDS[name] = Subcommand(name, usage, summary, run)
        return run

    return register


# -- argument parsing ---------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that raises ``UsageError`` (with the usage line) instead of exiting."""

    def __init__(self, usage: str) -> None:
        super().__init__(prog="%hotmesh", usage=f"%hotmesh {usage}", add_help=False)
        self.allow_abbrev = False

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nusage: {self.usage}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        raise UsageError(f"{message or 'bad arguments'}\nusage: {self.usage}")


def _parse(parser: _Parser, text: str) -> argparse.Namespace:
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        parser.error(str(exc))
    return parser.parse_args(tokens)


def _split_data(text: str, usage: str) -> tuple[str, dict[str, Any]]:
    """Separate the job-data object from the other arguments (it may stand anywhere)."""
    cut = text.find("{")
    if cut < 0:
        return text, {}
    body = text[cut:]
    try:
        data, end = json.JSONDecoder().raw_decode(body)
        rest = body[end:]
    except ValueError:
        # A Python literal ({'a': 1}, or a `$var` IPython expanded): must be the last thing.
        try:
            data, rest = ast.literal_eval(body.strip()), ""
        except (ValueError, SyntaxError):
            raise UsageError(
                f"cannot read the job data {body.strip()!r} as JSON or a Python dict\n"
                f"usage: %hotmesh {usage}"
            ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"job data must be an object, not {type(data).__name__}\nusage: %hotmesh {usage}"
        )
    return text[:cut] + " " + rest, data


def _validation_message(exc: ValidationError, text: str | None, offset: int = 0) -> str:
    """The deploy error with the offending YAML line and its neighbours.

    ``offset`` shifts line numbers to the cell's own: a ``%%hotmesh deploy`` body
    starts on the cell's second line.
    """
    if offset and exc.line is not None:
        where = f"cell line {exc.line + offset}"
        if exc.activity:
            where += f", activity '{exc.activity}'"
        lines = [f"deploy failed: {where}: {exc.reason}"]
    else:
        lines = [f"deploy failed: {exc}"]
    if text is None and exc.file and Path(exc.file).is_file():
        try:
            text = Path(exc.file).read_text()
        except OSError:
            text = None
    if text is not None and exc.line:
        source = text.splitlines()
        for number in range(max(exc.line - 1, 1), exc.line + 2):
            mark = ">" if number == exc.line else " "
            shown = number + offset
            if number <= len(source):
                lines.append(f"{mark} {shown:>4} | {source[number - 1]}")
            elif number == exc.line:  # the parser ran off the end of the text
                lines.append(f"{mark} {shown:>4} | (end of the YAML)")
    return "\n".join(lines)


# -- the magics ---------------------------------------------------------------------


@magics_class
class HotMeshMagics(Magics):
    """The ``%hotmesh`` magics; one instance per shell keeps the :class:`Session`."""

    def __init__(self, shell: InteractiveShell | None = None) -> None:
        super().__init__(shell)
        self.session = Session()
        """The current server, namespace and apps."""

    # IPython 9 types its magic decorators so that mypy sees their result as Never.
    @line_magic("hotmesh")  # type: ignore[arg-type]
    def hotmesh(self, line: str) -> Any:
        # The docstring is the help text, rebuilt as subcommands register.
        name, _, rest = line.strip().partition(" ")
        if not name:
            raise UsageError("name a subcommand\n" + help_text())
        if name == "--debug":
            return Notice(tracebacks.full_text())
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            if name in RESERVED:
                raise UsageError(f"%hotmesh {name}: {RESERVED[name]}")
            raise UsageError(
                f"unknown subcommand '{name}'; choose one of {', '.join(SUBCOMMANDS)}\n"
                "usage: %hotmesh SUBCOMMAND [ARGS]  (%hotmesh? for help)"
            )
        try:
            return sub.run(self, rest.strip())
        except (HotMeshError, UsageError) as exc:
            unexpanded = _UNEXPANDED.search(line)
            if unexpanded is None:
                raise
            hint = (
                f"'{unexpanded.group(0)}' was not expanded: the expression failed or the name "
                "is not defined in this kernel (run the cell that defines it)"
            )
            if isinstance(exc, UsageError):
                raise UsageError(f"{exc}\nnote: {hint}") from None
            exc.hotmesh_hint = hint  # type: ignore[attr-defined]
            raise

    @no_var_expand
    @cell_magic("hotmesh")  # type: ignore[arg-type]
    def hotmesh_cell(self, line: str, cell: str) -> Any:
        """``%%hotmesh deploy [--activate]``: deploy the YAML app in the cell body."""
        name, _, rest = line.strip().partition(" ")
        if name != "deploy":
            raise UsageError(
                "the cell magic only deploys YAML\nusage: %%hotmesh deploy [--activate]"
            )
        parser = _Parser("deploy [--activate]  (cell magic; the body is the YAML)")
        parser.add_argument("--activate", action="store_true")
        options = _parse(parser, rest)
        return self.deploy(cell, name="<cell>", text=cell, activate=options.activate, offset=1)

    def deploy(
        self,
        source: str,
        *,
        name: str | None,
        text: str | None,
        activate: bool,
        offset: int = 0,
    ) -> GraphView:
        """Validate and deploy a YAML app (text or path) and return its graph; ``offset`` is
        how many lines stand before the YAML (1 in a ``%%hotmesh deploy`` cell)."""
        try:
            spec = load_app(source, name=name) if name else load_app(Path(source))
        except ValidationError as exc:
            raise UsageError(_validation_message(exc, text, offset)) from None
        hm = self.session.mesh(spec.id, deploying=True)
        try:
            hm.deploy(spec)
            if activate:
                hm.activate(spec.version)
        except DeployError as exc:
            raise UsageError(f"deploy failed: {exc}") from None
        return GraphView(spec).fit()


# -- built-in subcommands -------------------------------------------------------------


@subcommand(
    "connect",
    "connect [URL] [--namespace NS]",
    "use a server (default HOTMESH_REDIS_URL, REDIS_URL, else the embedded one)",
)
def _connect(m: HotMeshMagics, args: str) -> Notice:
    parser = _Parser(SUBCOMMANDS["connect"].usage)
    parser.add_argument("url", nargs="?")
    parser.add_argument("--namespace")
    options = _parse(parser, args)
    return Notice(m.session.connect(options.url, options.namespace))


@subcommand("deploy", "deploy PATH [--activate]", "deploy a YAML app file; shows its graph")
def _deploy(m: HotMeshMagics, args: str) -> GraphView:
    parser = _Parser(SUBCOMMANDS["deploy"].usage)
    parser.add_argument("path")
    parser.add_argument("--activate", action="store_true")
    options = _parse(parser, args)
    if not Path(options.path).is_file():
        parser.error(f"no YAML file at {options.path!r}")
    return m.deploy(options.path, name=None, text=None, activate=options.activate)


@subcommand("activate", "activate APP VERSION", "make VERSION the one new jobs start on")
def _activate(m: HotMeshMagics, args: str) -> Notice:
    parser = _Parser(SUBCOMMANDS["activate"].usage)
    parser.add_argument("app")
    parser.add_argument("version")
    options = _parse(parser, args)
    try:
        m.session.mesh(options.app).activate(options.version)
    except DeployError as exc:
        raise UsageError(f"{exc}\nusage: %hotmesh {SUBCOMMANDS['activate'].usage}") from None
    return Notice(f"{options.app} version {options.version} is active")


@subcommand(
    "graph",
    "graph [APP] [--version V] [--job ID] [--path] [--full] [--collapse NAME,...]",
    "draw an app (a wide one folded to fit); --job paints a job's path and timings, --path "
    "draws only that path, --full every activity, --collapse graphs (by topic) or branches "
    "(by first activity) as one node",
)
def _graph(m: HotMeshMagics, args: str) -> GraphView:
    usage = SUBCOMMANDS["graph"].usage
    parser = _Parser(usage)
    parser.add_argument("app", nargs="?")
    parser.add_argument("--version")
    parser.add_argument("--job")
    parser.add_argument("--path", action="store_true")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--collapse")
    options = _parse(parser, args)
    if options.path and not options.job:
        parser.error("--path draws a job's path: name the job with --job ID")
    if options.path and options.full:
        parser.error("--path draws a job's path only and --full every activity: choose one")
    hm = m.session.mesh(m.session.app(options.app, usage))
    try:
        view = hm.graph(options.version, job_id=options.job)
        view = view.reached() if options.path else view.full() if options.full else view
        if options.collapse:
            # What is named, and nothing folded to fit besides.
            names = (n.strip() for n in options.collapse.split(",") if n.strip())
            view = view.expand().collapse(*names)
        return view
    except (DeployError, ValueError) as exc:
        raise UsageError(f"{exc}\nusage: %hotmesh {usage}") from None


@subcommand("pub", "pub TOPIC [JSON] [--app APP]", "start a job; returns its id")
def _pub(m: HotMeshMagics, args: str) -> str:
    usage = SUBCOMMANDS["pub"].usage
    rest, data = _split_data(args, usage)
    parser = _Parser(usage)
    parser.add_argument("topic")
    parser.add_argument("--app")
    options = _parse(parser, rest)
    hm = m.session.mesh_for_topic(options.topic, options.app, usage)
    job_id = hm.pub(options.topic, data)
    m.session.remember_job(job_id)
    return job_id


@subcommand(
    "run",
    "run TOPIC [JSON] [--app APP] [--timeout S]",
    "start a job and wait for it; returns its id and data",
)
def _run(m: HotMeshMagics, args: str) -> RunResult:
    usage = SUBCOMMANDS["run"].usage
    rest, data = _split_data(args, usage)
    parser = _Parser(usage)
    parser.add_argument("topic")
    parser.add_argument("--app")
    parser.add_argument("--timeout", type=float)
    options = _parse(parser, rest)
    hm = m.session.mesh_for_topic(options.topic, options.app, usage)
    started: list[str] = []
    future = get_runtime().submit(api.run_job(hm, options.topic, data, options.timeout, started))
    status = LiveStatus(options.topic)
    try:
        # Wait in slices: a long wait shows a status line that says what runs and for how
        # long; the kernel thread stays interruptible.
        while not concurrent.futures.wait([future], timeout=WAIT_SLICE).done:
            status.tick(started[0] if started else None)
        job = future.result()
    except KeyboardInterrupt:
        future.cancel()
        m.session.remember_job(started[0] if started else None)
        status.close("interrupted: still running")
        raise WaitInterrupted(started[0] if started else None, options.topic) from None
    except HotMeshError:
        m.session.remember_job(started[0] if started else None)
        status.close("failed")
        raise
    status.close("finished")
    job_id = str(job["metadata"].get("jid"))
    m.session.remember_job(job_id)
    failed = get_runtime().run(api.failures(hm, job_id), name="failures")
    return RunResult(job_id, options.topic, job["data"], job["metadata"], failed)


WAIT_SLICE = 0.25
"""Seconds between two looks at a running ``%hotmesh run`` (and chances to interrupt)."""
STATUS_AFTER = 3.0
"""A ``%hotmesh run`` that waits longer than this shows a live status line."""


class LiveStatus:
    """The status line of a long ``%hotmesh run``: shown once the wait passes
    :data:`STATUS_AFTER` seconds, updated in place (a display id), closed with the outcome."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.began = time.monotonic()
        self.display_id: str | None = None
        self.job_id: str | None = None

    def _line(self, state: str) -> dict[str, str]:
        job = f"job {self.job_id}" if self.job_id else "a job"
        took = f"{time.monotonic() - self.began:.0f} s"
        text = f"{job} on {self.topic}: {state} ({took})"
        return {"text/plain": text, "text/html": f"<code>{html.escape(text)}</code>"}

    def tick(self, job_id: str | None) -> None:
        """Show or refresh the line (nothing during the first :data:`STATUS_AFTER` s)."""
        from IPython.display import display, update_display

        self.job_id = job_id or self.job_id
        if time.monotonic() - self.began < STATUS_AFTER:
            return
        line = self._line("running; interrupt to stop waiting (the job goes on)")
        if self.display_id is None:
            self.display_id = uuid.uuid4().hex
            display(line, raw=True, display_id=self.display_id)
        else:
            update_display(line, raw=True, display_id=self.display_id)

    def close(self, outcome: str) -> None:
        """Replace the line by the outcome (only when it was shown)."""
        if self.display_id is None:
            return
        from IPython.display import update_display

        update_display(self._line(outcome), raw=True, display_id=self.display_id)


@subcommand("job", "job [ID] [--app APP]", "a job's status, data and painted graph")
def _job(m: HotMeshMagics, args: str) -> Any:
    usage = SUBCOMMANDS["job"].usage
    parser = _Parser(usage)
    parser.add_argument("id", nargs="?")
    parser.add_argument("--app")
    options = _parse(parser, args)
    job_id = options.id or m.session.last_job
    if not job_id:
        parser.error("name a job id (no job was started from the magics yet)")
    hm = m.session.mesh_for_job(job_id, options.app)
    return get_runtime().run(api.job_view(hm, job_id), name="job")


@subcommand(
    "jobs",
    "jobs [APP] [--status S] [--limit N]",
    "jobs as a DataFrame, newest first",
)
def _jobs(m: HotMeshMagics, args: str) -> Any:
    usage = SUBCOMMANDS["jobs"].usage
    parser = _Parser(usage)
    parser.add_argument("app", nargs="?")
    parser.add_argument("--status", action="append")
    parser.add_argument("--limit", type=int, default=1000)
    options = _parse(parser, args)
    if options.limit < 0:
        parser.error("--limit must be 0 or more")
    hm = m.session.mesh(m.session.app(options.app, usage))
    try:
        return hm.jobs(options.status, options.limit)
    except ValueError as exc:  # an unknown status
        parser.error(str(exc))


@subcommand(
    "workers",
    "workers [APP] [--all]",
    "engines and workers (roll call) as a DataFrame; --all for every roll-call field",
)
def _workers(m: HotMeshMagics, args: str) -> Any:
    parser = _Parser(SUBCOMMANDS["workers"].usage)
    parser.add_argument("app", nargs="?")
    parser.add_argument("--all", action="store_true")
    options = _parse(parser, args)
    apps = [options.app] if options.app else m.session.known_apps()
    meshes = [m.session.mesh(app) for app in apps]
    return get_runtime().run(api.members(meshes, all_columns=options.all), name="members")


@subcommand("dashboard", "dashboard [APP ...]", "a live dashboard (updates while cells run)")
def _dashboard(m: HotMeshMagics, args: str) -> Any:
    from ._monitor import dashboard

    parser = _Parser(SUBCOMMANDS["dashboard"].usage)
    parser.add_argument("apps", nargs="*")
    options = _parse(parser, args)
    return dashboard(*(m.session.mesh(app) for app in options.apps))


@subcommand(
    "stop",
    "stop [APP]",
    "stop an app's engine and workers; without APP everything of this process",
)
def _stop(m: HotMeshMagics, args: str) -> Notice:
    parser = _Parser(SUBCOMMANDS["stop"].usage)
    parser.add_argument("app", nargs="?")
    options = _parse(parser, args)
    if options.app:
        url, namespace = m.session.resolved_url(), m.session.namespace
        running = [
            hm
            for hm in probe.local_meshes()
            if (hm.connection.url, hm.namespace, hm.app_id) == (url, namespace, options.app)
        ]
        for hm in running:
            hm.stop()
        if options.app in m.session.apps:
            m.session.apps.remove(options.app)
        if m.session.last_app == options.app:
            m.session.last_app = None
        if not running:
            return Notice(f"{options.app} has no engine or worker running in this process")
        return Notice(f"stopped the engine and workers of {options.app}")
    shutdown()
    m.session.apps.clear()
    m.session.last_app = None
    return Notice("stopped every engine, worker and dashboard of this process")


@subcommand("apps", "apps", "apps deployed in the namespace: versions, active one, topics")
def _apps(m: HotMeshMagics, args: str) -> Any:
    import pandas as pd

    _parse(_Parser(SUBCOMMANDS["apps"].usage), args)
    apps = m.session.server_apps()
    return pd.DataFrame(
        {
            "app": pd.Series([a.app for a in apps], dtype="string"),
            "active": pd.Series([a.active for a in apps], dtype="string"),
            "versions": pd.Series([", ".join(a.versions) for a in apps], dtype="string"),
            "topics": pd.Series([", ".join(a.topics) for a in apps], dtype="string"),
        }
    )


@subcommand("help", "help", "this text")
def _help(m: HotMeshMagics, args: str) -> Notice:
    return Notice(help_text())


def _set_help() -> None:
    """Make ``%hotmesh?`` list the current subcommands."""
    magic: Any = HotMeshMagics.hotmesh  # typed Never by IPython 9's decorators
    magic.__doc__ = help_text()


_set_help()
