"""The reports (``reports/``): compliance.html, junit.xml and ``python -m k8s_doc_conformance.reports``, from a
synthetic run.

The synthetic run uses the real claim catalogue: every claim gets a verdict (most ``untested``), a few get each other
verdict kind, evidence with hostile text, a timeline attachment and the chart shapes of reports/charts.py (named
events, attempts, intervals). Allure: a small multi-file report stands in for the links; a real one is built end to
end (pytest with allure-pytest and fixtures.allure_labels, then the Allure command line) when the command line and
Java are there. The browser test opens the page in headless
Chromium (Debian's ``chromium``) when it is installed, saves a screenshot and checks the filters and the language
switch through the DOM the page's script leaves behind.

Also ``python -m k8s_doc_conformance.reports`` itself (rebuild, ``summary``, ``--diff`` and their exit codes), the
verdicts.json schema (against a file the real writer wrote in an inner pytest run) and the Allure history carried
from run to run.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from k8s_doc_conformance.fixtures import chart_evidence
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.reports import __main__ as reports_main
from k8s_doc_conformance.reports import allure, charts, compliance, junit, records, runs, summary, validate

pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = REPO_ROOT / "conformance" / "claims.yaml"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '<script>alert("x")</script>'

# Which catalogue claims get which verdict in the synthetic run (the rest are untested).
PLAN = {
    "CTR-POD-COLOCATED": "conforms",
    "ENV-HOSTNAME-IS-POD-NAME": "deviates",
    "RC-MISSING-CLASS-FAILED": "deviates",
    "RC-ERRORS-AS-EVENTS": "error",
    "CTR-IMAGE-CHANGE-REPLACES": "skipped",
    "IMG-NAME-DIGEST-ADMISSION-3P": "not-applicable",
}

TIMELINE = [
    {"t": 0.0, "kind": "pod", "pod": "p", "state": "Pending"},
    {"t": 0.4, "kind": "event", "object": "Pod/p", "type": "Normal", "reason": "Scheduled", "message": "ok"},
    {"t": 2.5, "kind": "event", "object": "Pod/p", "type": "Warning", "reason": "BackOff", "message": "<b>x</b>"},
    {"t": 7.0, "kind": "pod", "pod": "p", "state": "Failed"},
]


# The chart shapes documented in reports/compliance.py.
TERMINATION = {
    "origin": "pod deletion",
    "events": [
        {"name": "preStop start", "t": 0.05, "lane": "hook"},
        {"name": "preStop end", "t": 5.1, "lane": "hook"},
        {"name": "TERM", "t": 5.12, "lane": "container"},
        {"name": "KILL", "t": 30.3, "lane": "container", "detail": HOSTILE},
        {"name": "gone", "t": 30.9, "lane": "container"},
    ],
    "expected": [{"name": "grace period ends", "t": 30}],
}
ATTEMPTS = {"origin": "pod creation", "attempts": [0.4, 1.6, 12.0, 32.5, 73.0], "expected_delays": [10, 20, 40, 80]}
PULLS: list[dict[str, Any]] = [
    {"image": "reg:443/k8sdc/r/slow-a:v1", "node": "k8sdc-worker", "start": "2026-11-22T02:38:00.100Z"}
    | {"end": "2026-11-22T02:38:06.200Z"},
    {"image": "reg:443/k8sdc/r/slow-b:v1", "node": "k8sdc-worker", "start": "2026-11-22T02:38:06.250Z"}
    | {"end": "2026-11-22T02:38:12.000Z"},
    {"image": "reg:443/k8sdc/r/slow-a:v1", "node": "k8sdc-worker2", "start": "2026-11-22T02:38:00.200Z"}
    | {"end": "2026-11-22T02:38:06.300Z"},
    {"image": f"reg:443/{HOSTILE}", "node": "k8sdc-worker2", "start": "2026-11-22T02:38:00.300Z", "end": None},
]
CHARTS = {"termination": TERMINATION, "pull attempts": ATTEMPTS, "pulls": PULLS}


def _catalogue() -> dict[str, Any]:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _record(claim: dict[str, Any], verdict: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "verdict": verdict,
        "area": claim["area"],
        "statement": claim["statement"],
        "tests": [],
        "duration": 0,
        "reason": None,
        "documented": None,
        "observed": None,
        "evidence": [],
        "results": [],
        "expected": None,
    }
    test = f"conformance/test_x.py::test_{claim['id'].lower().replace('-', '_')}"
    if verdict in ("conforms", "deviates", "error"):
        result = {"test": test, "verdict": verdict, "reason": None, "duration": 3.25}
        record |= {
            "tests": [test],
            "duration": 3.25,
            "results": [result | {"file": "conformance/test_x.py", "line": 7}],
        }
        record["evidence"] = [
            {
                "kind": "observation",
                "claim": None,
                "documented": "hostname == pod name",
                "observed": {"hostname": HOSTILE},
                "data": {"case": "plain pod"},
                "test": test,
            },
            {"kind": "attachment", "claim": None, "name": "container output", "media": "text/plain", "test": test}
            | {"content": "</pre><img src=x onerror=alert(1)>"},
        ]
    if verdict == "deviates":
        record |= {"reason": f"observed {HOSTILE}\nassert False", "documented": "a == b", "observed": HOSTILE}
        record["evidence"].append(
            {"kind": "attachment", "claim": None, "name": "timeline", "media": "application/json", "test": test}
            | {"content": TIMELINE}
        )
    elif verdict == "conforms":
        record["evidence"].extend(
            {"kind": "attachment", "claim": None, "name": name, "media": "application/json", "test": test}
            | {"content": content}
            for name, content in CHARTS.items()
        )
    elif verdict == "error":
        record["reason"] = "KeyError: 'status'"
    elif verdict == "skipped":
        record["reason"] = "the cluster has no second runtime handler"
    elif verdict == "not-applicable":
        record["reason"] = "not testable on a generic cluster (NT)"
    return record


def _write_run(run_dir: Path, plan: dict[str, str]) -> dict[str, Any]:
    run_dir.mkdir(parents=True)
    claims = {c["id"]: _record(c, plan.get(c["id"], "untested")) for c in _catalogue()["claims"]}
    counts = {v: 0 for v in ("conforms", "deviates", "error", "skipped", "not-applicable", "untested")}
    for record in claims.values():
        counts[record["verdict"]] += 1
    verdicts = {
        "format_version": 1,
        "run_id": run_dir.name,
        "catalogue": str(CATALOGUE),
        "counts": counts,
        "expectations": None,
        "claims": claims,
    }
    (run_dir / "verdicts.json").write_text(json.dumps(verdicts), encoding="utf-8")
    run = {
        "run_id": run_dir.name,
        "start": "2026-11-22T02:37:27+00:00",
        "end": "2026-11-22T02:40:55+00:00",
        "duration": 207.5,
        "exitstatus": 0,
        "interrupted": None,
        "cluster": {
            "cluster_id": "kind:k8sdc",
            "provider": "kind",
            "kubernetes_version": "v1.35.4",
            "runtime_versions": {"n1": "containerd://1.6"},
        },
    }
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return verdicts


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "run-a"
    _write_run(directory, PLAN)
    return directory


def _fake_allure_report(run_dir: Path, claims_by_test: dict[str, list[str]]) -> dict[str, str]:
    """A multi-file Allure report holding only test cases (uid, name, status, story labels): test -> uid."""
    cases = run_dir / "allure-report" / "data" / "test-cases"
    cases.mkdir(parents=True)
    uids = {}
    for n, (test, claims) in enumerate(claims_by_test.items()):
        uid = f"{n:016x}"
        labels = [{"name": "story", "value": c} for c in claims] + [{"name": "epic", "value": "x"}]
        case = {"uid": uid, "name": test, "status": "passed", "labels": labels}
        (cases / f"{uid}.json").write_text(json.dumps(case), encoding="utf-8")
        uids[test] = uid
    return uids


@pytest.fixture
def page(run_dir: Path) -> str:
    return compliance.build(run_dir).read_text(encoding="utf-8")


def test_the_page_loads_nothing_from_outside(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"<(img|iframe|object|embed|video|audio|source)\b", page, re.I)
    assert not re.search(r"\b(src|href|action)\s*=\s*[\"']?\s*(https?:)?//", page, re.I)
    assert not re.search(r"url\(\s*[\"']?\s*(https?:)?//", page, re.I)
    assert "@import" not in page and "@font-face" not in page
    # URLs may appear only as text (the documents quote a few), never as an attribute value.
    for match in re.finditer(r"https?://", page):
        assert page[match.start() - 1] not in "\"'=", page[match.start() - 80 : match.end() + 40]


def test_every_claim_appears(page: str) -> None:
    for claim in _catalogue()["claims"]:
        assert f'id="c-{claim["id"]}"' in page, claim["id"]
    assert page.count('<tr class="claim"') == len(_catalogue()["claims"])


def test_everything_is_escaped(page: str) -> None:
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>x</b>" not in page
    # The loading class, the i18n dictionary, the page's own script, and each claim's folded details, whose raw text
    # nothing escaped can end early.
    folded = page.count('<script type="text/html" class="folded">')
    assert folded == page.count('<tr class="claim"') and page.count("<script") == 3 + folded
    with pytest.raises(ValueError, match="may not contain"):
        compliance._foldable("<pre></SCRIPT><script>alert(1)</script></pre>")


def test_summary_detail_and_languages(page: str) -> None:
    assert "v1.35.4" in page and "3 min 28 s" in page
    assert 'aria-label="verdicts by area"' in page
    assert page.count('aria-label="timeline"') == 2  # the two deviating claims carry one each
    assert "BackOff" in page
    # Statements: English, the Chinese quote of a 000/001/002/003 document, the Portuguese quote of 004.
    catalogue = {c["id"]: c for c in _catalogue()["claims"]}
    claim = catalogue["ENV-HOSTNAME-IS-POD-NAME"]
    zh = next(s["quote"] for s in claim["sources"] if s["doc"] in ("000", "001", "002", "003"))
    pt = next(s["quote"] for s in claim["sources"] if s["doc"] == "004")
    assert f'<span class="st st-zh" lang="zh">{compliance.esc(zh)}</span>' in page
    assert f'<span class="st st-pt" lang="pt">{compliance.esc(pt)}</span>' in page
    assert f'<span class="st st-en" lang="en">{compliance.esc(claim["statement"])}</span>' in page
    for source in claim["sources"]:
        assert compliance.esc(source["english"]) in page
    dictionary = json.loads(re.search(r'<script type="application/json" id="i18n">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    assert all(set(entry) == {"en", "zh", "pt"} for entry in dictionary.values())


def test_charts(page: str) -> None:
    """The conforming claim carries one chart of each shape; hostile strings in them are escaped."""
    for label in ("events", "attempts", "intervals"):
        assert page.count(f'aria-label="{label}"') == 1, label
    detail = page[page.index('id="c-CTR-POD-COLOCATED"') :]
    detail = detail[: detail.index('<tr class="claim"')]
    # named events: every event labelled with its time, the documented grace period as a dashed line
    assert ">KILL <tspan" in detail and "30.3 s</tspan>" in detail and "grace period ends" in detail
    # attempts: the gap since the previous attempt, and the documented schedule as a second lane
    assert ">+10.4<" in detail and ">+20.5<" in detail and ">documented<" in detail
    # intervals: serial pulls on one node, two at once on the other (one still running: dashed)
    assert ">max 1 at once<" in detail and ">max 2 at once<" in detail
    assert 'stroke-dasharray="3 2"' in detail
    assert HOSTILE not in detail and "&lt;script&gt;" in detail


def test_chart_shapes() -> None:
    assert charts.chart_for("x", {"attempts": [1, 2]}) is not None
    assert charts.chart_for("pull attempts", [0.5, 10.5, 30.5])[0] == "attempts"  # type: ignore[index]
    assert charts.chart_for("x", [0.5, 10.5, 30.5]) is None  # a bare list of numbers needs "attempt" in the name
    assert charts.chart_for("x", [{"name": "TERM", "t": 1}])[0] == "events"  # type: ignore[index]
    assert charts.chart_for("x", TIMELINE)[0] == "timeline"  # type: ignore[index]
    assert charts.chart_for("x", {"intervals": [{"start": 0, "end": 1}]})[0] == "intervals"  # type: ignore[index]
    for not_a_chart in ({"a": 1}, [], [{"start": "soon", "end": 1}], [{"name": "x", "t": "later"}], "text", None):
        assert charts.chart_for("x", not_a_chart) is None, not_a_chart
    # the shapes the scenarios attach today: the back-off schedule, the termination timeline (seconds after delete)
    schedule = [{"attempt": i + 1, "at": "…", "t": t, "gap": g} for i, (t, g) in enumerate([(0, None), (10.2, 10.2)])]
    kind, svg = charts.chart_for("pull attempt schedule (registry witness)", schedule)  # type: ignore[misc]
    assert kind == "attempts" and ">+10.2<" in svg
    rows = [
        {"t": -0.2, "source": "test", "what": "delete"},
        {"t": 0.05, "source": "container main", "what": "TERM received"},
        {"t": 0.3, "source": "API watch", "what": "MODIFIED", "phase": "Running"},
    ]
    kind, svg = charts.chart_for("timeline (s after delete)", rows)  # type: ignore[misc]
    assert kind == "timeline" and ">container main<" in svg and ">TERM received<" in svg and ">Running<" in svg
    spec = charts.intervals(PULLS)
    assert spec is not None and [b["start"] for b in spec["intervals"]] == [0.0, 6.15, 0.1, 0.2]


def test_declared_chart_kinds() -> None:
    """An attachment that declares its chart (fixtures/chart_evidence.py) is drawn as that kind, never guessed: a
    bare list of times is attempts without "attempt" in its name, named moments declared a timeline are a timeline,
    and content that does not hold the declared kind's data (or an unknown kind) gets no chart."""
    times = chart_evidence.Attempts([0.5, 10.5, 30.5])
    kind, svg = charts.chart_for("x", times.content(), times.kind.value)  # type: ignore[misc]
    assert kind == "attempts" and ">+10<" in svg and ">+20<" in svg
    named = [{"name": "TERM", "t": 1.0, "kind": "container"}, {"name": "KILL", "t": 3.0, "kind": "container"}]
    assert charts.chart_for("x", named, "timeline")[0] == "timeline"  # type: ignore[index]
    assert charts.chart_for("x", [{"name": "TERM", "t": 1}], "events")[0] == "events"  # type: ignore[index]
    assert charts.chart_for("x", PULLS, "intervals")[0] == "intervals"  # type: ignore[index]
    for declared, content in (("intervals", TIMELINE), ("timeline", PULLS), ("attempts", {"a": 1}), ("pie", TIMELINE)):
        assert charts.chart_for("x", content, declared) is None, declared


