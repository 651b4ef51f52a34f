"""The version matrix: one claim per row, its verdict on every Kubernetes release a run was made on.

Built from finished runs (their ``verdicts.json`` and ``run.json``; one run per release) and the claim catalogue.
It answers the question the documents' maintainers ask of a deviation: was the sentence wrong from the start, or did
it become outdated when Kubernetes changed? For each claim: its verdict per release and the releases where it
changed; for each document: the release of its own era (``documents.<id>.docs_version`` in claims.yaml, e.g.
``~v1.27-v1.29`` -> 1.29, the newest release of the era that was run; the nearest newer one when none of the era was
run, and then the page says so) and which of its sentences held there and which did not.

``matrix.json`` (for machines) and ``matrix.html`` (one self-contained page) are written to the output directory.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from k8s_doc_conformance.fixtures.catalogue import Catalogue
from k8s_doc_conformance.reports import runs, templating
from k8s_doc_conformance.reports.compliance import ASSETS, DEFAULT_CATALOGUE, load_catalogue

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReleaseRun:
    """One release's run: its minor (``1.29``), the server's version, and what the run wrote."""

    release: str
    kubernetes_version: str
    run_dir: Path
    verdicts: Mapping[str, Any]


def minor_key(release: str) -> tuple[int, int]:
    """``1.29`` -> ``(1, 29)``, for ordering releases."""
    major, minor = release.split(".")[:2]
    return int(major), int(minor)


def release_of(run: Mapping[str, Any], verdicts: Mapping[str, Any]) -> tuple[str, str]:
    """The run's release (``1.29``) and server version (``v1.29.15``), from run.json; the expectations' release
    when the server's version was not recorded."""
    cluster = run.get("cluster")
    version = str(cluster.get("kubernetes_version") or "") if isinstance(cluster, dict) else ""
    m = re.match(r"v?(\d+)\.(\d+)", version)
    if m:
        return f"{m.group(1)}.{m.group(2)}", version
    expectations = verdicts.get("expectations") or {}
    if isinstance(expectations, dict) and expectations.get("kubernetes"):
        return str(expectations["kubernetes"]), version or "unknown"
    raise runs.BadInput(f"{run.get('run_id')}: run.json does not say which Kubernetes release the run was made on")


def load_runs(args: Sequence[str]) -> list[ReleaseRun]:
    """Each named run (a run directory, its verdicts.json, or a run ID in reports/out), ordered by release; two runs
    of one release are bad input."""
    found: dict[str, ReleaseRun] = {}
    for arg in args:
        path = runs.resolve(arg)
        verdicts = runs.load_verdicts(path)
        run = runs.load_run(path)
        release, version = release_of(run, verdicts)
        if release in found:
            first = found[release].run_dir
            raise runs.BadInput(f"two runs of Kubernetes {release}: {first} and {runs.run_dir_of(path)}")
        found[release] = ReleaseRun(release, version, runs.run_dir_of(path), verdicts)
    if not found:
        raise runs.BadInput("no runs named")
    return [found[r] for r in sorted(found, key=minor_key)]


def era_release(docs_version: str, releases: Sequence[str]) -> tuple[str | None, bool]:
    """The release a document's sentences are judged on in their own era, and whether it lies inside the era.

    ``~v1.27-v1.29`` with runs of 1.29, 1.31, 1.35 -> ``("1.29", True)``; ``~v1.20-v1.23`` -> ``("1.29", False)``
    (the nearest newer release run). The last ``vX.Y-vX.Y`` range in the text counts (003: "Pods chapter
    Docker-era; notes ~v1.29-v1.31")."""
    ranges = re.findall(r"v(\d+\.\d+)\s*-\s*v(\d+\.\d+)", docs_version)
    ordered = sorted(releases, key=minor_key)
    if not ranges or not ordered:
        return (ordered[0] if ordered else None), False
    low, high = (minor_key(v) for v in ranges[-1])
    inside = [r for r in ordered if low <= minor_key(r) <= high]
    if inside:
        return inside[-1], True
    newer = [r for r in ordered if minor_key(r) > high]
    return (newer[0] if newer else ordered[-1]), False


def changes(verdicts: Mapping[str, str]) -> list[dict[str, str]]:
    """Where a claim's verdict changed between consecutive releases that both have one."""
    out = []
    known = [(r, v) for r, v in verdicts.items() if v != "absent"]
    for (before, was), (after, now) in itertools.pairwise(known):
        if was != now:
            out.append({"from": before, "to": after, "was": was, "now": now})
    return out


def why_of(run: ReleaseRun, claim_id: str) -> str | None:
    """The ``why`` the run's expectations give for the claim's verdict (None without expectations or a why)."""
    entry = runs.claims(run.verdicts).get(claim_id) or {}
    expected = entry.get("expected")
    return str(expected["why"]) if isinstance(expected, dict) and expected.get("why") else None


