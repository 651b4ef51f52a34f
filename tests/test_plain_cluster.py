"""Any cluster, through its kubeconfig alone: the plain cluster (a stock two-node kind cluster, nothing of the
suite's on it) stands in for a user's. A representative subset of areas runs there as a user would run it; no
scenario of those areas may skip for want of an instrument, every verdict must equal the one expected on the
suite's own cluster (conformance/expected/1.35.yaml) unless a configuration difference listed here explains it,
and afterwards the cluster holds nothing of the run's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from fixtures import preflight, target

REPO = Path(__file__).resolve().parents[1]
EXPECTED = REPO / "conformance" / "expected" / "1.35.yaml"
pytestmark = pytest.mark.cluster

#: One area per instrument a user's cluster gets from the suite: the busybox image (ENV), pushed test images (CTR),
#: the in-cluster registries with their witness (IMG-POL), the htpasswd registry and pull secrets (SECRET).
AREAS = ("ENV", "CTR", "IMG-POL", "SECRET")
#: Claims of those areas whose verdict differs on the plain cluster for a reason of its configuration, not of the
#: suite (claim -> the difference).
DIFFERENCES: dict[str, str] = {}


@pytest.fixture(scope="module")
def plain() -> target.ClusterTarget:
    """The plain cluster, created (or reused) here: ``nox -s cluster -- up --profile plain`` makes the same one."""
    from fixtures.cluster import kind

    profile = kind.PROFILES["plain"]
    return target.own_kind_cluster(profile.name, "plain")


def test_subset_through_the_plain_clusters_kubeconfig(plain: target.ClusterTarget, tmp_path: Path) -> None:
    run_id = f"plain-{uuid.uuid4().hex[:6]}"
    command = [
        *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-n", "2", "--dist", "worksteal"),
        *(f"--run-id={run_id}", f"--reports-dir={tmp_path}", "conformance"),
        *(f"--area={a}" for a in AREAS),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "KUBECONFIG": str(plain.kubeconfig)}  # as a user names a cluster
    started = time.monotonic()
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=1500)
    took = time.monotonic() - started
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    assert first.startswith(f"cluster: kubeconfig {plain.kubeconfig}") and "(named by $KUBECONFIG)" in first, first
    verdicts = json.loads((tmp_path / run_id / "verdicts.json").read_text())["claims"]
    expected = yaml.safe_load(EXPECTED.read_text())["claims"]
    judged = {c: v for c, v in verdicts.items() if v["area"] in AREAS}
    unjudged = {c: v["reason"] for c, v in judged.items() if v["verdict"] in ("skipped", "untested", "error")}
    assert not unjudged, f"not judged through the kubeconfig alone: {unjudged}\n{proc.stdout[-3000:]}"
    differ = {
        c: (expected[c]["verdict"], v["verdict"])
        for c, v in judged.items()
        if c in expected and v["verdict"] != expected[c]["verdict"] and c not in DIFFERENCES
    }
    assert not differ, f"(expected on the suite's cluster, observed on the plain one): {differ}"
    print(f"plain cluster: {len(judged)} claims of {', '.join(AREAS)} judged in {took:.0f}s")
    _assert_nothing_left(plain, run_id)


def _assert_nothing_left(plain: target.ClusterTarget, run_id: str) -> None:
    """The run's namespaces are gone (deleted without waiting by the run: give them a minute)."""
    core = client.CoreV1Api(preflight.load(plain))
    deadline = time.monotonic() + 90
    left: list[str] = []
    while time.monotonic() < deadline:
        left = [n.metadata.name for n in core.list_namespace(label_selector=f"k8sdc.io/run={run_id}").items]
        if not left:
            return
        time.sleep(3)
    pytest.fail(f"namespaces of run {run_id} still on the plain cluster after 90 s: {left}")
