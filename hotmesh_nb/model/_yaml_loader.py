"""Parse YAML into located containers, rejecting duplicate keys.

PyYAML's ``safe_load`` forgets where values came from and silently keeps the
last of two equal mapping keys (so a second activity ``w1`` would replace the
first without a word). We therefore compose the node graph with a safe loader
and build the Python values ourselves from the nodes, keeping each node's
``start_mark``.

Scalar resolution follows the YAML 1.2 core schema used by ``js-yaml`` (the
parser of the original HotMesh) rather than PyYAML's YAML 1.1 defaults, so an
app written for HotMesh means the same thing here:

* only ``true``/``false`` (any case style) are booleans - ``yes``/``no``/``on``
  stay strings;
* ``1:30`` is a string, not a base-60 number;
* ``1e3`` is a float;
* timestamps (``2024-01-01``) stay strings, so the tree is always JSON data.
"""

from __future__ import annotations

import math
import os
import re
import stat
from typing import Any

import yaml

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model._located import LDict, LList

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_TIMESTAMP, _MERGE, _SEQ, _MAP = (_TAG + t for t in ("timestamp", "merge", "seq", "map"))
_REPLACED = {_BOOL, _INT, _FLOAT, _TIMESTAMP}

_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT_RE = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


def _resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    """SafeLoader's implicit resolvers with bool/int/float/timestamp replaced."""
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag not in _REPLACED]
        if kept:
            table[first] = kept
    for tag, rx, firsts in (
        (_BOOL, _BOOL_RE, "tTfF"),
        (_INT, _INT_RE, "-+0123456789"),
        (_FLOAT, _FLOAT_RE, "-+0123456789."),
    ):
        for ch in firsts:
            table.setdefault(ch, []).insert(0, (tag, rx))
    return table


# The C parser (when libyaml is present) is several times faster on big apps
# such as the MeshFlow factory; node construction below is ours either way.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """A safe loader with YAML 1.2 core scalar resolution."""

    yaml_implicit_resolvers = _resolvers()


def _parse_int(text: str) -> int:
    text = text.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    if text.startswith("0o"):
        return sign * int(text[2:], 8)
    if len(text) > 1 and text.startswith("0"):
        return sign * int(text[1:], 8)
    return sign * int(text)


def _parse_float(text: str) -> float:
    low = text.replace("_", "").lower()
    if low.lstrip("+-") == ".inf":
        return -math.inf if low.startswith("-") else math.inf
    if low == ".nan":
        return math.nan
    return float(low)


