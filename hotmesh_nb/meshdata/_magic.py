"""``%hotmesh search ENTITY "query"``: search an entity's records into a DataFrame."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from IPython.core.error import UsageError

from ..errors import HotMeshError
from ..notebook._magics import Subcommand, register_subcommand

USAGE = 'search ENTITY ["QUERY"] [--index NAME] [--limit N] [--sort FIELD] [--desc]'


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(f"{message}\nusage: %hotmesh {USAGE}")


def _parser() -> _Parser:
    parser = _Parser(prog="%hotmesh search", add_help=False, allow_abbrev=False)
    parser.add_argument("entity")
    parser.add_argument("query", nargs="?", default="*")
    parser.add_argument("--index")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--sort")
    parser.add_argument("--desc", action="store_true")
    return parser


def run(magics: Any, text: str) -> Any:
    """Search the session's namespace; returns the typed DataFrame of the matches."""
    from ._core import MeshData, instances

    try:
        args = _parser().parse_args(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"{exc}\nusage: %hotmesh {USAGE}") from None
    session = magics.session
    mine = [m for m in instances() if m.namespace == session.namespace]
    md = mine[-1] if mine else MeshData(session.resolved_url(), namespace=session.namespace)
    try:
        return md.find(
            args.entity,
            args.query,
            index=args.index,
            limit=args.limit,
            sort_by=args.sort,
            ascending=not args.desc,
            as_frame=True,
        )
    except HotMeshError as exc:
        raise UsageError(f"{exc}\nusage: %hotmesh {USAGE}") from None


def register() -> None:
    """Add the subcommand to ``%hotmesh``."""
    register_subcommand(
        Subcommand("search", USAGE, "search an entity's records (MeshData) as a DataFrame", run)
    )
