"""JUnit XML for CI systems: ``<run-dir>/junit.xml``, one ``testcase`` per claim of the run's ``verdicts.json``.

``classname`` is the claim's area and ``name`` its ID. ``deviates`` becomes ``<failure>`` (a finding: documented vs
observed), ``error`` becomes ``<error>``, and ``skipped``, ``untested`` and ``not-applicable`` become
``<skipped message="...">``; ``conforms`` is a plain passing testcase.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SKIPPED_VERDICTS = ("skipped", "untested", "not-applicable")


def _text(record: Mapping[str, Any]) -> str:
    lines = []
    for key in ("documented", "observed", "reason"):
        if record.get(key) not in (None, ""):
            lines.append(f"{key}: {record[key]}")
    tests = record.get("tests") or []
    if tests:
        lines.append("tests: " + ", ".join(str(t) for t in tests))
    return "\n".join(lines)


def _first_line(value: object, default: str) -> str:
    text = str(value or "").strip()
    return text.splitlines()[0][:500] if text else default


def render(verdicts: Mapping[str, Any]) -> ET.ElementTree:
    """The JUnit document for the parsed ``verdicts.json``."""
    claims: Mapping[str, Mapping[str, Any]] = verdicts.get("claims") or {}
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=f"k8s-doc-conformance {verdicts.get('run_id', '')}".strip())
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for claim_id, record in claims.items():
        verdict = str(record.get("verdict"))
        duration = float(record.get("duration") or 0)
        total_time += duration
        case = ET.SubElement(
            suite, "testcase", classname=str(record.get("area") or ""), name=str(claim_id), time=f"{duration:.3f}"
        )
        counts["tests"] += 1
        if verdict == "deviates":
            counts["failures"] += 1
            el = ET.SubElement(case, "failure", message=_first_line(record.get("reason"), "deviates"), type="deviates")
            el.text = _text(record)
        elif verdict == "error":
            counts["errors"] += 1
            el = ET.SubElement(case, "error", message=_first_line(record.get("reason"), "error"), type="error")
            el.text = _text(record)
        elif verdict in SKIPPED_VERDICTS:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"{verdict}: {_first_line(record.get('reason'), verdict)}")
        if record.get("statement"):
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="statement", value=str(record["statement"]))
            ET.SubElement(props, "property", name="verdict", value=verdict)
    for key, value in counts.items():
        suite.set(key, str(value))
        suites.set(key, str(value))
    suite.set("time", f"{total_time:.3f}")
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    return tree


def build(run_dir: Path) -> Path:
    """Write ``run_dir/junit.xml`` from ``run_dir/verdicts.json`` and return its path."""
    run_dir = Path(run_dir)
    verdicts = json.loads((run_dir / "verdicts.json").read_text(encoding="utf-8"))
    out = run_dir / "junit.xml"
    render(verdicts).write(out, encoding="utf-8", xml_declaration=True)
    return out
