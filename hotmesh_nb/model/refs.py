"""Resolve ``$ref`` references between YAML files.

HotMesh deploys an app from a path by dereferencing it as JSON Schema does:
any mapping ``{$ref: 'other.yaml'}`` (or ``'other.yaml#/json/pointer'``, or an
internal ``'#/pointer'``) is replaced by the value it points to. Relative paths
are resolved against the directory of the file holding the ``$ref``. Keys
written beside ``$ref`` are merged over the referenced mapping.

Each file is parsed once; every reference target is resolved once and the
result shared. A reference that (directly or through others) points back into
itself is reported as a cycle instead of recursing forever.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model.located import LDict, LList, file_of, line_of
from hotmesh_nb.model.yaml_loader import read_yaml_file

_INLINE = "<inline>"  # document id of YAML text that has no file


class _Resolver:
    def __init__(self, root: Any, file: str | None, base_dir: str) -> None:
        self.root_id = file or _INLINE
        self.docs: dict[str, Any] = {self.root_id: root}
        self.dirs: dict[str, str] = {self.root_id: os.path.dirname(file) if file else base_dir}
        self.memo: dict[tuple[str, str], Any] = {}

    def walk(self, node: Any, doc: str, stack: tuple[tuple[str, str], ...]) -> Any:
        if isinstance(node, LDict):
            if "$ref" in node:
                return self.follow(node, doc, stack)
            out = LDict(file=node.file, line=node.line)
            out.key_lines = dict(node.key_lines)
            for key, value in node.items():
                out[key] = self.walk(value, doc, stack)
            return out
        if isinstance(node, LList):
            seq = LList(file=node.file, line=node.line)
            seq.item_lines = list(node.item_lines)
            seq.extend(self.walk(value, doc, stack) for value in node)
            return seq
        return node

    def follow(self, node: LDict, doc: str, stack: tuple[tuple[str, str], ...]) -> Any:
        ref = node["$ref"]
        where = {"file": file_of(node), "line": line_of(node, "$ref")}
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
            target_doc = os.path.abspath(os.path.join(self.dirs[doc], unquote(file_part)))
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
        where: dict[str, Any],
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
    current directory).
    """
    resolver = _Resolver(root, file, os.path.abspath(base_dir or os.getcwd()))
    return resolver.walk(root, resolver.root_id, ((resolver.root_id, ""),))
