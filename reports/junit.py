"""JUnit XML for CI systems: ``<run-dir>/junit.xml``, one ``testcase`` per claim of the run's ``verdicts.json``.

``classname`` is the claim's area and ``name`` its ID. The document gives CI the same signal as the suite's exit
status: a claim is a ``<failure>`` or an ``<error>`` exactly when it makes the run fail.

With expectations (the run had ``--expectations``):

- a verdict equal to the expected one never fails: ``conforms`` passes; a known deviation (``deviates`` expected and
  observed) is ``<skipped message="expected deviation: <why>">``, with its documented and observed values in
  ``<system-out>`` so it stays visible; the other verdicts are ``<skipped message="<verdict>: <reason>">``;
- any other verdict is ``<failure type="unexpected-verdict" message="expected X, observed Y">``, or an ``<error>``
  of that type when the observed verdict is ``error``.

Without expectations: ``deviates`` is a ``<failure type="deviates">`` (a finding: documented vs observed),
``error`` an ``<error type="error">``, ``skipped``, ``untested`` and ``not-applicable`` are ``<skipped>``, and
``conforms`` passes. Either way, a claim left untested because the run was interrupted is an
``<error type="interrupted">`` (unless the expectations say ``untested``).

Format. Two families, named like pytest's ``junit_family``:

- ``xunit2`` (the default) is valid against Jenkins xunit-plugin's ``junit-10.xsd``, the schema CI systems validate
  with, and follows the Ant (windyroad ``JUnit.xsd``) structure where the two agree: ``testsuites`` > one
  ``testsuite`` (name, tests, failures, errors, skipped, time, timestamp, hostname, id, package) holding
  ``properties`` (the run's: ID, cluster, Kubernetes version, expectations, interruption), the ``testcase``
  elements (name, classname, time; at most one of skipped/failure/error; then ``system-out``), then the suite's
  ``system-out`` (the counts) and ``system-err``. ``junit-10.xsd`` allows no ``file``/``line`` attributes and no
  ``properties`` on a testcase, so each testcase's ``system-out`` starts with its verdict, its expected verdict and
  its tests as ``file:line node-id: verdict``. (The Ant schema does not allow ``system-out`` in a testcase; the
  known deviations need it.)
- ``xunit1`` adds what many CI annotators read but the schema rejects: ``file`` and ``line`` attributes on each
  testcase (its first test's) and testcase ``properties`` (``verdict``, ``expected``, ``statement``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from k8s_doc_conformance.reports import runs

FAMILIES = ("xunit2", "xunit1")
SKIPPED_VERDICTS = ("skipped", "untested", "not-applicable")
PACKAGE = "k8s-doc-conformance"

# Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a claim shows in JUnit: ``kind`` is passed, skipped, failure or error."""

    kind: str
    message: str | None = None
    type: str | None = None


