"""Benchmark (not part of the suite): ten scenarios that each wait 5 s in a pod.

    pytest benchmarks -n 1       vs.       pytest benchmarks -n auto

The difference shows what xdist buys; ``durations.json`` in the run's reports gives the per-scenario overhead
(test duration minus the 5 s the pod sleeps).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods

SLEEP = 5
OUT = Path(__file__).resolve().parent / "out"


@pytest.mark.parametrize("n", range(10))
def test_pod_that_waits(n: int, core: client.CoreV1Api, namespace: str, busybox_image: str) -> None:
    start = time.monotonic()
    core.create_namespaced_pod(namespace, pods.command_pod(f"wait-{n}", busybox_image, ["sleep", str(SLEEP)]))
    finished = pods.wait_terminal(core, namespace, f"wait-{n}")
    elapsed = time.monotonic() - start
    assert finished.status.phase == "Succeeded"
    state = finished.status.container_statuses[0].state.terminated
    created = finished.metadata.creation_timestamp
    record = {
        "n": n,
        "elapsed": elapsed,
        "overhead": elapsed - SLEEP,
        # the kubelet's part: pod created -> container started, and container exit -> status seen
        "to_start": (state.started_at - created).total_seconds(),
        "run": (state.finished_at - state.started_at).total_seconds(),
    }
    OUT.mkdir(exist_ok=True)
    with (OUT / "durations.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")
