"""RuntimeClass (docs 000, 001, 002, 004: "容器运行时类" / "Classes de execução").

RuntimeClass selects the container runtime configuration (the handler) a pod runs with; it can also carry
scheduling constraints and pod overhead, which admission merges into the pod.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from functools import partial

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import access, nodes, pods, runtime_classes
from k8s_doc_conformance.fixtures.apicalls import rejection
from k8s_doc_conformance.fixtures.capabilities import Capabilities
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.runtime_classes import (
    TOLERATION_PREFIX,
    RuntimeClassFactory,
    as_tuple,
    show,
)
from k8s_doc_conformance.fixtures.signatures import NodeExec
from k8s_doc_conformance.fixtures.timeline import Timeline
from k8s_doc_conformance.fixtures.waits import WaitTimeout


@pytest.mark.claim("RC-API-OBJECT")
def test_runtimeclass_is_a_cluster_scoped_node_k8s_io_v1_object(
    node_api: client.NodeV1Api, runtime_class: RuntimeClassFactory, evidence: Evidence
) -> None:
    """ "RuntimeClass … defined in the node.k8s.io API group … has two significant fields: the name in metadata and
    the handler" (the handler need not exist to create the object)."""
    resources = {r.name: r for r in node_api.get_api_resources().resources}
    rc = resources.get("runtimeclasses")
    made = runtime_class("myconfiguration", name=f"myclass-{uuid.uuid4().hex[:6]}")
    evidence.observe(
        documented="node.k8s.io/v1 runtimeclasses, cluster-scoped, fields metadata.name and handler",
        observed={"namespaced": rc.namespaced if rc else None, "created": made.metadata.name, "handler": made.handler},
    )
    assert rc is not None, "node.k8s.io/v1 does not serve runtimeclasses"
    assert rc.namespaced is False
    assert made.handler == "myconfiguration"


@pytest.mark.claim("RC-HANDLER-DNS-LABEL")
def test_handler_must_be_a_dns_label(runtime_class: RuntimeClassFactory, evidence: Evidence) -> None:
    """ "The handler must be a valid DNS label name.\""""
    results = {h: rejection(partial(runtime_class, h)) for h in ("ok-handler", "Bad_Handler", "a.b", "UPPER", "h" * 64)}
    evidence.observe(documented="only ok-handler is accepted", observed=results)
    assert results["ok-handler"] is None
    accepted = [h for h, r in results.items() if h != "ok-handler" and (r is None or r[0] != 422)]
    assert not accepted, f"handlers that are not DNS labels but were not rejected with 422: {accepted}"


@pytest.mark.claim("RC-NAME-DNS-SUBDOMAIN")
def test_name_must_be_a_dns_subdomain(runtime_class: RuntimeClassFactory, evidence: Evidence) -> None:
    """ "The name of a RuntimeClass object must be a valid DNS subdomain name.\""""
    good = f"a.b-c-{uuid.uuid4().hex[:6]}"
    results = {n: rejection(partial(runtime_class, "runc", name=n)) for n in (good, "Bad_Name", "n" * 254)}
    evidence.observe(documented=f"only {good} is accepted", observed=results)
    assert results[good] is None
    assert all((r := results[n]) is not None and r[0] == 422 for n in ("Bad_Name", "n" * 254)), results


@pytest.mark.claim("RC-WRITE-ADMIN-ONLY")
def test_writes_are_for_cluster_admins(api_client: client.ApiClient, namespace: str, evidence: Evidence) -> None:
    """ "…write operations (create/update/patch/delete) [on RuntimeClass] should be restricted to the cluster
    administrator. This is usually the default." A namespace admin, a namespace editor and any authenticated user
    are asked for through SubjectAccessReview."""
    subjects = {}
    for role in ("admin", "edit"):
        user = access.service_account(api_client, namespace, f"ns-{role}")
        access.bind(api_client, namespace, f"ns-{role}", role, kind="ClusterRole")
        subjects[f"namespace {role}"] = (user, ["system:serviceaccounts"])
    subjects["any authenticated user"] = ("k8sdc-someone", ["system:authenticated"])
    allowed = {
        f"{who}: {verb}": access.may(
            api_client, user, [*groups, "system:authenticated"], verb, "runtimeclasses", group="node.k8s.io"
        )
        for who, (user, groups) in subjects.items()
        for verb in ("create", "update", "patch", "delete")
    }
    evidence.observe(documented="writes allowed to cluster admins only", observed=allowed)
    assert not [k for k, v in allowed.items() if v], allowed