def build_data(release_runs: Sequence[ReleaseRun], catalogue: Catalogue, matrix_id: str) -> dict[str, Any]:
    """The matrix as data (what matrix.json holds)."""
    releases = [r.release for r in release_runs]
    cat_claims = catalogue.claims
    claims: dict[str, Any] = {}
    for claim_id, cat in cat_claims.items():
        per_release = {}
        for run in release_runs:
            entry = runs.claims(run.verdicts).get(claim_id)
            per_release[run.release] = str(entry["verdict"]) if entry else "absent"
        claims[claim_id] = {
            "area": cat.area,
            "statement": cat.statement,
            "verdicts": per_release,
            "changed": changes(per_release),
        }
    documents: dict[str, Any] = {}
    era_run = {r.release: r for r in release_runs}
    for doc_id, doc in sorted(catalogue.documents.items()):
        era = doc.docs_version
        judged_on, inside = era_release(era, releases)
        held: list[dict[str, Any]] = []
        not_held: list[dict[str, Any]] = []
        other: list[dict[str, Any]] = []
        for claim_id, cat in cat_claims.items():
            quotes = [s for s in cat.sources if s.doc == doc_id]
            if not quotes or judged_on is None:
                continue
            verdict = claims[claim_id]["verdicts"][judged_on]
            row = {
                "claim": claim_id,
                "verdict": verdict,
                "quote": quotes[0].quote,
                "english": quotes[0].english,
                "on_newest": claims[claim_id]["verdicts"][releases[-1]],
                "why": why_of(era_run[judged_on], claim_id),
                "why_newest": why_of(release_runs[-1], claim_id),
            }
            (held if verdict == "conforms" else not_held if verdict == "deviates" else other).append(row)
        documents[str(doc_id)] = {
            "title": doc.title,
            "docs_version": era,
            "judged_on": judged_on,
            "era_run": inside,
            "held": held,
            "did_not_hold": not_held,
            "outdated": [r for r in held if r["on_newest"] == "deviates"],
            "not_judged": other,
        }
    return {
        "format_version": FORMAT_VERSION,
        "matrix_id": matrix_id,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "releases": [
            {
                "release": r.release,
                "kubernetes_version": r.kubernetes_version,
                "run_id": r.verdicts.get("run_id"),
                "run_dir": str(r.run_dir),
                "counts": runs.counts(r.verdicts),
                "mismatches": len(((r.verdicts.get("expectations") or {}).get("mismatches")) or []),
                "expectations": (r.verdicts.get("expectations") or {}).get("path"),
            }
            for r in release_runs
        ],
        "claims": claims,
        "documents": documents,
    }


CSS = (ASSETS / "matrix.css").read_text(encoding="utf-8")


def _sentences(rows: Sequence[Mapping[str, Any]], title: str, why: str) -> dict[str, Any] | None:
    """A table of a document's sentences: their verdict in its era and on the newest release, and the expectations'
    why; None when there are none."""
    if not rows:
        return None
    return {"title": title, "rows": [dict(row, why=row[why] or "") for row in rows]}


def view(data: Mapping[str, Any]) -> dict[str, Any]:
    """What templates/matrix.html.j2 shows: releases, the claims whose verdict is not the same everywhere or that
    deviate somewhere, then each document judged in its own era."""
    releases = [r["release"] for r in data["releases"]]
    newest = releases[-1]
    rows = []
    for r in data["releases"]:
        counts = ", ".join(f"{n} {v}" for v, n in sorted(r["counts"].items(), key=lambda kv: -kv[1]) if n)
        against = f"{r['mismatches']} ({r['expectations']})" if r["expectations"] else "run without expectations"
        rows.append({"release": r["release"], "server": str(r["kubernetes_version"]), "run_id": str(r["run_id"]),
                     "counts": counts, "against": against})  # fmt: skip
    claims = []
    for cid, c in data["claims"].items():
        if not c["changed"] and not any(v in ("deviates", "error") for v in c["verdicts"].values()):
            continue
        changed = "; ".join(f"{ch['from']} → {ch['to']}: {ch['was']} → {ch['now']}" for ch in c["changed"])
        claims.append({"id": cid, "statement": str(c["statement"]), "verdicts": [c["verdicts"][r] for r in releases],
                       "changed": changed})  # fmt: skip
    documents = []
    for doc_id, doc in data["documents"].items():
        where = (
            f"judged on {doc['judged_on']}, a release of its era"
            if doc["era_run"]
            else f"no release of its era was run; judged on the nearest, {doc['judged_on']}"
        )
        tables = [
            _sentences(doc["did_not_hold"], f"Already wrong in its era ({doc['judged_on']})", "why"),
            _sentences(doc["outdated"], f"Held in its era ({doc['judged_on']}), outdated by {newest}", "why_newest"),
        ]
        documents.append(dict(doc, id=doc_id, title=str(doc["title"]), where=where, tables=[t for t in tables if t]))
    return {"matrix": data, "releases": rows, "names": releases, "newest": newest, "claims": claims,
            "documents": documents, "css": Markup(CSS)}  # fmt: skip


@functools.cache
def _template() -> jinja2.Template:
    return templating.environment(trim_blocks=True, lstrip_blocks=True).get_template("matrix.html.j2")


def render_html(data: Mapping[str, Any]) -> str:
    """One self-contained page (templates/matrix.html.j2, autoescaped) from ``matrix.json``'s data."""
    return str(_template().render(**view(data)))


def build(run_args: Sequence[str], out_dir: Path, catalogue: Path | None = None) -> Path:
    """Write ``matrix.json`` and ``matrix.html`` for the named runs into ``out_dir``; returns the HTML path."""
    release_runs = load_runs(run_args)
    data = build_data(release_runs, load_catalogue(catalogue or DEFAULT_CATALOGUE), out_dir.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "matrix.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    page = out_dir / "matrix.html"
    page.write_text(render_html(data), encoding="utf-8")
    return page
