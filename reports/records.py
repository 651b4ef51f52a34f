"""verdicts.json's claim records, typed: what the report pages read instead of probing dictionaries.

A record is read leniently: files written before ``format_version`` 1 (and before reports/schema/verdicts.schema.json)
may lack fields or hold them in other shapes, and a missing or malformed field reads as its empty value rather than
failing the page. Files with ``format_version`` are checked against the schema first (reports/validate.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from k8s_doc_conformance.fixtures.chart_evidence import ChartKind


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclasses.dataclass(frozen=True)
class Observation:
    """What the documentation says and what the cluster did, as one test recorded it (``data``: any detail)."""

    test: str
    documented: Any
    observed: Any
    data: Mapping[str, Any]

    @classmethod
    def read(cls, entry: Mapping[str, Any]) -> Observation:
        return cls(
            str(entry.get("test", "")), entry.get("documented"), entry.get("observed"), _mapping(entry.get("data"))
        )


@dataclasses.dataclass(frozen=True)
class Attachment:
    """Evidence attached by a test: JSON or text, cut at ``truncated`` characters when it was longer; ``chart`` is the
    chart kind it declares (fixtures/chart_evidence.py), None when it declares none."""

    test: str
    name: str
    media: str
    content: Any
    truncated: int | None
    chart: ChartKind | str | None

    @classmethod
    def read(cls, entry: Mapping[str, Any]) -> Attachment:
        chart = entry.get("chart")
        declared: ChartKind | str | None = None
        if chart is not None:
            declared = ChartKind(chart) if chart in ChartKind.__members__.values() else str(chart)
        truncated = entry.get("truncated")
        return cls(
            str(entry.get("test", "")),
            str(entry.get("name", "")),
            str(entry.get("media", "")),
            entry.get("content"),
            int(truncated) if isinstance(truncated, int) and truncated else None,
            declared,
        )


@dataclasses.dataclass(frozen=True)
class TestOutcome:
    """One test's own verdict on the claim."""

    __test__ = False  # not a pytest test class

    test: str
    verdict: str
    reason: str
    duration: float | None

    @classmethod
    def read(cls, entry: Mapping[str, Any]) -> TestOutcome:
        return cls(
            str(entry.get("test") or ""),
            str(entry.get("verdict")),
            str(entry.get("reason") or ""),
            _number(entry.get("duration")),
        )


@dataclasses.dataclass(frozen=True)
class ClaimRecord:
    """One claim's verdict and everything recorded for it."""

    id: str
    verdict: str  #: a :class:`fixtures.verdict_model.Verdict` value (older files: whatever they hold)
    area: str
    statement: str
    duration: float | None
    reason: str
    documented: Any
    observed: Any
    observations: tuple[Observation, ...]
    attachments: tuple[Attachment, ...]
    results: tuple[TestOutcome, ...]

    @property
    def shows_values(self) -> bool:
        """Whether the verdict carries a documented or an observed value."""
        return self.documented is not None or self.observed is not None

    @classmethod
    def read(cls, claim_id: str, entry: Mapping[str, Any]) -> ClaimRecord:
        evidence = [e for e in entry.get("evidence") or [] if isinstance(e, dict)]
        return cls(
            id=claim_id,
            verdict=str(entry.get("verdict")),
            area=str(entry.get("area") or ""),
            statement=str(entry.get("statement") or ""),
            duration=_number(entry.get("duration")),
            reason=str(entry.get("reason") or ""),
            documented=entry.get("documented"),
            observed=entry.get("observed"),
            observations=tuple(Observation.read(e) for e in evidence if e.get("kind") == "observation"),
            attachments=tuple(Attachment.read(e) for e in evidence if e.get("kind") == "attachment"),
            results=tuple(TestOutcome.read(r) for r in entry.get("results") or [] if isinstance(r, dict)),
        )


def claim_records(verdicts: Mapping[str, Any]) -> dict[str, ClaimRecord]:
    """Every claim record of a parsed verdicts.json, by claim ID, in the file's order."""
    claims = _mapping(verdicts.get("claims"))
    return {str(cid): ClaimRecord.read(str(cid), _mapping(entry)) for cid, entry in claims.items()}
