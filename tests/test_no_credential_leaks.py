"""No registry credential a run creates appears in its output or reports; a leak fails the run.

Each check holds the cluster's registries (so the subprocess run shares them and their passwords), runs the suite
in a subprocess, then scans everything the run wrote and printed for the passwords, in clear and as base64
``user:password``.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures import verdicts
from k8s_doc_conformance.fixtures.registry.shared import RunRegistries

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.cluster

LEAKY_SCENARIO = """
import pytest

from k8s_doc_conformance.fixtures.registry.shared import RunRegistries

@pytest.mark.claim("ENV-HOSTNAME-IS-POD-NAME")
def test_leaks(registries, evidence):
    evidence.attach("users", registries.auth.users)
"""


def run_suite(
    tmp_path: Path, users: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], list[str], Path]:
    run_id = f"leakscan-{uuid.uuid4().hex[:6]}"
    reports = tmp_path / "reports"
    command = [
        *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s"),
        *("-c", str(REPO / "pyproject.toml"), f"--rootdir={REPO}"),
        *(f"--run-id={run_id}", f"--reports-dir={reports}", *args),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env, check=False)
    needles = list(users.values()) + [base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in users.items()]
    assert all(needles)
    return proc, needles, reports / run_id


def test_registry_scenarios_leak_nothing(tmp_path: Path, registries: RunRegistries) -> None:
    proc, needles, run_dir = run_suite(
        tmp_path,
        registries.auth.users,
        "tests/test_registry_cluster.py::test_wrong_password_is_a_401_with_the_user_named",
        "tests/test_registry_cluster.py::test_mutable_tag_resolves_to_the_newer_digest",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    output = proc.stdout + proc.stderr
    assert not [n for n in needles if n in output], "a credential appears in the run's output"
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert files, f"the run wrote nothing to {run_dir}"
    assert not [p for p in files if any(n.encode() in p.read_bytes() for n in needles)]


def test_a_leak_fails_the_run(tmp_path: Path, registries: RunRegistries) -> None:
    scenario = tmp_path / "test_leaky_scenario.py"
    scenario.write_text(LEAKY_SCENARIO)
    proc, needles, run_dir = run_suite(tmp_path, registries.auth.users, str(scenario))
    assert proc.returncode == verdicts.RunExit.BROKE, proc.stdout[-3000:]  # a leak is the suite breaking
    assert "CREDENTIAL LEAK: registry credentials found in" in proc.stdout
    with tarfile.open(run_dir / "results.tar.gz") as archive:  # the run's archive leaves the leaking files out
        members = [m for m in archive.getmembers() if m.isfile()]
        assert members
        leaking = [m.name for m in members if any(n.encode() in archive.extractfile(m).read() for n in needles)]  # type: ignore[union-attr]
    assert not leaking, f"credentials in results.tar.gz: {leaking}"
