"""The ``hotmesh-nb`` command: the embedded server, demos and (later) worker processes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import server
from .errors import HotMeshError


def _print(obj: object) -> None:
    print(json.dumps(obj, indent=2) if isinstance(obj, (dict, list)) else obj)


def _server(args: argparse.Namespace) -> int:
    action = args.action
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


def _demo(args: argparse.Namespace) -> int:
    from .demos import run_demos

    return run_demos(args.names, url=args.url, argument=args.say, words=args.words)


def _load_callable(spec: str) -> object:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"hotmesh-nb: callback must look like module:function, not {spec!r}")
    import importlib

    sys.path.insert(0, "")
    target: object = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


def _worker(args: argparse.Namespace) -> int:
    import threading

    from .engine.config import EngineConfig
    from .hotmesh import HotMesh, Worker

    workers = []
    for item in args.topic:
        topic, _, spec = item.partition("=")
        if not spec:
            raise SystemExit(f"hotmesh-nb: --topic takes TOPIC=module:function, not {item!r}")
        workers.append(Worker(topic, _load_callable(spec)))  # type: ignore[arg-type]
    config = EngineConfig(reclaim_after=args.reclaim_after, delivery_cap=args.delivery_cap)
    hm = HotMesh.init(
        args.app,
        connection=args.url,
        namespace=args.namespace,
        engine=args.engine,
        workers=workers,
        config=config,
    )
    topics = ", ".join(w.topic for w in workers) or "no worker topics"
    print(f"serving app '{args.app}' ({topics}); engine: {args.engine}; Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hm.stop()
    return 0


def _acl(args: argparse.Namespace) -> int:
    from .acl import acl_rules

    psub = []
    for item in args.psub:
        app, sep, pattern = item.partition(":")
        if not sep or not app or not pattern:
            raise SystemExit(f"hotmesh-nb: --psub takes APP:PATTERN, not {item!r}")
        psub.append((app, pattern))
    try:
        print(acl_rules(args.namespace, args.role, search=args.search, psub=psub))
    except ValueError as exc:
        raise SystemExit(f"hotmesh-nb: {exc}") from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="hotmesh-nb",
        description="HotMesh for Python: embedded server, demos and worker processes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    srv = sub.add_parser("server", help="manage the embedded server")
    srv.add_argument("action", choices=["start", "status", "stop", "url"])
    srv.add_argument("--search", action="store_true", help="load the search module ([search])")
    srv.set_defaults(func=_server)

    work = sub.add_parser("worker", help="run workers (and optionally an engine) until stopped")
    work.add_argument("app", help="app id")
    work.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="TOPIC=MODULE:FUNCTION",
        help="a worker topic and the function serving it (repeatable)",
    )
    work.add_argument("--engine", action="store_true", help="also run an engine")
    work.add_argument("--namespace", default="hmsh", help="namespace (default hmsh)")
    work.add_argument("--url", help="server URL (default: HOTMESH_REDIS_URL, REDIS_URL, embedded)")
    work.add_argument(
        "--reclaim-after",
        type=float,
        default=60.0,
        help="seconds before taking over messages of a dead consumer (default 60)",
    )
    work.add_argument(
        "--delivery-cap",
        type=int,
        default=5,
        help="deliveries before a message goes to the dead-letter stream (default 5)",
    )
    work.set_defaults(func=_worker)

    demo = sub.add_parser("demo", help="run the demos against the embedded server (or --url)")
    demo.add_argument("names", nargs="*", help="demos to run (default: all)")
    demo.add_argument("--say", default="howdy", help="what the HotMesh demo sends (howdy)")
    demo.add_argument(
        "--words", default="cat dog mouse", help="the MeshData demo's records (cat dog mouse)"
    )
    demo.add_argument("--url", help="server URL (default: HOTMESH_REDIS_URL, REDIS_URL, embedded)")
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
        help="grant FT.* (server with the search module; FT.CREATE can index any prefix, "
        "so only for users trusted with every namespace)",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hotmesh-nb``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HotMeshError as exc:
        print(f"hotmesh-nb: {exc}", file=sys.stderr)
        return 1
    finally:
        from .runtime import shutdown

        shutdown()


if __name__ == "__main__":
    sys.exit(main())
