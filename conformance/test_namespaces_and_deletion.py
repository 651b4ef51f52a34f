"""Namespaces and deletion (doc 003, Kubernetes in Action ch. 3: "2.6 命名空间" and "2.7 pod常用操作").

Namespaces split resources into non-overlapping groups: names need only be unique inside one, kubectl works in
`default` unless told `-n`, and namespaces carry access control and compute quotas. Pods are deleted by name, by
label, all at once, or with their namespace.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import cast

import pytest
import yaml
from kubernetes import client

from k8s_doc_conformance.fixtures import access, manifests, namespaces, pods
from k8s_doc_conformance.fixtures.apicalls import rejection
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.namespaces import NamespaceMaker
from k8s_doc_conformance.fixtures.scenario import Scenario
from k8s_doc_conformance.fixtures.signatures import Kubectl
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for


@pytest.mark.claim("NS-NAME-UNIQUE-PER-NAMESPACE")
def test_names_are_unique_only_within_a_namespace(
    core: client.CoreV1Api, make_namespace: Callable[[], str], busybox_image: str, evidence: Evidence
) -> None:
    """ "In different namespaces we can use the same resource names. Resource names only need to be unique within a
    namespace." A pod and a ConfigMap named `x` in two namespaces; a second `x` in the first is refused."""
    first, second = make_namespace(), make_namespace()
    created = {}
    for ns in (first, second):
        pod = core.create_namespaced_pod(ns, pods.sleeper("x", busybox_image))
        cm = core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
        created[ns] = {"pod x uid": pod.metadata.uid, "configmap x uid": cm.metadata.uid}
    again = {
        "pod": rejection(lambda: core.create_namespaced_pod(first, pods.sleeper("x", busybox_image))),
        "configmap": rejection(
            lambda: core.create_namespaced_config_map(first, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
        ),
    }
    evidence.observe(
        documented="`x` is accepted once in each namespace; a second `x` in the same namespace is refused",
        observed={"created": created, "second x in the first namespace": again},
    )
    assert created[first]["pod x uid"] != created[second]["pod x uid"]
    for kind, result in again.items():
        assert result is not None, f"a second {kind} named x was accepted in {first}"
        assert result.status == 409 and result.reason == "AlreadyExists", f"{kind}: {result}"


@pytest.mark.claim("NS-LIST-DEFAULT-AND-FLAG")
def test_kubectl_lists_namespaces_defaults_to_default_and_takes_n(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "You can list all namespaces with kubectl get ns. By default we have been operating on resources in the
    default namespace; to view resources in another namespace, specify it with -n namespace."

    Nothing is written to `default`: a server-side dry run shows where an object without a namespace would land."""
    context_ns = kubectl("config", "view", "--minify", "-o", "jsonpath={..namespace}").stdout.strip()
    if context_ns:
        evidence.not_applicable(f"the kubeconfig context sets namespace {context_ns!r}, so kubectl's default is it")
    core.create_namespaced_pod(namespace, pods.sleeper("in-other-ns", busybox_image))
    listed = kubectl("get", "ns").stdout
    ns_names = [line.split()[0] for line in listed.splitlines()[1:] if line.strip()]
    without_n = kubectl("get", "pods", "-v=6", check=False)
    urls = [line for line in without_n.stderr.splitlines() if "/pods" in line and "GET" in line]
    if without_n.returncode == 0 and not urls:
        raise RuntimeError(f"`kubectl get pods -v=6` logged no request line to read: {without_n.stderr[-500:]}")
    manifest = manifests.minimal_pod(f"k8sdc-dry-{uuid.uuid4().hex[:6]}", busybox_image)
    dry = yaml.safe_load(kubectl("create", "-f", "-", "--dry-run=server", "-o", "yaml", input=manifest).stdout)
    with_n = kubectl("get", "pods", "-n", namespace, "-o", "name").stdout.split()
    observed = {
        "namespaces listed": {
            "default": "default" in ns_names,
            namespace: namespace in ns_names,
            "count": len(ns_names),
        },
        "`get pods` without -n requests": urls,
        "namespace of a pod created without one (dry run)": dry["metadata"].get("namespace"),
        f"`get pods -n {namespace}`": with_n,
    }
    evidence.attach("kubectl get ns", listed)
    evidence.observe(
        documented=f"`get ns` lists default and {namespace}; no -n means default; -n {namespace} lists its pod",
        observed=observed,
    )
    assert without_n.returncode == 0, without_n.stderr[-500:]
    assert "default" in ns_names and namespace in ns_names, ns_names
    assert urls and all("/namespaces/default/pods" in u for u in urls), urls
    assert observed["namespace of a pod created without one (dry run)"] == "default", dry["metadata"]
    assert with_n == ["pod/in-other-ns"], with_n


@pytest.mark.claim("NS-CREATE-YAML-OR-CLI")
def test_namespaces_from_yaml_or_kubectl_create_namespace(
    core: client.CoreV1Api, own_namespace: NamespaceMaker, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "Because the namespace resource is simple, we can create one directly with kubectl create namespace name";
    it can also be created by posting the YAML manifest (`kind: Namespace`), and a pod whose manifest says
    `namespace: custom-namespace` is created in that namespace."""

    def from_yaml(name: str, labels: dict[str, str]) -> None:
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        kubectl("create", "-f", "-", input=yaml.safe_dump(manifest))

    def from_cli(name: str, labels: dict[str, str]) -> None:
        kubectl("create", "namespace", name)
        kubectl("label", "namespace", name, *(f"{k}={v}" for k, v in labels.items()))

    via_yaml = own_namespace(from_yaml, prefix="k8sdc-custom-")
    via_cli = own_namespace(from_cli, prefix="k8sdc-cli-")
    found = {}
    for ns in (via_yaml, via_cli):
        manifest = manifests.kubia_manual("kubia-manual", busybox_image, namespace=ns)
        kubectl("create", "-f", "-", input=manifest)  # no -n: the manifest names the namespace
        found[ns] = {
            "namespace phase": core.read_namespace(ns).status.phase,
            "kubectl get pods -n": kubectl("get", "pods", "-n", ns, "-o", "name").stdout.split(),
        }
    evidence.observe(
        documented="both namespaces exist; the pod is found with -n <namespace>",
        observed=found,
        created={"YAML manifest": via_yaml, "kubectl create namespace": via_cli},
    )
    for ns in (via_yaml, via_cli):
        assert found[ns]["namespace phase"] == "Active", found[ns]
        assert found[ns]["kubectl get pods -n"] == ["pod/kubia-manual"], found[ns]


@pytest.mark.claim("NS-QUOTA-COMPUTE")
def test_namespace_limits_compute_resources(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "…namespaces … can also limit the amount of compute resources available to individual users." (Implied;
    the mechanism is a ResourceQuota.) With limits.cpu=1: a 2-CPU pod is refused; 500m fits; another 600m does
    not."""
    quota = client.V1ResourceQuota(
        metadata=client.V1ObjectMeta(name="compute"), spec=client.V1ResourceQuotaSpec(hard={"limits.cpu": "1"})
    )
    core.create_namespaced_resource_quota(namespace, quota)
    wait_for(
        lambda: core.read_namespaced_resource_quota("compute", namespace).status.hard,
        bool,
        30,
        "the quota controller to fill in the quota's status",
    )

    def cpu_pod(name: str, cpu: str) -> client.V1Pod:
        pod = pods.sleeper(name, busybox_image)
        pod.spec.containers[0].resources = client.V1ResourceRequirements(limits={"cpu": cpu})
        return pod

    results = {
        "2 CPUs": rejection(lambda: core.create_namespaced_pod(namespace, cpu_pod("big", "2"))),
        "500m": rejection(lambda: core.create_namespaced_pod(namespace, cpu_pod("half", "500m"))),
        "600m more": rejection(lambda: core.create_namespaced_pod(namespace, cpu_pod("more", "600m"))),
    }
    status = core.read_namespaced_resource_quota("compute", namespace).status
    evidence.observe(
        documented="the namespace's CPU budget is enforced: 2 CPUs refused, 500m accepted, 600m more refused",
        observed={
            case: "accepted" if r is None else f"{r.status} {r.reason}: {r.message}" for case, r in results.items()
        },
        quota={"hard": status.hard, "used": status.used},
    )
    assert results["500m"] is None, f"a pod within the quota was refused: {results['500m']}"
    for case in ("2 CPUs", "600m more"):
        result = results[case]
        assert result is not None, f"a pod asking for {case} was accepted past limits.cpu=1"
        assert result.status == 403 and "exceeded quota" in result.message, result


@pytest.mark.claim("NS-ACCESS-CONTROL")
def test_namespace_restricts_who_may_access_what(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    make_namespace: Callable[[], str],
    evidence: Evidence,
) -> None:
    """ "…namespaces restrict which users can access which resources…" (Implied; the mechanism is RBAC.) A
    ServiceAccount granted `list pods` by a Role in namespace A lists A's pods with its own token and is refused in
    namespace B."""
    a, b = make_namespace(), make_namespace()
    user = access.service_account(api_client, a, "reader")
    access.role(api_client, a, "pod-reader", ["pods"], ["get", "list"])
    access.bind(api_client, a, "reader", "pod-reader")
    as_reader = client.CoreV1Api(access.acting_as(api_client, a, "reader"))

    def list_pods(ns: str) -> str:
        result = rejection(lambda: as_reader.list_namespaced_pod(ns))
        return "allowed" if result is None else f"{result[0]} {result[1]}"

    # RBAC changes reach the authorizer through a watch: give the binding a few seconds.
    in_a = wait_for(lambda: list_pods(a), lambda r: r == "allowed", 15, f"the binding to let reader list pods in {a}")
    in_b = list_pods(b)
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{a}", "system:authenticated"]
    review = {ns: access.may(api_client, user, groups, "list", "pods", namespace=ns) for ns in (a, b)}
    evidence.observe(
        documented=f"{user} may list pods in {a} (its Role) and not in {b}",
        observed={f"list pods in {a}": in_a, f"list pods in {b}": in_b},
        subject_access_review=review,
    )
    assert in_a == "allowed"
    assert in_b.startswith("403"), f"the ServiceAccount listed pods in a namespace it has no Role in: {in_b}"


@pytest.mark.claim("DEL-BY-NAME")
def test_kubectl_delete_pods_by_name(scenario: Scenario, kubectl: Kubectl) -> None:
    """ "Delete pods by name: kubectl delete po po_name[ pod_name1....]". Two of three running pods are named; the
    third stays."""
    for name in ("one", "two", "three"):
        scenario.create(scenario.sleeper(name))
    for name in ("one", "two", "three"):
        pods.wait_running(scenario.core, scenario.namespace, name)
    left = namespaces.kubectl_delete_pods(kubectl, scenario.core, scenario.namespace, scenario.evidence, "one", "two")
    scenario.observe(documented=["three"], observed=left)
    assert left == ["three"], f"pods left after deleting one and two: {left}"


@pytest.mark.claim("DEL-BY-LABEL")
def test_kubectl_delete_pods_by_label(scenario: Scenario, kubectl: Kubectl) -> None:
    """ "Delete pods by label: kubectl delete po -l key=value". Three pods, two labelled env=doomed: only those
    two go."""
    labels = {"a": {"env": "doomed"}, "b": {"env": "doomed"}, "c": {"env": "kept"}}
    for name, pod_labels in labels.items():
        scenario.create(scenario.sleeper(name, labels=pod_labels))
    left = namespaces.kubectl_delete_pods(
        kubectl, scenario.core, scenario.namespace, scenario.evidence, "-l", "env=doomed"
    )
    scenario.observe(documented=["c"], observed=left)
    assert left == ["c"], f"pods left after deleting env=doomed: {left}"


@pytest.mark.claim("DEL-NAMESPACE-CASCADE")
def test_kubectl_delete_namespace_deletes_its_pods(
    core: client.CoreV1Api, own_namespace: NamespaceMaker, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "Delete pods by deleting their namespace: kubectl delete ns ns_name". Two running pods, a ConfigMap and a
    Service; the namespace and everything in it must be gone within 120 s."""
    ns = own_namespace()
    for name in ("p1", "p2"):
        core.create_namespaced_pod(ns, pods.sleeper(name, busybox_image))
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm")))
    core.create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="svc"),
            spec=client.V1ServiceSpec(selector={"app": "x"}, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    before = {name: pods.wait_running(core, ns, name).metadata.uid for name in ("p1", "p2")}
    start = time.monotonic()
    result = kubectl("delete", "ns", ns, "--wait=false")
    try:
        final = wait_for(
            lambda: namespaces.namespace_state(core, ns), lambda s: bool(s["gone"]), 120, f"namespace {ns} gone"
        )
    except WaitTimeout as exc:
        final = cast(dict[str, object], exc.last)
    took = round(time.monotonic() - start, 1)
    evidence.attach("kubectl delete ns", result.stdout + result.stderr)
    evidence.observe(
        documented="the namespace and its pods are gone",
        observed={"after s": took, **final},
        pods_before=before,
    )
    assert not final["pods"], f"pods still in {ns} {took} s after `kubectl delete ns`: {final}"
    assert final["gone"], f"namespace {ns} still exists {took} s after `kubectl delete ns`: {final}"


@pytest.mark.claim("DEL-ALL-CATEGORY")
def test_kubectl_delete_po_all_empties_a_namespace_of_pods(scenario: Scenario, kubectl: Kubectl) -> None:
    """ "Delete all pods in a namespace: kubectl delete po --all": three pods, then none."""
    for name in ("a", "b", "c"):
        scenario.create(scenario.sleeper(name))
    po_all = kubectl("delete", "po", "--all", "-n", scenario.namespace, "--timeout=90s")
    left = scenario.pod_names()
    scenario.evidence.attach("kubectl delete po --all", po_all.stdout + po_all.stderr)
    scenario.observe(documented="no pod left", observed={"pods left": left})
    assert left == [], f"`kubectl delete po --all` left pods: {left}"


@pytest.mark.claim("DEL-ALL-CATEGORY")
def test_kubectl_delete_all_spares_resources_outside_all(
    scenario: Scenario, api_client: client.ApiClient, kubectl: Kubectl
) -> None:
    """ "Delete all resources in a namespace: kubectl delete all --all"; "some resources are not included in all and
    must be named explicitly, e.g. secrets". `delete all --all` removes a Deployment (its ReplicaSet and pods), a
    Service and a pod, and leaves the Secret."""
    apps = client.AppsV1Api(api_client)
    scenario.create(scenario.sleeper("bare"))
    scenario.deployment("web")
    scenario.service("web", 80)
    scenario.secret("creds", {"k": "v"})
    scenario.config_map("settings")
    wait_for(scenario.pod_names, lambda names: len(names) == 2, 60, "the Deployment's pod to exist")
    all_all = kubectl("delete", "all", "--all", "-n", scenario.namespace, "--timeout=90s")
    workload = ("pods", "deployments", "replicasets", "services")
    try:  # the Deployment's pods are removed by the garbage collector after its ReplicaSet goes
        left = wait_for(
            lambda: namespaces.namespace_contents(scenario.core, apps, scenario.namespace),
            lambda r: not any(r[k] for k in workload), 60, "the workload to be gone",
        )  # fmt: skip
    except WaitTimeout as exc:
        left = cast(dict[str, list[str]], exc.last)
    categories = {
        r.name: r.categories or []
        for r in [*scenario.core.get_api_resources().resources, *apps.get_api_resources().resources]
        if r.name in ("pods", "services", "deployments", "replicasets", "secrets", "configmaps")
    }
    scenario.evidence.attach("kubectl delete all --all", all_all.stdout + all_all.stderr)
    scenario.observe(
        documented="workload gone, the Secret remains", observed={"left": left}, discovery_categories=categories
    )
    assert not any(left[k] for k in workload), f"`kubectl delete all --all` left: {left}"
    assert "creds" in left["secrets"], "`kubectl delete all --all` deleted the Secret, which is not in `all`"
    assert "all" not in categories["secrets"], categories
