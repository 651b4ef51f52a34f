"""The verdict machinery (fixtures/verdicts.py, fixtures/evidence.py), exercised through inner pytest runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8s_doc_conformance.fixtures import verdicts
from k8s_doc_conformance.fixtures.evidence import MAX_ATTACHMENT_CHARS, Evidence, NotApplicable, dumps

pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parents[1]

CATALOGUE = {
    "claims": [
        {"id": "C-PASS", "area": "T", "statement": "passes", "needs": ["RUN"]},
        {"id": "C-FAIL", "area": "T", "statement": "fails an assertion", "needs": ["RUN"]},
        {"id": "C-ERR", "area": "T", "statement": "raises", "needs": ["RUN"]},
        {"id": "C-SETUP", "area": "T", "statement": "fixture breaks", "needs": ["RUN"]},
        {"id": "C-TEARDOWN", "area": "T", "statement": "teardown breaks", "needs": ["RUN"]},
        {"id": "C-SKIP", "area": "T", "statement": "skips", "needs": ["NODE"]},
        {"id": "C-NA", "area": "T", "statement": "does not apply", "needs": ["RUN"]},
        {"id": "C-NT", "area": "T", "statement": "cannot be tested", "needs": ["NT"]},
        {"id": "C-NONE", "area": "T", "statement": "no scenario yet", "needs": ["API"]},
    ]
    + [{"id": f"P-{n}", "area": "P", "statement": f"precedence {n}", "needs": ["RUN"]} for n in range(1, 7)]
    + [{"id": f"E-{n}", "area": "E", "statement": f"evidence {n}", "needs": ["RUN"]} for n in ("ONE", "TWO", "DEV")]
}

MAPPING = """
import pytest

@pytest.fixture
def broken():
    raise OSError("no cluster")

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("cleanup failed")

@pytest.mark.claim("C-PASS")
def test_pass():
    pass

@pytest.mark.claim("C-FAIL")
def test_fail(evidence):
    documented, observed = "pod-a", "node-1"
    evidence.observe(documented=documented, observed=observed)
    assert observed == documented, f"documented hostname {documented}; observed {observed}"

@pytest.mark.claim("C-ERR")
def test_error():
    raise RuntimeError("boom")

@pytest.mark.claim("C-SETUP")
def test_setup_error(broken):
    pass

@pytest.mark.claim("C-TEARDOWN")
def test_teardown_error(bad_teardown):
    pass

@pytest.mark.claim("C-SKIP")
def test_skip():
    pytest.skip("needs node access")

@pytest.mark.claim("C-NA")
def test_not_applicable(evidence):
    evidence.not_applicable("no RuntimeClass handlers on this runtime")
