"""Checks a parsed ``verdicts.json`` against its format: ``reports/schema/verdicts.schema.json`` (JSON Schema 2020-12).

A file declares its format in ``format_version``. Format 1 is validated strictly against the schema, and the first
problem (in the order of the paths it concerns) is reported with its path, e.g.
``verdicts.json: claims.ENV-X.verdict: 'maybe' is not one of [...]``. Files without ``format_version`` predate the
schema (format 0): they only need a ``claims`` mapping of objects, and readers use ``.get`` on every field.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "verdicts.schema.json"
FORMAT_VERSION = 1
"""The newest ``format_version`` this code reads (and the one the schema describes)."""

MAX_MESSAGE_CHARS = 300


class Invalid(ValueError):
    """The data is not a verdicts.json this code can read; ``str()`` is one line naming the file and the path."""


@functools.cache
def schema() -> dict[str, Any]:
    """The parsed schema file."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(schema())


def location(path: Iterable[str | int]) -> str:
    """A JSON path for messages: ``claims.ENV-X.results[0].line`` (empty for the document itself)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _one_line(message: str) -> str:
    text = " ".join(message.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


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
    errors = sorted(_validator().iter_errors(data), key=lambda e: ([str(p) for p in e.absolute_path], e.message))
    found = []
    for error in errors:
        where = location(error.absolute_path)
        found.append(f"{where}: {_one_line(error.message)}" if where else _one_line(error.message))
    return found


def check(data: object, label: str = "verdicts.json") -> int:
    """Raise :class:`Invalid` (``label: first problem (and N more)``) unless the parsed file is readable; return its
    format version."""
    found = problems(data)
    if found:
        more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
        raise Invalid(f"{label}: {found[0]}{more}")
    return format_version(data)
