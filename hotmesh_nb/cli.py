"""The ``hotmesh-nb`` command: the embedded server, demos and worker processes.

Every option is checked before anything starts. A usage error prints one line,
``error: …``, and exits with status 2; a failure while running (a server that
cannot be reached, say) prints one line and exits with status 1. ``--debug``
adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import server
from .errors import HotMeshError

log = logging.getLogger("hotmesh_nb.cli")

USAGE_ERROR = 2
"""Exit status of a usage error (a bad option, a module or function that cannot be found)."""
RUN_ERROR = 1
"""Exit status of a failure while running."""


class UsageError(Exception):
    """A bad command line: printed as one ``error: …`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _print(obj: object) -> None:
    print(json.dumps(obj, indent=2) if isinstance(obj, (dict, list)) else obj)


# -- option types: each raises ArgumentTypeError with the reason ---------------------------


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds above 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def _namespace(text: str) -> str:
    from .keys import check_namespace

    try:
        return check_namespace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _app_id(text: str) -> str:
    from .keys import check_app_id

    try:
        return check_app_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _url(text: str) -> str:
    from .connection import mask_url

    scheme = text.partition("://")[0] if "://" in text else ""
    if scheme not in ("redis", "rediss", "unix"):
        raise argparse.ArgumentTypeError(
            f"{mask_url(text)!r} is not a server URL; use redis://[user:password@]host:port/db, "
            "rediss://… (TLS) or unix:///path/to/socket"
        )
    return text


def _readable_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return path


def _directory(text: str) -> str:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return str(path.resolve())


def _topic_spec(text: str) -> tuple[str, str, str]:
    topic, _, spec = text.partition("=")
    module_name, _, attr = spec.partition(":")
    if not topic.strip() or not module_name or not attr:
        raise argparse.ArgumentTypeError(
            f"{text!r} must look like TOPIC=module:function (for example "
            "work.do=mypackage.tasks:handle)"
        )
    return topic, module_name, attr


# -- commands -------------------------------------------------------------------------------


def _server(args: argparse.Namespace) -> int:
    action = args.action
    if action == "cluster":
        return _server_cluster(args)
    if args.cluster_action:
        raise SystemExit(f"hotmesh-nb: `server {action}` takes no further word")
    if action == "start":
        info = server.start(search=True if args.search else None)
        _print(f"embedded server running at {info.url} (pid {info.pid}, data {info.data_dir})")
    elif action == "status":
        _print(server.describe())
    elif action == "stop":
        stopped = server.stop()
        _print("embedded server stopped" if stopped else "embedded server was not running")
    elif action == "url":
        _print(server.url())
    return 0


def _server_cluster(args: argparse.Namespace) -> int:
    action = args.cluster_action or "status"
    if action == "start":
        info = server.cluster_start(primaries=args.primaries, replicas=args.replicas)
        _print(
            f"local cluster {info.state}: {info.primaries} primaries, {info.replicas} "
            f"replica(s) each, at {info.url} (data {info.data_dir}); "
            "`hotmesh-nb server cluster url` prints the URL with its password"
        )
    elif action == "status":
        _print(server.cluster_describe())
    elif action == "stop":
        stopped = server.cluster_stop(remove=args.remove)
        _print("local cluster stopped" if stopped else "local cluster was not running")
    elif action == "url":
        _print(server.cluster_url())
    return 0


def _resolve_url(args: argparse.Namespace) -> str | None:
    """The URL given by ``--url`` or ``--url-file`` (None: the usual resolution)."""
    url_file = getattr(args, "url_file", None)
    if url_file is not None:
        try:
            text = url_file.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--url-file {str(url_file)!r} cannot be read: {exc}") from None
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise UsageError(f"--url-file {str(url_file)!r} must hold one URL on one line")
        try:
            return _url(lines[0].strip())
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--url-file {str(url_file)!r}: {exc}") from None
    return getattr(args, "url", None)


def _warn_about_password(args: argparse.Namespace) -> None:
    """Say, once the command is under way, that ``--url`` shows its password in ``ps``."""
    from urllib.parse import parse_qs, urlsplit

    url = getattr(args, "url", None)
    if not url:
        return
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.password or query.get("password"):
        log.warning(
            "--url carries a password, which other users of this machine can read in the "
            "process list; set HOTMESH_REDIS_URL or use --url-file PATH instead"
        )


def _demo(args: argparse.Namespace) -> int:
    from .connection import connect
    from .demos import run_demos

    url = _resolve_url(args)
    if url is not None:
        connect(url)
    _warn_about_password(args)
    return run_demos(args.names, url=url, argument=args.say, words=args.words)


def _extend_path(folders: Sequence[str]) -> None:
    """Make ``folders`` importable, after site-packages (they never shadow an installed
    package, and the current folder is not searched unless asked)."""
    for folder in folders:
        if folder not in sys.path:
            sys.path.append(folder)


def _load_callable(module_name: str, attr: str, paths: Sequence[str]) -> Callable[..., Any]:
    where = ", ".join(paths) or "sys.path"
    try:
        target: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UsageError(
                f"no module named {module_name!r} (searched site-packages and {where}); "
                "add its folder with --path DIR"
            ) from None
        raise  # the module exists but one of its own imports failed: show it as it is
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no {attr!r}") from None
    if not callable(target):
        raise UsageError(f"{module_name}:{attr} is a {type(target).__name__}, not a function")
    return target  # type: ignore[return-value]


def _tune_loop() -> None:
    """Run this process's event loop on uvloop, when installed (the ``fast`` extra).

    Only ``hotmesh-nb worker`` does this: the process is ours. A library imported into
    a user's program never swaps its event loop implementation.
    """
    try:
        import uvloop
    except ImportError:
        return
    import asyncio
    import warnings

    with warnings.catch_warnings():  # Python 3.14 deprecates policies; uvloop still uses one
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _tune_memory() -> None:
    """Exempt what start-up allocated (modules, the app, clients) from garbage collection.

    Every collection of the oldest generation walks every live object; after
    ``gc.freeze()`` the long-lived ones are skipped, so the per-message garbage is all
    the collector looks at. Only for ``hotmesh-nb worker``, whose process is ours.
    """
    import gc

    gc.collect()
    gc.freeze()


def _worker(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .engine._config import EngineConfig
    from .hotmesh import HotMesh, Worker
    from .runtime import shutdown

    paths = args.path if args.path else [str(Path.cwd().resolve())]
    _extend_path(paths)
    workers = [
        Worker(topic, _load_callable(module_name, attr, paths))
        for topic, module_name, attr in args.topic
    ]
    config = EngineConfig(reclaim_after=args.reclaim_after, delivery_cap=args.delivery_cap)
    _tune_loop()  # before the runtime's loop exists
    hm = HotMesh.init(
        args.app,
        connection=_resolve_url(args),
        namespace=args.namespace,
        engine=args.engine,
        workers=workers,
        config=config,
    )
    _warn_about_password(args)
    _tune_memory()
    topics = ", ".join(w.topic for w in workers) or "no worker topics"
    # SIGTERM (a deploy, a scale-down) drains: stop reading, let what is in hand finish
    # for --drain seconds, hand back the rest to the other processes, exit 0.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    if args.burst:
        # Burst: work until nothing is left, then stop (for scripts, cron jobs and tests).
        hm.wait_until_idle()
        stop.set()
    try:  # Ctrl-C right after the line below is a clean stop too
        print(
            f"serving app '{args.app}' ({topics}); engine: {args.engine}; Ctrl-C or SIGTERM stops",
            flush=True,
        )
        stop.wait()
    except KeyboardInterrupt:
        pass
    log.info("draining: finishing what is in hand (up to %s s), then handing back", args.drain)
    shutdown(grace=args.drain)
    print("drained and stopped", flush=True)
    return 0


def _acl(args: argparse.Namespace) -> int:
    from .acl import acl_rules

    psub = []
    for item in args.psub:
        app, sep, pattern = item.partition(":")
        if not sep or not app or not pattern:
            raise UsageError(f"--psub takes APP:PATTERN, not {item!r}")
        psub.append((app, pattern))
    try:
        print(acl_rules(args.namespace, args.role, search=args.search, psub=psub))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from .engine import _dead_letters as dead_letters
    from .hotmesh import HotMesh
    from .runtime import get_runtime

    hm = HotMesh.init(
        args.app, connection=_resolve_url(args), namespace=args.namespace, engine=False
    )
    _warn_about_password(args)
    client, keys, run = hm.connection.client, hm.keys, get_runtime().run
    ids = args.id or None
    try:
        if args.action == "list":
            letters = run(dead_letters.read(client, keys, args.count), name="dlq")
            for letter in letters:
                message = letter.get("message") or {}
                _print(
                    json.dumps(
                        {
                            "id": letter["id"],
                            "stream": letter.get("stream"),
                            "job": message.get("j"),
                            "activity": message.get("a"),
                            "error": letter.get("error"),
                        }
                    )
                )
            if not letters:
                _print("no dead letters")
        elif args.action == "replay":
            count = run(dead_letters.replay(client, keys, ids), name="dlq")
            _print(f"replayed {count} dead letter(s)")
        else:
            _print(
                f"purged {run(dead_letters.purge(client, keys, ids), name='dlq')} dead letter(s)"
            )
    except ValueError as exc:  # an id that names no partition
        raise UsageError(str(exc)) from None
    return 0


def _add_url_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--url",
        type=_url,
        help="server URL (default: HOTMESH_REDIS_URL, REDIS_URL, the embedded server); a "
        "password here shows in the process list: prefer HOTMESH_REDIS_URL or --url-file",
    )
    group.add_argument(
        "--url-file",
        type=_readable_file,
        metavar="PATH",
        help="read the server URL from this file (one line; keep it mode 0600)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = _Parser(
        prog="hotmesh-nb",
        description="HotMesh for Python: embedded server, demos and worker processes.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logs on errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    srv = sub.add_parser("server", help="manage the embedded server")
    srv.add_argument("action", choices=["start", "status", "stop", "url", "cluster"])
    srv.add_argument(
        "cluster_action",
        nargs="?",
        choices=["start", "status", "stop", "url"],
        help="after `cluster`: manage a local Redis Cluster on loopback (default: status)",
    )
    srv.add_argument("--search", action="store_true", help="load the search module ([search])")
    srv.add_argument("--primaries", type=int, default=3, help="cluster primaries (default 3)")
    srv.add_argument(
        "--replicas", type=int, default=1, help="cluster replicas per primary (default 1)"
    )
    srv.add_argument(
        "--remove", action="store_true", help="with `cluster stop`: also delete its data"
    )
    srv.set_defaults(func=_server)

    work = sub.add_parser("worker", help="run workers (and optionally an engine) until stopped")
    work.add_argument("app", type=_app_id, help="app id")
    work.add_argument(
        "--topic",
        action="append",
        type=_topic_spec,
        default=[],
        metavar="TOPIC=MODULE:FUNCTION",
        help="a worker topic and the function serving it (repeatable)",
    )
    work.add_argument("--engine", action="store_true", help="also run an engine")
    work.add_argument(
        "--namespace", type=_namespace, default="hmsh", help="namespace (default hmsh)"
    )
    _add_url_options(work)
    work.add_argument(
        "--path",
        action="append",
        type=_directory,
        metavar="DIR",
        help="a folder to import --topic modules from, searched after site-packages "
        "(repeatable; default: the current folder)",
    )
    work.add_argument(
        "--reclaim-after",
        type=_positive_seconds,
        default=60.0,
        help="seconds before taking over messages of a dead consumer (default 60)",
    )
    work.add_argument(
        "--delivery-cap",
        type=_positive_int,
        default=5,
        help="deliveries before a message goes to the dead-letter stream (default 5)",
    )
    work.add_argument(
        "--drain",
        type=_positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM or Ctrl-C, seconds that callbacks in hand get to finish before "
        "their messages are handed back to other processes (default 30)",
    )
    work.add_argument(
        "--burst",
        action="store_true",
        help="stop once the streams are empty and nothing is in hand (arq's burst mode)",
    )
    work.set_defaults(func=_worker)

    dlq = sub.add_parser("dlq", help="list, replay or purge an app's dead letters")
    dlq.add_argument("app", type=_app_id, help="app id")
    dlq.add_argument("action", choices=["list", "replay", "purge"])
    dlq.add_argument(
        "--id",
        action="append",
        metavar="LETTER_ID",
        help="only this letter (repeatable; default: all of them)",
    )
    dlq.add_argument(
        "--count", type=_positive_int, default=100, help="most letters listed (default 100)"
    )
    dlq.add_argument(
        "--namespace", type=_namespace, default="hmsh", help="namespace (default hmsh)"
    )
    _add_url_options(dlq)
    dlq.set_defaults(func=_dlq)

    demo = sub.add_parser("demo", help="run the demos against the embedded server (or --url)")
    demo.add_argument("names", nargs="*", help="demos to run (default: all)")
    demo.add_argument("--say", default="howdy", help="what the HotMesh demo sends (howdy)")
    demo.add_argument(
        "--words", default="cat dog mouse", help="the MeshData demo's records (cat dog mouse)"
    )
    _add_url_options(demo)
    demo.set_defaults(func=_demo)

    acl = sub.add_parser(
        "acl",
        help="print the Redis ACL rules of a role in a namespace",
        description="Print the ACL rules a user of NAMESPACE with ROLE needs (one line), e.g. "
        "hotmesh-nb acl shop --role worker | xargs redis-cli ACL SETUSER shop-worker on '>pw'",
    )
    acl.add_argument("namespace", help="the namespace the user may reach")
    acl.add_argument(
        "--role",
        choices=["client", "worker", "engine", "admin"],
        default="engine",
        help="client: start and await jobs; worker/engine: also consume streams; admin: "
        "also remove dead letters (default engine: MeshCall/MeshFlow/MeshData need it)",
    )
    acl.add_argument(
        "--search",
        action="store_true",
        help="also grant queries of the namespace's search indexes (FT.SEARCH, FT.INFO, "
        "FT._LIST; only on a server with the search module). FT.CREATE is never granted: "
        "the operator creates the indexes",
    )
    acl.add_argument(
        "--psub",
        action="append",
        default=[],
        metavar="APP:PATTERN",
        help="a pattern passed to HotMesh.psub (repeatable; patterns are granted literally)",
    )
    acl.set_defaults(func=_acl)
    return parser


def _fail(message: str, status: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    # One line: a multi-line message (a YAML problem list, say) keeps its first line.
    print(f"error: {message.strip().splitlines()[0] if message.strip() else message}",
          file=sys.stderr)  # fmt: skip
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hotmesh-nb``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line (before or after the command).
    debug = "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except UsageError as exc:
        return _fail(str(exc), USAGE_ERROR, debug)
    except HotMeshError as exc:
        return _fail(str(exc), RUN_ERROR, debug)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an unexpected failure still gets one line, unless --debug
        return _fail(f"{type(exc).__name__}: {exc}", RUN_ERROR, debug)
    finally:
        from .runtime import shutdown

        shutdown()


if __name__ == "__main__":
    sys.exit(main())