"""


@dataclasses.dataclass
class Run:
    result: pytest.RunResult
    reports: Path

    @property
    def dir(self) -> Path:
        return (self.reports / "latest").resolve()

    @property
    def verdicts(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.dir / "verdicts.json").read_text(encoding="utf-8"))
        return data

    def claim(self, claim_id: str) -> dict[str, Any]:
        entry: dict[str, Any] = self.verdicts["claims"][claim_id]
        return entry

    @property
    def output(self) -> str:
        return self.result.stdout.str()


class Runner:
    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.catalogue = pytester.path / "claims.yaml"
        self.catalogue.write_text(yaml.safe_dump(CATALOGUE), encoding="utf-8")
        self.reports = pytester.path / "out"

    def expectations(self, claims: dict[str, Any], kubernetes: str = '"1.35"') -> Path:
        path = self.pytester.path / "expected.yaml"
        path.write_text(f"kubernetes: {kubernetes}\nclaims: {json.dumps(claims)}\n", encoding="utf-8")
        return path

    def __call__(
        self,
        *args: str,
        xdist: bool = False,
        subprocess: bool = False,
        run_id: str | None = "run-1",
        catalogue: bool = True,
    ) -> Run:
        base = [
            "-p",
            "no:k8s_doc_conformance",  # the entry point's plugins: only the verdict plugin, below
            "-p",
            "k8s_doc_conformance.fixtures.verdicts",
            "-p",
            "no:cacheprovider",
            "--reports-dir",
            str(self.reports),
        ]
        # in-process runs share this process, which has already imported fixtures.verdicts
        base += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        if catalogue:
            base += ["--claims-catalogue", str(self.catalogue)]
        if run_id:
            base.append(f"--run-id={run_id}")
        if xdist:
            result = self.pytester.runpytest_subprocess(*base, "-n", "2", *args)
        elif subprocess:
            result = self.pytester.runpytest_subprocess(*base, *args)
        else:
            result = self.pytester.runpytest_inprocess(*base, *args)
        return Run(result, self.reports)


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.syspath_prepend(REPO_ROOT)
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))  # for -n 2 and runpytest_subprocess
    return Runner(pytester)


# --------------------------------------------------------------------------- verdict mapping and precedence


@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
def test_each_outcome_gives_its_verdict(run: Runner, pytester: pytest.Pytester, xdist: bool) -> None:
    pytester.makepyfile(test_mapping=MAPPING)
    r = run(xdist=xdist)

    assert r.result.ret == verdicts.RunExit.BROKE  # errors outrank the deviation
    got = {cid: e["verdict"] for cid, e in r.verdicts["claims"].items() if cid.startswith("C-")}
    assert got == {
        "C-PASS": "conforms",
        "C-FAIL": "deviates",
        "C-ERR": "error",
        "C-SETUP": "error",
        "C-TEARDOWN": "error",
        "C-SKIP": "skipped",
        "C-NA": "not-applicable",
        "C-NT": "not-applicable",
        "C-NONE": "untested",
    }
    fail = r.claim("C-FAIL")
    assert fail["reason"].startswith("documented hostname pod-a; observed node-1")
    assert (fail["documented"], fail["observed"]) == ("pod-a", "node-1")
    assert fail["tests"] == ["test_mapping.py::test_fail"]
    assert fail["duration"] >= 0
    assert r.claim("C-ERR")["reason"] == "RuntimeError: boom"
    assert r.claim("C-SETUP")["reason"] == "setup: OSError: no cluster"
    assert r.claim("C-TEARDOWN")["reason"] == "teardown: RuntimeError: cleanup failed"
    assert r.claim("C-SKIP")["reason"] == "needs node access"
    assert r.claim("C-NA")["reason"] == "no RuntimeClass handlers on this runtime"
    assert r.claim("C-NT")["reason"] == verdicts.NT_REASON
    assert r.claim("C-NONE")["tests"] == []
    assert r.claim("C-PASS")["reason"] is None
    r.result.stdout.fnmatch_lines(
        [
            "*claim verdicts*",
            "verdicts: 1 conforms, 1 deviates, 3 error, 1 skipped, 2 not-applicable, 10 untested",
            "deviations (findings: the cluster differs from the documentation):",
            "  C-FAIL: documented hostname pod-a; observed node-1 ...",
            "errors (a test broke: no verdict on the claim):",
            "  C-ERR: RuntimeError: boom",
            f"verdicts.json: {r.dir / 'verdicts.json'}",
        ]
    )


def test_precedence_between_the_tests_of_a_claim(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_precedence="""
        import pytest

        @pytest.fixture
        def bad_teardown():
            yield
            raise RuntimeError("cleanup failed")

        @pytest.mark.claim("P-1", "P-3", "P-5")
        def test_pass():
            pass

        @pytest.mark.claim("P-1", "P-2")
        def test_assertion():
            assert 1 == 2

        @pytest.mark.claim("P-2")
        def test_error():
            raise KeyError("x")

        @pytest.mark.claim("P-3", "P-4")
        def test_skip():
            pytest.skip("no node access")

        @pytest.mark.claim("P-4", "P-5")
        def test_na(evidence):
            evidence.not_applicable("version")

        @pytest.mark.claim("P-6")
        def test_assertion_then_teardown_error(bad_teardown):
            assert False, "deviates"
        """
    )
    r = run()
    got = {cid: e["verdict"] for cid, e in r.verdicts["claims"].items() if cid.startswith("P-")}
    assert got == {
        "P-1": "deviates",  # deviates > conforms
        "P-2": "error",  # error > deviates
        "P-3": "conforms",  # conforms > skipped
        "P-4": "not-applicable",  # not-applicable > skipped
        "P-5": "conforms",  # conforms > not-applicable
        "P-6": "error",  # within one test too: a teardown error beats the call's deviation
    }
    assert r.claim("P-2")["reason"] == "KeyError: 'x'"
    assert r.claim("P-1")["tests"] == ["test_precedence.py::test_assertion", "test_precedence.py::test_pass"]
    results = {x["test"]: x["verdict"] for x in r.claim("P-1")["results"]}
    assert results == {"test_precedence.py::test_assertion": "deviates", "test_precedence.py::test_pass": "conforms"}


# --------------------------------------------------------------------------- evidence


EVIDENCE_CONFTEST = """
import pytest
from k8s_doc_conformance.fixtures import verdicts

