"""junit.xml (reports/junit.py): the same signal as the suite's exit status, in a document CI systems accept.

The document is checked against the rules of Jenkins xunit-plugin's ``junit-10.xsd`` (the schema xunit validates
JUnit input with) and, where they agree, the Ant schema (windyroad ``JUnit.xsd``), written out below as tables (the
schemas themselves are third-party and not kept here).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from k8s_doc_conformance.reports import junit, validate

# --------------------------------------------------------------------------- the schemas' rules

# junit-10.xsd: element -> (attributes allowed, attributes required, child elements allowed). failure, error and
# skipped are mixed content (text allowed); system-out and system-err are text.
OUTCOME_RULE: tuple[set[str], set[str], set[str]] = ({"type", "message"}, set(), set())
JUNIT10: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": ({"name", "time", "tests", "failures", "errors"}, set(), {"testsuite"}),
    "testsuite": (
        {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package"}
        | {"file", "log", "url"},
        {"name", "tests", "failures", "errors"},
        {"testsuite", "properties", "testcase", "system-out", "system-err"},
    ),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, {"name", "value"}, set()),
    "testcase": (
        {"name", "time", "classname", "group"},
        {"name"},
        {"skipped", "error", "failure", "system-out", "system-err"}
        | {"rerunFailure", "rerunError", "flakyFailure", "flakyError"},
    ),
    "failure": OUTCOME_RULE,
    "error": OUTCOME_RULE,
    "skipped": OUTCOME_RULE,
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")
ANT_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
INT = re.compile(r"[+-]?[0-9]+")
OUTCOMES = ("skipped", "failure", "error")


def junit10_problems(root: ET.Element) -> list[str]:
    """Where ``root`` breaks junit-10.xsd's rules (the root element must be testsuites)."""
    problems = [] if root.tag == "testsuites" else [f"root element {root.tag}, not testsuites"]
    for element in root.iter():
        rule = JUNIT10.get(element.tag)
        if rule is None:
            problems.append(f"{element.tag}: not an element of the schema")
            continue
        allowed, required, children = rule
        where = f"{element.tag}[{element.get('name', '')}]"
        problems += [f"{where}: attribute {a} not allowed" for a in sorted(set(element.attrib) - allowed)]
        problems += [f"{where}: attribute {a} missing" for a in sorted(required - set(element.attrib))]
        problems += [f"{where}: child {c.tag} not allowed" for c in element if c.tag not in children]
        timed = element.tag in ("testsuites", "testsuite") and "time" in element.attrib
        if timed and not SUREFIRE_TIME.fullmatch(element.get("time", "")):
            problems.append(f"{where}: time {element.get('time')!r} is not a SUREFIRE_TIME")
        texts = not children and element.tag not in ("failure", "error", "skipped", "system-out", "system-err")
        if texts and (element.text or "").strip():
            problems.append(f"{where}: text not allowed")
    return problems


def ant_problems(root: ET.Element) -> list[str]:
    """Where the document breaks the Ant schema's testsuite rules, except for the testcase ``system-out`` the module
    documents (the Ant schema allows no system-out in a testcase)."""
    problems = []
    for n, suite in enumerate(root.findall("testsuite")):
        attrs = suite.attrib
        for key in ("name", "hostname", "package"):
            if not attrs.get(key, "").strip():
                problems.append(f"testsuite: {key} missing or empty")
        for key in ("tests", "failures", "errors", "skipped", "id"):
            if not INT.fullmatch(attrs.get(key, "")):
                problems.append(f"testsuite: {key} {attrs.get(key)!r} is not an int")
        if attrs.get("id") != str(n):
            problems.append(f"testsuite: id {attrs.get('id')!r}, not {n}")
        if not DECIMAL.fullmatch(attrs.get("time", "")):
            problems.append(f"testsuite: time {attrs.get('time')!r} is not a decimal")
        if not ANT_TIMESTAMP.fullmatch(attrs.get("timestamp", "")):
            problems.append(f"testsuite: timestamp {attrs.get('timestamp')!r} is not YYYY-MM-DDTHH:MM:SS")
        tags = [c.tag for c in suite]
        expected_order = ["properties"] + ["testcase"] * tags.count("testcase") + ["system-out", "system-err"]
        if tags != expected_order:
            problems.append("testsuite: children are not properties, testcase..., system-out, system-err")
        for case in suite.findall("testcase"):
            for key in ("name", "classname"):
                if key not in case.attrib:
                    problems.append(f"testcase {case.get('name')}: {key} missing")
            if not DECIMAL.fullmatch(case.get("time", "")):
                problems.append(f"testcase {case.get('name')}: time {case.get('time')!r} is not a decimal")
            outcomes = [c for c in case if c.tag in OUTCOMES]
            if len(outcomes) > 1:
                problems.append(f"testcase {case.get('name')}: more than one of skipped/failure/error")
            problems += [
                f"testcase {case.get('name')}: {c.tag} without type"
                for c in outcomes
                if c.tag != "skipped" and not c.get("type")
            ]
            problems += [
                f"testcase {case.get('name')}: child {c.tag}" for c in case if c.tag not in (*OUTCOMES, "system-out")
            ]
    return problems


