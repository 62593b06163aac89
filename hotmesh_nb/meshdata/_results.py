"""What ``find_jobs`` returns: a page of record ids with their searchable fields."""

from __future__ import annotations

from dataclasses import dataclass

from ..search import SearchResult


@dataclass
class FoundJobs(SearchResult):
    """Records found by a key scan (``find_jobs``); ``.to_frame()`` as search results.

    ``count`` is the number of records on this page; ``cursor`` continues the
    scan (0 when it is complete).
    """

    cursor: int = 0
    """Pass to ``find_jobs(cursor=...)`` for the next page; 0 when the scan is done."""

    @property
    def ids(self) -> list[str]:
        """The record ids, in scan order."""
        return [record for record, _ in self.records]
