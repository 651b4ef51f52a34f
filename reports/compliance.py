"""The claim-by-claim HTML compliance report: ``<run-dir>/compliance.html``, one self-contained file.

Built only from the run's ``verdicts.json`` and ``run.json`` and the claim catalogue (``claims.yaml``), so it can
contain nothing the run did not already record. Everything is escaped; CSS and JavaScript are inline; nothing is
loaded from the network, so the file opens offline. UI strings switch between English, Chinese and Portuguese (a
small dictionary below); claim statements switch to the claim's quote from a document in that language when one
exists.

When the run has an Allure report (``allure-report/``, built by ``python -m k8s_doc_conformance.reports RUN_DIR``), each
claim's detail links to its test results there (``allure-report/index.html#testresult/<uid>``; see
:mod:`reports.allure`).

Charts. An attachment that declares a chart kind (its record's ``"chart"``: scenarios attach the typed evidence of
fixtures/chart_evidence.py) is drawn as that kind, a small inline SVG chart (reports/charts.py) above its raw data;
an attachment without one (runs recorded before the kinds were declared) is drawn when its content has one of these
shapes. Times are seconds (numbers, relative to the scenario's origin) or ISO-8601 timestamps (taken relative to the
earliest one); any other keys are shown on hover:

- pod/event timeline, ``fixtures.timeline.Timeline.entries``: a list of ``{"t": s, "kind": "pod"|"event", ...}``;
  one lane per ``kind``.
- named events relative to an origin, e.g. preStop / TERM / KILL after deletion::

      evidence.attach("termination", {"origin": "pod deletion", "events": [
          {"name": "preStop start", "t": 0.04}, {"name": "TERM", "t": 2.1, "lane": "container"},
          {"name": "KILL", "t": 30.2, "lane": "container"}],
          "expected": [{"name": "grace period ends", "t": 30}]})

  ``origin`` names t = 0; ``lane`` (optional) splits events into lanes; ``expected`` (optional) are documented
  times, drawn as dashed lines. A bare list of ``{"name", "t"}`` objects works too.
- attempts, e.g. an image pull back-off schedule::

      evidence.attach("pull attempts", {"origin": "pod creation", "attempts": [0.4, 1.6, 12.0, 32.5],
          "expected_delays": [10, 20, 40], "cap": 300})

  ``attempts`` are times, or objects ``{"t": s, ...}`` (e.g. ``status``); ``expected_delays`` (optional) the
  documented gaps after the first attempt, drawn as a second lane; ``cap`` (optional) the documented maximum
  delay. A bare list of times works too when the attachment's name contains "attempt".
- intervals, e.g. image pulls overlapping in time::

      evidence.attach("pulls", [{"image": "reg/slow-a:v1", "node": "k8sdc-worker2", "start": 0.3, "end": 6.1},
                                {"image": "reg/slow-b:v1", "node": "k8sdc-worker2", "start": 0.4, "end": 6.3}])

  a bar per interval in a lane per ``node`` (or ``lane``), labelled with ``image`` (or ``label``); overlapping
  bars are stacked and each lane shows its peak concurrency; ``"end": null`` is a pull still running. Also
  ``{"origin": ..., "intervals": [...]}``.

The page reads its initial state from the URL fragment, e.g. ``compliance.html#lang=zh&verdict=deviates&area=RC``
(keys ``lang``, ``verdict``, ``area``, ``doc``, ``open``), and records the time its script took to make the page
interactive in ``<body data-ready-ms>``: the browser test uses both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from k8s_doc_conformance.fixtures import catalogue as catalogue_model
from k8s_doc_conformance.fixtures.catalogue import Catalogue, Claim, Document
from k8s_doc_conformance.reports import allure, charts, templating
from k8s_doc_conformance.reports.records import Attachment, ClaimRecord, Observation, claim_records

DEFAULT_CATALOGUE = catalogue_model.DEFAULT

#: Verdicts in the order the report lists them (most in need of attention first).
VERDICT_ORDER = ("error", "deviates", "conforms", "not-applicable", "skipped", "untested")
VERDICT_COLOURS = {
    "conforms": "#2e7d32",
    "deviates": "#d84315",
    "error": "#6a1b9a",
    "not-applicable": "#546e7a",
    "skipped": "#b0892c",
    "untested": "#b8bec4",
}
LANGS = ("en", "zh", "pt")
LANG_NAMES = {"en": "English", "zh": "中文", "pt": "Português"}

#: The page's own files (reports/assets/), read once: its style, its script, and its UI strings (keys used in the page
#: as ``data-i18n``; English is also the text written into the HTML), so that each is edited as what it is.
ASSETS = Path(__file__).resolve().parent / "assets"
I18N: dict[str, dict[str, str]] = json.loads((ASSETS / "i18n.json").read_text(encoding="utf-8"))

CSS = (ASSETS / "compliance.css").read_text(encoding="utf-8")

LOADING = (
    "<style>html.loading main{display:none}</style><script>document.documentElement.classList.add('loading')</script>"
)
"""Keeps ``<main>`` out of the layout while the page loads, when scripts run (a page without them shows it at once):
the browser then lays out the claims once, filtered as the URL fragment says, instead of the whole unfiltered table
while it parses and again after the script."""

JS = (ASSETS / "compliance.js").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- helpers


esc = templating.esc


def _compact(value: Any) -> str:
    """A JSON-ish one-line rendering of an observed/documented value."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def format_duration(seconds: float | None) -> str:
    """``207.5`` -> ``3 min 28 s``; small values keep one decimal."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def load_catalogue(path: Path) -> Catalogue:
    """The claim catalogue (fixtures/catalogue.py), or an empty one if the file is missing; a catalogue that does not
    match its schema raises :class:`fixtures.catalogue.CatalogueError`."""
    if not path.is_file():
        return Catalogue.empty(path)
    return catalogue_model.read(path)


def catalogue_path_for(verdicts: Mapping[str, Any]) -> Path:
    """The catalogue the run used, if it still exists, else the repository's."""
    named = verdicts.get("catalogue")
    if isinstance(named, str) and Path(named).is_file():
        return Path(named)
    return DEFAULT_CATALOGUE