def test_chart_evidence_is_recorded_with_its_kind() -> None:
    """``evidence.attach(name, ChartEvidence)`` keeps the plain JSON content and declares the kind; the record is
    valid against verdicts.schema.json's attachment definition."""
    ev = Evidence(["C-1"])
    ev.attach("pull intervals", chart_evidence.Intervals(PULLS))
    ev.attach("timeline", chart_evidence.Timeline(TIMELINE))
    ev.attach("schedule", chart_evidence.Attempts([0, 10], origin="pod created", expected_delays=[10]))
    ev.attach("plain", {"a": 1})
    records = ev.records
    assert [r.get("chart") for r in records] == ["intervals", "timeline", "attempts", None]
    assert records[0]["content"] == PULLS and records[1]["content"] == TIMELINE
    assert records[2]["content"] == {"origin": "pod created", "attempts": [0, 10], "expected_delays": [10], "cap": None}
    schema = validate.schema()
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/evidence"})
    for record in records:
        validator.validate({**record, "test": "t.py::test"})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**records[0], "test": "t.py::test", "chart": "pie"})


def test_allure_links(run_dir: Path) -> None:
    """Each tested claim links to its test results in the run's Allure report; the run card links the report."""
    uids = _fake_allure_report(
        run_dir, {"test_ctr_pod_colocated": ["CTR-POD-COLOCATED"], "test_two": ["RC-ERRORS-AS-EVENTS", "RC-X"]}
    )
    page = compliance.build(run_dir).read_text(encoding="utf-8")
    detail = page[page.index('id="c-CTR-POD-COLOCATED"') :]
    detail = detail[: detail.index('<tr class="claim"')]
    href = f'href="allure-report/index.html#testresult/{uids["test_ctr_pod_colocated"]}"'
    assert f'<a class="allure" {href}>test_ctr_pod_colocated</a>' in detail
    assert page.count(f'#testresult/{uids["test_two"]}"') == 1  # RC-X is not in the catalogue
    assert page.count('<a class="allure"') == 2
    assert '<a href="allure-report/index.html">' in page