@pytest.mark.claim("RC-POD-USES-HANDLER")
def test_pod_runs_with_the_runtimeclass_handler(
    core: client.CoreV1Api,
    namespace: str,
    runtime_class: RuntimeClassFactory,
    busybox_image: str,
    caps: Capabilities,
    reachable_nodes: Mapping[str, nodes.Node],
    evidence: Evidence,
) -> None:
    """ "You can set runtimeClassName in the Pod spec … This setting instructs the kubelet to use the named
    RuntimeClass to run this Pod."

    The handler (:func:`_handler`): ``test-handler`` when the nodes offer that extra one, else ``runc``, which every
    containerd node has (its default runtime under its own name), so no cluster skips this. Two witnesses, each able
    to fail: a pod whose class names a handler no node has must be refused by the runtime on the same node (a kubelet
    that ignored the class would run it with the default handler); and where the node can be reached and runs
    containerd, the pod's sandbox must record the class's handler (containerd's CRI sandbox metadata,
    ``RuntimeHandler``: the handler the kubelet asked for, empty for the default one — what a kubelet that ignored
    the class would leave)."""
    handler = runtime_classes.handler_for(caps)
    rc = runtime_class(handler)
    missing = runtime_class("k8sdc-no-such-handler")
    done, out = pods.run_to_completion(
        core,
        namespace,
        pods.command_pod("handled", busybox_image, ["echo", "ran"], runtime_class_name=rc.metadata.name),
    )
    node = done.spec.node_name
    # read at once: the sandbox of a finished pod stays until the pod is deleted, but nothing else needs to wait
    sandbox = runtime_classes.sandbox_handler(
        reachable_nodes.get(node), caps.runtime_versions.get(node, ""), namespace, "handled"
    )
    unhandled = pods.command_pod(
        "unhandled", busybox_image, ["echo", "ran"], runtime_class_name=missing.metadata.name, node_name=node
    )
    refused, timeline = runtime_classes.refusals(core, namespace, unhandled)
    unhandled_now = pods.describe(core.read_namespaced_pod("unhandled", namespace))
    evidence.attach("timeline of the pod whose class names a missing handler", timeline)
    evidence.observe(
        documented=f"the pod runs with the class's handler {handler!r}; a class naming a handler no node has does not",
        observed={
            "pod with handler " + repr(handler): f"{pods.describe(done)} on {node}",
            "its sandbox's RuntimeHandler (containerd)": sandbox,
            "pod with handler 'k8sdc-no-such-handler'": unhandled_now,
            "its warnings": [f"{e['reason']}: {e['message'][:200]}" for e in refused[:2]],
        },
        runtime_handlers_offered=caps.runtime_handlers,
        node_runtime=caps.runtime_versions.get(node),
    )
    assert done.status.phase == "Succeeded" and out.strip() == "ran", pods.describe(done)
    if sandbox is None:  # the pod ran, so it had a sandbox there: the lookup is wrong, not the cluster
        raise RuntimeError(f"precondition: no containerd sandbox of pod {namespace}/handled found on {node}")
    assert any("k8sdc-no-such-handler" in e["message"] for e in refused), (
        f"a pod whose class names a handler no node has was not refused within 60 s ({unhandled_now}): "
        "the class's handler was not used"
    )
    if not sandbox.startswith(runtime_classes.NOT_VISIBLE):
        assert sandbox == handler, f"the pod's sandbox was created with handler {sandbox!r}, not {handler!r}"


