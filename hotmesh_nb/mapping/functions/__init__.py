"""The 13 function families of the mapping language, one module each.

Importing this package registers every function in
:data:`hotmesh_nb.mapping.registry.FUNCTIONS`.
"""

from __future__ import annotations

from . import (  # noqa: F401 - imported for their registrations
    array,
    bitwise,
    conditional,
    cron,
    date,
    json,
    logical,
    math,
    number,
    object,
    string,
    symbol,
    unary,
)
