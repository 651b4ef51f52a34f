"""The run's Allure report: ``<run-dir>/allure-report/index.html``, built from ``<run-dir>/allure-results``.

allure-pytest writes the results during the run (``--alluredir``; labels from ``fixtures/allure_labels.py``: epic =
area, feature = documentation topic, story = claim ID). This module adds the run's metadata to the results
(``environment.properties``: Kubernetes version, provider, runtimes, runtime handlers, kubelet settings;
``categories.json``: deviations, errors, expected deviations, not-applicable, skipped), runs the Allure command line
(npm package ``allure-commandline``, pinned in :data:`ALLURE_VERSION`; it needs Java) to build a single-file report
that opens offline, and maps each claim ID to its test results in that report, for the links in compliance.html.

Allure gives test results new random UIDs every time it builds a report, so the links are read back from the report
just built (its ``data/test-cases/<uid>.json`` entries, embedded in the single file), and a test result's page is
``allure-report/index.html#testresult/<uid>``.

History. Allure draws its trend charts from the ``history/`` files of the previous report, copied into the results
before generating. :func:`generate` does that from the most recent earlier run (by ``run.json`` start) of the same
cluster (``run.json`` ``cluster.cluster_id``) among the run directory's siblings that has a report: its
``allure-report/history/`` folder, or, since a single-file report writes no such folder, the ``history/*.json``
entries embedded in its ``index.html``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from k8s_doc_conformance.fixtures import paths

ALLURE_VERSION = "2.46.1"
"""The allure-commandline release the nox sessions install (``npm install --prefix .nox/allure``)."""

RESULTS = "allure-results"
REPORT = "allure-report"
DEFAULT_CLI = (paths.checkout() or Path.cwd()) / ".nox" / "allure" / "node_modules" / ".bin" / "allure"

#: Allure categories: a result lands in every category it matches, so these exclude each other.
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Deviations from the documentation",
        "matchedStatuses": ["failed"],
        "description": "an AssertionError: the cluster differs from what the documentation says (verdict deviates)",
    },
    {
        "name": "Broken scenarios",
        "matchedStatuses": ["broken"],
        "description": "an exception other than AssertionError: no verdict on the claim (verdict error)",
    },
    {"name": "Expected deviations", "matchedStatuses": ["skipped"], "messageRegex": "(?s)XFAIL.*"},
    {"name": "Not applicable", "matchedStatuses": ["skipped"], "messageRegex": "(?s)(?!XFAIL).*not-applicable: .*"},
    {
        "name": "Skipped: the cluster lacks a capability",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s)(?!XFAIL)(?!.*not-applicable: ).*",
    },
]


# --------------------------------------------------------------------------- metadata


def environment(run: Mapping[str, Any]) -> dict[str, str]:
    """The Environment widget's rows, from a parsed ``run.json``."""
    cluster = run.get("cluster") if isinstance(run.get("cluster"), dict) else {}
    assert isinstance(cluster, dict)
    env: dict[str, str] = {}
    if cluster.get("kubernetes_version"):
        env["Kubernetes"] = str(cluster["kubernetes_version"])
    if cluster.get("provider"):
        env["Provider"] = str(cluster["provider"])
    runtimes = cluster.get("runtime_versions")
    if isinstance(runtimes, dict) and runtimes:
        distinct = sorted({str(v) for v in runtimes.values()})
        if len(distinct) == 1:
            env["Runtime"] = f"{distinct[0]} (all {len(runtimes)} nodes)"
        else:
            for node, version in runtimes.items():
                env[f"Runtime {node}"] = str(version)
    for key, label in (
        ("runtime_handlers", "Runtime handlers"),
        ("admission_plugins", "Admission plugins"),
        ("schedulable_nodes", "Schedulable nodes"),
    ):
        if isinstance(cluster.get(key), list):
            env[label] = ", ".join(str(x) for x in cluster[key]) or "none"
    kubelet = cluster.get("kubelet_settings")
    if isinstance(kubelet, dict):
        for node, settings in kubelet.items():
            if isinstance(settings, dict):
                env[f"Kubelet {node}"] = ", ".join(f"{k}={_plain(v)}" for k, v in settings.items())
    for key, label in (("run_id", "Run"), ("start", "Started"), ("exitstatus", "Exit status")):
        if run.get(key) not in (None, ""):
            env[label] = str(run[key])
    return env


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _escape(text: str, key: bool) -> str:
    """Java .properties escaping (ISO-8859-1 file: everything else as ``\\uXXXX``)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "=:#!" or (ch == " " and (key or i == 0)):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            out.extend(f"\\u{unit:04x}" for unit in _utf16(ch))
        else:
            out.append(ch)
    return "".join(out)


def _utf16(ch: str) -> Iterable[int]:
    data = ch.encode("utf-16-be")
    return (int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


def properties(env: Mapping[str, str]) -> str:
    return "".join(f"{_escape(k, key=True)}={_escape(v, key=False)}\n" for k, v in env.items())


def write_metadata(results: Path, run: Mapping[str, Any]) -> None:
    """Write ``environment.properties`` and ``categories.json`` into an Allure results directory."""
    results.mkdir(parents=True, exist_ok=True)
    (results / "environment.properties").write_text(properties(environment(run)), encoding="ascii")
    (results / "categories.json").write_text(json.dumps(CATEGORIES, indent=2), encoding="utf-8")


# --------------------------------------------------------------------------- the report


def find_cli(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The Allure command line: ``explicit``, ``$ALLURE``, the nox sessions' install, or ``allure`` on PATH."""
    for candidate in (explicit, os.environ.get("ALLURE"), DEFAULT_CLI, shutil.which("allure")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def generate(run_dir: Path, cli: Path) -> Path:
    """Build ``run_dir/allure-report/index.html`` (one file) from ``run_dir/allure-results``; return its path."""
    results, report = run_dir / RESULTS, run_dir / REPORT
    if not results.is_dir():
        raise FileNotFoundError(f"{results}: no Allure results (run pytest with --alluredir {results})")
    run = _run_json(run_dir)
    copy_history(run_dir)
    write_metadata(results, run)
    proc = subprocess.run(
        [str(cli), "generate", str(results), "-o", str(report), "--clean", "--single-file"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    index = report / "index.html"
    if proc.returncode != 0 or not index.is_file():
        raise RuntimeError(f"allure generate failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
    return index


# --------------------------------------------------------------------------- history


HISTORY = "history"
_EMBEDDED_HISTORY = re.compile(r"d\('history/([A-Za-z0-9_.-]+\.json)',\s*'([A-Za-z0-9+/=]*)'\)")


def _run_json(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json``; empty when missing or unreadable (history and metadata are best effort)."""
    try:
        data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cluster_id(run: Mapping[str, Any]) -> str | None:
    """``run.json``'s ``cluster.cluster_id``, if any."""
    cluster = run.get("cluster")
    value = cluster.get("cluster_id") if isinstance(cluster, dict) else None
    return value if isinstance(value, str) and value else None


def _start(run: Mapping[str, Any]) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(str(run.get("start")))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def history_of(report: Path) -> dict[str, bytes]:
    """File name -> content of a built report's history: its ``history/`` folder, else (a single-file report) the
    ``history/*.json`` entries embedded in its ``index.html``."""
    folder = report / HISTORY
    if folder.is_dir():
        found = {p.name: p.read_bytes() for p in sorted(folder.glob("*.json")) if p.is_file()}
        if found:
            return found
    index = report / "index.html"
    if not index.is_file():
        return {}
    text = index.read_text(encoding="utf-8", errors="replace")
    return {m[1]: base64.b64decode(m[2]) for m in _EMBEDDED_HISTORY.finditer(text)}


def previous_run(run_dir: Path) -> Path | None:
    """The most recent run directory beside ``run_dir`` that started before it, on the same cluster, and has an
    Allure report with history; None when the run has no cluster ID or start, or there is no such run."""
    run_dir = Path(run_dir).resolve()
    run = _run_json(run_dir)
    cid, start = cluster_id(run), _start(run)
    if cid is None or start is None:
        return None
    best: tuple[dt.datetime, Path] | None = None
    for sibling in sorted(run_dir.parent.iterdir()):
        if sibling == run_dir or sibling.is_symlink() or not sibling.is_dir():
            continue
        other = _run_json(sibling)
        when = _start(other)
        if cluster_id(other) != cid or when is None or when >= start or (best and when <= best[0]):
            continue
        if history_of(sibling / REPORT):
            best = (when, sibling)
    return best[1] if best else None


def copy_history(run_dir: Path) -> Path | None:
    """Replace ``run_dir/allure-results/history/`` with the history of :func:`previous_run`'s report; return that
    run's directory, or None (and leave the results alone) when there is none."""
    source = previous_run(run_dir)
    if source is None:
        return None
    history = history_of(source / REPORT)
    target = Path(run_dir) / RESULTS / HISTORY
    if target.is_dir():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name, content in history.items():
        (target / name).write_bytes(content)
    return source


# --------------------------------------------------------------------------- links


_EMBEDDED = re.compile(r"d\('data/test-cases/([0-9a-zA-Z_-]+)\.json',\s*'([A-Za-z0-9+/=]+)'\)")


def _test_cases(report: Path) -> Iterable[dict[str, Any]]:
    """The test results of a built report: the single file's embedded entries, or a multi-file report's files."""
    index = report / "index.html"
    cases_dir = report / "data" / "test-cases"
    if cases_dir.is_dir():
        for path in sorted(cases_dir.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                yield data
    elif index.is_file():
        for match in _EMBEDDED.finditer(index.read_text(encoding="utf-8")):
            data = json.loads(base64.b64decode(match[2]).decode("utf-8"))
            if isinstance(data, dict):
                yield data


def claim_links(run_dir: Path) -> dict[str, list[dict[str, str]]]:
    """Claim ID -> its test results in ``run_dir/allure-report``: ``{"name", "status", "href"}`` each, where
    ``href`` is relative to the run directory. Empty when there is no report."""
    report = run_dir / REPORT
    links: dict[str, list[dict[str, str]]] = {}
    for case in _test_cases(report):
        uid = case.get("uid")
        if not isinstance(uid, str) or case.get("hidden"):  # hidden: an earlier try of a retried test
            continue
        labels = case.get("labels") or []
        stories = [str(lb.get("value")) for lb in labels if isinstance(lb, dict) and lb.get("name") == "story"]
        for claim in dict.fromkeys(stories):
            links.setdefault(claim, []).append(
                {
                    "name": str(case.get("name") or uid),
                    "status": str(case.get("status") or ""),
                    "href": f"{REPORT}/index.html#testresult/{uid}",
                }
            )
    for entries in links.values():
        entries.sort(key=lambda e: e["name"])
    return links
