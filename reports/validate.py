"""Checks a parsed ``verdicts.json`` against its format: ``reports/schema/verdicts.schema.json`` (JSON Schema 2020-12).

A file declares its format in ``format_version``. Format 1 is validated strictly against the schema, and the first
problem (in the order of the paths it concerns) is reported with its path, e.g.
``verdicts.json: claims.ENV-X.verdict: 'maybe' is not one of [...]``. Files without ``format_version`` predate the
schema (format 0): they only need a ``claims`` mapping of objects, and readers use ``.get`` on every field.
"""

from __future__ import annotations

from typing import Any

from k8s_doc_conformance.fixtures import schemas
from k8s_doc_conformance.fixtures.schemas import Invalid as SchemaInvalid
from k8s_doc_conformance.fixtures.schemas import location

SCHEMA_PATH = schemas.VERDICTS
FORMAT_VERSION = 1
"""The newest ``format_version`` this code reads (and the one the schema describes)."""

__all__ = ["FORMAT_VERSION", "SCHEMA_PATH", "Invalid", "check", "format_version", "location", "problems", "schema"]


class Invalid(SchemaInvalid):
    """The data is not a verdicts.json this code can read; ``str()`` is one line naming the file and the path."""


def schema() -> dict[str, Any]:
    """The parsed schema file."""
    return schemas.load(SCHEMA_PATH)


def format_version(data: object) -> int:
    """The file's format (0 when it has none); :class:`Invalid` when it is not one this code reads."""
    if not isinstance(data, dict):
        raise Invalid(f"not a verdicts.json (a JSON {type(data).__name__}, not an object)")
    version = data.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise Invalid(f"format_version: {version!r} is not a format version (a non-negative integer)")
    if version > FORMAT_VERSION:
        raise Invalid(f"format_version: {version} is newer than this code reads (up to {FORMAT_VERSION}): update it")
    return version


def problems(data: object) -> list[str]:
    """Every problem of the parsed file, ``path: message``, ordered by path; empty when it is valid."""
    try:
        version = format_version(data)
    except Invalid as exc:
        return [str(exc)]
    assert isinstance(data, dict)
    if version == 0:
        claims = data.get("claims")
        if not isinstance(claims, dict):
            return ["not a verdicts.json (no 'claims' mapping)"]
        return [
            f"claims.{cid}: {entry!r:.80} is not an object"
            for cid, entry in claims.items()
            if not isinstance(entry, dict)
        ]
    return schemas.problems(data, SCHEMA_PATH)


def check(data: object, label: str = "verdicts.json") -> int:
    """Raise :class:`Invalid` (``label: first problem (and N more)``) unless the parsed file is readable; return its
    format version."""
    found = problems(data)
    if found:
        raise Invalid(f"{label}: {schemas.first_of(found)}")
    return format_version(data)
