"""Resolve ``$ref`` references between YAML files.

HotMesh deploys an app from a path by dereferencing it as JSON Schema does:
any mapping ``{$ref: 'other.yaml'}`` (or ``'other.yaml#/json/pointer'``, or an
internal ``'#/pointer'``) is replaced by the value it points to. Relative paths
are resolved against the directory of the file holding the ``$ref``. Keys
written beside ``$ref`` are merged over the referenced mapping.

Each file is parsed once; every reference target is resolved once and the
result shared. A reference that (directly or through others) points back into
itself is reported as a cycle instead of recursing forever.

Bounds, because a YAML file may come from someone else:

* a ``$ref`` reads only regular files (no FIFO, device or folder) inside the
  root document's folder (or the ``base_dir`` given to ``load_app``), after
  symbolic links are followed; ``/etc/passwd`` and ``../`` escapes are refused;
* each file is at most :data:`~hotmesh_nb.model._yaml_loader.MAX_FILE_BYTES`;
* a YAML alias (or a ``$ref``) used many times is walked once and shared, and
  the app, expanded, may hold at most :data:`MAX_NODES` values: a
  "billion laughs" file is refused at once instead of exhausting memory.
"""

from __future__ import annotations

import os
from typing import Any, TypedDict
from urllib.parse import unquote

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model._located import LDict, LList, file_of, line_of
from hotmesh_nb.model._yaml_loader import read_yaml_file


class _Where(TypedDict):
    """Where a ``$ref`` is written: the location its errors name."""

    file: str | None
    line: int | None


_INLINE = "<inline>"  # document id of YAML text that has no file

MAX_NODES = 200_000
"""Most values (mappings, lists and scalars, each alias counted every time it is used)
an app may expand to; real apps hold a few thousand."""


