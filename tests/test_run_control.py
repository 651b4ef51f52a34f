"""Runs a CI system can trust (fixtures/interruption.py, fixtures/bounds.py, the exit codes of fixtures/verdicts.py):
inner pytest runs are interrupted with real signals, time out, and hang on purpose."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from k8s_doc_conformance.fixtures import bounds, verdicts
from k8s_doc_conformance.reports import validate

pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = {
    "claims": [
        {"id": f"R-{n}", "area": "R", "statement": f"run control {n}", "needs": ["RUN"]}
        for n in ("QUICK", "SLOW", "HANG", "AFTER", "LATER")
    ]
}

# R-QUICK finishes at once; R-SLOW sleeps in a test whose fixture writes "restored" in its teardown (what a
# scenario changed on a node is put back); R-LATER never starts when the run is interrupted.
SCENARIOS = """
import time
from pathlib import Path

import pytest


@pytest.fixture
def node_change():
    Path("changed").write_text("yes")
    yield
    Path("restored").write_text("yes")


@pytest.mark.claim("R-QUICK")
def test_quick():
    Path("quick-done").write_text("yes")


@pytest.mark.claim("R-SLOW")
def test_slow(node_change):
    Path("slow-started").write_text("yes")
    time.sleep(120)


@pytest.mark.claim("R-LATER")
def test_later():
    time.sleep(120)
"""


def _base(tmp: Path) -> list[str]:
    catalogue = tmp / "claims.yaml"
    catalogue.write_text(yaml.safe_dump(CATALOGUE), encoding="utf-8")
    return [
        sys.executable, "-m", "pytest", "-p", "no:k8s_doc_conformance", "-p", "k8s_doc_conformance.fixtures.verdicts",
        "-p", "no:cacheprovider", "-p", "no:randomly",
        "--claims-catalogue", str(catalogue), "--reports-dir", str(tmp / "out"), "--run-id", "run-1",
    ]  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job of a non-interactive shell


def _start(pytester: pytest.Pytester, *args: str, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [*_base(pytester.path), *args],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the test sends signals to it alone (or to its group, as a terminal would)
        # SIGINT as a terminal's foreground job has it, whatever the shell that started this run did (a background
        # job of a non-interactive shell inherits it ignored, and so would the run under test)
        preexec_fn=_ignore_sigint if sigint_ignored else _default_sigint,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"{path.name} never appeared; the run said:\n{proc.communicate()[0][-3000:]}")
        time.sleep(0.1)


def _run_files(pytester: pytest.Pytester) -> tuple[dict, dict]:
    out = pytester.path / "out" / "run-1"
    return (
        json.loads((out / "verdicts.json").read_text(encoding="utf-8")),
        json.loads((out / "run.json").read_text(encoding="utf-8")),
    )


@pytest.mark.parametrize(
    ("how", "xdist"),
    [
        ("SIGINT", True),
        ("SIGINT-group", True),
        ("SIGTERM", True),
        ("SIGTERM-sigint-ignored", True),
        ("SIGINT", False),
        ("SIGTERM", False),
    ],
    ids=["sigint-xdist", "ctrl-c-group-xdist", "sigterm-xdist", "sigterm-background-xdist", "sigint", "sigterm"],
)
def test_an_interrupted_run_keeps_what_it_measured(pytester: pytest.Pytester, how: str, xdist: bool) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it), a SIGINT or SIGTERM to the controller alone:
    the run stops within seconds, the interrupted scenario's clean-up runs, finished claims keep their verdicts,
    the rest are untested "run interrupted", and it exits 3 with one line and no traceback."""
    pytester.makepyfile(test_run=SCENARIOS)
    proc = _start(
        pytester, *(["-n", "2", "--dist", "load"] if xdist else ["-p", "no:xdist"]), sigint_ignored="ignored" in how
    )
    try:
        _wait_for(pytester.path / "slow-started", proc)
        _wait_for(pytester.path / "quick-done", proc)
        time.sleep(1.0)  # the quick test's report reaches the controller
        sent = time.monotonic()
        if how == "SIGINT-group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, getattr(signal, how.split("-")[0]))
        output, _ = proc.communicate(timeout=40)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == verdicts.RunExit.INTERRUPTED, output[-3000:]
    assert took < 20, f"took {took:.1f} s to stop"
    assert (pytester.path / "restored").exists(), "the interrupted scenario's teardown did not run"
    data, run = _run_files(pytester)
    claims = data["claims"]
    assert claims["R-QUICK"]["verdict"] == "conforms"
    for unfinished in ("R-SLOW", "R-LATER"):
        assert claims[unfinished]["verdict"] == "untested", claims[unfinished]
        assert claims[unfinished]["reason"] == verdicts.INTERRUPTED_REASON
    assert run["interrupted"]["by"] == how.split("-")[0].replace("SIGINT-group", "SIGINT")
    assert run["exitstatus"] == verdicts.RunExit.INTERRUPTED
    assert data["format_version"] == verdicts.FORMAT_VERSION
    assert "run interrupted (" in output
    assert "Traceback" not in output, output[-3000:]