def count_problems(root: ET.Element) -> list[str]:
    """Where a suite's counts differ from its testcases (and the root's from its suites)."""
    problems = []
    totals = dict.fromkeys(("tests", "failures", "errors"), 0)
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        found = {
            "tests": len(cases),
            "failures": len(suite.findall("testcase/failure")),
            "errors": len(suite.findall("testcase/error")),
            "skipped": len(suite.findall("testcase/skipped")),
        }
        problems += [
            f"testsuite {k}={suite.get(k)}, testcases say {v}" for k, v in found.items() if suite.get(k) != str(v)
        ]
        for key in totals:
            totals[key] += found[key]
    problems += [f"testsuites {k}={root.get(k)}, suites say {v}" for k, v in totals.items() if root.get(k) != str(v)]
    return problems


def all_problems(root: ET.Element) -> list[str]:
    return junit10_problems(root) + ant_problems(root) + count_problems(root)


# --------------------------------------------------------------------------- runs


def _entry(verdict: str, expected: tuple[str, str | None] | None = None, **fields: Any) -> dict[str, Any]:
    test = f"conformance/test_x.py::test_{fields.get('area', 'a').lower()}"
    entry: dict[str, Any] = {
        "verdict": verdict,
        "area": "A",
        "statement": "the documentation says so",
        "tests": [test],
        "duration": 1.5,
        "reason": None,
        "documented": None,
        "observed": None,
        "evidence": [],
        "results": [
            {"test": test, "verdict": verdict, "reason": None, "duration": 1.5}
            | {"file": "conformance/test_x.py", "line": 42}
        ],
        "expected": {"verdict": expected[0], "why": expected[1]} if expected else None,
    }
    return entry | fields


def _verdicts(claims: dict[str, dict[str, Any]], expectations: bool = False) -> dict[str, Any]:
    counts = dict.fromkeys(("conforms", "deviates", "error", "skipped", "not-applicable", "untested"), 0)
    for entry in claims.values():
        counts[entry["verdict"]] += 1
    mismatches = [
        {"claim": c, "expected": e["expected"]["verdict"], "observed": e["verdict"], "why": e["expected"]["why"]}
        for c, e in claims.items()
        if e["expected"]
        and e["expected"]["verdict"] != e["verdict"]
        and not str(e["reason"]).startswith("run interrupted")
    ]
    data = {
        "format_version": 1,
        "run_id": "run-j",
        "catalogue": "claims.yaml",
        "counts": counts,
        "expectations": {"path": "/x/1.35.yaml", "kubernetes": "1.35", "mismatches": mismatches}
        if expectations
        else None,
        "claims": claims,
    }
    validate.check(data)  # the test data is what the writer writes
    return data


RUN = {
    "run_id": "run-j",
    "start": "2026-11-22T02:37:27+01:00",
    "end": "2026-11-22T02:40:55+01:00",
    "duration": 207.5,
    "exitstatus": 1,
    "interrupted": None,
    "cluster": {"cluster_id": "kind:k8sdc", "kubernetes_version": "v1.35.4", "provider": "kind"},
}

WITHOUT_EXPECTATIONS = {
    "A-CONFORMS": _entry("conforms"),
    "A-DEVIATES": _entry("deviates", reason="observed b\nassert False", documented="a", observed="b"),
    "A-ERROR": _entry("error", reason="KeyError: 'status'"),
    "A-SKIPPED": _entry("skipped", reason="no second runtime handler"),
    "A-NA": _entry("not-applicable", reason="not testable on a generic cluster (NT)", tests=[], results=[]),
    "A-UNTESTED": _entry("untested", reason="no scenario covering this claim ran", tests=[], results=[]),
}