def _history_run(
    reports: Path, name: str, start: str, cluster_id: str | None, history: str | None = None, single_file: bool = False
) -> Path:
    """A run directory with a run.json and, given ``history``, an Allure report whose history-trend.json holds it:
    in a ``history/`` folder, or embedded the way a single-file report embeds its data."""
    directory = reports / name
    (directory / allure.RESULTS).mkdir(parents=True)
    cluster = {"cluster_id": cluster_id} if cluster_id else {"provider": "kind"}
    run = {"run_id": name, "start": start, "cluster": cluster}
    (directory / "run.json").write_text(json.dumps(run), encoding="utf-8")
    if history is not None:
        report = directory / allure.REPORT
        trend = json.dumps([{"data": {"passed": 1}, "buildOrder": history}]).encode()
        if single_file:
            report.mkdir()
            embedded = [("history/history-trend.json", trend), ("history/history.json", b"{}")]
            embedded.append(("data/test-cases/0.json", b"{}"))
            script = ",\n".join(f"d('{k}','{base64.b64encode(v).decode()}')" for k, v in embedded)
            (report / "index.html").write_text(f"<script>Promise.allSettled([{script}])</script>", encoding="utf-8")
        else:
            (report / "history").mkdir(parents=True)
            (report / "history" / "history-trend.json").write_bytes(trend)
    return directory


