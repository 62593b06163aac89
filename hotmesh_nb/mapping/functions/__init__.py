"""The 13 function families of the mapping language, one module each.

Importing this package registers every function in
:data:`hotmesh_nb.mapping._function_registry.FUNCTIONS`.
"""

from __future__ import annotations

from . import (  # noqa: F401 - imported for their registrations
    _array_functions,
    _bitwise_functions,
    _conditional_functions,
    _cron_functions,
    _date_functions,
    _json_functions,
    _logical_functions,
    _math_functions,
    _number_functions,
    _object_functions,
    _string_functions,
    _symbol_functions,
    _unary_functions,
)