WITH_EXPECTATIONS = {
    "E-AS-EXPECTED": _entry("conforms", ("conforms", None)),
    "E-KNOWN": _entry(
        "deviates",
        ("deviates", "kubelet sets the hostname from the node\nsee kubernetes#12345"),
        reason="observed node-1",
        documented="pod name",
        observed="node-1",
    ),
    "E-NEW-DEVIATION": _entry("deviates", ("conforms", None), reason="observed b", documented="a", observed="b"),
    "E-NOW-CONFORMS": _entry("conforms", ("deviates", "was broken upstream")),
    "E-BROKE": _entry("error", ("conforms", None), reason="KeyError: 'status'"),
    "E-SKIP-AS-EXPECTED": _entry("skipped", ("skipped", "no second handler"), reason="no second runtime handler"),
    "E-NOT-LISTED": _entry("untested", ("untested", None), reason="no scenario", tests=[], results=[]),
    "E-INTERRUPTED": _entry("untested", ("conforms", None), reason="run interrupted before its scenario finished")
    | {"tests": [], "results": []},
}


def _root(tree: ET.ElementTree[Any]) -> ET.Element:
    root = tree.getroot()
    assert root is not None
    return root


def _cases(
    verdicts: dict[str, Any], run: dict[str, Any] | None = None, family: str = "xunit2"
) -> dict[str, ET.Element]:
    root = _root(junit.render(verdicts, run or RUN, family))
    return {str(c.get("name")): c for c in root.iter("testcase")}


def _only(case: ET.Element) -> ET.Element | None:
    outcomes = [c for c in case if c.tag in OUTCOMES]
    assert len(outcomes) <= 1
    return outcomes[0] if outcomes else None


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("claims,expectations", [(WITHOUT_EXPECTATIONS, False), (WITH_EXPECTATIONS, True)])
def test_valid_against_the_schemas_rules(claims: dict[str, Any], expectations: bool, tmp_path: Path) -> None:
    verdicts = _verdicts(claims, expectations)
    root = _root(junit.render(verdicts, RUN))
    assert all_problems(root) == []
    # and as written to disk: parseable, declared UTF-8
    path = tmp_path / "junit.xml"
    junit.render(verdicts, RUN).write(path, encoding="utf-8", xml_declaration=True)
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert all_problems(_root(ET.parse(path))) == []
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("timestamp") == "2026-11-22T01:37:27"  # UTC, no zone (the Ant schema's pattern)
    assert suite.get("time") == "207.500"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["cluster_id"] == "kind:k8sdc" and props["kubernetes_version"] == "v1.35.4"


def test_the_checker_knows_the_rules() -> None:
    """What junit-10.xsd rejects: file/line and properties on a testcase, skipped on testsuites, unknown elements."""
    root = ET.fromstring(
        '<testsuites skipped="1"><testsuite name="s" tests="1" failures="1" errors="0" time="1,5">'
        '<testcase name="t" file="a.py" line="3"><properties><property name="a" value="b"/></properties>'
        "<failure/><skipped/><weird/></testcase></testsuite></testsuites>"
    )
    problems = junit10_problems(root)
    for expected in (
        "testsuites[]: attribute skipped not allowed",
        "testcase[t]: attribute file not allowed",
        "testcase[t]: attribute line not allowed",
        "testcase[t]: child properties not allowed",
        "testcase[t]: child weird not allowed",
        "weird: not an element of the schema",
        "testsuite[s]: time '1,5' is not a SUREFIRE_TIME",
    ):
        assert expected in problems
    ant = ant_problems(root)
    assert "testcase t: more than one of skipped/failure/error" in ant
    assert "testcase t: failure without type" in ant
    assert "testsuite: timestamp None is not YYYY-MM-DDTHH:MM:SS" in ant
    assert count_problems(root) == [
        "testsuite skipped=None, testcases say 1",
        "testsuites tests=None, suites say 1",
        "testsuites failures=None, suites say 1",
        "testsuites errors=None, suites say 0",
    ]


def test_without_expectations() -> None:
    cases = _cases(_verdicts(WITHOUT_EXPECTATIONS))
    assert _only(cases["A-CONFORMS"]) is None
    failure = _only(cases["A-DEVIATES"])
    assert failure is not None and failure.tag == "failure"
    assert (failure.get("type"), failure.get("message")) == ("deviates", "observed b")
    assert "documented: a" in (failure.text or "") and "observed: b" in (failure.text or "")
    error = _only(cases["A-ERROR"])
    assert error is not None and (error.tag, error.get("type")) == ("error", "error")
    for claim, message in (
        ("A-SKIPPED", "skipped: no second runtime handler"),
        ("A-NA", "not-applicable: not testable on a generic cluster (NT)"),
        ("A-UNTESTED", "untested: no scenario covering this claim ran"),
    ):
        skipped = _only(cases[claim])
        assert skipped is not None and (skipped.tag, skipped.get("message")) == ("skipped", message)
    assert cases["A-DEVIATES"].get("classname") == "A" and cases["A-DEVIATES"].get("time") == "1.500"


