"""Pod garbage collection (doc 003: "pod垃圾回收").

Terminated pods stay until someone deletes them; the PodGC controller of kube-controller-manager deletes them
beyond --terminated-pod-gc-threshold, and also cleans up orphan pods (bound to a node that does not exist) and
unscheduled terminating pods. PodGC runs every 20 s and waits 40 s (quarantine) before it trusts that a node is
gone (pkg/controller/podgc/gc_controller.go). From 1.26 it marks a pod Failed (kube-controller-manager or PodGC
in managedFields; for orphans with condition DisruptionTarget, reason DeletionByPodGC) before deleting it, so the
watch shows who acted; every release also logs each deletion ("Forced deletion of orphaned Pod succeeded"), which
kube-controller-manager's pod log shows where the control plane's pods are readable.
"""

from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_doc_conformance.fixtures import control_plane, podgc, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.podgc import DEFAULT_THRESHOLD, KCM, THRESHOLD_FLAG
from k8s_doc_conformance.fixtures.termination import PodRecorder, rel
from k8s_doc_conformance.fixtures.waits import WaitTimeout


@pytest.mark.slow
@pytest.mark.claim("GC-TERMINAL-PODS-RETAINED")
def test_terminated_pods_stay_until_deleted(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "For failed and succeeded pods, the corresponding API objects remain on the cluster's API server until a
    human or controller process explicitly removes them." A Succeeded and a Failed pod, checked after 70 s (three
    PodGC passes) and compared with the cluster's oldest terminated pods."""
    for name, command in (("succeeded", ["true"]), ("failed", ["sh", "-c", "exit 3"])):
        core.create_namespaced_pod(namespace, pods.command_pod(name, busybox_image, command))
    phases = {n: pods.wait_terminal(core, namespace, n).status.phase for n in ("succeeded", "failed")}
    finished = time.time()
    time.sleep(max(0.0, finished + 3.5 * podgc.PODGC_PERIOD - time.time()))
    later = {}
    for name in phases:
        try:
            later[name] = core.read_namespaced_pod(name, namespace).status.phase
        except ApiException as exc:
            later[name] = f"gone ({exc.status})"
    terminated = [p for p in core.list_pod_for_all_namespaces().items if p.status.phase in pods.TERMINAL]
    oldest = min((p.metadata.creation_timestamp.timestamp() for p in terminated), default=None)
    evidence.observe(
        documented="terminated pods remain until explicitly deleted",
        observed={"phases when finished": phases, f"after {round(time.time() - finished)} s": later},
        terminated_pods_in_cluster=len(terminated),
        oldest_terminated_pod_age_s=round(time.time() - oldest) if oldest else None,
    )
    assert phases == {"succeeded": "Succeeded", "failed": "Failed"}, phases
    assert later == phases, f"terminated pods were removed without anyone deleting them: {later}"


@pytest.mark.claim("GC-TERMINATED-THRESHOLD")
def test_terminated_pod_gc_threshold_is_a_controller_manager_setting(
    core: client.CoreV1Api, namespace: str, evidence: Evidence
) -> None:
    """ "The pod garbage collector (PodGC) is a controller in the control plane that cleans up terminated Pods (with
    a phase of Succeeded or Failed) when the number of Pods exceeds the configured threshold (determined by
    terminated-pod-gc-threshold in the kube-controller-manager)."

    The running kube-controller-manager (:func:`podgc.running_controller_manager`: the static pod whose container runs
    now, the last started when several do — a control plane of several, or the old and the new pod of a restart)
    gives its flags, and its own image, run once beside it on its node (the same image ID is checked), gives its
    --help: the setting and its default. Through the API alone: neither node access nor how the node's runtime keeps
    its containers changes the verdict. It deviates when the binary has no such setting or its default is not 12500.
    Exercising the threshold is not done: it needs more terminated pods than the threshold (12500 by default)
    cluster-wide, or a lower threshold for the whole cluster, which would delete other scenarios' terminated pods."""
    pod, seen = podgc.running_controller_manager(core)
    if pod is None:
        evidence.not_applicable("no kube-controller-manager static pod visible in kube-system (managed control plane)")
    container = next((c for c in pod.spec.containers if c.name == KCM), pod.spec.containers[0])
    args = [*(container.command or []), *(container.args or [])]
    given = control_plane.flag_value(args, THRESHOLD_FLAG)
    out, image_ids = control_plane.running_help(core, namespace, pod, container)
    help_text = control_plane.flag_help(out, THRESHOLD_FLAG)
    default = control_plane.help_default(help_text)
    terminated = sum(
        1
        for p in core.list_pod_for_all_namespaces().items
        if p.status.phase in pods.TERMINAL and p.metadata.namespace != namespace  # not our --help pod
    )
    effective = int(given) if given is not None and given.lstrip("-").isdigit() else default
    evidence.observe(
        documented=f"{KCM} {THRESHOLD_FLAG} bounds the number of terminated pods (default {DEFAULT_THRESHOLD})",
        observed={
            f"flag on the running {KCM}": given or "(not set: the default applies)",
            f"{KCM} --help": help_text,
            "default": default,
            "effective threshold": effective,
            "terminated pods in the cluster now": terminated,
        },
        controller_manager=f"kube-system/{pod.metadata.name} on {pod.spec.node_name}, image {container.image}",
        image_ids=image_ids,
        controller_manager_pods=seen,
        controller_manager_flags=[a for a in args if a.startswith("--")],
    )
    assert help_text, f"the running {KCM} has no {THRESHOLD_FLAG} setting (not in its --help)"
    assert default == DEFAULT_THRESHOLD, f"default threshold {default}, not {DEFAULT_THRESHOLD}: {help_text!r}"
    evidence.not_applicable(
        f"the setting exists (effective threshold {effective}, {terminated} terminated pods now); exercising it "
        "needs more terminated pods than the threshold cluster-wide or lowering it for the whole cluster, which "
        "would delete other scenarios' terminated pods"
    )


