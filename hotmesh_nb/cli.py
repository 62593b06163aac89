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

    return run_demos(args.names, url=args.url)


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

    demo = sub.add_parser("demo", help="run the demos against the embedded server (or --url)")
    demo.add_argument("names", nargs="*", help="demos to run (default: all)")
    demo.add_argument("--url", help="server URL (default: HOTMESH_REDIS_URL, REDIS_URL, embedded)")
    demo.set_defaults(func=_demo)
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