def test_with_expectations_only_surprises_fail() -> None:
    cases = _cases(_verdicts(WITH_EXPECTATIONS, expectations=True))
    outcomes = {claim: _only(case) for claim, case in cases.items()}
    shown = {
        claim: (o.tag, o.get("type"), o.get("message")) if o is not None else None for claim, o in outcomes.items()
    }
    assert shown == {
        "E-AS-EXPECTED": None,
        "E-KNOWN": ("skipped", None, "expected deviation: kubelet sets the hostname from the node"),
        "E-NEW-DEVIATION": ("failure", "unexpected-verdict", "expected conforms, observed deviates"),
        "E-NOW-CONFORMS": ("failure", "unexpected-verdict", "expected deviates, observed conforms"),
        "E-BROKE": ("error", "unexpected-verdict", "expected conforms, observed error"),
        "E-SKIP-AS-EXPECTED": ("skipped", None, "skipped: no second runtime handler"),
        "E-NOT-LISTED": ("skipped", None, "untested: no scenario"),
        "E-INTERRUPTED": ("error", "interrupted", "run interrupted before the claim's tests finished"),
    }
    # the known deviation stays visible: what the documentation says and what the cluster did
    out = cases["E-KNOWN"].findtext("system-out") or ""
    assert "documented: pod name" in out and "observed: node-1" in out
    assert "expected: deviates (kubelet sets the hostname from the node)" in out
    assert "conformance/test_x.py:42 conformance/test_x.py::test_a: deviates" in out
    assert "expected because: kubelet sets the hostname from the node\nsee kubernetes#12345" in out


def test_old_runs_with_expectations_but_no_expected_per_claim() -> None:
    """Format 0: the expected verdict comes from the mismatch list (a claim not listed was as expected)."""
    claims = {c: {k: v for k, v in e.items() if k != "expected"} for c, e in WITH_EXPECTATIONS.items()}
    mismatches = [{"claim": "E-NEW-DEVIATION", "expected": "conforms", "observed": "deviates", "why": None}]
    verdicts = {"run_id": "old", "expectations": {"path": "x", "kubernetes": None, "mismatches": mismatches}}
    cases = _cases(verdicts | {"claims": claims})
    known = _only(cases["E-KNOWN"])
    assert known is not None and known.get("message") == "expected deviation: observed node-1"
    new = _only(cases["E-NEW-DEVIATION"])
    assert new is not None and new.get("message") == "expected conforms, observed deviates"


def test_xunit1_adds_file_line_and_properties() -> None:
    verdicts = _verdicts(WITH_EXPECTATIONS, expectations=True)
    cases = _cases(verdicts, family="xunit1")
    known = cases["E-KNOWN"]
    assert (known.get("file"), known.get("line")) == ("conformance/test_x.py", "42")
    props = {p.get("name"): p.get("value") for p in known.iter("property")}
    assert props == {"verdict": "deviates", "expected": "deviates", "statement": "the documentation says so"}
    assert "file" not in cases["E-INTERRUPTED"].attrib  # no test ran
    # exactly the additions junit-10.xsd does not allow
    problems = junit10_problems(_root(junit.render(verdicts, RUN, "xunit1")))
    assert {re.sub(r"\[.*?\]", "", p) for p in problems} == {
        "testcase: attribute file not allowed",
        "testcase: attribute line not allowed",
        "testcase: child properties not allowed",
    }
    with pytest.raises(ValueError, match="unknown JUnit family"):
        junit.render(verdicts, RUN, "xunit3")


def test_text_xml_cannot_hold_is_escaped(tmp_path: Path) -> None:
    hostile = "\x1b[31mred\x1b[0m \x00 <b>&amp;</b> ]]>"
    claims = {"A-X": _entry("deviates", reason=hostile, documented=hostile, observed=hostile)}
    path = tmp_path / "junit.xml"
    junit.render(_verdicts(claims), RUN).write(path, encoding="utf-8", xml_declaration=True)
    failure = _root(ET.parse(path)).find(".//failure")
    assert failure is not None
    assert failure.get("message") == "\\x1b[31mred\\x1b[0m \\x00 <b>&amp;</b> ]]>"
    assert "observed: \\x1b[31mred" in (failure.text or "")


def test_build_without_run_json(tmp_path: Path) -> None:
    (tmp_path / "verdicts.json").write_text(json.dumps(_verdicts(WITHOUT_EXPECTATIONS)), encoding="utf-8")
    root = _root(ET.parse(junit.build(tmp_path)))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("time") == "9.000"  # the claims' durations summed
    assert "timestamp" not in suite.attrib and suite.get("hostname") == "localhost"
    assert junit10_problems(root) == [] and count_problems(root) == []
    assert not list(tmp_path.glob(".*"))  # the temporary file is gone
