"""MeshData: functions joined into an operational data layer, searchable into DataFrames.

>>> from hotmesh_nb import MeshData, SearchOptions                     # doctest: +SKIP
>>> md = MeshData(search=SearchOptions('animals', prefix=['animal-'],  # doctest: +SKIP
...               schema={'name': {'type': 'TAG'}, 'legs': {'type': 'NUMERIC'}}))
>>> md.connect('animal', describe)                                    # doctest: +SKIP
>>> md.exec('animal', ['cat'], id='cat', ttl='infinity', search={'name': 'cat', 'legs': 4})
>>> md.find_where('animal', [{'field': 'legs', 'is': '>=', 'value': 4}]).to_frame()

Records are MeshFlow workflows (:mod:`hotmesh_nb.meshflow`); their searchable
fields use RediSearch where the server has it and our fallback index
elsewhere (:mod:`hotmesh_nb.search`), with the same answers.
"""

from __future__ import annotations

from ..search import SearchOptions, SearchResult
from ._core import Clauses, MeshData
from ._meshdata_workflow import MeshDataWorkflow
from ._record_ids import record_id
from ._results import FoundJobs

__all__ = [
    "Clauses",
    "FoundJobs",
    "MeshData",
    "MeshDataWorkflow",
    "SearchOptions",
    "SearchResult",
    "record_id",
]