@pytest.fixture(scope="session", autouse=True)
def cluster_info(request):
    verdicts.set_run_info(request.config, kubernetes="v1.35.0", nodes=["a", "b"])
"""

EVIDENCE_TESTS = """
import datetime as dt
import pytest
from k8s_doc_conformance.fixtures import verdicts

@pytest.mark.claim("E-ONE", "E-TWO")
def test_two_claims(evidence, request):
    evidence.observe(
        documented="same node",
        observed="same node",
        nodes={"a"},
        at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
        run_id=verdicts.run_id(request.config),
    )
    evidence.observe("E-TWO", documented="300s", observed="300s")
    evidence.attach("pod.json", {"kind": "Pod", "metadata": {"name": "p"}})
    evidence.attach("events.log", "line 1\\nline 2\\n")

@pytest.mark.claim("E-DEV")
def test_deviation(evidence):
    evidence.observe(documented="Always", observed="IfNotPresent", policy={"image": "busybox"})
    evidence.attach("timeline", [{"t": 0, "phase": "Pending"}])
    assert False, "documented Always; observed IfNotPresent"
"""


@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
def test_evidence_reaches_the_verdicts(run: Runner, pytester: pytest.Pytester, xdist: bool) -> None:
    pytester.makeconftest(EVIDENCE_CONFTEST)
    pytester.makepyfile(test_evidence=EVIDENCE_TESTS)
    r = run(xdist=xdist, run_id=None)

    assert r.result.ret == verdicts.RunExit.DEVIATES
    data = r.verdicts
    one, two, dev = (data["claims"][c] for c in ("E-ONE", "E-TWO", "E-DEV"))
    assert (one["verdict"], two["verdict"], dev["verdict"]) == ("conforms", "conforms", "deviates")

    kinds = [(e["kind"], e.get("name")) for e in one["evidence"]]
    assert kinds == [("observation", None), ("attachment", "pod.json"), ("attachment", "events.log")]
    first = one["evidence"][0]
    assert first["test"] == "test_evidence.py::test_two_claims"
    assert first["data"] == {"nodes": ["a"], "at": "2025-01-01T00:00:00+00:00", "run_id": data["run_id"]}
    assert one["evidence"][1]["content"] == {"kind": "Pod", "metadata": {"name": "p"}}
    assert one["evidence"][2]["content"] == "line 1\nline 2\n"
    assert (one["documented"], one["observed"]) == ("same node", "same node")
    assert len(two["evidence"]) == 4
    assert (two["documented"], two["observed"]) == ("300s", "300s")  # its own, later observation

    assert (dev["documented"], dev["observed"]) == ("Always", "IfNotPresent")
    assert dev["reason"].startswith("documented Always; observed IfNotPresent")
    assert [e["kind"] for e in dev["evidence"]] == ["observation", "attachment"]
    assert dev["evidence"][1]["content"] == [{"t": 0, "phase": "Pending"}]

    info = json.loads((r.dir / "run.json").read_text(encoding="utf-8"))
    assert info["cluster"] == {"kubernetes": "v1.35.0", "nodes": ["a", "b"]}
    assert info["run_id"] == data["run_id"] == r.dir.name  # one run ID, workers included
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", data["run_id"])


def test_evidence_is_attached_to_allure(run: Runner, pytester: pytest.Pytester) -> None:
    pytest.importorskip("allure")
    pytester.makepyfile(test_evidence=EVIDENCE_TESTS)
    allure_dir = pytester.path / "allure"
    # in a subprocess: allure-pytest's listeners are process-wide, and this run's would also receive the results
    # of the outer run when that one writes Allure results too (nox -s tests does)
    run("--alluredir", str(allure_dir), subprocess=True)
    attachments = {p.read_text(encoding="utf-8") for p in allure_dir.glob("*-attachment.*")}
    assert "line 1\nline 2\n" in attachments
    assert any('"Pending"' in a for a in attachments)


def test_evidence_recorder_on_its_own() -> None:
    records: list[str] = []
    ev = Evidence(["A", "B"], sink=records.append)
    ev.observe("A", documented=1, observed=2, when=dt.date(2025, 1, 2))
    ev.attach("big", "x" * (MAX_ATTACHMENT_CHARS + 10))
    assert json.loads(records[0])["data"] == {"when": "2025-01-02"}
    assert json.loads(records[1])["truncated"] == MAX_ATTACHMENT_CHARS + 10
    assert [o["observed"] for o in ev.observations("B")] == []
    assert [o["observed"] for o in ev.observations("A")] == [2]
    with pytest.raises(ValueError, match="only A, B"):
        ev.observe("C", documented="x")
    with pytest.raises(NotApplicable) as info:
        ev.not_applicable("needs cgroup v2")
    assert info.value.reason == "needs cgroup v2"

    class Model:
        def to_dict(self) -> dict[str, Any]:
            return {"at": dt.datetime(2025, 1, 1)}

    assert json.loads(dumps({"pod": Model()})) == {"pod": {"at": "2025-01-01T00:00:00"}}


# --------------------------------------------------------------------------- output files


def test_every_catalogue_claim_gets_a_verdict(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_env="""
        import pytest

        @pytest.mark.claim("ENV-HOSTNAME-IS-POD-NAME")
        def test_hostname():
            pass
        """
    )
    r = run(catalogue=False)  # the repository's catalogue, the default

    assert r.result.ret == pytest.ExitCode.OK
    catalogue = yaml.safe_load((REPO_ROOT / "conformance" / "claims.yaml").read_text(encoding="utf-8"))["claims"]
    claims = r.verdicts["claims"]
    assert list(claims) == [c["id"] for c in catalogue]
    assert len(claims) == 187
    for c in catalogue:
        entry = claims[c["id"]]
        assert entry["verdict"] in verdicts.VERDICTS
        assert (entry["area"], entry["statement"]) == (c["area"], c["statement"])
        assert set(entry) >= {"verdict", "tests", "duration", "reason", "documented", "observed", "evidence"}
        if c["id"] != "ENV-HOSTNAME-IS-POD-NAME":
            assert entry["verdict"] == ("not-applicable" if "NT" in c["needs"] else "untested")
    assert claims["ENV-HOSTNAME-IS-POD-NAME"]["verdict"] == "conforms"


def test_run_files_and_latest_link(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="import pytest\n\n@pytest.mark.claim('C-PASS')\ndef test_a():\n    pass\n")
    first = run("-q", run_id="first")
    second = run("-q", run_id="second")

    latest = run.reports / "latest"
    assert latest.is_symlink() and Path(latest.readlink()) == Path("second")
    assert second.dir == run.reports / "second"
    assert (run.reports / "first" / "verdicts.json").is_file()
    assert first.result.ret == second.result.ret == pytest.ExitCode.OK
    info = json.loads((run.reports / "second" / "run.json").read_text(encoding="utf-8"))
    assert info["run_id"] == "second"
    assert info["cluster"] == {}
    assert "--run-id=second" in info["args"]
    assert dt.datetime.fromisoformat(info["start"]) <= dt.datetime.fromisoformat(info["end"])
    assert not list(run.reports.glob(".latest*"))


@pytest.mark.parametrize("bad", ["latest", "Run_1", "-x", "a" * 41])
def test_a_bad_run_id_is_a_usage_error(run: Runner, pytester: pytest.Pytester, bad: str) -> None:
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    r = run(run_id=bad)
    assert r.result.ret == pytest.ExitCode.USAGE_ERROR
    r.result.stderr.fnmatch_lines(["*--run-id*lowercase letters, digits*"])


def test_a_run_without_claim_scenarios_writes_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(REPO_ROOT)
    pytester.makepyfile(test_plain="def test_a():\n    pass\n")
    catalogue = pytester.path / "claims.yaml"
    catalogue.write_text(yaml.safe_dump(CATALOGUE), encoding="utf-8")
    result = pytester.runpytest_inprocess(
        "-p",
        "no:k8s_doc_conformance",
        "-p",
        "k8s_doc_conformance.fixtures.verdicts",
        "--claims-catalogue",
        str(catalogue),
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*claim verdicts*")  # the project's own tests say nothing about claims
    assert not (pytester.path / "reports").exists()


def test_collect_only_gives_no_verdicts(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="import pytest\n\n@pytest.mark.claim('C-PASS')\ndef test_a():\n    pass\n")
    r = run("--collect-only")
    assert r.result.ret == pytest.ExitCode.OK
    assert "claim verdicts" not in r.output
    assert not run.reports.exists()


@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("@pytest.mark.claim('C-PASS', 'NO-SUCH-CLAIM')", "*test_bad.py::test_a: unknown claim ID(s) NO-SUCH-CLAIM*"),
        ("@pytest.mark.claim()", "*test_bad.py::test_a: @pytest.mark.claim needs at least one claim ID*"),
    ],
)
def test_bad_claim_markers_are_collection_errors(
    run: Runner, pytester: pytest.Pytester, source: str, message: str, xdist: bool
) -> None:
    pytester.makepyfile(
        test_bad=f"import pytest\n\n{source}\ndef test_a():\n    pass\n",
        test_good="import pytest\n\n@pytest.mark.claim('C-PASS')\ndef test_b():\n    pass\n",
    )
    r = run(xdist=xdist)
    # pytest stops at a collection error, xdist runs the rest: either way the suite broke
    assert r.result.ret == verdicts.RunExit.BROKE
    r.result.stdout.fnmatch_lines(["*ERROR collecting test_bad.py*", message])
    assert "INTERNALERROR" not in r.output


# --------------------------------------------------------------------------- expectations


@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
def test_a_verdict_other_than_expected_fails_the_run(run: Runner, pytester: pytest.Pytester, xdist: bool) -> None:
    pytester.makepyfile(
        test_exp="""
        import pytest

        @pytest.mark.claim("C-PASS")
        def test_pass():
            pass

        @pytest.mark.claim("C-SKIP")
        def test_skip():
            pytest.skip("kubelet config not readable")
        """
    )
    expected = run.expectations({"C-SKIP": {"verdict": "conforms"}})
    r = run("--expectations", str(expected), xdist=xdist)

    assert r.result.ret == verdicts.RunExit.DEVIATES  # although no test failed
    r.result.assert_outcomes(passed=1, skipped=1)
    r.result.stdout.fnmatch_lines(
        [
            f"*2 claim verdict(s) differ from the expectations in {expected}*",
            "C-PASS: expected untested, observed conforms",
            "*tests: test_exp.py::test_pass",
            "*not listed in the expectations file*",
            "C-SKIP: expected conforms, observed skipped",
            "*reason: kubelet config not readable",
        ]
    )
    mismatches = r.verdicts["expectations"]["mismatches"]
    assert [(m["claim"], m["expected"], m["observed"]) for m in mismatches] == [
        ("C-PASS", "untested", "conforms"),
        ("C-SKIP", "conforms", "skipped"),
    ]


def test_matching_expectations_keep_the_run_green(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp="import pytest\n\n@pytest.mark.claim('C-PASS')\ndef test_a():\n    pass\n")
    expected = run.expectations({"C-PASS": {"verdict": "conforms"}})
    r = run("--expectations", str(expected))
    assert r.result.ret == pytest.ExitCode.OK
    r.result.stdout.fnmatch_lines([f"expectations: every claim as expected ({expected})"])
    assert r.verdicts["expectations"]["mismatches"] == []


DEVIATION = """
import pytest