@pytest.mark.claim("GC-ORPHAN-PODS")
def test_pods_bound_to_a_missing_node_are_collected(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """PodGC cleans up "orphan Pods — bound to a node which no longer exists". A pod created with spec.nodeName of a
    node that does not exist; watched for up to 120 s. It must be removed, and PodGC must be seen doing it: its mark
    on the pod, or its deletion in kube-controller-manager's log."""
    ghost = f"k8sdc-ghost-{uuid.uuid4().hex[:8]}"
    name = "orphan"
    core.create_namespaced_pod(namespace, pods.command_pod(name, busybox_image, ["sleep", "3600"], node_name=ghost))
    t0 = time.time()
    recorder = PodRecorder(core, namespace, name)
    try:
        removed: float | None = recorder.wait_deleted(120)
    except WaitTimeout:
        removed = None
    recorder.stop()
    marked = recorder.first(podgc.by_podgc)
    logged = podgc.podgc_logged(core, namespace, name)
    rows = [(s.type, s.phase, s.conditions, s.managers, rel(s.at, t0)) for s in recorder.snapshots]
    evidence.observe(
        documented="the orphan pod is deleted by PodGC",
        observed={
            "removed (s after creation)": rel(removed, t0),
            "marked by PodGC": rel(marked.at, t0) if marked else None,
            "PodGC's deletion in kube-controller-manager's log": logged,
        },
        watch=rows,
        node=ghost,
    )
    assert removed is not None, f"the pod on missing node {ghost} still exists after 120 s: {rows[-1]}"
    assert marked is not None or logged, (
        f"removed, but nothing says PodGC did it (no DeletionByPodGC mark, no PodGC line in the log: {logged}): {rows}"
    )


@pytest.mark.claim("GC-UNSCHEDULED-TERMINATING")
def test_unscheduled_terminating_pods_are_collected(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """PodGC cleans up "unscheduled terminating Pods" (003: "计划外终止的 Pod", a mistranslation). The API server
    itself deletes a never-scheduled pod at once (grace 0), so PodGC only ever meets one held by a finalizer: an
    unbound pod with a finalizer is deleted, and PodGC must act on it (mark it Failed, delete it) within 60 s; then
    the test removes its finalizer."""
    plain_outcome = podgc.deleted_at_once(core, namespace, podgc.unbound_pod("unbound-plain", busybox_image))
    name = "unbound-held"
    core.create_namespaced_pod(namespace, podgc.unbound_pod(name, busybox_image, finalizers=[podgc.HOLD]))
    recorder = PodRecorder(core, namespace, name)
    t0 = time.time()
    try:
        core.delete_namespaced_pod(name, namespace)
        marked, logged = podgc.acted_on(recorder, core, namespace, name)
    finally:
        core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": None}})
    with_deadline = recorder.first(lambda s: s.deletion_timestamp is not None)
    rows = [(s.type, s.phase, s.deletion_grace, s.managers, rel(s.at, t0)) for s in recorder.snapshots]
    evidence.observe(
        documented="PodGC cleans up unscheduled terminating pods",
        observed={
            "unbound pod without finalizer": plain_outcome,
            "held pod after delete": {
                "deletionGracePeriodSeconds": with_deadline.deletion_grace if with_deadline else None,
                "PodGC acted (s after delete)": rel(marked.at, t0) if marked else None,
                "PodGC's deletion in kube-controller-manager's log": logged,
            },
        },
        watch=rows,
    )
    assert marked is not None or logged, (
        f"PodGC did not act on the unscheduled terminating pod within 60 s (log: {logged}): {rows}"
    )