def xml_text(value: object) -> str:
    """``str(value)`` with the characters XML cannot hold written as ``\\xNN`` escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(value))


def outcome(verdicts: Mapping[str, Any], claim_id: str) -> Outcome:
    """The JUnit outcome of one claim of a parsed verdicts.json (see the module's docstring)."""
    entry = runs.claims(verdicts).get(claim_id, {})
    verdict = str(entry.get("verdict"))
    reason = runs.first_line(entry.get("reason"), verdict)
    exp = runs.expected(verdicts, claim_id) if runs.expectations_in_force(verdicts) else None
    if runs.interrupted_before(entry) and not (exp and exp.verdict == verdict):
        return Outcome("error", f"{runs.INTERRUPTED_REASON} before the claim's tests finished", "interrupted")
    if exp is not None:
        if exp.verdict != verdict:
            kind = "error" if verdict == "error" else "failure"
            return Outcome(kind, f"expected {exp.verdict}, observed {verdict}", "unexpected-verdict")
        if verdict in ("deviates", "error"):
            return Outcome(
                "skipped",
                f"expected {'deviation' if verdict == 'deviates' else 'error'}: "
                + (runs.first_line(exp.why) or reason),
            )
    elif verdict == "deviates":
        return Outcome("failure", reason, "deviates")
    elif verdict == "error":
        return Outcome("error", reason, "error")
    if verdict == "conforms":
        return Outcome("passed")
    return Outcome("skipped", f"{verdict}: {reason}")


def _details(entry: Mapping[str, Any], exp: runs.Expected | None) -> str:
    lines = []
    for key in ("reason", "documented", "observed"):
        if entry.get(key) not in (None, ""):
            lines.append(f"{key}: {entry[key]}")
    if exp is not None and exp.why:
        lines.append(f"expected because: {exp.why}")
    return "\n".join(lines)


def _where(result: Mapping[str, Any]) -> str:
    file, line = result.get("file"), result.get("line")
    return f"{file}:{line}" if file and line else str(file or "")


def _summary(entry: Mapping[str, Any], exp: runs.Expected | None) -> str:
    lines = [f"verdict: {entry.get('verdict')}"]
    if exp is not None:
        lines.append(f"expected: {exp.verdict}" + (f" ({runs.first_line(exp.why)})" if exp.why else ""))
    results = [r for r in entry.get("results") or [] if isinstance(r, dict)]
    if results:
        lines.append("tests:")
        lines.extend(
            f"  {' '.join(filter(None, (_where(r), str(r.get('test') or ''))))}: {r.get('verdict')}" for r in results
        )
    elif entry.get("tests"):
        lines.append("tests: " + ", ".join(str(t) for t in entry["tests"]))
    return "\n".join(lines)


def _timestamp(start: object) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC (the Ant schema wants no time zone)."""
    if not isinstance(start, str):
        return None
    try:
        when = dt.datetime.fromisoformat(start)
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _suite_properties(verdicts: Mapping[str, Any], run: Mapping[str, Any]) -> list[tuple[str, str]]:
    cluster = run.get("cluster") if isinstance(run.get("cluster"), dict) else {}
    assert isinstance(cluster, dict)
    expectations = verdicts.get("expectations")
    interrupted = run.get("interrupted")
    props = [
        ("run_id", verdicts.get("run_id") or run.get("run_id")),
        ("format_version", verdicts.get("format_version", 0)),
        ("cluster_id", cluster.get("cluster_id")),
        ("kubernetes_version", cluster.get("kubernetes_version")),
        ("provider", cluster.get("provider")),
        ("start", run.get("start")),
        ("exitstatus", run.get("exitstatus")),
        ("expectations", expectations.get("path") if isinstance(expectations, dict) else None),
        (
            "interrupted",
            f"{interrupted.get('by')} at {interrupted.get('at')}" if isinstance(interrupted, dict) else None,
        ),
    ]
    return [(name, xml_text(value)) for name, value in props if value not in (None, "")]


def render(verdicts: Mapping[str, Any], run: Mapping[str, Any] | None = None, family: str = "xunit2") -> ET.ElementTree:
    """The JUnit document for a parsed ``verdicts.json`` (and ``run.json``, for the suite's attributes)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown JUnit family {family!r} (one of {', '.join(FAMILIES)})")
    run = run or {}
    in_force = runs.expectations_in_force(verdicts)
    root = ET.Element("testsuites")
    run_id = str(verdicts.get("run_id") or run.get("run_id") or "")
    suite = ET.SubElement(root, "testsuite", name=f"{PACKAGE} {run_id}".strip())
    props = ET.SubElement(suite, "properties")
    for name, value in _suite_properties(verdicts, run):
        ET.SubElement(props, "property", name=name, value=value)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    claim_time = 0.0
    for claim_id, entry in runs.claims(verdicts).items():
        exp = runs.expected(verdicts, claim_id) if in_force else None
        result = outcome(verdicts, claim_id)
        duration = max(float(entry.get("duration") or 0), 0.0)
        claim_time += duration
        attrs = {"name": xml_text(claim_id), "classname": xml_text(entry.get("area") or ""), "time": f"{duration:.3f}"}
        first = next((r for r in entry.get("results") or [] if isinstance(r, dict)), {})
        if family == "xunit1" and first.get("file"):
            attrs["file"] = xml_text(first["file"])
            if isinstance(first.get("line"), int):
                attrs["line"] = str(first["line"])
        case = ET.SubElement(suite, "testcase", attrs)
        counts["tests"] += 1
        if family == "xunit1":
            case_props = ET.SubElement(case, "properties")
            for key, text in (
                ("verdict", entry.get("verdict")),
                ("expected", exp.verdict if exp else None),
                ("statement", entry.get("statement")),
            ):
                if text:
                    ET.SubElement(case_props, "property", name=key, value=xml_text(text))
        details = _details(entry, exp)
        out = _summary(entry, exp)
        if result.kind in ("failure", "error"):
            counts["failures" if result.kind == "failure" else "errors"] += 1
            element = ET.SubElement(case, result.kind, message=xml_text(result.message), type=str(result.type))
            element.text = xml_text(details) if details else None
        else:
            if result.kind == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=xml_text(result.message))
            out = "\n".join(filter(None, (out, details)))
        ET.SubElement(case, "system-out").text = xml_text(out)
    run_time = run.get("duration")
    total = float(run_time) if isinstance(run_time, int | float) and run_time >= 0 else claim_time
    for element in (root, suite):
        for key in ("tests", "failures", "errors"):
            element.set(key, str(counts[key]))
        element.set("time", f"{total:.3f}")
    root.set("name", suite.get("name", PACKAGE))
    suite.set("skipped", str(counts["skipped"]))
    timestamp = _timestamp(run.get("start"))
    if timestamp:
        suite.set("timestamp", timestamp)
    suite.set("hostname", xml_text(run.get("hostname") or "localhost"))
    suite.set("id", "0")
    suite.set("package", PACKAGE)
    ET.SubElement(suite, "system-out").text = xml_text(_suite_out(verdicts, run, counts))
    ET.SubElement(suite, "system-err")
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def _suite_out(verdicts: Mapping[str, Any], run: Mapping[str, Any], counts: Mapping[str, int]) -> str:
    lines = ["verdicts: " + ", ".join(f"{n} {v}" for v, n in runs.counts(verdicts).items())]
    lines.append(f"junit: {counts['failures']} failures, {counts['errors']} errors, {counts['skipped']} skipped")
    interrupted = run.get("interrupted")
    if isinstance(interrupted, dict):
        lines.append(f"interrupted: by {interrupted.get('by')} at {interrupted.get('at')}")
    expectations = verdicts.get("expectations")
    if isinstance(expectations, dict):
        mismatches = expectations.get("mismatches") or []
        lines.append(f"expectations {expectations.get('path')}: {len(mismatches)} verdict(s) differ")
    return "\n".join(lines)


def build(run_dir: Path, family: str = "xunit2") -> Path:
    """Write ``run_dir/junit.xml`` from the run's ``verdicts.json`` and ``run.json``; return its path."""
    run_dir = Path(run_dir)
    tree = render(runs.load_verdicts(run_dir), runs.load_run(run_dir), family)
    out = run_dir / "junit.xml"
    tmp = run_dir / ".junit.xml.tmp"
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(out)
    return out
