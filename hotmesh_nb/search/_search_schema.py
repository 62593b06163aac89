"""Index definitions: which records an index covers and how each field is indexed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal["TAG", "NUMERIC", "TEXT"]

_FIELD_NAME = re.compile(r"[A-Za-z0-9_]+\Z")


@dataclass(frozen=True)
class FieldSpec:
    """One indexed field."""

    type: FieldType = "TEXT"
    """``TAG`` (exact values, comma-separated, case-insensitive), ``NUMERIC`` (ranges) or
    ``TEXT`` (words)."""
    sortable: bool = False
    """Allow ``SORTBY`` on the field (native index; the fallback sorts any field)."""
    nostem: bool = False
    """Index exact words only, without their English stems (both indexes; a query word
    outside quotes still finds a word equal to its stem, as RediSearch does)."""
    noindex: bool = False
    """Stored for ``SORTBY``/``RETURN`` but not searchable."""
    indexed: bool = True
    """False leaves the field out of the index entirely."""
    field_name: str | None = None
    """The hash field to index instead of ``_<name>``."""

    @classmethod
    def parse(cls, value: Any) -> FieldSpec:
        """A spec from a dict such as ``{'type': 'TAG', 'sortable': True}`` (or a spec)."""
        if isinstance(value, FieldSpec):
            return value
        if isinstance(value, str):
            return cls(type=value.upper())  # type: ignore[arg-type]
        data = dict(value or {})
        kind = str(data.get("type", "TEXT")).upper()
        if kind not in ("TAG", "NUMERIC", "TEXT"):
            raise ValueError(f"field type must be TAG, NUMERIC or TEXT, not {kind!r}")
        return cls(
            type=kind,  # type: ignore[arg-type]
            sortable=bool(data.get("sortable", False)),
            nostem=bool(data.get("nostem", False)),
            noindex=bool(data.get("noindex", False)),
            indexed=data.get("indexed", True) is not False,
            field_name=data.get("fieldName") or data.get("field_name"),
        )


@dataclass(frozen=True)
class SearchOptions:
    """An index: its name, the record id prefixes it covers and its fields."""

    index: str
    """Index name, unique in its app (the native index is named under the app's key prefix)."""
    prefix: tuple[str, ...] = ()
    """Record (job) id prefixes covered, e.g. ``('user-',)``; empty covers every record."""
    schema: dict[str, FieldSpec] = field(default_factory=dict)
    """Field name → how it is indexed."""

    def __init__(
        self,
        index: str,
        prefix: list[str] | tuple[str, ...] | str | None = None,
        schema: dict[str, Any] | None = None,
    ) -> None:
        if not index or not isinstance(index, str):
            raise ValueError("an index needs a name")
        prefixes = (prefix,) if isinstance(prefix, str) else tuple(prefix or ())
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "prefix", prefixes)
        fields = {k: FieldSpec.parse(v) for k, v in (schema or {}).items()}
        for name, spec in fields.items():
            for written in (name, spec.field_name):
                if written is not None and not _FIELD_NAME.match(str(written)):
                    raise ValueError(
                        f"index '{index}': field name {written!r} must be letters, digits and "
                        "'_' only (RediSearch cannot filter or query other names safely)"
                    )
        object.__setattr__(self, "schema", fields)

    def hash_field(self, name: str) -> str:
        """The job hash field holding ``name``."""
        spec = self.schema.get(name)
        if spec is not None and spec.field_name:
            return spec.field_name
        return name if name.startswith("_") else f"_{name}"

    def covers(self, record_id: str) -> bool:
        """True when the index covers the record ``record_id``."""
        return not self.prefix or any(record_id.startswith(p) for p in self.prefix)

    def indexed(self) -> dict[str, FieldSpec]:
        """The fields that take part in the index."""
        return {k: v for k, v in self.schema.items() if v.indexed}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the fallback index)."""
        return {
            "index": self.index,
            "prefix": list(self.prefix),
            "schema": {
                k: {
                    "type": v.type,
                    "sortable": v.sortable,
                    "nostem": v.nostem,
                    "noindex": v.noindex,
                    "indexed": v.indexed,
                    "field_name": v.field_name,
                }
                for k, v in self.schema.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchOptions:
        """Rebuild from :meth:`to_dict`."""
        return cls(data["index"], data.get("prefix"), data.get("schema"))
