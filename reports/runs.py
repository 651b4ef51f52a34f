"""A saved run, as the ``reports`` commands read it: where a RUN argument points, its ``verdicts.json`` (checked by
:mod:`reports.validate`) and ``run.json``, and what the run expected of each claim.

Problems with the input (no such run, a file that cannot be read or is not a verdicts.json) raise :class:`BadInput`:
the command line's fault, reported in one line and exit status 4 by ``python -m k8s_doc_conformance.reports``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from k8s_doc_conformance.fixtures import paths
from k8s_doc_conformance.reports import validate

REPORTS_DIR = paths.default_reports_dir()
"""Where runs write by default (``fixtures.verdicts.DEFAULT_REPORTS_DIR``): bare names are looked up here."""

VERDICTS = ("conforms", "deviates", "error", "skipped", "not-applicable", "untested")
"""Every verdict, in the order of verdicts.json's ``counts``."""

INTERRUPTED_REASON = "run interrupted"
"""The reason of a claim left ``untested`` because the run was interrupted before its tests finished."""


class BadInput(Exception):
    """The input is not a readable run (exit status 4)."""


@dataclasses.dataclass(frozen=True)
class Expected:
    """The verdict the run's expectations give a claim."""

    verdict: str
    why: str | None


def resolve(arg: str | Path) -> Path:
    """The run directory or verdicts.json that a RUN argument names, resolved (``latest`` becomes the run it points
    at). A path is taken as is; a bare name that is not a path here (``latest``, a run ID) is looked up in
    ``reports/out``."""
    path = Path(arg)
    if not path.exists() and len(path.parts) == 1 and path.name not in ("", ".", ".."):
        candidate = REPORTS_DIR / path
        if candidate.exists():
            path = candidate
    if not path.exists():
        raise BadInput(f"{arg}: no such run directory or verdicts.json")
    return path.resolve()


def verdicts_file(run: Path) -> Path:
    """``run/verdicts.json`` for a directory, else ``run`` itself."""
    return run / "verdicts.json" if run.is_dir() else run


def run_dir_of(run: Path) -> Path:
    """The run directory of a directory or of a verdicts.json."""
    return run if run.is_dir() else run.parent


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: missing (not a run directory?)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not JSON ({exc})") from None


def load_verdicts(run: Path) -> dict[str, Any]:
    """The parsed and checked ``verdicts.json`` of a run directory (or the file itself)."""
    path = verdicts_file(run)
    data = _read_json(path)
    try:
        validate.check(data, label=str(path))
    except validate.Invalid as exc:
        raise BadInput(str(exc)) from None
    assert isinstance(data, dict)
    return data


def load_run(run: Path) -> dict[str, Any]:
    """The parsed ``run.json`` beside the run's verdicts.json; empty when there is none."""
    path = run_dir_of(run) / "run.json"
    if not path.exists():
        return {}
    data = _read_json(path)
    if not isinstance(data, dict):
        raise BadInput(f"{path}: not a run.json (a JSON {type(data).__name__}, not an object)")
    return data


def claims(verdicts: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Claim ID -> entry, skipping anything that is not an entry (format 0 files are not validated strictly)."""
    raw = verdicts.get("claims")
    return {str(k): v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


def expectations_in_force(verdicts: Mapping[str, Any]) -> bool:
    """Whether the run compared its verdicts with an expectations file."""
    return isinstance(verdicts.get("expectations"), dict) or any(
        isinstance(e.get("expected"), dict) for e in claims(verdicts).values()
    )


def expected(verdicts: Mapping[str, Any], claim_id: str) -> Expected | None:
    """What the run expected of a claim; None without expectations. Files from before ``expected`` was recorded per
    claim fall back on the mismatch list: a claim not listed there was as expected."""
    entry = claims(verdicts).get(claim_id, {})
    recorded = entry.get("expected")
    if isinstance(recorded, dict) and isinstance(recorded.get("verdict"), str):
        why = recorded.get("why")
        return Expected(recorded["verdict"], why if isinstance(why, str) else None)
    top = verdicts.get("expectations")
    if not isinstance(top, dict):
        return None
    for mismatch in top.get("mismatches") or []:
        if isinstance(mismatch, dict) and mismatch.get("claim") == claim_id:
            why = mismatch.get("why")
            return Expected(str(mismatch.get("expected")), why if isinstance(why, str) else None)
    return Expected(str(entry.get("verdict")), None)


def interrupted_before(entry: Mapping[str, Any]) -> bool:
    """Whether the claim is untested because the run was interrupted before its tests finished."""
    return entry.get("verdict") == "untested" and str(entry.get("reason") or "").startswith(INTERRUPTED_REASON)


def counts(verdicts: Mapping[str, Any]) -> dict[str, int]:
    """Claims per verdict (every verdict of :data:`VERDICTS`, then any unknown one a format 0 file holds)."""
    found = dict.fromkeys(VERDICTS, 0)
    for entry in claims(verdicts).values():
        verdict = str(entry.get("verdict"))
        found[verdict] = found.get(verdict, 0) + 1
    return found


def first_line(value: object, default: str = "", limit: int = 500) -> str:
    """The first non-empty line of a text, cut at ``limit`` characters."""
    for line in str(value or "").strip().splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return default