@pytest.mark.claim("RC-MISSING-CLASS-FAILED")
def test_missing_runtimeclass_puts_the_pod_in_failed(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    busybox_image: str,
    evidence: Evidence,
) -> None:
    """ "If the configured RuntimeClass does not exist … the Pod enters the Failed terminal phase. Check the Pod's
    events for the error message.\""""
    missing = f"does-not-exist-{uuid.uuid4().hex[:6]}"
    pod = pods.sleeper("orphan", busybox_image, runtime_class_name=missing)
    admission = rejection(lambda: core.create_namespaced_pod(namespace, pod))
    evidence.observe(observed={"pod creation": admission}, what="direct pod creation")
    # through a controller, the rejection surfaces as an event on the ReplicaSet
    apps = client.AppsV1Api(api_client)
    template_spec = pods.sleeper("orphan", busybox_image, runtime_class_name=missing).spec
    template_spec.restart_policy = "Always"  # what a Deployment's pods must have
    template = client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "orphan"}), spec=template_spec)
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="orphan"),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": "orphan"}), template=template
        ),
    )
    with Timeline(core, namespace) as tl:
        apps.create_namespaced_deployment(namespace, deployment)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not tl.of("event", reason="FailedCreate"):
            time.sleep(0.5)
    phases = {p.metadata.name: p.status.phase for p in core.list_namespaced_pod(namespace).items}
    evidence.attach("timeline", tl.chart())
    evidence.observe(
        documented="the pod enters the Failed phase; the events carry the error",
        observed={
            "direct creation": f"rejected {admission[0]}: {admission[1]}" if admission else "accepted",
            "pods that exist": phases,
            "ReplicaSet events": [e["message"] for e in tl.of("event", reason="FailedCreate")][:2],
        },
    )
    assert admission is None, f"no pod to become Failed: the API rejected it ({admission[0]}: {admission[1]})"
    assert "Failed" in phases.values(), f"pod phases: {phases}"


