"""The timeline records a pod's life and its events, in order, from a real cluster."""

from __future__ import annotations

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures.timeline import Timeline

pytestmark = pytest.mark.cluster


def test_timeline_sees_a_pod_start_and_finish(core: client.CoreV1Api, namespace: str, busybox_image: str) -> None:
    with Timeline(core, namespace) as tl:
        core.create_namespaced_pod(namespace, pods.command_pod("tl", busybox_image, ["sleep", "1"]))
        pods.wait_terminal(core, namespace, "tl")
    states = [e["state"] for e in tl.of("pod", pod="tl")]
    reasons = [e["reason"] for e in tl.of("event")]
    assert states[0].startswith("Pending") and states[-1].startswith("Succeeded"), states
    # the API may fold a short run into one update: Running, or straight to the container's terminated state
    assert any(s.startswith("Running") or "terminated:Completed" in s for s in states[:-1]), states
    assert "Scheduled" in reasons and "Started" in reasons, reasons