def test_the_whole_run_timeout_interrupts_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_run=SCENARIOS)
    started = time.monotonic()
    proc = _start(pytester, "-n", "2", "--timeout", "6")
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == verdicts.RunExit.INTERRUPTED, output[-3000:]
    assert time.monotonic() - started < 30
    data, run = _run_files(pytester)
    assert run["interrupted"]["by"] == "timeout"
    assert data["claims"]["R-QUICK"]["verdict"] == "conforms"
    assert data["claims"]["R-SLOW"]["verdict"] == "untested"
    assert "run interrupted (timeout)" in output


HANGING = """
import time

import pytest


@pytest.mark.claim("R-HANG")
def test_hangs(evidence):
    evidence.observe(documented="a pod that starts", observed="pod Pending, no events yet")
    while True:  # a retry loop that swallows errors must not outlive the bound either
        try:
            time.sleep(3600)
        except Exception:
            pass


@pytest.mark.claim("R-AFTER")
def test_after():
    pass


@pytest.mark.waits(0.5)
@pytest.mark.claim("R-SLOW")
def test_declared():
    pass
"""


def test_a_hanging_scenario_ends_as_an_error_within_its_bound(pytester: pytest.Pytester) -> None:
    """A scenario made to hang (its wait never returns, and it swallows exceptions) is stopped at its bound, its
    claim is ``error`` naming the bound, the line it was stuck on and its last observation, and the run goes on."""
    pytester.makepyfile(test_hang=HANGING)
    started = time.monotonic()
    proc = _start(pytester, "-p", "no:xdist", "--scenario-timeout", "2")
    output, _ = proc.communicate(timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == verdicts.RunExit.BROKE, output[-3000:]
    assert took < 25, f"took {took:.1f} s"
    claims, _ = _run_files(pytester)
    hang = claims["claims"]["R-HANG"]
    assert hang["verdict"] == "error"
    assert "no result within its bound of 2 s" in hang["reason"]
    assert "stopped at test_hang.py:" in hang["reason"] and "in test_hangs" in hang["reason"]
    assert "pod Pending, no events yet" in hang["reason"]
    assert "ScenarioTimeout" in hang["reason"]
    assert claims["claims"]["R-AFTER"]["verdict"] == "conforms"  # the run went on
    assert claims["claims"]["R-SLOW"]["verdict"] == "conforms"


def test_a_bound_comes_from_what_the_scenario_waits_for(pytester: pytest.Pytester) -> None:
    items = pytester.getitems(
        "import pytest\n\n@pytest.mark.waits(960)\ndef test_cap():\n    pass\n\ndef test_plain():\n    pass\n"
    )
    cap, plain = items
    assert bounds.bound_of(cap, 300) == (1440.0, "it waits 960 s by design")
    assert bounds.bound_of(plain, 300)[0] == 300
    assert bounds.bound_of(cap, 3000)[0] == 3000  # a declared wait never shortens the default


@pytest.mark.parametrize(
    ("body", "args", "code"),
    [
        ("pass", [], verdicts.RunExit.AS_EXPECTED),
        ("assert False, 'observed otherwise'", [], verdicts.RunExit.DEVIATES),
        ("raise RuntimeError('broke')", [], verdicts.RunExit.BROKE),
        ("pass", ["--timeout", "-1"], verdicts.RunExit.BAD_INPUT),
        ("pass", ["--scenario-timeout", "-5"], verdicts.RunExit.BAD_INPUT),
    ],
    ids=["as-expected", "deviates", "broke", "bad-timeout", "bad-scenario-timeout"],
)
def test_exit_codes(pytester: pytest.Pytester, body: str, args: list[str], code: int) -> None:
    pytester.makepyfile(test_code=f"import pytest\n\n@pytest.mark.claim('R-QUICK')\ndef test_a():\n    {body}\n")
    proc = _start(pytester, "-p", "no:xdist", *args)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == code, output[-2000:]


FLAKY = """
import os

import pytest


@pytest.mark.claim("R-QUICK")
def test_quick():
    pass


@pytest.mark.claim("R-SLOW")
def test_deviates_the_first_time():
    assert os.environ.get("K8SDC_SECOND_RUN"), "observed otherwise"


@pytest.mark.claim("R-HANG")
def test_breaks_the_first_time():
    if not os.environ.get("K8SDC_SECOND_RUN"):
        raise RuntimeError("pod never started")


@pytest.mark.claim("R-LATER")
def test_not_rerun():
    assert not os.environ.get("K8SDC_SECOND_RUN"), "a claim that held must not be rerun"
"""


def _run_to_end(pytester: pytest.Pytester, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(argv, cwd=pytester.path, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_rerun_failed_reruns_what_deviated_or_broke_and_merges(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_flaky=FLAKY)
    first = _start(pytester, "-p", "no:xdist")
    output, _ = first.communicate(timeout=60)
    assert first.returncode == verdicts.RunExit.BROKE, output[-2000:]

    monkeypatch.setenv("K8SDC_SECOND_RUN", "1")
    base = _base(pytester.path)
    base[base.index("--run-id") + 1] = "run-2"
    proc = _run_to_end(pytester, [*base, "-p", "no:xdist", "--rerun-failed", "run-1"])
    assert proc.returncode == verdicts.RunExit.AS_EXPECTED, proc.stdout[-2000:]
    assert "2 passed, 2 deselected" in proc.stdout
    data = json.loads((pytester.path / "out" / "run-2" / "verdicts.json").read_text(encoding="utf-8"))
    claims = data["claims"]
    assert data["rerun_of"] == "run-1"
    assert {c: claims[c]["verdict"] for c in ("R-QUICK", "R-SLOW", "R-HANG", "R-LATER")} == dict.fromkeys(
        ("R-QUICK", "R-SLOW", "R-HANG", "R-LATER"), "conforms"
    )
    assert claims["R-QUICK"]["carried_from"] == "run-1" and claims["R-LATER"]["carried_from"] == "run-1"
    assert "carried_from" not in claims["R-SLOW"]
    assert validate.problems(data) == []  # the merged file still matches its published schema

    bad = _run_to_end(pytester, [*base, "--rerun-failed", "no-such-run"])
    assert bad.returncode == verdicts.RunExit.BAD_INPUT
    assert "--rerun-failed no-such-run: no saved run" in bad.stderr


@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
def test_claims_not_selected_are_not_compared_with_the_expectations(pytester: pytest.Pytester, xdist: bool) -> None:
    """``--claim``/``-k`` run a part of the suite: claims whose scenarios were deselected are "not selected", and the
    expectations are compared for the claims the run judged only (a full run still compares them all)."""
    pytester.makepyfile(test_pick=FLAKY)
    expected = pytester.path / "expected.yaml"
    expected.write_text(
        "claims:\n  R-QUICK: {verdict: conforms}\n  R-SLOW: {verdict: deviates, why: 'kubernetes#1'}\n"
        "  R-HANG: {verdict: conforms}\n  R-LATER: {verdict: conforms}\n",
        encoding="utf-8",
    )
    proc = _start(
        pytester, *(["-n", "2"] if xdist else ["-p", "no:xdist"]), "-k", "test_quick", "--expectations", str(expected)
    )
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == verdicts.RunExit.AS_EXPECTED, output[-2000:]
    claims = _run_files(pytester)[0]["claims"]
    assert claims["R-QUICK"]["verdict"] == "conforms"
    assert claims["R-SLOW"]["verdict"] == "untested"
    assert claims["R-SLOW"]["reason"] == verdicts.NOT_SELECTED_REASON
    assert "every claim as expected" in output


def test_rerun_takes_deviating_broken_and_unfinished_claims(tmp_path: Path) -> None:
    saved = tmp_path / "run-9"
    saved.mkdir()
    entries = {
        "A": {"verdict": "conforms", "reason": None},
        "B": {"verdict": "deviates", "reason": "observed otherwise"},
        "C": {"verdict": "error", "reason": "RuntimeError: boom"},
        "D": {"verdict": "untested", "reason": verdicts.INTERRUPTED_REASON},
        "E": {"verdict": "untested", "reason": verdicts.UNTESTED_REASON},
        "F": {"verdict": "skipped", "reason": "needs access to the nodes"},
    }
    (saved / "verdicts.json").write_text(json.dumps({"run_id": "run-9", "claims": entries}), encoding="utf-8")
    rerun = verdicts.load_rerun("run-9", tmp_path)
    assert rerun.run_id == "run-9" and rerun.claims == {"B", "C", "D"}
