"""The replay ledger: every durable call's record, kept in the workflow's job hash.

Fields (JSON values, see :mod:`hotmesh_nb.engine._state`):

``-<type>-<index>-``   the result of durable call ``index``: ``{"v": value}`` or
                       ``{"e": error}``, plus timings (``s`` start, ``f`` finish)
``-claim-<index>-``    the run that dispatched call ``index``:
                       ``{"t": type, "n": name, "g": owner, "s": start}``
``-claim-end-``        the run that finished the workflow (returned or failed)
``-patch-<id>-``       a :func:`~hotmesh_nb.meshflow.workflow.patched` marker: this
                       workflow took the new code path of change ``id``

``index`` is the call's position in the workflow: ``3`` is the third durable
call of the function, ``4.2`` the second call of the task it started as its
fourth step (``asyncio.gather`` children get their own numbering, so the
numbers do not depend on which results happen to be recorded already).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .._codec import dumps, loads
from .._lua import LuaScript

CLAIM = LuaScript("claim", package=__package__)
"""Claim items for a run (see ``lua/claim.lua``)."""
SEARCH = LuaScript("search", package=__package__)
"""A replay-safe search operation (see ``lua/search.lua``)."""

_FIELD = re.compile(r"^-([a-z]+)-([^-]+)-(\d+-)?$")


def result_field(kind: str, index: str) -> str:
    """Hash field of the result of durable call ``index``."""
    return f"-{kind}-{index}-"


def patch_field(patch_id: str) -> str:
    """Hash field of a ``patched()`` marker."""
    return f"-patch-{patch_id}-"


def claim_field(index: str) -> str:
    """Hash field of the claim of durable call ``index``."""
    return f"-claim-{index}-"


END_CLAIM = "-claim-end-"
"""Hash field claimed by the run that ends the workflow."""


def retry_claim(attempt: int) -> str:
    """Hash field claimed by the run that schedules retry ``attempt`` of the function."""
    return f"-claim-retry{attempt}-"


@dataclass
class Ledger:
    """The ledger of one workflow as read at the start of a run."""

    results: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """Call index → (type, record)."""
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Call index → claim record."""
    search: dict[str, str] = field(default_factory=dict)
    """Search results by ledger field (``-search-<index>-``)."""
    patches: set[str] = field(default_factory=set)
    """Ids of the ``patched()`` changes this workflow took."""

    @classmethod
    def from_hash(cls, fields: dict[str, str]) -> Ledger:
        """Read the ledger out of a job hash (``HGETALL``)."""
        ledger = cls()
        for name, raw in fields.items():
            if name[:1] != "-":
                continue
            match = _FIELD.match(name)
            if match is None:
                continue
            kind, index = match.group(1), match.group(2)
            if kind == "search":
                ledger.search[name] = raw
                continue
            if kind == "patch":
                ledger.patches.add(index)
                continue
            try:
                record = loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict):
                record = {"v": record}
            if kind == "claim":
                if index[:1].isdigit():  # not the end / retry claims
                    ledger.claims[index] = record
            else:
                ledger.results[index] = (kind, record)
        return ledger


def encode(record: dict[str, Any]) -> str:
    """JSON of a ledger record."""
    return dumps(record)


def index_key(index: str) -> tuple[int, ...]:
    """Sort key of a call index (``'4.10'`` after ``'4.9'``)."""
    return tuple(int(part) for part in index.split(".") if part.isdigit())