def lang_of(doc_language: str) -> str:
    """Map a catalogue document language (``zh-cn``, ``pt-br``) to a report language (``zh``, ``pt``)."""
    return doc_language.split("-", 1)[0].lower()


# --------------------------------------------------------------------------- SVG


def area_chart(areas: Sequence[str], per_area: Mapping[str, Counter[str]], names: Mapping[str, str]) -> str:
    """A stacked horizontal bar per area, one segment per verdict, drawn as inline SVG."""
    row_h, label_w, bar_w, right_w = 17, 78, 330, 34
    width = label_w + bar_w + right_w
    height = row_h * len(areas) + 4
    biggest = max((sum(per_area[a].values()) for a in areas), default=1) or 1
    out: list[charts.Shape] = []
    for i, area in enumerate(areas):
        y = i * row_h + 2
        total = sum(per_area[area].values())
        name = {"x": label_w - 6, "y": y + 11, "font-size": "11", "text-anchor": "end", "fill": "#3e4c59"}
        out.append(charts.el("text", name, title=names.get(area, area), text=area))
        x = float(label_w)
        for verdict in VERDICT_ORDER:
            n = per_area[area].get(verdict, 0)
            if not n:
                continue
            w = bar_w * n / biggest
            bar = {"x": f"{x:.1f}", "y": y, "width": f"{max(w - 0.5, 0.5):.1f}", "height": row_h - 4}
            out.append(charts.el("rect", bar | {"fill": VERDICT_COLOURS[verdict]}, title=f"{area}: {n} {verdict}"))
            x += w
        count = {"x": f"{x + 5:.1f}", "y": y + 11, "font-size": "11", "fill": "#52606d"}
        out.append(charts.el("text", count, text=str(total)))
    return charts.svg("verdicts by area", width, height, out, css_class=None)


# --------------------------------------------------------------------------- page parts


