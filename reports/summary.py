"""The verdict table of a saved run, as text: ``python -m k8s_doc_conformance.reports summary RUN``.

A header line (run ID, start, duration, cluster and Kubernetes version from ``run.json`` when there is one, whether
the run was interrupted, the expectations file), then the claims grouped by area in catalogue order, one row each::

    ENV-HOSTNAME-IS-POD-NAME  deviates  (expected conforms)  observed node-1

(the expected verdict only where it differs), then the counts. Claims an interrupted run left untested are counted
apart, not as differing from the expectations (as the run itself does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k8s_doc_conformance.reports import runs
from k8s_doc_conformance.reports.compliance import format_duration

REASON_CHARS = 100


def header(verdicts: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """One line about the run."""
    cluster = run.get("cluster") if isinstance(run.get("cluster"), dict) else {}
    assert isinstance(cluster, dict)
    parts = [f"run {verdicts.get('run_id') or run.get('run_id') or '?'}"]
    if run.get("start"):
        parts.append(f"started {run['start']}")
    if isinstance(run.get("duration"), int | float):
        parts.append(f"took {format_duration(float(run['duration']))}")
    if cluster.get("cluster_id"):
        parts.append(f"cluster {cluster['cluster_id']}")
    elif cluster.get("provider"):
        parts.append(f"provider {cluster['provider']}")
    if cluster.get("kubernetes_version"):
        parts.append(f"Kubernetes {cluster['kubernetes_version']}")
    interrupted = run.get("interrupted")
    if isinstance(interrupted, dict):
        parts.append(f"INTERRUPTED by {interrupted.get('by')} at {interrupted.get('at')}")
    elif run:
        parts.append("completed")
    expectations = verdicts.get("expectations")
    parts.append(f"expectations {expectations.get('path')}" if isinstance(expectations, dict) else "no expectations")
    return "; ".join(parts)


def rows(verdicts: Mapping[str, Any]) -> list[str]:
    """The claims grouped by area (areas in the order of their first claim): a heading per area, a row per claim."""
    claims = runs.claims(verdicts)
    in_force = runs.expectations_in_force(verdicts)
    by_area: dict[str, list[str]] = {}
    for claim_id, entry in claims.items():
        by_area.setdefault(str(entry.get("area") or "-"), []).append(claim_id)
    expected_col: dict[str, str] = {}
    for claim_id, entry in claims.items():
        exp = runs.expected(verdicts, claim_id) if in_force else None
        if exp is not None and exp.verdict != entry.get("verdict"):
            expected_col[claim_id] = f"(expected {exp.verdict})"
    id_width = max((len(c) for c in claims), default=0)
    verdict_width = max((len(str(e.get("verdict"))) for e in claims.values()), default=0)
    expected_width = max((len(s) for s in expected_col.values()), default=0)
    lines = []
    for area, ids in by_area.items():
        lines.append(f"{area} ({len(ids)})")
        for claim_id in ids:
            entry = claims[claim_id]
            cells = [f"{claim_id:<{id_width}}", f"{entry.get('verdict')!s:<{verdict_width}}"]
            if expected_width:
                cells.append(f"{expected_col.get(claim_id, ''):<{expected_width}}")
            cells.append(runs.first_line(entry.get("reason"), limit=REASON_CHARS))
            lines.append(("  " + "  ".join(cells)).rstrip())
    return lines


def footer(verdicts: Mapping[str, Any]) -> list[str]:
    """The counts, and how the verdicts compare with the expectations."""
    claims = runs.claims(verdicts)
    counts = runs.counts(verdicts)
    lines = [f"{len(claims)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n or v in runs.VERDICTS)]
    if runs.expectations_in_force(verdicts):
        differ = [
            c
            for c, entry in claims.items()
            if (e := runs.expected(verdicts, c))
            and e.verdict != entry.get("verdict")
            and not runs.interrupted_before(entry)
        ]
        lines.append(
            f"expectations: {len(differ)} verdict(s) differ" if differ else "expectations: every verdict as expected"
        )
    interrupted = sum(1 for e in claims.values() if runs.interrupted_before(e))
    if interrupted:
        lines.append(f"{interrupted} claim(s) untested: {runs.INTERRUPTED_REASON}")
    return lines


def render(verdicts: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """The whole table."""
    return "\n".join([header(verdicts, run), "", *rows(verdicts), "", *footer(verdicts)])