def test_allure_history_from_the_previous_run_on_the_same_cluster(tmp_path: Path) -> None:
    reports = tmp_path / "out"
    _history_run(reports, "a-old", "2026-11-20T10:00:00+00:00", "kind:k8sdc", history="a-old")
    newest_before = _history_run(
        reports, "b-newest", "2026-11-21T10:00:00+01:00", "kind:k8sdc", history="b", single_file=True
    )
    _history_run(reports, "c-no-report", "2026-11-21T12:00:00+00:00", "kind:k8sdc")
    _history_run(reports, "d-other-cluster", "2026-11-21T13:00:00+00:00", "https://h:6443 ctx", history="d")
    _history_run(reports, "e-later", "2026-11-23T10:00:00+00:00", "kind:k8sdc", history="e")
    current = _history_run(reports, "f-current", "2026-11-22T10:00:00Z", "kind:k8sdc")
    (reports / "latest").symlink_to("e-later", target_is_directory=True)
    stale = current / allure.RESULTS / "history" / "stale.json"
    stale.parent.mkdir()
    stale.write_text("{}", encoding="utf-8")

    assert allure.previous_run(current) == newest_before
    assert allure.copy_history(current) == newest_before
    history = current / allure.RESULTS / "history"
    assert sorted(p.name for p in history.iterdir()) == ["history-trend.json", "history.json"]  # stale one gone
    assert json.loads((history / "history-trend.json").read_text(encoding="utf-8"))[0]["buildOrder"] == "b"
    # a multi-file report's history/ folder works the same; a run on another cluster has none to take
    assert allure.history_of(reports / "a-old" / allure.REPORT).keys() == {"history-trend.json"}
    other = _history_run(reports, "g-other", "2026-11-22T11:00:00+00:00", "kind:another")
    assert allure.copy_history(other) is None and not (other / allure.RESULTS / "history").exists()
    unknown = _history_run(reports, "h-no-cluster-id", "2026-11-22T12:00:00+00:00", None)
    assert allure.previous_run(unknown) is None


