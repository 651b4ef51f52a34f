"""A terminating pod as the API and the controllers see it (doc 003: "pod的终止"): the deadline recorded on delete and
kubectl's Terminating, the kubelet's terminal phase and its removal with grace period 0, a force delete, sidecars
stopped after the main containers, EndpointSlices and a ReplicaSet around a terminating pod, and what a forced
shutdown leaves in the runtime. Observed as in test_pod_termination.py: reporter containers
(fixtures/termination.py) and a watch on the pod.
"""

from __future__ import annotations

import time
from contextlib import suppress

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures import termination as term
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.signatures import Kubectl, NodeExec
from k8s_doc_conformance.fixtures.termination import PodRecorder, Started
from k8s_doc_conformance.fixtures.timeline import Timeline
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for

# --------------------------------------------------------------------------- what the API shows


@pytest.mark.claim("TERM-DELETION-DEADLINE-RECORDED")
def test_delete_records_the_deadline_and_kubectl_shows_terminating(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, started: Started, evidence: Evidence
) -> None:
    """ "The Pod in the API server is updated with the time beyond which the Pod is considered 'dead', along with
    the grace period. If you use kubectl describe to check the Pod you're deleting, that Pod shows up as
    'Terminating'." Grace 30 s, a preStop hook that sleeps 600 s (the pod is force-deleted afterwards)."""
    name = "deadline"
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=600)
    started(term.reporter_pod(name, [main], grace=30))
    t0 = term.delete(core, namespace, name)
    try:
        time.sleep(1)
        pod = core.read_namespaced_pod(name, namespace)
        got = kubectl("get", "pod", name, "-n", namespace, "--no-headers").stdout.split()
        described = kubectl("describe", "pod", name, "-n", namespace).stdout
    finally:
        term.force_delete(core, namespace, name)
    deadline = pod.metadata.deletion_timestamp
    status_lines = [line.strip() for line in described.splitlines() if line.startswith(("Status:", "Termination"))]
    observed = {
        "deletionTimestamp": deadline.isoformat() if deadline else None,
        "deletionTimestamp - delete call (s)": round(deadline.timestamp() - t0, 2) if deadline else None,
        "deletionGracePeriodSeconds": pod.metadata.deletion_grace_period_seconds,
        "status.phase": pod.status.phase,
        "kubectl get STATUS": got[2] if len(got) > 2 else got,
        "kubectl describe": status_lines,
    }
    evidence.observe(documented="deletionTimestamp = delete time + 30 s; kubectl shows Terminating", observed=observed)
    assert deadline is not None, "no deletionTimestamp"
    assert abs(deadline.timestamp() - (t0 + 30)) <= 2, f"deadline is not delete time + 30 s: {observed}"
    assert pod.metadata.deletion_grace_period_seconds == 30, observed
    assert any(line.startswith("Status:") and "Terminating" in line for line in status_lines), (
        f"kubectl describe does not show Terminating: {status_lines}"
    )
    assert len(got) > 2 and got[2] == "Terminating", f"kubectl get STATUS: {got}"


@pytest.mark.claim("TERM-KUBELET-SETS-TERMINAL-PHASE")
def test_kubelet_sets_a_terminal_phase_before_removal(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
) -> None:
    """ "The kubelet transitions the Pod into a terminal phase (Failed/Succeeded)" before the API server removes it.
    A Deployment-like pod (restartPolicy Always) whose two containers exit 0 on TERM; the watch must show phase
    Succeeded or Failed before DELETED."""
    name = "terminal-phase"
    containers = [term.reporter_container(n, busybox_image, "exit") for n in ("one", "two")]
    follow = started(term.reporter_pod(name, containers, grace=10))
    recorder, t0 = term.delete_and_record(core, namespace, name)
    terminal = recorder.first(lambda s: s.phase in pods.TERMINAL and s.type != "DELETED")
    phases = [(s.type, s.phase, term.rel(s.at, t0)) for s in recorder.snapshots]
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="phase Succeeded or Failed (MODIFIED) before DELETED",
        observed={"watch events (type, phase, s)": phases},
        terminal_phase=terminal.phase if terminal else None,
    )
    assert recorder.deleted_at() is not None, f"pod not removed: {phases}"
    assert terminal is not None, f"no terminal phase before removal: {phases}"
    assert terminal.at <= (recorder.deleted_at() or 0), phases


