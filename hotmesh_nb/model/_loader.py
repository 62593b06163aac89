"""``load_app``: from YAML text or a file path to a compiled :class:`AppSpec`."""

from __future__ import annotations

import os

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model._compile import compile_app
from hotmesh_nb.model._refs import resolve_refs
from hotmesh_nb.model._specs import AppSpec
from hotmesh_nb.model._yaml_loader import parse_yaml, read_yaml_file


def is_yaml_text(source: str) -> bool:
    """Whether a string is YAML text rather than a path.

    As in HotMesh, text that (stripped) starts with ``app:`` is YAML; so is any
    string containing a newline, since no sensible path does.
    """
    return source.strip().startswith("app:") or "\n" in source


def load_app(
    source: str | os.PathLike[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> AppSpec:
    """Load, validate and compile a YAML app.

    ``source`` is YAML text (see :func:`is_yaml_text`) or the path of a YAML
    file; a ``PathLike`` is always a path. ``$ref`` references are resolved
    relative to the file that holds them; for inline text, relative to
    ``base_dir`` (default: the current directory). ``name`` labels inline text
    in error messages (e.g. ``'<cell 3>'``); errors in files name the file.

    Raises :class:`~hotmesh_nb.errors.ValidationError` - and nothing else - for
    any problem with the app: unreadable file, YAML syntax, broken ``$ref``,
    or an invalid model (see :mod:`hotmesh_nb.model._validate`).
    """
    base = os.fspath(base_dir) if base_dir is not None else None
    if isinstance(source, str) and is_yaml_text(source):
        root = parse_yaml(source, name)
        # Inline text has no directory of its own: its $refs resolve against base_dir.
        resolved = resolve_refs(root, None, base)
        return compile_app(resolved, name)
    try:
        path = os.fspath(source)
    except TypeError:
        path = None
    if not isinstance(path, str) or not path or "\0" in path:
        raise ValidationError(
            f"expected YAML text or the path of a YAML file, got {type(source).__name__} "
            f"{source!r:.80}"
        )
    path = os.path.abspath(path)
    root = read_yaml_file(path)
    return compile_app(resolve_refs(root, path, base), path)
