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
from contextlib import suppress

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_doc_conformance.fixtures import control_plane, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.termination import PodRecorder, Snapshot, rel
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for

DEFAULT_THRESHOLD = 12500
#: PodGC's period (gcCheckPeriod) in pkg/controller/podgc/gc_controller.go.
PODGC_PERIOD = 20
HOLD = "k8sdc.io/hold"


#: The field managers PodGC writes a pod's status as: kube-controller-manager's own (an update), or, in releases
#: whose PodGC applied the status server-side (1.26), its own manager ``PodGC``.
PODGC_WRITERS = ("kube-controller-manager/Update", "PodGC/Apply")


def by_podgc(snap: Snapshot) -> bool:
    """PodGC's mark: condition DisruptionTarget with reason DeletionByPodGC (orphans), or phase Failed written by
    kube-controller-manager (nothing else in it writes the status of pods; a pod no kubelet runs has no other
    writer)."""
    if any("DeletionByPodGC" in c for c in snap.conditions):
        return True
    return snap.phase == "Failed" and any(writer in snap.managers for writer in PODGC_WRITERS)


def unbound_pod(name: str, image: str, **meta: object) -> client.V1Pod:
    """A pod no scheduler will bind: its schedulerName names no running scheduler."""
    pod = pods.command_pod(name, image, ["sleep", "3600"], scheduler_name="k8sdc-no-such-scheduler")
    for key, value in meta.items():
        setattr(pod.metadata, key, value)
    return pod


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
    time.sleep(max(0.0, finished + 3.5 * PODGC_PERIOD - time.time()))
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

    The running kube-controller-manager (:func:`running_controller_manager`: the static pod whose container runs
    now, the last started when several do — a control plane of several, or the old and the new pod of a restart)
    gives its flags, and its own image, run once beside it on its node (the same image ID is checked), gives its
    --help: the setting and its default. Through the API alone: neither node access nor how the node's runtime keeps
    its containers changes the verdict. It deviates when the binary has no such setting or its default is not 12500.
    Exercising the threshold is not done: it needs more terminated pods than the threshold (12500 by default)
    cluster-wide, or a lower threshold for the whole cluster, which would delete other scenarios' terminated pods."""
    pod, seen = running_controller_manager(core)
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


KCM = "kube-controller-manager"
THRESHOLD_FLAG = "--terminated-pod-gc-threshold"
#: How long a kube-controller-manager that exists but does not run (its static pod restarting) is waited for.
KCM_START_WAIT = 90.0


def running_controller_manager(core: client.CoreV1Api) -> tuple[client.V1Pod | None, dict[str, str]]:
    """The kube-controller-manager pod that runs now (fixtures/control_plane.py: ``running_pod``) and every one seen
    (name: state). None when kube-system has none at all (a managed control plane); while some exist and none runs,
    waited for up to ``KCM_START_WAIT`` s, then the precondition fails: the control plane is down, not the claim."""
    deadline = time.monotonic() + KCM_START_WAIT
    while True:
        found = core.list_namespaced_pod("kube-system", label_selector=f"component={KCM}").items
        seen = {
            p.metadata.name: f"{pods.describe(p)} on {p.spec.node_name}"
            + (", being deleted" if p.metadata.deletion_timestamp else "")
            for p in found
        }
        chosen = control_plane.running_pod(found, KCM)
        if chosen is not None or not found:
            return chosen, seen
        if time.monotonic() > deadline:
            raise RuntimeError(f"precondition: no {KCM} pod has run for {KCM_START_WAIT:.0f} s: {seen}")
        time.sleep(2)


def podgc_logged(core: client.CoreV1Api, namespace: str, name: str) -> list[str] | None:
    """The running kube-controller-manager's log lines of the last 10 minutes in which PodGC records deleting the
    pod (fixtures/control_plane.py ``podgc_deletions``); None when the control plane's pods or their logs are not
    readable (a managed control plane), so that only the pod's own marks can witness."""
    try:
        kcm, _ = running_controller_manager(core)
        if kcm is None:
            return None
        log = core.read_namespaced_pod_log(kcm.metadata.name, "kube-system", container=KCM, since_seconds=600)
    except ApiException:
        return None
    return control_plane.podgc_deletions(log, namespace, name)


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
    marked = recorder.first(by_podgc)
    logged = podgc_logged(core, namespace, name)
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
    plain = "unbound-plain"
    core.create_namespaced_pod(namespace, unbound_pod(plain, busybox_image))
    t_plain = time.time()
    core.delete_namespaced_pod(plain, namespace)
    try:
        core.read_namespaced_pod(plain, namespace)
        plain_outcome = "still there after delete"
    except ApiException as exc:
        plain_outcome = f"gone at once ({exc.status}, {time.time() - t_plain:.2f} s)"
    name = "unbound-held"
    core.create_namespaced_pod(namespace, unbound_pod(name, busybox_image, finalizers=[HOLD]))
    recorder = PodRecorder(core, namespace, name)
    t0 = time.time()
    try:
        core.delete_namespaced_pod(name, namespace)
        with suppress(WaitTimeout):
            # releases before 1.26 mark nothing: their PodGC deletes the pod again, which only its log records
            wait_for(
                lambda: (recorder.first(by_podgc), podgc_logged(core, namespace, name)),
                lambda seen: bool(seen[0] or seen[1]),
                60,
                "PodGC to act",
                interval=2,
            )
        time.sleep(1)
        marked = recorder.first(by_podgc)
        logged = podgc_logged(core, namespace, name)
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