@pytest.mark.claim("TERM-FINAL-REMOVAL-GRACE-0")
def test_kubelet_removes_the_pod_with_grace_period_0(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
) -> None:
    """ "The kubelet triggers forcible removal of the Pod object from the API server by setting the grace period to
    0", then "the API server deletes the Pod's API object". Grace 10 s; the containers exit at once on TERM. The
    watch must show deletionGracePeriodSeconds going from 10 to 0 after every container has ended, then DELETED.
    A container has ended at its own last line (CLEAN-EXIT, printed just before ``exit 0``), or when the API shows
    it terminated: v1.23's kubelet can report a container it stopped as waiting:ContainerCreating instead."""
    name = "grace-zero"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "exit")], grace=10))
    recorder, t0 = term.delete_and_record(core, namespace, name)
    rows = [(s.type, s.deletion_grace, s.phase, s.containers, term.rel(s.at, t0)) for s in recorder.snapshots]
    finished = recorder.first(
        lambda s: bool(s.containers) and all(v.startswith("terminated") for v in s.containers.values())
    )
    exits = [f.first("CLEAN-EXIT") for f in follow.values()]
    exited = [at for at in exits if at is not None]
    ended = finished.at if finished else max(exited) if exited and len(exited) == len(exits) else None
    zero = recorder.first(lambda s: s.deletion_grace == 0)
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="after the containers ended, deletionGracePeriodSeconds 0, then the object is deleted",
        observed={
            "watch (type, deletionGracePeriodSeconds, phase, containers, s)": rows,
            "containers' CLEAN-EXIT (s)": [term.rel(at, t0) for at in exits],
        },
    )
    assert recorder.deleted_at() is not None, f"pod not removed: {rows}"
    assert zero is not None, f"the grace period never became 0: {rows}"
    assert ended is not None and ended <= zero.at, f"grace 0 before the containers had ended: {rows}, exits {exits}"
    assert any(s.deletion_grace == 10 for s in recorder.snapshots), f"the delete did not record 10 s first: {rows}"


@pytest.mark.claim("TERM-FORCE-DELETE")
def test_force_delete_removes_the_pod_at_once(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, started: Started, evidence: Evidence
) -> None:
    """ "kubectl delete po/poname --force --grace-period 0" force-deletes a pod: the API object is gone at once,
    although its preStop hook would take 600 s."""
    name = "forced"
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=600)
    started(term.reporter_pod(name, [main], grace=600))
    recorder = PodRecorder(core, namespace, name)
    t0 = time.time()
    out = kubectl("delete", f"po/{name}", "-n", namespace, "--force", "--grace-period", "0")
    returned = time.time()
    try:
        core.read_namespaced_pod(name, namespace)
        still_there = True
    except ApiException as exc:
        still_there = exc.status != 404
    with suppress(WaitTimeout):
        recorder.wait_deleted(5)
    observed = {
        "kubectl returned after (s)": round(returned - t0, 2),
        "GET after kubectl": "still there" if still_there else "404 NotFound",
        "DELETED event (s)": term.rel(recorder.deleted_at(), t0),
        "kubectl output": (out.stdout + out.stderr).strip(),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [], recorder))
    evidence.observe(documented="the pod object is removed immediately", observed=observed)
    assert not still_there, f"the pod still exists after a forced delete: {observed}"
    removed = recorder.deleted_at()
    assert removed is not None and removed - t0 <= 2, f"not removed at once: {observed}"


# --------------------------------------------------------------------------- sidecars, endpoints, controllers