@pytest.mark.claim("RC-UNRUNNABLE-HANDLER-FAILED")
def test_unrunnable_handler_puts_the_pod_in_failed(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "If the CRI implementation cannot handle the pod (… the handler), the Pod enters the Failed terminal
    phase." Watched for 60 s."""
    rc = runtime_class("nonexistent-handler")
    with Timeline(core, namespace) as tl:
        core.create_namespaced_pod(
            namespace, pods.sleeper("unrunnable", busybox_image, runtime_class_name=rc.metadata.name)
        )
        try:
            final = pods.wait_pod(core, namespace, "unrunnable", lambda p: p.status.phase == "Failed", 60, "to fail")
        except WaitTimeout as exc:
            final = exc.last
    failures = tl.of("event", reason="FailedCreatePodSandBox")
    evidence.attach("timeline", tl.chart())
    evidence.observe(
        documented="phase Failed",
        observed={"phase after 60 s": pods.describe(final), "FailedCreatePodSandBox events": len(failures)},
        first_error=failures[0]["message"] if failures else None,
    )
    assert final.status.phase == "Failed", f"after 60 s the pod is {pods.describe(final)}, not Failed"


@pytest.mark.claim("RC-ERRORS-AS-EVENTS")
def test_runtimeclass_errors_are_events(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """Errors from running a pod with a RuntimeClass "can be checked through the Pod's events"."""
    rc = runtime_class("nonexistent-handler")
    with Timeline(core, namespace) as tl:
        core.create_namespaced_pod(
            namespace, pods.sleeper("unrunnable", busybox_image, runtime_class_name=rc.metadata.name)
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not tl.of("event", type="Warning"):
            time.sleep(0.5)
    warnings = tl.of("event", type="Warning")
    evidence.attach("timeline", tl.chart())
    evidence.observe(documented="a Warning event on the pod names the handler", observed=warnings[:3])
    assert any("nonexistent-handler" in w["message"] for w in warnings), warnings


@pytest.mark.claim("RC-DEFAULT-HANDLER")
def test_pod_without_runtimeclass_uses_the_default_handler(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "If no runtimeClassName is specified, the default RuntimeHandler will be used.\""""
    done, out = pods.run_to_completion(core, namespace, pods.command_pod("default", busybox_image, ["echo", "ran"]))
    evidence.observe(documented="runs with the default handler", observed=pods.describe(done))
    assert done.status.phase == "Succeeded" and out.strip() == "ran"


@pytest.mark.claim("RC-CRI-HANDLER-CONFIG")
@pytest.mark.needs("node_access", "handler:test-handler")
def test_containerd_handlers_are_configured_as_documented(
    core: client.CoreV1Api,
    namespace: str,
    runtime_class: RuntimeClassFactory,
    busybox_image: str,
    node_exec: NodeExec,
    evidence: Evidence,
) -> None:
    """containerd: "runtime handlers are configured in /etc/containerd/config.toml … under
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${HANDLER_NAME}]"; a class naming such a handler runs
    pods. (The path is containerd 1.x's, config version 2: what these nodes run.)"""
    node = next(
        n.metadata.name
        for n in core.list_node().items
        if "node-role.kubernetes.io/control-plane" not in n.metadata.labels
    )
    section = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test-handler]'
    config = node_exec(node, ["cat", "/etc/containerd/config.toml"])
    version = node_exec(node, ["containerd", "--version"]).strip()
    rc = runtime_class("test-handler")
    done, _ = pods.run_to_completion(
        core,
        namespace,
        pods.command_pod("cfg", busybox_image, ["true"], runtime_class_name=rc.metadata.name, node_name=node),
    )
    evidence.observe(
        documented=f"handler configured under {section}",
        observed={"section present": section in config, "containerd": version, "pod": pods.describe(done)},
    )
    assert section in config, f"{node}'s containerd config has no {section}"
    assert done.status.phase == "Succeeded", pods.describe(done)


@pytest.mark.claim("RC-SCHEDULING-UNSET-ALL-NODES")
def test_class_without_scheduling_leaves_placement_alone(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "If scheduling is not set, this RuntimeClass is assumed to be supported by all nodes.\""""
    rc = runtime_class("runc")
    tolerations = [client.V1Toleration(key="k8sdc", operator="Exists", effect="NoSchedule")]
    pod = pods.sleeper("plain", busybox_image, runtime_class_name=rc.metadata.name, node_selector={"zone": "z1"})
    pod.spec.tolerations = tolerations
    stored = core.create_namespaced_pod(namespace, pod, dry_run="All")
    mine = [t for t in stored.spec.tolerations or [] if t.key == "k8sdc"]
    evidence.observe(
        documented="nodeSelector and tolerations unchanged",
        observed={
            "nodeSelector": stored.spec.node_selector,
            "tolerations": [t.to_dict() for t in stored.spec.tolerations],
        },
    )
    assert stored.spec.node_selector == {"zone": "z1"}
    assert len(mine) == 1


@pytest.mark.claim("RC-SCHEDULING-NODESELECTOR-MERGE")
def test_class_node_selector_is_merged_into_the_pod(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "At admission, the RuntimeClass's nodeSelector is merged with the pod's existing nodeSelector.\""""
    pod = runtime_classes.pod_with_selectors(runtime_class, busybox_image, "merged", {"rt": "a"}, {"zone": "z1"})
    stored = core.create_namespaced_pod(namespace, pod, dry_run="All")
    evidence.observe(documented={"rt": "a", "zone": "z1"}, observed=stored.spec.node_selector)
    assert stored.spec.node_selector == {"rt": "a", "zone": "z1"}


@pytest.mark.claim("RC-SCHEDULING-CONFLICT-REJECTED")
def test_conflicting_node_selectors_are_rejected(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "Any conflicts will cause the pod to be rejected.\""""
    pod = runtime_classes.pod_with_selectors(runtime_class, busybox_image, "conflict", {"rt": "a"}, {"rt": "b"})
    result = rejection(lambda: core.create_namespaced_pod(namespace, pod, dry_run="All"))
    evidence.observe(documented="rejected", observed=result)
    assert result is not None, "a pod whose nodeSelector conflicts with its RuntimeClass was accepted"
    assert result[0] in (400, 403, 422) and "conflict" in result[1], result


@pytest.mark.claim("RC-SCHEDULING-PLACEMENT")
@pytest.mark.needs("multi_node")
def test_class_node_selector_places_pods_on_supporting_nodes(
    core: client.CoreV1Api,
    namespace: str,
    runtime_class: RuntimeClassFactory,
    busybox_image: str,
    caps: object,
    evidence: Evidence,
) -> None:
    """ "…RuntimeClass nodeSelector … ensure pods with this RuntimeClass are scheduled only onto nodes that support
    it." One node gets a run-unique label; five class pods all land there; without the label, a new pod stays
    Pending."""
    target = caps.schedulable_nodes[-1]  # type: ignore[attr-defined]
    with nodes.temporary_label(core, target, "rt", "a") as selector:
        rc = runtime_class("runc", scheduling=client.V1Scheduling(node_selector=selector))
        rc_pods = [pods.sleeper(f"placed-{i}", busybox_image, runtime_class_name=rc.metadata.name) for i in range(5)]
        placed = pods.placed(core, namespace, rc_pods)
    core.create_namespaced_pod(namespace, pods.sleeper("unplaced", busybox_image, runtime_class_name=rc.metadata.name))
    unplaced = pods.wait_unschedulable(core, namespace, "unplaced")
    evidence.observe(
        documented=f"all on {target}; none once the label is gone", observed={"placed": placed, "after": unplaced}
    )
    assert set(placed.values()) == {target}, placed
    assert unplaced.startswith("Pending, unschedulable"), unplaced


@pytest.mark.claim("RC-SCHEDULING-TOLERATIONS-MERGE")
def test_class_tolerations_are_merged_as_a_union(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "As with the nodeSelector, the tolerations are merged with the Pod's tolerations at admission time,
    effectively taking the union of the two." (000–002: "tolerations 也在 admission 阶段与 Pod 的 tolerations 合并,
    取二者的并集"; 004 says "intersection", a translation error.)

    The class and the pod each carry a toleration the other lacks, and one they share. The admitted pod (a dry-run
    create: admission runs, nothing is stored) must hold the class's own one (added by admission), the pod's own one
    (kept) and the shared one once. Without merging the class's own is missing; a class that replaced the pod's
    tolerations would drop the pod's own; an intersection would keep the shared one only."""

    def toleration(key: str, value: str | None = None) -> client.V1Toleration:
        operator = "Exists" if value is None else "Equal"
        return client.V1Toleration(key=TOLERATION_PREFIX + key, operator=operator, value=value, effect="NoSchedule")

    class_only, pod_only, shared = toleration("class-only"), toleration("pod-only", "yes"), toleration("shared")
    rc = runtime_class("runc", scheduling=client.V1Scheduling(tolerations=[class_only, shared]))
    pod = pods.sleeper("tolerant", busybox_image, runtime_class_name=rc.metadata.name)
    pod.spec.tolerations = [pod_only, shared]
    sent = [as_tuple(t) for t in pod.spec.tolerations]
    of_class = [as_tuple(t) for t in (rc.scheduling.tolerations if rc.scheduling else None) or []]
    stored = core.create_namespaced_pod(namespace, pod, dry_run="All")
    after = [as_tuple(t) for t in stored.spec.tolerations or []]
    ours = [t for t in after if t[0].startswith(TOLERATION_PREFIX)]
    union = sorted(set(sent) | set(of_class))
    not_added = [t for t in of_class if t not in sent and t not in ours]
    dropped = [t for t in sent if t not in ours]
    twice = sorted({t for t in ours if ours.count(t) > 1})
    evidence.observe(
        documented=f"the union of the pod's and the class's tolerations, each once: {[show(t) for t in union]}",
        observed={
            "pod's tolerations as sent": [show(t) for t in sent],
            "RuntimeClass scheduling.tolerations": [show(t) for t in of_class],
            "pod's tolerations after admission (all)": [show(t) for t in after],
        },
        class_tolerations_not_added=[show(t) for t in not_added],
        pod_tolerations_dropped=[show(t) for t in dropped],
        listed_twice=[show(t) for t in twice],
    )
    if as_tuple(class_only) not in of_class:
        raise RuntimeError(f"precondition: the RuntimeClass was stored without its own toleration: {of_class}")
    assert not not_added, f"the class's tolerations were not added at admission: {[show(t) for t in not_added]}"
    assert not dropped, f"the pod's own tolerations were dropped at admission: {[show(t) for t in dropped]}"
    assert sorted(ours) == union, (
        f"tolerations after admission {[show(t) for t in ours]}, not the union {[show(t) for t in union]}"
    )


@pytest.mark.claim("RC-OVERHEAD-SET-ON-POD")
def test_class_overhead_is_set_on_the_pod(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "You can specify overhead … in the RuntimeClass … applied to pods using the class.\""""
    overhead = {"cpu": "250m", "memory": "120Mi"}
    rc = runtime_class("runc", overhead=client.V1Overhead(pod_fixed=overhead))
    stored = core.create_namespaced_pod(
        namespace, pods.sleeper("overhead", busybox_image, runtime_class_name=rc.metadata.name), dry_run="All"
    )
    evidence.observe(documented=overhead, observed=stored.spec.overhead)
    assert stored.spec.overhead == overhead


@pytest.mark.claim("RC-OVERHEAD-MISMATCH-REJECTED")
def test_pod_overhead_other_than_the_class_is_rejected(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """Only the RuntimeClass sets pod overhead: a pod with its own, different overhead is rejected, and so is one
    that sets overhead while its class has none."""
    with_overhead = runtime_class("runc", overhead=client.V1Overhead(pod_fixed={"cpu": "250m"}))
    without = runtime_class("runc")
    results = {}
    for case, rc in (("differs from the class", with_overhead), ("class has none", without)):
        pod = pods.sleeper("mismatch", busybox_image, runtime_class_name=rc.metadata.name, overhead={"cpu": "1"})
        results[case] = rejection(partial(core.create_namespaced_pod, namespace, pod, dry_run="All"))
    evidence.observe(documented="both rejected", observed=results)
    assert all(r is not None and r[0] in (400, 403, 422) for r in results.values()), results


@pytest.mark.claim("RC-OVERHEAD-SCHEDULER-ACCOUNTS")
def test_scheduler_counts_the_overhead(
    core: client.CoreV1Api, namespace: str, runtime_class: RuntimeClassFactory, busybox_image: str, evidence: Evidence
) -> None:
    """ "…the overhead … is taken into account … including the scheduler." An overhead no node can hold keeps the
    pod Pending (Insufficient cpu); the same pod without the class schedules."""
    rc = runtime_class("runc", overhead=client.V1Overhead(pod_fixed={"cpu": "1000"}))
    core.create_namespaced_pod(namespace, pods.sleeper("heavy", busybox_image, runtime_class_name=rc.metadata.name))
    core.create_namespaced_pod(namespace, pods.sleeper("light", busybox_image))
    light = pods.wait_pod(core, namespace, "light", lambda p: bool(p.spec.node_name), 60, "scheduled")
    reason = pods.wait_unschedulable(core, namespace, "heavy")
    evidence.observe(
        documented="with the overhead: unschedulable for cpu; without: scheduled",
        observed={"with overhead": reason, "without": light.spec.node_name},
    )
    assert light.spec.node_name, "the pod without overhead did not schedule"
    assert "Insufficient cpu" in reason, reason