def _run_info(run: Mapping[str, Any], verdicts: Mapping[str, Any], with_allure: bool = False) -> str:
    """The cluster and the run (templates/run_info.html.j2): values are plain text unless built as markup here."""
    cluster = run.get("cluster") if isinstance(run.get("cluster"), dict) else {}
    assert isinstance(cluster, dict)
    rows: list[tuple[str, str, object]] = []  # UI string, kind of value (as run_info.html.j2 draws it), value
    if cluster.get("kubernetes_version"):
        rows.append(("k8s", "text", cluster["kubernetes_version"]))
    if cluster.get("provider"):
        rows.append(("provider", "text", cluster["provider"]))
    runtimes = cluster.get("runtime_versions")
    if isinstance(runtimes, dict) and runtimes:
        rows.append(("nodes", "nodes", list(runtimes.items())))
    for key, label in (("runtime_handlers", "handlers"), ("admission_plugins", "admission")):
        if isinstance(cluster.get(key), list):
            rows.append((label, "text", ", ".join(str(x) for x in cluster[key]) or "—"))
    rows.append(("run_id", "code", run.get("run_id") or verdicts.get("run_id") or "?"))
    if run.get("start"):
        rows.append(("started", "text", str(run["start"]).replace("T", " ")))
    if isinstance(run.get("duration"), int | float):
        rows.append(("run_time", "text", format_duration(float(run["duration"]))))
    if run.get("exitstatus") is not None:
        rows.append(("exit", "text", run["exitstatus"]))
    interrupted = run.get("interrupted")
    if isinstance(interrupted, dict):
        at = str(interrupted.get("at")).replace("T", " ")
        rows.append(("interrupted", "text", f"{interrupted.get('by') or ''} {at}"))
    if verdicts.get("rerun_of"):
        rows.append(("rerun_of", "code", verdicts["rerun_of"]))
    exp = verdicts.get("expectations")
    if isinstance(exp, dict) and exp.get("path"):
        rows.append(("expectations", "expectations", (Path(str(exp["path"])).name, len(exp.get("mismatches") or []))))
    if with_allure:
        rows.append(("allure_report", "link", f"{allure.REPORT}/index.html"))
    kubelet = _as_dict(cluster.get("kubelet_settings"))
    nodes_of = list(kubelet)
    keys: list[str] = []
    for settings in kubelet.values():
        keys.extend(k for k in _as_dict(settings) if k not in keys)
    kubelet_rows = [
        (k, [_compact(kubelet[n].get(k, "")) if isinstance(kubelet[n], dict) else "" for n in nodes_of]) for k in keys
    ]
    view = {"rows": rows, "kubelet_nodes": nodes_of, "kubelet_rows": kubelet_rows}
    return str(_template("run_info.html.j2").render(r=view)).removesuffix("\n")


def _statement(record: ClaimRecord, cat: Claim | None, doc_lang: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The claim's statement for each language of the page, as parts.html.j2's ``statement`` draws it: the English
    one, then the documents' own quote in Chinese and Portuguese (the English again where there is none)."""
    english = str((cat and cat.statement) or record.statement or record.id)
    spans = [("en", "en", english)]
    sources = cat.sources if cat else ()
    for lang in ("zh", "pt"):
        quote = next((s.quote for s in sources if s.quote and doc_lang.get(s.doc) == lang), None)
        spans.append((lang, lang if quote else "en", quote or english))
    return spans


def _foldable(markup: str) -> Markup:
    """A claim's details, to be held as raw text in ``<script type="text/html">`` (compliance.html.j2) and built into
    the page when the claim is opened.

    The browser's parser only scans raw text for its end tag: the page loads without building, styling or laying out
    the evidence, charts and tables of every claim. Every value in ``markup`` was escaped by its template, so the
    only markup is the report's own, which has no script or comment that could end the raw text early."""
    if re.search(r"</script|<!--", markup, re.IGNORECASE):
        raise ValueError("a claim's details may not contain '</script' or '<!--'")
    return Markup(markup)


def _detail(
    record: ClaimRecord,
    cat: Claim | None,
    documents: Mapping[str, Document],
    links: Sequence[Mapping[str, str]] = (),
) -> str:
    """A claim's details (templates/detail.html.j2) from its verdict record and its catalogue entry."""
    grouped: dict[tuple[str, str], list[str]] = {}  # the same sentence in several versions: one quote
    for src in cat.sources if cat else ():
        grouped.setdefault((src.quote, src.english), []).append(src.doc)
    quotes = []
    for (quote, english), docs in grouped.items():
        metas = [documents.get(d) or Document(d) for d in docs]
        eras = [(d, m.docs_version) for d, m in zip(docs, metas, strict=True)]
        quotes.append({"documents": eras, "language": metas[0].language, "quote": quote, "english": english})
    observations = record.observations
    with_case = any(o.data for o in observations)
    view = {
        "links": [{k: link.get(k, "") for k in ("href", "name", "status")} for link in links],
        "quotes": quotes,
        "flag": cat.flag if cat else None,
        "documented": _compact(record.documented) if record.shows_values else None,
        "observed": _compact(record.observed),
        "reason": record.reason,
        "with_case": with_case,
        "multi_test": len({o.test for o in observations}) > 1,
        "observations": [_observation_view(o, with_case) for o in observations],
        "attachments": [_attachment_view(a) for a in record.attachments],
        "results": [
            {
                "test": r.test,
                "verdict": r.verdict,
                "duration": format_duration(r.duration),
                "reason": r.reason,
            }
            for r in record.results
        ],
    }
    return str(_template("detail.html.j2").render(d=view)).removesuffix("\n")  # the file ends with a newline


def _observation_view(o: Observation, with_case: bool) -> dict[str, str]:
    data = o.data
    case = data["case"] if set(data) == {"case"} else _compact(dict(data)) if data else ""
    return {
        "case": str(case) if with_case else "",
        "test": o.test.rsplit("::", 1)[-1],
        "documented": _compact(o.documented),
        "observed": _compact(o.observed),
    }


def _attachment_view(att: Attachment) -> dict[str, Any]:
    content = att.content
    chart = charts.chart_for(att.name, content, att.chart)
    return {
        "name": att.name,
        "text": content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, indent=2, default=str),
        "truncated": att.truncated or "",
        "chart_kind": chart[0] if chart else "",
        "chart": Markup(chart[1]) if chart else None,
    }