@pytest.mark.claim("TERM-SIDECARS-LAST-REVERSE-ORDER")
@pytest.mark.since("1.29", "sidecar containers (restartable init containers, SidecarContainers beta and on by default)")
def test_sidecars_get_term_after_main_containers_in_reverse_order(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
) -> None:
    """ "If the Pod includes one or more sidecar containers (init containers with an Always restart policy), the
    kubelet will delay sending the TERM signal to these sidecar containers until the last main container has fully
    terminated. The sidecar containers will be terminated in the reverse order they are defined in the Pod spec."
    Sidecars s1, s2 (1 s to shut down each) and a main container that needs 3 s after TERM."""
    name = "sidecars"
    sidecars = [
        term.reporter_container(n, busybox_image, "exit", shutdown_seconds=1, restart_policy="Always")
        for n in ("s1", "s2")
    ]
    main = term.reporter_container("main", busybox_image, "exit", shutdown_seconds=3)
    pod = term.reporter_pod(name, [main], grace=30, init_containers=sidecars)
    follow = started(pod, follow=["s1", "s2", "main"])
    recorder, t0 = term.delete_and_record(core, namespace, name)
    got = {n: follow[n].first("GOT TERM") for n in follow}
    ended = {n: follow[n].last_alive() for n in follow}
    observed = {
        "TERM received (s after delete)": {n: term.rel(t, t0) for n, t in got.items()},
        "exited (last line)": {n: term.rel(t, t0) for n, t in ended.items()},
        "exit codes": {n: recorder.exit_code(n) for n in follow},
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(documented="main: TERM then exit; then s2 TERM; then s1 TERM", observed=observed)
    s1, s2, main_term, main_end = got["s1"], got["s2"], got["main"], ended["main"]
    assert s1 is not None and s2 is not None and main_term is not None, f"a container got no TERM: {observed}"
    assert main_end is not None and s2 >= main_end, f"sidecar s2 got TERM before the main container ended: {observed}"
    assert s1 >= main_end, f"sidecar s1 got TERM before the main container ended: {observed}"
    assert s2 < s1, f"sidecars not terminated in reverse order (s2 first): {observed}"


@pytest.mark.claim("TERM-ENDPOINT-NOT-READY")
def test_terminating_pod_is_not_ready_in_endpointslices(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    busybox_image: str,
    started: Started,
    evidence: Evidence,
) -> None:
    """ "While the kubelet starts the graceful shutdown, the control plane evaluates whether to remove the
    shutting-down Pod from EndpointSlice objects … Pods that are terminating have ready set to false, so that load
    balancers do not use them for regular traffic." A Service selects the pod; the pod's preStop sleeps 20 s. Within
    5 s of the delete, its endpoint must be gone or have ready=false."""
    discovery = client.DiscoveryV1Api(api_client)
    name, labels = "served", {"app": "served"}
    core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="served"),
            spec=client.V1ServiceSpec(selector=labels, ports=[client.V1ServicePort(port=80, target_port=8080)]),
        ),
    )
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=20)
    started(term.reporter_pod(name, [main], grace=25, labels=labels))
    ip = core.read_namespaced_pod(name, namespace).status.pod_ip

    def endpoint() -> dict[str, object] | None:
        slices = discovery.list_namespaced_endpoint_slice(namespace, label_selector="kubernetes.io/service-name=served")
        for s in slices.items:
            for ep in s.endpoints or []:
                if ip in (ep.addresses or []):
                    c = ep.conditions
                    return {"ready": c.ready, "serving": c.serving, "terminating": c.terminating}
        return None

    before = wait_for(endpoint, lambda e: e is not None and e["ready"] is True, 60, "endpoint ready")
    seen: list[tuple[float, object]] = []
    t0 = term.delete(core, namespace, name)
    try:
        while time.time() - t0 < 8:
            now = endpoint()
            if not seen or seen[-1][1] != now:
                seen.append((round(time.time() - t0, 2), now))
            time.sleep(0.2)
    finally:
        term.force_delete(core, namespace, name)
    not_ready_at = next((t for t, e in seen if e is None or not e["ready"]), None)  # type: ignore[index]
    evidence.observe(
        documented="the terminating pod's endpoint is removed or has ready=false within seconds",
        observed={"before delete": before, "changes (s after delete, endpoint)": seen},
    )
    assert not_ready_at is not None and not_ready_at <= 5, f"endpoint still ready after the delete: {seen}"


