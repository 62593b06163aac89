"""The HotMesh mapping language: ``{references}``, ``@pipe``, ``@reduce`` and functions.

Wherever a YAML value may be a rule (``input.maps``, ``output.maps``,
``job.maps``, transition conditions, ``topic``, ``sleep``, ``expire``...),
the engine evaluates it here with the JavaScript semantics of HotMesh 0.3.32:

* a value of a ``maps`` object resolves as the original's mapper resolves it:
  literals pass through, objects and arrays resolve member by member (an array
  becomes an object keyed ``'0'``, ``'1'``...), an object holding ``@pipe`` is a
  pipe, and ``null`` fails; a single field (``compile_rule(..., field=True)``:
  ``topic``, ``expire``, conditions) resolves only strings and pipes;
* ``'{a.b.c}'`` reads a path of the job context (missing → :data:`UNDEFINED`);
* ``'{@family.fn}'`` calls a function (see :func:`function_names`);
* ``'{$input}'``, ``'{$output}'``, ``'{$item}'``, ``'{$key}'``, ``'{$index}'``
  (with dotted sub-paths such as ``'{$item.name}'``) are ``@reduce`` variables.

Value representation (JavaScript → Python):

=================  ==============================================================
``undefined``      :data:`UNDEFINED` — a falsy singleton, distinct from ``None``
``null``           ``None``
boolean            ``bool``
number             ``int`` for integral results within ±(2**53 - 1) (JSON shows
                   ``5``, not ``5.0``), else ``float``; ``-0.0``, ``nan`` and
                   ``±inf`` stay floats. Either type is accepted as input.
string             ``str`` — lengths and indexes count UTF-16 code units, as in JS
array              ``list``
object             ``dict`` with ``str`` keys; integer-like keys come first (JS order)
Date               :class:`JSDate` (``.time`` = ms since the epoch, NaN if invalid);
                   ``datetime`` values are accepted wherever a date is
=================  ==============================================================

Rules never modify the context they read: a rule using a mutating function
(``@array.push``, ``@object.set``...) works on a private copy of the parts of
the context it reads, so two reads of one value inside the rule alias, as in JS.

Every function was checked against the original 0.3.32 running in Node
(``tests/mapping/node``): values, thrown errors, V8's date-string parser and
fdlibm's ``Math`` functions bit for bit (only ``Math.pow`` may differ by one ulp).

>>> resolve('{a.output.data.n}', {'a': {'output': {'data': {'n': 5}}}})
5
>>> rule = compile_rule({'@pipe': [['{$job.data.name}', ' '], ['{@string.split}']]})
>>> rule.evaluate({'$job': {'data': {'name': 'Ada Lovelace'}}})
['Ada', 'Lovelace']
"""

from __future__ import annotations

from . import functions as _functions  # noqa: F401 - registers every function family
from ._coerce import strict_equals, to_js_string, truthy
from ._compiler import function_names
from ._jsjson import to_json
from ._rule import Rule, compile_rule, resolve
from ._values import UNDEFINED, JSDate, Undefined, is_undefined

__all__ = [
    "UNDEFINED",
    "JSDate",
    "Rule",
    "Undefined",
    "compile_rule",
    "function_names",
    "is_undefined",
    "resolve",
    "strict_equals",
    "to_js_string",
    "to_json",
    "truthy",
]