# --------------------------------------------------------------------------- page


def _sensitivity(sensitivity: Mapping[str, Any] | None, area_names: Mapping[str, str]) -> str:
    """The last sensitivity self-test (fixtures/sensitivity) as templates/sensitivity.html.j2 shows it."""
    view = None
    if sensitivity:
        required, detected = int(sensitivity.get("required") or 0), int(sensitivity.get("detected") or 0)
        view = {
            "required": required,
            "detected": detected,
            "rate": f"{100 * detected / required:.0f}%" if required else "–",
            **{k: sensitivity.get(k, "") for k in ("finished", "cluster", "kubernetes")},
            "false_alarms": sensitivity.get("false_alarms", 0),
            "areas": [
                (area, area_names.get(str(area), ""), _as_dict(row))
                for area, row in _as_dict(sensitivity.get("areas")).items()
            ],
        }
    return str(_template("sensitivity.html.j2").render(s=view)).removesuffix("\n")


@dataclasses.dataclass(frozen=True)
class AttentionView:
    """A claim that deviates or broke, with the first line of why (160 characters at most)."""

    id: str
    verdict: str
    why: str


def _first_line(reason: object) -> str:
    lines = str(reason or "").strip().splitlines()
    first = lines[0] if lines else ""
    return first[:160] + ("…" if len(first) > 160 else "")


@dataclasses.dataclass(frozen=True)
class RowView:
    """One claim's row of the table and its folded details (built when the row is first opened)."""

    id: str
    verdict: str
    area: str
    area_name: str
    documents: list[str]
    duration: str
    statement: list[tuple[str, str, str]]  # language, lang attribute, text
    detail: Markup


@dataclasses.dataclass(frozen=True)
class PageView:
    """What templates/compliance.html.j2 shows: plain values (escaped by the template) and the parts other templates
    rendered (``Markup``: the chart, the run's facts, the sensitivity section, each claim's details)."""

    run_id: str
    kubernetes: str
    counts: list[tuple[str, str, int]]  # verdict, colour, count
    claims: int
    duration: str
    chart: Markup
    run_info: Markup
    attention: list[AttentionView]
    sensitivity: Markup
    verdict_options: list[str]
    areas: list[tuple[str, str]]  # code, name
    documents: list[tuple[str, str, str, str]]  # code, title, language, era
    shown: int
    rows: list[RowView]
    generated: str


@functools.cache
def _template(name: str = "compliance.html.j2") -> jinja2.Template:
    """templates/compliance.html.j2 with autoescaping, the page's files and the UI-string helper ``t``."""
    environment = templating.environment(keep_trailing_newline=True)
    environment.globals.update(
        i18n=I18N,
        title=I18N["title"]["en"],
        css=Markup(CSS),
        js=Markup(JS),
        loading=Markup(LOADING),
        languages=LANG_NAMES,
        verdict_order=VERDICT_ORDER,
        colours=VERDICT_COLOURS,
    )
    parts = environment.get_template("parts.html.j2").module  # its macros see the globals above
    environment.globals.update(t=parts.t, badge=parts.badge, statement=parts.statement)  # type: ignore[attr-defined]
    return environment.get_template(name)


