"""The HotMesh mapping language: ``{references}``, ``@pipe``, ``@reduce`` and functions.

Wherever a YAML value may be a rule (``input.maps``, ``output.maps``,
``job.maps``, transition conditions, ``topic``, ``sleep``, ``expire``...),
the engine evaluates it here with the JavaScript semantics of HotMesh 0.3.32:

* literals of every YAML type pass through; dicts and lists resolve member by
  member (a dict whose only key is ``@pipe`` is a pipe);
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
(``@array.push``, ``@object.set``...) works on copies of the values it reads.

>>> resolve('{a.output.data.n}', {'a': {'output': {'data': {'n': 5}}}})
5
>>> rule = compile_rule({'@pipe': [['{$job.data.name}', ' '], ['{@string.split}']]})
>>> rule.evaluate({'$job': {'data': {'name': 'Ada Lovelace'}}})
['Ada', 'Lovelace']
"""

from __future__ import annotations

from . import functions as _functions  # noqa: F401 - registers every function family
from .coerce import strict_equals, to_js_string, truthy
from .compiler import function_names
from .jsjson import to_json
from .rule import Rule, compile_rule, resolve
from .values import UNDEFINED, JSDate, Undefined, is_undefined

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
