"""Serial and parallel image pulls (doc 001: "串行和并行镜像拉取" / "最大并行镜像拉取数量").

By default the kubelet sends one pull at a time to the image service; ``serializeImagePulls: false`` lets pulls run
at once, ``maxParallelImagePulls`` caps them. Observed with images no node can have (one unique random layer each)
from the suite's open registry slowed with tc, so that every pull lasts seconds: the registry's log (the witness)
says when each node downloaded each image, and the verdicts rest on how many of those windows overlap. The kubelet's
Pulling/Pulled events ("in X (Y including waiting)") are attached as its own account.

Nodes: the serial worker (label k8sdc.io/pull-mode=serial, kubelet defaults), the parallel worker
(pull-mode=parallel: serializeImagePulls false, maxParallelImagePulls 2) and the reconfigurable node
(k8sdc.io/node-role=reconfigurable), whose kubelet configuration the last two scenarios change and restore.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pull_overlap as po
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.nodes import Reconfigurable
from k8s_doc_conformance.fixtures.pull_overlap import PullTrial
from k8s_doc_conformance.fixtures.signatures import Exclusive, NodeExec

MAX_PARALLEL = "the kubelet's maxParallelImagePulls setting"


@pytest.mark.claim("IMG-PAR-SERIAL-DEFAULT")
def test_serial_kubelet_pulls_one_image_at_a_time(pull_trial: PullTrial, evidence: Evidence) -> None:
    """ "By default, the kubelet pulls images serially … sends only one image pull request to the image service at
    a time. Other image pull requests have to wait." Two pods with different images, created together on the node
    with kubelet defaults: the registry serves the second image only after the first."""
    trial = pull_trial
    node = trial.node("serial")
    settings = trial.settings(node)
    found = po.summary(trial.windows(trial.pod_per_image(node, trial.images("a", "b"))))
    evidence.observe(
        documented={"serializeImagePulls": True, "max concurrent pulls": 1},
        observed={"node": node, **settings, **found},
    )
    assert found["max concurrent pulls"] == 1, (
        f"kubelet at defaults on {node} pulled {found['max concurrent pulls']} images at once: "
        f"{found['overlapping pairs']}"
    )
    assert settings["serializeImagePulls"] is True, f"{node}: the kubelet default serializeImagePulls is {settings}"


@pytest.mark.claim("IMG-PAR-NODES-INDEPENDENT")
@pytest.mark.needs("reconfigurable")
def test_two_serial_nodes_pull_the_same_image_at_once(
    pull_trial: PullTrial, exclusive: Exclusive, reconfigurable_node: Reconfigurable, evidence: Evidence
) -> None:
    """ "Even when you use serialized image pulls, two different nodes can pull the same image in parallel." The
    same image on the two serial nodes (the serial worker and the reconfigurable node at its defaults), at once."""
    trial = pull_trial
    first, second = trial.node("serial"), reconfigurable_node.name
    ref = trial.images("same")["same"]
    with exclusive("reconfigurable-node"):
        settings = {n: trial.settings(n) for n in (first, second)}
        pod_list = [po.puller_pod(f"on-{i}", n, {"main": ref}) for i, n in enumerate((first, second))]
        # two kubelets start their pods' pulls up to several seconds apart on a busy host: slower pulls (~11 s
        # alone at 3 mbit) keep the first one going until the second has started
        windows = trial.windows(pod_list, rate="3mbit")
    found = po.summary(windows)
    evidence.observe(
        documented={"serial nodes": 2, "max concurrent pulls of the image": 2},
        observed={"settings": settings, **found},
    )
    assert all(s["serializeImagePulls"] is True for s in settings.values()), settings
    assert {w.node for w in windows} == {first, second}, windows
    assert found["max concurrent pulls"] == 2, (
        f"two serial nodes did not pull the same image in parallel: windows {found['windows (s from first start)']}"
    )


@pytest.mark.claim("IMG-PAR-ENABLE")
def test_parallel_kubelet_pulls_images_at_once(pull_trial: PullTrial, parallel_node: str, evidence: Evidence) -> None:
    """ "When serializeImagePulls is set to false, the kubelet sends image pull requests to the image service
    immediately, and multiple images are pulled at the same time." Two pods with different images on the node
    configured with serializeImagePulls: false: both downloads run at once."""
    trial, node = pull_trial, parallel_node
    settings = trial.parallel_settings(node)
    found = po.summary(trial.windows(trial.pod_per_image(node, trial.images("a", "b"))))
    evidence.observe(documented={"max concurrent pulls": 2}, observed={"node": node, **settings, **found})
    assert found["max concurrent pulls"] == 2, (
        f"serializeImagePulls false, yet {node} did not pull two at once: {found['windows (s from first start)']}"
    )


@pytest.mark.claim("IMG-PAR-NOT-WITHIN-POD")
def test_one_pod_never_pulls_its_images_in_parallel(
    pull_trial: PullTrial, parallel_node: str, evidence: Evidence
) -> None:
    """ "The kubelet never pulls multiple images in parallel on behalf of one Pod … an init container and an app
    container … will not be pulled in parallel. However, if you have two Pods that use different images, the kubelet
    pulls the images in parallel." On the parallel node: a pod with an init container (image A) and two app
    containers (B, C) next to a second pod (D): A, B and C never overlap each other; D overlaps one of them."""
    trial, node = pull_trial, parallel_node
    settings = trial.parallel_settings(node)
    images = trial.images("init", "app1", "app2", "other")
    one = po.puller_pod("one", node, {"app1": images["app1"], "app2": images["app2"]}, init={"init": images["init"]})
    windows = trial.windows([one, po.puller_pod("other", node, {"main": images["other"]})])
    own = [w for w in windows if w.image != po.short(images["other"])]
    found = {"same pod": po.summary(own), "both pods": po.summary(windows)}
    evidence.observe(
        documented={"max concurrent pulls for one pod": 1, "the other pod's pull overlaps": True},
        observed={"node": node, **settings, **found},
    )
    assert found["same pod"]["max concurrent pulls"] == 1, (
        f"one pod's images were pulled in parallel: {found['same pod']['overlapping pairs']}"
    )
    assert found["both pods"]["max concurrent pulls"] == 2, (
        f"two pods' images were not pulled in parallel: {found['both pods']['windows (s from first start)']}"
    )


@pytest.mark.claim("IMG-PAR-MAX-N")
@pytest.mark.since("1.27", MAX_PARALLEL)
def test_max_parallel_image_pulls_caps_concurrent_pulls(
    pull_trial: PullTrial, parallel_node: str, evidence: Evidence
) -> None:
    """ "When maxParallelImagePulls is set to n, only n images can be pulled at the same time, and any image pull
    beyond n has to wait until at least one ongoing image pull is complete." n+1 pods with different images on the
    parallel node: n downloads at once, never more."""
    trial, node = pull_trial, parallel_node
    settings = trial.parallel_settings(node, min_limit=2)
    limit = settings["maxParallelImagePulls"]
    windows = trial.windows(trial.pod_per_image(node, trial.images(*(f"p{i}" for i in range(limit + 1)))))
    found = po.summary(windows)
    last = windows[-1]
    waited_for_one = any(w.end <= last.start + timedelta(seconds=po.MIN_OVERLAP) for w in windows[:-1])
    evidence.observe(
        documented={"max concurrent pulls": limit, "the last pull starts after one ended": True},
        observed={"node": node, **settings, **found, "the last pull starts after one ended": waited_for_one},
    )
    assert found["max concurrent pulls"] == limit, (
        f"maxParallelImagePulls {limit}: {found['max concurrent pulls']} pulls at once on {node}"
    )
    assert waited_for_one, f"pull {limit + 1} started before any of the first {limit} ended"


@pytest.mark.claim("IMG-PAR-MAX-UNLIMITED-DEFAULT")
@pytest.mark.needs("reconfigurable")
def test_parallel_pulls_are_unlimited_by_default(
    pull_trial: PullTrial,
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    exclusive: Exclusive,
    reconfigurable_node: Reconfigurable,
    node_exec: NodeExec,
    evidence: Evidence,
) -> None:
    """ "When serializeImagePulls is set to false, by default the kubelet places no limit on the maximum number of
    images being pulled at the same time." The reconfigurable node with serializeImagePulls: false and no
    maxParallelImagePulls: four pods with different images pull all four at once."""
    trial, node = pull_trial, reconfigurable_node.name
    images = trial.images("u1", "u2", "u3", "u4")
    with exclusive("reconfigurable-node"), po.kubelet_config(node_exec, core, api_client, node, po.without_limit):
        po.wait_kubelet_back(core, api_client, node, {"serializeImagePulls": False, "maxParallelImagePulls": None})
        settings = trial.settings(node)
        found = po.summary(trial.windows(trial.pod_per_image(node, images)))
    evidence.observe(documented={"max concurrent pulls": 4}, observed={"node": node, **settings, **found})
    assert found["max concurrent pulls"] == 4, (
        f"without maxParallelImagePulls, {node} pulled at most {found['max concurrent pulls']} of 4 images at once"
    )


#: Invalid settings and the validation error the kubelet reports for each (pkg/kubelet/apis/config/validation).
INVALID = {
    "maxParallelImagePulls 2 with serializeImagePulls true": (
        {"serializeImagePulls": True, "maxParallelImagePulls": 2},
        "maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls",
    ),
    "maxParallelImagePulls 0": (
        {"serializeImagePulls": False, "maxParallelImagePulls": 0},
        "maxParallelImagePulls 0 must be a positive number",
    ),
}
VALID = {"serializeImagePulls": True, "maxParallelImagePulls": 1}


@pytest.mark.claim("IMG-PAR-MAX-VALIDATION")
@pytest.mark.since("1.27", MAX_PARALLEL)
@pytest.mark.needs("reconfigurable", "kubelet_independent_access")
def test_kubelet_refuses_an_invalid_max_parallel_image_pulls(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    node_exec: NodeExec,
    exclusive: Exclusive,
    reconfigurable_node: Reconfigurable,
    evidence: Evidence,
) -> None:
    """ "You can set maxParallelImagePulls to a positive number greater than or equal to 1. If you set
    maxParallelImagePulls to 2 or more, you must set serializeImagePulls to false. The kubelet fails to start with an
    invalid maxParallelImagePulls setting." On the reconfigurable node: 2 with serializeImagePulls true, then 0:
    the kubelet exits with the validation error and the node goes NotReady; 1 with serializeImagePulls true runs."""
    node, observed = reconfigurable_node.name, dict[str, Any]()
    with exclusive("reconfigurable-node"), po.Stopwatch(evidence, "phases (s since the lock was taken)") as phase:
        with po.kubelet_config_restored(core, api_client, node_exec, node) as original:
            for case, (values, message) in INVALID.items():
                observed[case] = po.refused(
                    node_exec, node, po.restart_with(node_exec, node, original, values), message
                )
                phase(f"refused: {case}")
            observed["node NotReady after (s)"] = po.wait_not_ready(core, node, 120)
            phase("node NotReady")
            po.restart_with(node_exec, node, original, VALID)
            try:
                po.wait_kubelet_back(core, api_client, node, VALID, timeout=90)
                observed["valid setting in /configz, node Ready"] = True
            except po.WaitTimeout as exc:
                observed["valid setting in /configz, node Ready"] = str(exc)[:300]
            phase("valid setting running, node Ready")
        phase("original config back, node Ready")
    evidence.observe(
        documented={case: "kubelet exits with a validation error" for case in INVALID}
        | {"node": "NotReady", "maxParallelImagePulls 1 with serializeImagePulls true": "kubelet runs"},
        observed=observed,
    )
    for case in INVALID:
        seen = observed[case]
        assert seen["journal"], f"{case}: no validation error in the kubelet's journal; systemd: {seen['systemd']}"
        assert seen["restarts in 3 s"] > 0, f"{case}: the kubelet kept running ({seen['systemd']})"
    assert observed["node NotReady after (s)"] is not None, f"{node} stayed Ready while its kubelet could not start"
    assert observed["valid setting in /configz, node Ready"] is True, observed