def render(
    verdicts: Mapping[str, Any],
    run: Mapping[str, Any],
    catalogue: Catalogue,
    allure_links: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
    sensitivity: Mapping[str, Any] | None = None,
) -> str:
    """The whole page as a string, from the parsed verdicts.json, run.json and claims.yaml; ``allure_links`` maps
    claim IDs to their test results in the run's Allure report (:func:`reports.allure.claim_links`);
    ``sensitivity``: the last self-test's sensitivity.json (:func:`last_sensitivity`)."""
    allure_links = allure_links or {}
    documents, area_names, cat_claims = catalogue.documents, catalogue.areas, catalogue.claims
    doc_lang = {code: lang_of(meta.language) for code, meta in documents.items()}
    records = claim_records(verdicts)
    cat_order = {cid: i for i, cid in enumerate(cat_claims)}

    def order(cid: str) -> tuple[int, int, str]:
        verdict = records[cid].verdict
        rank = VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else len(VERDICT_ORDER)
        return (rank, cat_order.get(cid, len(cat_order)), cid)

    ids = sorted(records, key=order)
    counts: Counter[str] = Counter(r.verdict for r in records.values())
    areas = list(area_names) + sorted({r.area for r in records.values()} - set(area_names))
    areas = [a for a in areas if any(r.area == a for r in records.values())]
    per_area: dict[str, Counter[str]] = {a: Counter() for a in areas}
    for r in records.values():
        per_area[r.area][r.verdict] += 1

    attention = [
        AttentionView(cid, records[cid].verdict, _first_line(records[cid].reason))
        for cid in ids
        if records[cid].verdict in ("error", "deviates")
    ]
    verdicts_present = [v for v in VERDICT_ORDER if counts.get(v)]

    # Table.
    rows: list[RowView] = []
    for cid in ids:
        rec = records[cid]
        cat = cat_claims.get(cid)
        verdict = rec.verdict
        area = rec.area or (cat and cat.area) or ""
        dur = rec.duration
        rows.append(
            RowView(
                id=cid,
                verdict=verdict,
                area=area,
                area_name=area_names.get(area, ""),
                documents=list(cat.documents) if cat else [],
                duration=format_duration(dur) if dur else "",
                statement=_statement(rec, cat, doc_lang),
                detail=_foldable(_detail(rec, cat, documents, allure_links.get(cid, ()))),
            )
        )

    i18n_json = json.dumps(I18N, ensure_ascii=False).replace("<", "\\u003c")
    run_id = str(run.get("run_id") or verdicts.get("run_id") or "")
    k8s = ""
    if isinstance(run.get("cluster"), dict) and run["cluster"].get("kubernetes_version"):
        k8s = str(run["cluster"]["kubernetes_version"])
    chart = area_chart(areas, per_area, area_names)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = PageView(
        run_id=run_id,
        kubernetes=k8s,
        counts=[(v, VERDICT_COLOURS[v], counts.get(v, 0)) for v in VERDICT_ORDER],
        claims=len(records),
        duration=format_duration(run.get("duration")),
        chart=Markup(chart),
        run_info=Markup(_run_info(run, verdicts, bool(allure_links))),
        attention=attention,
        sensitivity=Markup(_sensitivity(sensitivity, area_names)),
        verdict_options=verdicts_present,
        areas=[(a, area_names.get(a, "")) for a in areas],
        documents=[(code, meta.title, meta.language, _short(meta.docs_version)) for code, meta in documents.items()],
        shown=len(ids),
        rows=rows,
        generated=generated,
    )
    return _template().render(page=page, i18n_json=Markup(i18n_json))


def build(run_dir: Path, catalogue: Path | None = None) -> Path:
    """Write ``run_dir/compliance.html`` from the run's ``verdicts.json``/``run.json`` and return its path."""
    run_dir = Path(run_dir)
    verdicts = _load_json(run_dir / "verdicts.json")
    if not verdicts:
        raise FileNotFoundError(f"{run_dir / 'verdicts.json'}: missing or empty")
    run = _load_json(run_dir / "run.json")
    cat = load_catalogue(catalogue or catalogue_path_for(verdicts))
    out = run_dir / "compliance.html"
    html_ = render(verdicts, run, cat, allure.claim_links(run_dir), last_sensitivity(run_dir.parent))
    out.write_text(html_, encoding="utf-8")
    return out


def last_sensitivity(reports_dir: Path) -> dict[str, Any] | None:
    """The last sensitivity self-test's results (``<reports-dir>/latest-sensitivity/sensitivity.json``), if any."""
    return _load_json(reports_dir / "latest-sensitivity" / "sensitivity.json") or None