@pytest.mark.claim("TERM-REPLICASET-REPLACES")
def test_replicaset_treats_the_terminating_pod_as_a_serving_replica(
    core: client.CoreV1Api, api_client: client.ApiClient, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """003: "ReplicaSets and other workload resources treat the shutting-down pod as a replica that can serve."
    A ReplicaSet with one replica whose pod's preStop sleeps 30 s: if the terminating pod still counts as a serving
    replica, no replacement appears while it terminates (watched for 10 s)."""
    apps = client.AppsV1Api(api_client)
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=30)
    term.replica_set(
        apps, namespace, "replicated", client.V1PodSpec(containers=[main], termination_grace_period_seconds=35)
    )
    first = term.running_replica(apps, core, namespace, "replicated", evidence)
    with Timeline(core, namespace) as tl:
        t0 = term.delete(core, namespace, first)
        replacement, old_terminating = term.replacement_while_terminating(core, namespace, first, t0)
        rs = apps.read_namespaced_replica_set("replicated", namespace).status
    term.force_delete(core, namespace, first)
    evidence.attach("pods and events", tl.chart())
    evidence.observe(
        documented="the terminating pod counts as a serving replica: no replacement while it shuts down",
        observed={
            "replacement (name, s after delete)": replacement,
            "old pod still terminating then": old_terminating,
            "ReplicaSet status": {
                "replicas": rs.replicas,
                "ready": rs.ready_replicas,
                "terminating": rs.terminating_replicas,
            },
        },
    )
    assert replacement is None, (
        f"the ReplicaSet created {replacement[0]} {replacement[1]} s after the delete while {first} was still "
        "terminating: it does not treat the shutting-down pod as a serving replica"
    )


@pytest.mark.slow
@pytest.mark.claim("TERM-FORCE-KILL-AND-PAUSE-CLEANUP")
@pytest.mark.needs("node_access")
def test_forced_shutdown_kills_and_removes_the_pause_container(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    node_exec: NodeExec,
    started: Started,
    evidence: Evidence,
) -> None:
    """ "When the grace period expires, if there is still any container running in the Pod, the kubelet triggers
    forcible shutdown. The container runtime sends SIGKILL to any processes still running in any container in the
    Pod. The kubelet also cleans up a hidden pause container." Grace 3 s, a main process that ignores TERM; on the
    node (containerd's own view) the pod's sandbox (pause) and containers must stop and then be removed (the
    kubelet's container GC runs once a minute: within 90 s)."""
    name = "forced-shutdown"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=3))
    pod = core.read_namespaced_pod(name, namespace)
    node, uid = pod.spec.node_name, pod.metadata.uid
    before = term.runtime_view(node_exec, node, uid)
    recorder, t0 = term.delete_and_record(core, namespace, name)
    at_removal = term.runtime_view(node_exec, node, uid)
    samples = [(term.rel(time.time(), t0), at_removal)]
    deadline = time.time() + 90
    while time.time() < deadline and samples[-1][1]:
        time.sleep(3)
        samples.append((term.rel(time.time(), t0), term.runtime_view(node_exec, node, uid)))
    gone_at = samples[-1][0] if not samples[-1][1] else None
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="SIGKILL after the grace period; the pause (sandbox) container is cleaned up",
        observed={
            "exit code": recorder.exit_code("main"),
            "last sign of life": term.rel(follow["main"].last_alive(), t0),
            "runtime before delete": before,
            "runtime when the API object was removed": at_removal,
            "all of the pod's containers removed from containerd (s after delete)": gone_at,
        },
        samples=samples,
    )
    assert recorder.exit_code("main") == 137, "main container not killed with SIGKILL"
    running = {cid: v for cid, v in at_removal.items() if v["status"] == "RUNNING"}
    assert not running, f"still running in containerd when the pod was removed: {running}"
    assert any(v["kind"] == "sandbox" for v in before.values()), f"no pause sandbox seen before the delete: {before}"
    assert gone_at is not None, f"the pod's sandbox/containers were not removed within 90 s: {samples[-1][1]}"
