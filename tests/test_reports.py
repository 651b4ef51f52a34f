"""The reports (``reports/``): compliance.html, junit.xml and ``python -m reports``, from a synthetic run.

The synthetic run uses the real claim catalogue: every claim gets a verdict (most ``untested``), a few get each other
verdict kind, evidence with hostile text, and a timeline attachment. The browser test opens the page in headless
Chromium (Debian's ``chromium``) when it is installed, saves a screenshot and checks the filters and the language
switch through the DOM the page's script leaves behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from reports import compliance, junit

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
    }
    test = f"conformance/test_x.py::test_{claim['id'].lower().replace('-', '_')}"
    if verdict in ("conforms", "deviates", "error"):
        record |= {"tests": [test], "duration": 3.25, "results": [{"test": test, "verdict": verdict, "duration": 3.25}]}
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
    verdicts = {"run_id": run_dir.name, "catalogue": str(CATALOGUE), "counts": counts, "claims": claims}
    (run_dir / "verdicts.json").write_text(json.dumps(verdicts), encoding="utf-8")
    run = {
        "run_id": run_dir.name,
        "start": "2026-11-22T02:37:27+00:00",
        "end": "2026-11-22T02:40:55+00:00",
        "duration": 207.5,
        "exitstatus": 0,
        "cluster": {
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
    assert page.count("<script") == 2  # the i18n dictionary and the page's own script


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
        [sys.executable, "-m", "reports", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_rebuilds_and_diffs(run_dir: Path, tmp_path: Path) -> None:
    done = _python_m_reports(str(run_dir))
    assert done.returncode == 0, done.stderr
    assert (run_dir / "compliance.html").is_file() and (run_dir / "junit.xml").is_file()
    other = tmp_path / "run-b"
    _write_run(other, PLAN | {"CTR-POD-COLOCATED": "deviates", "RC-ERRORS-AS-EVENTS": "conforms"})
    done = _python_m_reports("--diff", str(run_dir), str(other))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "CTR-POD-COLOCATED: conforms -> deviates",
        "RC-ERRORS-AS-EVENTS: error -> conforms",
    ]


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
    assert '<span id="n-shown">1</span>' in dom
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