class _Resolver:
    def __init__(self, root: Any, file: str | None, base_dir: str, allowed: str) -> None:
        self.root_id = file or _INLINE
        self.docs: dict[str, Any] = {self.root_id: root}
        self.dirs: dict[str, str] = {self.root_id: os.path.dirname(file) if file else base_dir}
        self.memo: dict[tuple[str, str], Any] = {}
        self.allowed = os.path.realpath(allowed)
        # id(input container) -> its resolved copy: an alias used n times is walked once.
        # (Safe for cycle detection: a walk that completed met no cycle, and a target on
        # the stack now was not resolved by it.) The docs keep every input alive.
        self.walked: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}

    def walk(self, node: Any, doc: str, stack: tuple[tuple[str, str], ...]) -> Any:
        if not isinstance(node, (LDict, LList)):
            return node
        done = self.walked.get(id(node))
        if done is not None:
            return done
        if isinstance(node, LDict):
            if "$ref" in node:
                out: Any = self.follow(node, doc, stack)
            else:
                out = LDict(file=node.file, line=node.line)
                out.key_lines = dict(node.key_lines)
                for key, value in node.items():
                    out[key] = self.walk(value, doc, stack)
        else:
            out = LList(file=node.file, line=node.line)
            out.item_lines = list(node.item_lines)
            out.extend(self.walk(value, doc, stack) for value in node)
        self.walked[id(node)] = out
        self.measure(out, node)
        return out

    def measure(self, value: Any, origin: Any) -> int:
        """Values ``value`` expands to (aliases counted each time); refuses past the cap."""
        if not isinstance(value, (dict, list)):
            return 1
        known = self.sizes.get(id(value))
        if known is not None:
            return known
        items = value.values() if isinstance(value, dict) else value
        total = 1 + sum(self.measure(item, item) for item in items)
        self.sizes[id(value)] = total
        if total > MAX_NODES:
            raise ValidationError(
                f"the app expands to more than {MAX_NODES} values (YAML aliases or $refs "
                "repeated many times, as in a 'billion laughs' file); refused",
                file=file_of(origin),
                line=getattr(origin, "line", None),
            )
        return total

    def target_path(self, doc: str, file_part: str, ref: str, where: _Where) -> str:
        """The absolute path a ``$ref`` names, refused unless it is inside the allowed folder."""
        target = os.path.abspath(os.path.join(self.dirs[doc], unquote(file_part)))
        real = os.path.realpath(target)
        if os.path.commonpath([real, self.allowed]) != self.allowed:
            raise ValidationError(
                f"$ref {ref!r} -> {real} is outside the app's folder {self.allowed}; a $ref "
                "may only read files under it (pass base_dir= to load a wider folder)",
                **where,
            )
        return target

    def follow(self, node: LDict, doc: str, stack: tuple[tuple[str, str], ...]) -> Any:
        ref = node["$ref"]
        where: _Where = {"file": file_of(node), "line": line_of(node, "$ref")}
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError(
                "$ref must be a string such as './graphs/x.yaml' or 'x.yaml#/path'", **where
            )
        file_part, _, fragment = ref.strip().partition("#")
        if "://" in file_part:
            raise ValidationError(
                f"$ref {ref!r}: only local files can be referenced; download the file first",
                **where,
            )
        if file_part:
            target_doc = self.target_path(doc, file_part, ref, where)
            if target_doc not in self.docs:
                try:
                    self.docs[target_doc] = read_yaml_file(target_doc)
                except ValidationError as exc:
                    if exc.line is not None:
                        raise  # an error inside the referenced file: its own location
                    raise ValidationError(
                        f"$ref {ref!r} -> {target_doc}: {exc.reason}", **where
                    ) from None
                self.dirs[target_doc] = os.path.dirname(target_doc)
        else:
            target_doc = doc
        pointer = fragment.rstrip("/") if fragment.strip("/") else ""
        key = (target_doc, pointer)
        if key in stack:
            chain = " -> ".join(_label(d, p) for d, p in (*stack[stack.index(key) :], key))
            raise ValidationError(f"circular $ref: {chain}; break the cycle", **where)
        if key in self.memo:
            value = self.memo[key]
        else:
            # The key is on the stack while navigating too: the pointer may pass
            # through a $ref that leads back here.
            raw = self.navigate(target_doc, pointer, ref, where, (*stack, key))
            value = self.walk(raw, target_doc, (*stack, key))
            self.memo[key] = value
        siblings = [k for k in node if k != "$ref"]
        if not siblings:
            return value
        if not isinstance(value, dict):
            raise ValidationError(
                f"$ref {ref!r} has keys beside it but points to a "
                f"{type(value).__name__}; only a mapping can be extended",
                **where,
            )
        merged = LDict(value, file=getattr(value, "file", None), line=getattr(value, "line", None))
        merged.key_lines = dict(getattr(value, "key_lines", {}))
        for sibling in siblings:
            merged[sibling] = self.walk(node[sibling], doc, stack)
            merged.key_lines[sibling] = node.key_lines.get(sibling, node.line or 0)
        return merged

    def navigate(
        self,
        doc: str,
        pointer: str,
        ref: str,
        where: _Where,
        stack: tuple[tuple[str, str], ...],
    ) -> Any:
        node = self.docs[doc]
        if not pointer:
            return node
        if not pointer.startswith("/"):
            raise ValidationError(
                f"$ref {ref!r}: the part after '#' must be a JSON pointer such as '#/graphs/0'",
                **where,
            )
        for raw_token in pointer[1:].split("/"):
            token = unquote(raw_token).replace("~1", "/").replace("~0", "~")
            if isinstance(node, LDict) and "$ref" in node:
                node = self.follow(node, doc, stack)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise ValidationError(
                    f"$ref {ref!r}: {token!r} not found in {_label(doc, '')}; check the pointer",
                    **where,
                )
        return node


def _label(doc: str, pointer: str) -> str:
    return f"{doc}#{pointer}" if pointer else doc


def resolve_refs(root: Any, file: str | None, base_dir: str | None = None) -> Any:
    """Return ``root`` with every ``$ref`` replaced by its target.

    ``file`` is the path the root document was read from (None for inline
    text, whose relative references resolve against ``base_dir`` or the
    current directory). References may read files under ``base_dir`` when it
    is given, else under the root file's folder (the current directory for
    inline text).
    """
    base = os.path.abspath(base_dir or os.getcwd())
    allowed = base if base_dir is not None or file is None else os.path.dirname(file)
    resolver = _Resolver(root, file, base, allowed)
    resolved = resolver.walk(root, resolver.root_id, ((resolver.root_id, ""),))
    resolver.measure(resolved, root)
    return resolved