def _key_text(value: Any) -> str:
    """A mapping key as JavaScript would see it (object keys are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Builder:
    """Turns a composed node graph into located Python values."""

    def __init__(self, loader: _Loader, file: str | None) -> None:
        self.loader = loader
        self.file = file
        self.done: dict[int, Any] = {}  # id(node) -> value, so aliases share one object
        self.active: set[int] = set()  # containers being built: an alias to one is recursive
        self.path: list[str] = []  # keys leading to the mapping being built

    def error(self, reason: str, node: yaml.Node) -> ValidationError:
        return ValidationError(reason, file=self.file, line=node.start_mark.line + 1)

    def build(self, node: yaml.Node) -> Any:
        if id(node) in self.active:
            # JSON (and so the stored app) cannot represent a value containing itself.
            raise self.error(
                "a YAML alias refers to the structure that contains it; "
                "recursive structures are not allowed - expand the alias by hand",
                node,
            )
        if id(node) in self.done:
            return self.done[id(node)]
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            return self.container(node)
        finally:
            self.active.discard(id(node))

    def container(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self.error(f"unsupported YAML tag {node.tag!r}; use a plain sequence", node)
            seq = LList(file=self.file, line=node.start_mark.line + 1)
            self.done[id(node)] = seq
            for item in node.value:
                seq.append(self.build(item))
                seq.item_lines.append(item.start_mark.line + 1)
            return seq
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        raise self.error("unsupported YAML node", node)  # pragma: no cover - defensive

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag in (_STR, _TIMESTAMP):
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            if text.lower() not in ("true", "false"):
                raise self.error(f"{text!r} is not a boolean; write true or false", node)
            return text.lower() == "true"
        try:
            if tag == _INT:
                return _parse_int(text)
            if tag == _FLOAT:
                return _parse_float(text)
        except ValueError:
            raise self.error(f"{text!r} is not a valid {tag[len(_TAG) :]}", node) from None
        raise self.error(f"unsupported YAML tag {tag!r}; use plain strings and numbers", node)

    def mapping(self, node: yaml.MappingNode) -> LDict:
        if node.tag != _MAP:
            raise self.error(f"unsupported YAML tag {node.tag!r}; use a plain mapping", node)
        result = LDict(file=self.file, line=node.start_mark.line + 1)
        self.done[id(node)] = result
        # Merge keys (`<<: *defaults`) come first so explicit keys override them;
        # only explicit keys are checked for duplicates.
        explicit: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.merge(result, value_node)
            else:
                explicit.append((key_node, value_node))
        first_line: dict[str, int] = {}
        for key_node, value_node in explicit:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(
                    "mapping keys must be plain scalars (strings or numbers)", key_node
                )
            key = _key_text(self.scalar(key_node))
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise ValidationError(
                    f"duplicate key {key!r}: first defined at line {first_line[key]}, "
                    f"again at line {line}; YAML keeps only one of them - rename or remove one",
                    file=self.file,
                    line=line,
                    activity=self.activity(key),
                )
            first_line[key] = line
            self.path.append(key)
            try:
                result[key] = self.build(value_node)
            finally:
                self.path.pop()
            result.key_lines[key] = line
        return result

    def activity(self, key: str) -> str | None:
        """The activity id a duplicate ``key`` belongs to, judged from the key path."""
        if self.path[-1:] == ["activities"]:
            return key  # two activities with one id
        if self.path[-2:-1] == ["activities"]:
            return self.path[-1]  # a key repeated inside one activity
        return None

    def merge(self, target: LDict, value_node: yaml.Node) -> None:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source_node in sources:
            source = self.build(source_node)
            if not isinstance(source, LDict):
                raise self.error(
                    "a merge key '<<' needs a mapping (or a list of them)", source_node
                )
            for key, value in source.items():
                if key not in target:
                    target[key] = value
                    target.key_lines[key] = source.key_lines.get(key, source.line or 0)


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse one YAML document into :class:`LDict`/:class:`LList`/scalars.

    ``file`` only labels errors and located nodes. Raises
    :class:`ValidationError` (with the line) on syntax errors, duplicate keys,
    unsupported tags and more than one document; an empty document is None.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _Builder(loader, file).build(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ValidationError(
            f"YAML syntax error: {reason}; check the indentation and quoting near this line",
            file=file,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"YAML error: {exc}", file=file) from None
    except RecursionError:
        raise ValidationError(
            "the YAML is nested too deeply to be parsed; flatten the structure", file=file
        ) from None
    finally:
        loader.dispose()


MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest YAML file read (the app or a ``$ref`` target): 4 MiB, far above any real app."""


def read_yaml_file(path: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Read and parse a YAML file (UTF-8); unreadable files are validation errors.

    Only a regular file of at most ``max_bytes`` is read: a FIFO, a device
    (``/dev/zero``) or a folder is refused at once, without blocking on it.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ValidationError(
            "file not found; check the path (relative paths are resolved against the "
            "referencing file, or the current directory for the top-level app)",
            file=path,
        ) from None
    except OSError as exc:
        raise ValidationError(f"cannot read the file: {exc.strerror or exc}", file=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError(
                f"cannot read the file: it is {_kind(info.st_mode)}, not a regular file; a "
                "YAML app and its $ref targets must be plain files",
                file=path,
            )
        if info.st_size > max_bytes:
            raise ValidationError(
                f"the file is {info.st_size} bytes, over the {max_bytes} bytes a YAML file "
                "may have; split it or check that this is the file you meant",
                file=path,
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ValidationError(f"cannot read the file: {exc.strerror or exc}", file=path) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while we read it
        raise ValidationError(
            f"the file is over the {max_bytes} bytes a YAML file may have", file=path
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"the file is not UTF-8 text: {exc}", file=path) from None
    return parse_yaml(text, path)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