@pytest.mark.claim("C-FAIL")
def test_deviation(evidence):
    evidence.observe(documented="300s", observed="{observed}")
    {body}
"""


def test_an_expected_deviation_is_xfailed(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dev=DEVIATION.format(observed="600s", body='assert False, "back-off cap 600s"'))
    expected = run.expectations({"C-FAIL": {"verdict": "deviates", "why": "kubernetes#123: cap raised"}})
    r = run("--expectations", str(expected), "-rx")

    assert r.result.ret == pytest.ExitCode.OK
    r.result.assert_outcomes(xfailed=1)
    r.result.stdout.fnmatch_lines(["*XFAIL*expected deviation: C-FAIL: kubernetes#123: cap raised*"])
    entry = r.claim("C-FAIL")
    assert entry["verdict"] == "deviates"
    assert entry["observed"] == "600s"
    assert entry["reason"].startswith("back-off cap 600s")


def test_an_unexpected_conformance_fails_the_run(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dev=DEVIATION.format(observed="300s", body="pass"))
    expected = run.expectations({"C-FAIL": {"verdict": "deviates", "why": "kubernetes#123: cap raised"}})
    r = run("--expectations", str(expected))

    assert r.result.ret == verdicts.RunExit.DEVIATES
    r.result.assert_outcomes(xpassed=1)
    r.result.stdout.fnmatch_lines(["C-FAIL: expected deviates, observed conforms"])
    assert r.claim("C-FAIL")["verdict"] == "conforms"


def test_a_claim_that_deviates_in_one_of_its_scenarios_deviates(run: Runner, pytester: pytest.Pytester) -> None:
    """Two scenarios of one claim: one holds (XPASS, not a failure), the other deviates; the claim deviates."""
    pytester.makepyfile(
        test_dev=DEVIATION.format(observed="600s", body='assert False, "back-off cap 600s"')
        + DEVIATION.format(observed="300s", body="pass").replace("def test_deviation", "def test_holds")
    )
    expected = run.expectations({"C-FAIL": {"verdict": "deviates", "why": "kubernetes#123: cap raised"}})
    r = run("--expectations", str(expected))

    assert r.result.ret == pytest.ExitCode.OK
    r.result.assert_outcomes(xfailed=1, xpassed=1)
    assert r.claim("C-FAIL")["verdict"] == "deviates"


def test_an_expected_deviation_that_breaks_is_an_error(run: Runner, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dev=DEVIATION.format(observed="?", body='raise TimeoutError("pod never started")'))
    expected = run.expectations({"C-FAIL": {"verdict": "deviates", "why": "kubernetes#123: cap raised"}})
    r = run("--expectations", str(expected))

    assert r.result.ret == verdicts.RunExit.BROKE
    r.result.assert_outcomes(failed=1)
    assert r.claim("C-FAIL")["verdict"] == "error"
    assert r.claim("C-FAIL")["reason"] == "TimeoutError: pod never started"
    r.result.stdout.fnmatch_lines(["C-FAIL: expected deviates, observed error"])


@pytest.mark.parametrize(
    ("claims", "kubernetes", "message"),
    [
        (
            {"C-FAIL": {"verdict": "deviates"}},
            '"1.35"',
            "claims.C-FAIL: 'why' is a required property (an expected deviates or not-applicable needs a why: *",
        ),
        ({"C-NA": {"verdict": "not-applicable", "why": " "}}, '"1.35"', "claims.C-NA.why: ' ' does not match*why*"),
        ({"NOPE": {"verdict": "conforms"}}, '"1.35"', "claims.NOPE: unknown claim ID 'NOPE' (not in the catalogue)"),
        ({"C-PASS": {"verdict": "passes"}}, '"1.35"', "claims.C-PASS.verdict: 'passes' is not one of ['conforms'*"),
        ({"C-PASS": {"verdict": "conforms", "note": "x"}}, '"1.35"', "claims.C-PASS: *('note' was unexpected)"),
        ({}, "1.30", "kubernetes: 1.3 is not of type 'string' (The release, quoted: \"1.35\")"),
        (
            {"C-PASS": {"verdict": "maybe"}, "C-FAIL": {"verdict": "deviates"}},
            '"1.35"',
            "claims.C-FAIL: 'why' is a required property * (and 1 more problem)",
        ),
    ],
)
def test_bad_expectations_are_usage_errors(
    run: Runner, pytester: pytest.Pytester, claims: dict[str, Any], kubernetes: str, message: str
) -> None:
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    expected = run.expectations(claims, kubernetes=kubernetes)
    r = run("--expectations", str(expected))
    assert r.result.ret == pytest.ExitCode.USAGE_ERROR
    r.result.stderr.fnmatch_lines([f"*expectations {expected}: {message.lstrip('*')}"])


def test_the_reference_expectations_are_valid() -> None:
    catalogue = verdicts.load_catalogue(verdicts.DEFAULT_CATALOGUE)
    expectations = verdicts.load_expectations(REPO_ROOT / "conformance" / "expected" / "1.35.yaml", catalogue)
    assert expectations.kubernetes == "1.35"
    assert expectations.claims, "the reference expectations list no claim"
    unexplained = [c for c, e in expectations.claims.items() if e.verdict in verdicts.NEEDS_WHY and not e.why]
    assert not unexplained, unexplained


def test_unit_classify_of_a_serialised_skip() -> None:
    report = pytest.TestReport(
        "t.py::x", ("t.py", 1, "x"), {}, "skipped", ("t.py", 2, "Skipped: not-applicable: cgroup v1"), "call", []
    )
    assert verdicts.classify(report, None) == ("not-applicable", "cgroup v1")
    report.longrepr = ["t.py", 2, "Skipped: no nodes"]  # type: ignore[assignment]  # as xdist may deliver it
    assert verdicts.classify(report, None) == ("skipped", "no nodes")