def _allure_result(results: Path, name: str, status: str, start_ms: int) -> None:
    result: dict[str, Any] = {
        "uuid": f"{name}-{start_ms}",
        "historyId": name,
        "testCaseId": name,
        "name": name,
        "fullName": name,
    }
    result |= {"status": status, "start": start_ms, "stop": start_ms + 1000, "labels": []}
    (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")


@pytest.mark.alone
def test_allure_trend_end_to_end(tmp_path: Path) -> None:
    """Three runs on one cluster through the Allure command line: the third report's trend has three builds."""
    cli = allure.find_cli()
    if cli is None or shutil.which("java") is None:
        pytest.skip("no Allure command line or no Java: nox -s tests / nox -s report install allure-commandline")
    start = dt.datetime(2026, 11, 22, 10, tzinfo=dt.UTC)
    for n in range(3):
        directory = _history_run(tmp_path, f"run-{n}", (start + dt.timedelta(hours=n)).isoformat(), "kind:k8sdc")
        _allure_result(directory / allure.RESULTS, "test_a", "passed" if n else "failed", 1_700_000_000_000 + n)
        allure.generate(directory, cli)
    trend = allure.history_of(tmp_path / "run-2" / allure.REPORT)["history-trend.json"]
    assert [build["data"]["passed"] for build in json.loads(trend)] == [1, 1, 0]  # newest first


TINY_SCENARIOS = '''"""Tiny topic (doc 000: "x"). Two scenarios for the Allure labels."""
import pytest

from k8s_doc_conformance.fixtures import verdicts


@pytest.mark.claim("CTR-POD-COLOCATED", "CTR-RUNTIME-CRI")
def test_two_claims(evidence, request):
    verdicts.set_run_info(
        request.config,
        kubernetes_version="v1.35.4",
        provider="kind",
        runtime_versions={"n1": "containerd://1.6.20", "n2": "containerd://1.6.20"},
        kubelet_settings={"n1": {"serializeImagePulls": False, "maxParallelImagePulls": 2}},
    )
    evidence.observe(documented="one node", observed="one node", case="two containers")
    evidence.attach("pull attempts", {"attempts": [0.5, 10.6, 30.9], "expected_delays": [10, 20]})


@pytest.mark.claim("ENV-HOSTNAME-IS-POD-NAME")
def test_deviates(evidence):
    evidence.observe(documented="hostname == pod name", observed="something else")
    assert False, "the hostname is not the pod name"
'''


def _results(directory: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in directory.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["name"]] = data
    return found


@pytest.mark.alone
def test_allure_end_to_end(tmp_path: Path) -> None:
    """allure-pytest with fixtures.allure_labels: claim labels, attachments, environment; then the Allure report
    (when its command line and Java are there) and compliance.html's links into it."""
    (tmp_path / "test_tiny.py").write_text(TINY_SCENARIOS, encoding="utf-8")
    out = tmp_path / "out"
    results = out / "e2e" / "allure-results"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    plugins = [
        "-p",
        "no:k8s_doc_conformance",
        "-p",
        "k8s_doc_conformance.fixtures.verdicts",
        "-p",
        "k8s_doc_conformance.fixtures.allure_labels",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
    ]
    args = [*plugins, f"--reports-dir={out}", "--run-id=e2e", f"--alluredir={results}", "test_tiny.py", "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # test_deviates fails
    found = _results(results)
    assert set(found) == {"test_two_claims", "test_deviates"}
    two = found["test_two_claims"]
    labels = {(lb["name"], lb["value"]) for lb in two["labels"]}
    assert {("story", "CTR-POD-COLOCATED"), ("story", "CTR-RUNTIME-CRI"), ("feature", "Tiny topic")} <= labels
    assert ("epic", "CTR · Containers overview") in labels
    assert {a["name"] for a in two["attachments"]} >= {"pull attempts", "observations"}
    observations = next(a for a in two["attachments"] if a["name"] == "observations")
    recorded = json.loads((results / observations["source"]).read_text(encoding="utf-8"))
    assert recorded[0]["observed"] == "one node" and recorded[0]["data"] == {"case": "two containers"}
    assert {lk["url"] for lk in two["links"]} == {
        "../compliance.html#open=CTR-POD-COLOCATED",
        "../compliance.html#open=CTR-RUNTIME-CRI",
    }
    assert found["test_deviates"]["status"] == "failed"  # an AssertionError: a deviation, not "broken"
    environment = (results / "environment.properties").read_text(encoding="ascii")
    assert "Kubernetes=v1.35.4\n" in environment and "Runtime=containerd\\://1.6.20 (all 2 nodes)\n" in environment
    assert "Kubelet\\ n1=serializeImagePulls\\=false, maxParallelImagePulls\\=2\n" in environment
    assert json.loads((results / "categories.json").read_text(encoding="utf-8"))[0]["matchedStatuses"] == ["failed"]

    cli = allure.find_cli()
    if cli is None or shutil.which("java") is None:
        pytest.skip("no Allure command line or no Java: nox -s tests / nox -s report install allure-commandline")
    done = _python_m_reports(str(out / "e2e"), "--allure", str(cli))
    assert done.returncode == 0, done.stderr[-3000:]
    report = out / "e2e" / "allure-report" / "index.html"
    links = allure.claim_links(out / "e2e")
    assert set(links) == {"CTR-POD-COLOCATED", "CTR-RUNTIME-CRI", "ENV-HOSTNAME-IS-POD-NAME"}
    assert links["CTR-POD-COLOCATED"] == links["CTR-RUNTIME-CRI"]  # one test, two claims
    href = links["CTR-POD-COLOCATED"][0]["href"]
    page = (out / "e2e" / "compliance.html").read_text(encoding="utf-8")
    assert f'<a class="allure" href="{href}">test_two_claims</a>' in page
    uid = href.rsplit("/", 1)[1]
    assert f"data/test-cases/{uid}.json" in report.read_text(encoding="utf-8")
    if CHROMIUM.exists():  # the link opens that test's page in the single-file report, offline
        done = _chromium(
            tmp_path / "profile-allure",
            "--virtual-time-budget=10000",
            "--dump-dom",
            report.as_uri() + f"#testresult/{uid}",
        )
        assert "test_two_claims" in done.stdout and "compliance: CTR-RUNTIME-CRI" in done.stdout, done.stderr[-2000:]


def test_junit_counts(run_dir: Path) -> None:
    root = ET.parse(junit.build(run_dir)).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(_catalogue()["claims"])
    assert len(root.findall(".//testcase/failure")) == 2
    assert len(root.findall(".//testcase/error")) == 1
    skipped = root.findall(".//testcase/skipped")
    assert len(skipped) == len(cases) - 4  # all but conforms, 2 deviates, error
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("2", "1", str(len(cases) - 4))
    by_name = {c.get("name"): c for c in cases}
    assert by_name["RC-MISSING-CLASS-FAILED"].get("classname") == "RC"
    na = by_name["IMG-NAME-DIGEST-ADMISSION-3P"].find("skipped")
    assert na is not None and (na.get("message") or "").startswith("not-applicable")


def _python_m_reports(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "k8s_doc_conformance.reports", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_rebuilds_and_diffs(run_dir: Path, tmp_path: Path) -> None:
    done = _python_m_reports(str(run_dir))
    assert done.returncode == 0, done.stderr
    assert (run_dir / "compliance.html").is_file() and (run_dir / "junit.xml").is_file()
    assert done.stdout.splitlines() == [str(run_dir / n) for n in ("compliance.html", "junit.xml", "results.tar.gz")]
    with tarfile.open(run_dir / "results.tar.gz") as tar:
        assert tar.getnames() == [f"run-a/{n}" for n in ("compliance.html", "junit.xml", "run.json", "verdicts.json")]
    other = tmp_path / "run-b"
    _write_run(other, PLAN | {"CTR-POD-COLOCATED": "deviates", "RC-ERRORS-AS-EVENTS": "conforms"})
    done = _python_m_reports("--diff", str(run_dir), str(other))
    assert done.returncode == 1, done.stderr  # verdicts differ
    assert done.stdout.splitlines() == [
        "CTR-POD-COLOCATED: conforms -> deviates",
        "RC-ERRORS-AS-EVENTS: error -> conforms",
    ]
    done = _python_m_reports("--diff", str(run_dir), str(run_dir / "verdicts.json"))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def _main(*args: str | Path) -> int:
    return reports_main.main([str(a) for a in args])


@pytest.mark.parametrize(
    "args,message",
    [
        (["--bogus"], "unrecognized arguments: --bogus (see python -m k8s_doc_conformance.reports --help)"),
        ([], "give RUN, summary RUN or --diff RUN_A RUN_B (see python -m k8s_doc_conformance.reports --help)"),
        (
            ["summary"],
            "the following arguments are required: run (see python -m k8s_doc_conformance.reports summary --help)",
        ),
        (["{tmp}/nowhere"], "{tmp}/nowhere: no such run directory or verdicts.json"),
        (["summary", "{tmp}/empty"], "{tmp}/empty/verdicts.json: missing (not a run directory?)"),
        (
            ["--diff", "{tmp}/list.json", "{tmp}/empty"],
            "{tmp}/list.json: not a verdicts.json (a JSON list, not an object)",
        ),
        (["summary", "{tmp}/broken.json"], "{tmp}/broken.json: not JSON (Expecting value: line 1 column 1 (char 0))"),
        (["summary", "{tmp}/noclaims.json"], "{tmp}/noclaims.json: not a verdicts.json (no 'claims' mapping)"),
    ],
)
def test_bad_input_is_one_line_and_exit_4(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    (tmp_path / "broken.json").write_text("", encoding="utf-8")
    (tmp_path / "noclaims.json").write_text('{"run_id": "x"}', encoding="utf-8")
    assert _main(*(a.format(tmp=tmp_path) for a in args)) == 4
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"reports: {message.format(tmp=tmp_path)}\n")


def test_bad_input_from_the_shell(tmp_path: Path) -> None:
    done = _python_m_reports("summary", str(tmp_path / "nowhere"))
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr == f"reports: {tmp_path / 'nowhere'}: no such run directory or verdicts.json\n"


def test_a_report_that_cannot_be_built_exits_2_and_the_others_are_built(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run_dir / "compliance.html").mkdir()  # compliance.build cannot write its file
    assert _main(run_dir, "--no-allure") == 2
    out, err = capsys.readouterr()
    assert err.startswith("reports: compliance.html not built: [Errno 21] Is a directory") and err.count("\n") == 1
    assert out.splitlines() == [str(run_dir / "junit.xml"), str(run_dir / "results.tar.gz")]


# --------------------------------------------------------------------------- summary


def _with_expectations(run_dir: Path, expected: dict[str, str]) -> None:
    """Give the run expectations: ``expected`` for the claims named, the observed verdict for the others."""
    path = run_dir / "verdicts.json"
    verdicts = json.loads(path.read_text(encoding="utf-8"))
    mismatches = []
    for claim_id, entry in verdicts["claims"].items():
        verdict = expected.get(claim_id, entry["verdict"])
        why = "known upstream\nsecond line" if verdict in ("deviates", "not-applicable") else None
        entry["expected"] = {"verdict": verdict, "why": why}
        if verdict != entry["verdict"]:
            mismatches.append({"claim": claim_id, "expected": verdict, "observed": entry["verdict"], "why": why})
    verdicts["expectations"] = {"path": "/x/1.35.yaml", "kubernetes": "1.35", "mismatches": mismatches}
    path.write_text(json.dumps(verdicts), encoding="utf-8")


def test_summary(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _with_expectations(run_dir, {"RC-MISSING-CLASS-FAILED": "conforms", "CTR-IMAGE-CHANGE-REPLACES": "conforms"})
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    run["interrupted"] = {"by": "SIGINT", "at": "2026-11-22T02:40:50+00:00"}
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    assert _main("summary", run_dir) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "run run-a; started 2026-11-22T02:37:27+00:00; took 3 min 28 s; cluster kind:k8sdc; Kubernetes v1.35.4; "
        "INTERRUPTED by SIGINT at 2026-11-22T02:40:50+00:00; expectations /x/1.35.yaml"
    )
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert len(rows) == len(_catalogue()["claims"])
    assert re.fullmatch(
        r"  RC-MISSING-CLASS-FAILED +deviates +\(expected conforms\) +observed <script>.*",
        rows["RC-MISSING-CLASS-FAILED"],
    )
    assert (
        "(expected" not in rows["ENV-HOSTNAME-IS-POD-NAME"] and "assert False" not in rows["ENV-HOSTNAME-IS-POD-NAME"]
    )
    assert re.fullmatch(r"  CTR-POD-COLOCATED +conforms", rows["CTR-POD-COLOCATED"])
    areas = [line.split()[0] for line in lines[2:] if line and not line.startswith(" ")][:-2]
    assert areas == list(dict.fromkeys(c["area"] for c in _catalogue()["claims"]))  # grouped, in catalogue order
    untested = len(_catalogue()["claims"]) - len(PLAN)
    assert lines[-2:] == [
        f"{len(_catalogue()['claims'])} claims: 1 conforms, 2 deviates, 1 error, 1 skipped, 1 not-applicable, "
        f"{untested} untested",
        "expectations: 2 verdict(s) differ",
    ]


def test_summary_of_latest(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare name that is not a path here names a run in reports/out: ``latest`` is the run it points at."""
    (run_dir.parent / "latest").symlink_to(run_dir.name, target_is_directory=True)
    monkeypatch.setattr(runs, "REPORTS_DIR", run_dir.parent)
    monkeypatch.chdir(tmp_path / "run-a")  # no "latest" here
    assert runs.resolve("latest") == run_dir.resolve()
    assert runs.resolve("run-a") == run_dir.resolve()
    assert _main("summary", "latest") == 0
    assert capsys.readouterr().out.startswith("run run-a; ")
    assert _main("--allure", "/x/allure", "summary", "latest") == 0  # as nox -s report -- summary latest runs it
    assert capsys.readouterr().out.startswith("run run-a; ")


# --------------------------------------------------------------------------- verdicts.json format


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(validate.schema())
    assert validate.schema()["properties"]["format_version"] == {
        "const": validate.FORMAT_VERSION,
        "description": validate.schema()["properties"]["format_version"]["description"],
    }


def _edit(run_dir: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = run_dir / "verdicts.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


VERDICT_ENUM = "['conforms', 'deviates', 'error', 'skipped', 'not-applicable', 'untested']"


@pytest.mark.parametrize(
    "change,problem",
    [
        (
            lambda d: d["claims"]["ENV-HOSTNAME-IS-POD-NAME"].update(verdict="maybe"),
            f"claims.ENV-HOSTNAME-IS-POD-NAME.verdict: 'maybe' is not one of {VERDICT_ENUM}",
        ),
        (
            lambda d: d["claims"]["CTR-POD-COLOCATED"]["results"][0].update(line=0),
            "claims.CTR-POD-COLOCATED.results[0].line: 0 is less than the minimum of 1",
        ),
        (
            lambda d: d["claims"]["CTR-POD-COLOCATED"].pop("expected"),
            "claims.CTR-POD-COLOCATED: 'expected' is a required property (null when the run had no --expectations)",
        ),
        (
            lambda d: d["claims"]["CTR-POD-COLOCATED"].update(expected={"verdict": "conforms"}),
            "claims.CTR-POD-COLOCATED.expected: 'why' is a required property",
        ),
        (lambda d: d.update(surprise=1), "Additional properties are not allowed ('surprise' was unexpected)"),
        (
            lambda d: d["claims"]["RC-ERRORS-AS-EVENTS"].update(verdict="maybe", duration=-1),
            "claims.RC-ERRORS-AS-EVENTS.duration: -1 is less than the minimum of 0 (and 1 more problem)",
        ),
        (
            lambda d: d.update(format_version=2),
            "format_version: 2 is newer than this code reads (up to 1): update it",
        ),
    ],
)
def test_a_bad_verdicts_json_is_named_precisely(
    run_dir: Path, change: Callable[[dict[str, Any]], None], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _edit(run_dir, change)
    for args in (["summary", run_dir], [run_dir], ["--diff", run_dir, run_dir]):
        assert _main(*args) == 4
        assert capsys.readouterr().err == f"reports: {path}: {problem}\n"
    assert not (run_dir / "junit.xml").exists()


def test_old_runs_without_format_version_still_work(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Format 0: no format_version, expected, file or line; an unknown verdict is shown, not refused."""

    def to_format_0(data: dict[str, Any]) -> None:
        del data["format_version"], data["expectations"]
        for entry in data["claims"].values():
            del entry["expected"]
            for result in entry["results"]:
                del result["file"], result["line"], result["reason"]
        data["claims"]["CTR-RUNTIME-CRI"]["verdict"] = "maybe"

    _edit(run_dir, to_format_0)
    assert validate.check(json.loads((run_dir / "verdicts.json").read_text(encoding="utf-8"))) == 0
    assert _main("summary", run_dir) == 0
    assert re.search(r"\n  CTR-RUNTIME-CRI +maybe\n", capsys.readouterr().out)
    assert _main(run_dir, "--no-allure") == 0
    assert (run_dir / "junit.xml").is_file() and (run_dir / "results.tar.gz").is_file()


REAL_CATALOGUE = {
    "claims": [
        {"id": "R-PASS", "area": "R", "statement": "passes", "needs": ["RUN"]},
        {"id": "R-DEV", "area": "R", "statement": "deviates", "needs": ["RUN"]},
        {"id": "R-NA", "area": "R", "statement": "does not apply", "needs": ["RUN"]},
        {"id": "R-NT", "area": "S", "statement": "cannot be tested", "needs": ["NT"]},
        {"id": "R-NONE", "area": "S", "statement": "no scenario yet", "needs": ["API"]},
    ]
}
REAL_SCENARIOS = """
import pytest


@pytest.mark.claim("R-PASS")
def test_pass(evidence):
    evidence.observe(documented="a", observed="a", case="one")
    evidence.attach("log", "some text")
    evidence.attach("data", {"k": [1, 2]})


@pytest.mark.claim("R-DEV")
def test_deviates(evidence):
    evidence.observe(documented="a", observed="b")
    assert False, "b is not a"


@pytest.mark.claim("R-NA")
def test_not_applicable(evidence):
    evidence.not_applicable("not on this runtime")
"""
REAL_EXPECTATIONS = {
    "kubernetes": "1.35",
    "claims": {
        "R-PASS": {"verdict": "conforms"},
        "R-DEV": {"verdict": "deviates", "why": "known: kubernetes#1\nmore"},
        "R-NA": {"verdict": "not-applicable", "why": "this runtime"},
    },
}


@pytest.mark.parametrize("with_expectations", [False, True], ids=["plain", "expectations"])
def test_the_writer_writes_what_the_schema_describes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, with_expectations: bool
) -> None:
    """A verdicts.json from fixtures.verdicts itself (an inner pytest run) is format 1 and valid; the reports
    read it."""
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    catalogue = pytester.path / "claims.yaml"
    catalogue.write_text(yaml.safe_dump(REAL_CATALOGUE), encoding="utf-8")
    expectations = pytester.path / "expected.yaml"
    expectations.write_text(yaml.safe_dump(REAL_EXPECTATIONS), encoding="utf-8")
    scenarios = pytester.makepyfile(test_real=REAL_SCENARIOS)
    out = pytester.path / "out"
    args = [
        "-p",
        "no:k8s_doc_conformance",
        "-p",
        "k8s_doc_conformance.fixtures.verdicts",
        "-p",
        "no:cacheprovider",
        f"--reports-dir={out}",
        "--run-id=real-1",
    ]
    args += [f"--claims-catalogue={catalogue}"] + ([f"--expectations={expectations}"] if with_expectations else [])
    result = pytester.runpytest_subprocess(*args)
    run_dir = out / "real-1"
    assert (run_dir / "verdicts.json").is_file(), result.stdout.str()[-3000:] + result.stderr.str()[-3000:]

    data = runs.load_verdicts(run_dir)  # validated against the schema
    assert data["format_version"] == 1
    jsonschema.validate(data, validate.schema(), cls=jsonschema.Draft202012Validator)
    dev = data["claims"]["R-DEV"]
    assert dev["verdict"] == "deviates"
    (result_,) = dev["results"]
    source = scenarios.read_text(encoding="utf-8").splitlines()
    assert result_["file"] == "test_real.py"
    assert source[result_["line"] - 1] in ('@pytest.mark.claim("R-DEV")', "def test_deviates(evidence):")
    if with_expectations:
        assert dev["expected"] == {"verdict": "deviates", "why": "known: kubernetes#1\nmore"}
        assert data["claims"]["R-NONE"]["expected"] == {"verdict": "untested", "why": None}
        assert data["expectations"]["mismatches"] == []
    else:
        assert dev["expected"] is None and data["expectations"] is None

    # the reports read it: the JUnit signal matches the run's exit status
    root = ET.parse(junit.build(run_dir)).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    outcome = cases["R-DEV"].find("skipped" if with_expectations else "failure")
    assert outcome is not None
    if with_expectations:
        assert outcome.get("message") == "expected deviation: known: kubernetes#1"
        assert root.get("failures") == root.get("errors") == "0" and result.ret == 0
    else:
        assert result.ret != 0 and root.get("failures") == "1"
    assert summary.render(data, runs.load_run(run_dir)).startswith("run real-1; started ")


# --------------------------------------------------------------------------- in a real browser


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120)


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None,
    reason="/usr/bin/chromium is not installed (install Debian's package: apt-get install -y chromium)",
)


@needs_chromium
@pytest.mark.alone
def test_in_chromium(run_dir: Path, tmp_path: Path) -> None:
    html_path = compliance.build(run_dir)
    url = html_path.resolve().as_uri()
    shot = run_dir / "compliance.png"
    done = _chromium(tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1400,1000", url)
    assert shot.is_file() and shot.stat().st_size > 10_000, done.stderr[-2000:]

    # Filters and the language switch, applied by the page's script from the URL fragment.
    done = _chromium(
        tmp_path / "profile-dom", "--dump-dom", url + "#lang=pt&verdict=deviates&area=RC&open=RC-MISSING-CLASS-FAILED"
    )
    dom = done.stdout
    assert 'data-lang="pt"' in dom, done.stderr[-2000:]
    rows = re.findall(r'<tr class="claim( [a-z ]*)?" id="c-([A-Z0-9-]+)"', dom)
    visible = sorted(cid for cls, cid in rows if "off" not in cls.split())
    assert visible == ["RC-MISSING-CLASS-FAILED"]
    assert any(cid == "RC-MISSING-CLASS-FAILED" and "open" in cls.split() for cls, cid in rows)
    assert '<span id="n-shown">1</span>' in dom and "loading" not in dom.split("<head>", 1)[0]
    # The opened claim's details were built from their raw text, in the page's language; the others were not.
    opened = dom.split('id="c-RC-MISSING-CLASS-FAILED"', 1)[1].split('<tr class="claim', 1)[0]
    assert "folded" not in opened and f'data-i18n="quotes">{compliance.I18N["quotes"]["pt"]}<' in opened
    assert dom.count('<script type="text/html" class="folded">') == len(rows) - 1
    assert f'data-i18n="title">{compliance.I18N["title"]["pt"]}<' in dom
    assert f"<title>{compliance.I18N['title']['pt']}" in dom
    ready = re.search(r'data-ready-ms="([0-9.]+)"', dom)
    assert ready, "the page's script did not finish"
    assert float(ready[1]) < 1000, f"interactive after {ready[1]} ms"

    done = _chromium(tmp_path / "profile-zh", "--dump-dom", url + "#lang=zh&doc=004")
    dom = done.stdout
    assert 'data-lang="zh"' in dom and f'data-i18n="title">{compliance.I18N["title"]["zh"]}<' in dom
    rows = re.findall(r'<tr class="claim( [a-z ]*)?" id="c-([A-Z0-9-]+)"', dom)
    with_004 = {c["id"] for c in _catalogue()["claims"] if any(s["doc"] == "004" for s in c["sources"])}
    assert {cid for cls, cid in rows if "off" not in cls.split()} == with_004


@needs_chromium
@pytest.mark.alone
def test_full_run_is_interactive_within_a_second(tmp_path: Path) -> None:
    """Every catalogue claim tested (verdicts in turn), the conforming and deviating ones with all four charts and
    an Allure link: the page's script still finishes, filters applied, within a second of navigation."""
    cycle = ("conforms", "deviates", "conforms", "error", "skipped", "not-applicable")
    plan = {c["id"]: cycle[i % len(cycle)] for i, c in enumerate(_catalogue()["claims"])}
    run_dir = tmp_path / "run-full"
    verdicts = _write_run(run_dir, plan)
    for claim_id, record in verdicts["claims"].items():
        if record["verdict"] == "deviates":
            record["evidence"].extend(
                {"kind": "attachment", "claim": None, "name": name, "media": "application/json"} | {"content": content}
                for name, content in CHARTS.items()
            )
        record["tests"] = record["tests"] or [f"conformance/test_x.py::test_{claim_id.lower()}"]
    (run_dir / "verdicts.json").write_text(json.dumps(verdicts), encoding="utf-8")
    _fake_allure_report(run_dir, {r["tests"][0].rsplit("::", 1)[1]: [c] for c, r in verdicts["claims"].items()})
    page = compliance.build(run_dir).read_text(encoding="utf-8")
    assert page.count('<a class="allure"') == len(plan)
    assert page.count('aria-label="intervals"') == sum(1 for v in plan.values() if v in ("conforms", "deviates"))
    url = (run_dir / "compliance.html").as_uri()
    ms = float("inf")
    for attempt in range(3):  # a busy 2-core machine: the best of three loads
        done = _chromium(tmp_path / f"profile-{attempt}", "--dump-dom", url + "#lang=zh&verdict=deviates&area=RC")
        ready = re.search(r'data-ready-ms="([0-9.]+)"', done.stdout)
        assert ready, "the page's script did not finish: " + done.stderr[-2000:]
        rows = re.findall(r'<tr class="claim( [a-z ]*)?" id="c-([A-Z0-9-]+)"', done.stdout)
        expected = {c for c, v in plan.items() if v == "deviates" and verdicts["claims"][c]["area"] == "RC"}
        assert {cid for cls, cid in rows if "off" not in cls.split()} == expected
        ms = min(ms, float(ready[1]))
        if ms < 1000:
            break
    assert ms < 1000, f"interactive only after {ms} ms"
    shot = run_dir / "compliance.png"
    _chromium(tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1400,1000", url)
    assert shot.is_file()


def test_the_sensitivity_section_shows_the_last_self_test(run_dir: Path, page: str) -> None:
    """No self-test on record: the section says so. After one (reports/out/latest-sensitivity/sensitivity.json
    beside the run), its detection per area, false alarms, date and cluster."""
    assert 'id="sensitivity"' in page and "No sensitivity self-test on record" in page
    last = run_dir.parent / "sensitivity-20261202-090000"
    last.mkdir()
    result = {
        "cluster": "k8sdc", "kubernetes": "v1.35.4", "finished": "2026-12-02T09:30:00Z",
        "required": 8, "detected": 7, "false_alarms": 1,
        "areas": {"RC": {"profiles": 2, "required": 7, "detected": 7, "false_alarms": 0},
                  "NS": {"profiles": 1, "required": 1, "detected": 0, "false_alarms": 1}},
    }  # fmt: skip
    (last / "sensitivity.json").write_text(json.dumps(result), encoding="utf-8")
    (run_dir.parent / "latest-sensitivity").symlink_to(last.name)
    section = compliance.build(run_dir).read_text(encoding="utf-8").split('id="sensitivity"', 1)[1]
    section = section.split("</section>", 1)[0]
    assert "<b>7/8 (88%)</b>" in section and "2026-12-02T09:30:00Z" in section
    assert "k8sdc (Kubernetes v1.35.4)" in section
    assert "<td>7/7</td><td>0</td>" in section and "<td>0/1</td><td>1</td>" in section


def test_claim_records_read_leniently() -> None:
    """reports/records.py: a record of a file older than the schema, with fields missing or of another shape, reads
    as empty values; a current record as its typed parts."""
    old = records.claim_records(
        {"claims": {"C-1": {"verdict": "conforms", "evidence": ["x", {"kind": "observation"}]}}}
    )
    rec = old["C-1"]
    assert (rec.verdict, rec.area, rec.duration, rec.reason, rec.shows_values) == ("conforms", "", None, "", False)
    assert rec.observations == (records.Observation("", None, None, {}),) and not rec.attachments and not rec.results
    current = {
        "verdict": "deviates",
        "area": "HOOK",
        "duration": 2.5,
        "documented": "TERM after preStop",
        "observed": None,
        "evidence": [
            {
                "kind": "attachment",
                "test": "t::a",
                "name": "w",
                "media": "application/json",
                "content": [],
                "chart": "intervals",
            },
            {
                "kind": "attachment",
                "test": "t::a",
                "name": "x",
                "media": "text/plain",
                "content": "…",
                "truncated": 70000,
            },
            {"kind": "observation", "test": "t::a", "documented": 1, "observed": 2, "data": {"case": "one"}},
        ],
        "results": [{"test": "t::a", "verdict": "deviates", "reason": "no", "duration": True}],
    }
    rec = records.claim_records({"claims": {"C-2": current}})["C-2"]
    assert rec.shows_values and rec.area == "HOOK" and rec.duration == 2.5
    assert [a.chart for a in rec.attachments] == [chart_evidence.ChartKind.INTERVALS, None]
    assert rec.attachments[1].truncated == 70000 and rec.observations[0].data == {"case": "one"}
    assert rec.results == (records.TestOutcome("t::a", "deviates", "no", None),)  # a bool is not a duration
