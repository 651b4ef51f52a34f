"""Two runs started at the same time on one cluster do not disturb each other: both pass, each writes its own
reports, and neither leaves a namespace behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client

from fixtures import target

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.cluster


def test_two_runs_at_once(cluster: target.ClusterTarget, core: client.CoreV1Api, tmp_path: Path) -> None:
    if not cluster.owned:
        pytest.skip("starts two runs against the suite's own cluster")
    runs = {}
    for i in (1, 2):
        run_id = f"concurrent{i}-{uuid.uuid4().hex[:6]}"
        command = [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2"),
            *(f"--run-id={run_id}", f"--reports-dir={tmp_path}"),
            "conformance",
            "tests/test_registry_cluster.py",
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        runs[run_id] = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    results = {
        run_id: (proc.wait(timeout=900), proc.stdout.read() if proc.stdout else "") for run_id, proc in runs.items()
    }
    for run_id, (code, out) in results.items():
        assert code == 0, f"{run_id} failed:\n{out[-4000:]}"
        assert (tmp_path / run_id / "verdicts.json").is_file()
    for run_id in results:
        left = core.list_namespace(label_selector=f"k8sdc.io/run={run_id}").items
        assert all(ns.status.phase == "Terminating" for ns in left), [ns.metadata.name for ns in left]
