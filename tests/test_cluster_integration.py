"""The suite's own kind cluster is what the scenarios assume: 4 Ready nodes at the pinned version, kube-system
Running, pods reaching each other across nodes and through a Service, privileged pods, the test-handler runtime.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import capabilities, pods, target
from k8s_doc_conformance.fixtures.nodeimage import versions

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def own(cluster: target.ClusterTarget) -> target.ClusterTarget:
    if not cluster.owned:
        pytest.skip("checks the suite's own kind cluster")
    return cluster


def workers(core: client.CoreV1Api) -> list[str]:
    nodes = core.list_node().items
    return sorted(n.metadata.name for n in nodes if "node-role.kubernetes.io/control-plane" not in n.metadata.labels)


def test_four_ready_nodes_at_pinned_version(own: target.ClusterTarget, core: client.CoreV1Api) -> None:
    nodes = core.list_node().items
    summary = {
        n.metadata.name: (
            n.status.node_info.kubelet_version,
            next(c.status for c in n.status.conditions if c.type == "Ready"),
        )
        for n in nodes
    }
    assert len(nodes) == 4, summary
    assert all(v == (versions.KUBERNETES, "True") for v in summary.values()), summary


def test_every_kube_system_pod_running(own: target.ClusterTarget, core: client.CoreV1Api) -> None:
    pods_ = core.list_namespaced_pod("kube-system").items
    states = {p.metadata.name: p.status.phase for p in pods_}
    assert {"Running"} == set(states.values()), states
    names = " ".join(states)
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "coredns"):
        assert component in names, f"no {component} pod in kube-system: {sorted(states)}"


def test_pods_reach_each_other_across_nodes_and_through_a_service(
    own: target.ClusterTarget, core: client.CoreV1Api, namespace: str, busybox_image: str
) -> None:
    first, second = workers(core)[:2]
    token = uuid.uuid4().hex
    server = pods.command_pod(
        "server",
        busybox_image,
        ["sh", "-c", f"mkdir -p /www && echo {token} > /www/index.html && httpd -f -p 8080 -h /www"],
        node_name=first,
    )
    server.metadata.labels = {"app": "server"}
    server.spec.restart_policy = "Always"
    core.create_namespaced_pod(namespace, server)
    core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="server"),
            spec=client.V1ServiceSpec(
                selector={"app": "server"}, ports=[client.V1ServicePort(port=80, target_port=8080)]
            ),
        ),
    )
    running = pods.wait_running(core, namespace, "server")
    service_ip = core.read_namespaced_service("server", namespace).spec.cluster_ip
    # busybox-static's wget crashes (Debian 1.35.0-4); a plain HTTP/1.0 request through nc does the same job.
    get = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {} {} | tail -n1"
    fetch = (
        f"for t in 1 2 3 4 5; do {get.format(running.status.pod_ip, 8080)} | grep . && break; sleep 1; done; "
        f"for t in 1 2 3 4 5 6 7 8 9 10; do {get.format(service_ip, 80)} | grep . && break; sleep 1; done; "
        f"for t in 1 2 3 4 5; do nslookup server.{namespace}.svc.cluster.local >/dev/null && echo dns-ok && break;"
        " sleep 1; done"
    )
    core.create_namespaced_pod(
        namespace, pods.command_pod("client", busybox_image, ["sh", "-c", fetch], node_name=second)
    )
    done = pods.wait_terminal(core, namespace, "client", timeout=90)
    out = pods.logs(core, namespace, "client").split()
    assert done.status.phase == "Succeeded" and out == [token, token, "dns-ok"], (
        f"client on {second} -> pod {running.status.pod_ip} on {first}, service {service_ip}: {out}"
    )


def test_privileged_pod_runs(
    own: target.ClusterTarget, core: client.CoreV1Api, namespace: str, busybox_image: str
) -> None:
    pod = pods.command_pod(
        "privileged", busybox_image, ["sh", "-c", "mkdir -p /m && mount -t tmpfs k8sdc /m && echo ok"]
    )
    pod.spec.containers[0].security_context = client.V1SecurityContext(privileged=True)
    core.create_namespaced_pod(namespace, pod)
    done = pods.wait_terminal(core, namespace, "privileged")
    assert done.status.phase == "Succeeded", done.status
    assert pods.logs(core, namespace, "privileged").strip() == "ok"


def test_test_handler_runtime_runs_pods(
    own: target.ClusterTarget, api_client: client.ApiClient, core: client.CoreV1Api, namespace: str, busybox_image: str
) -> None:
    node = client.NodeV1Api(api_client)
    name = f"k8sdc-it-{namespace[-6:]}"
    node.create_runtime_class(client.V1RuntimeClass(metadata=client.V1ObjectMeta(name=name), handler="test-handler"))
    try:
        pod = pods.command_pod("handled", busybox_image, ["true"], runtime_class_name=name)
        core.create_namespaced_pod(namespace, pod)
        assert pods.wait_terminal(core, namespace, "handled").status.phase == "Succeeded"
    finally:
        node.delete_runtime_class(name)


def test_workers_pull_images_as_kind_config_says(own: target.ClusterTarget, caps: capabilities.Capabilities) -> None:
    """kind-config.yaml: the 'serial' worker keeps the kubelet defaults, the 'parallel' one pulls two at a time."""
    settings = caps.kubelet_settings
    assert caps.kubelet_config, "kubelet configuration (/configz) not readable"
    assert settings["k8sdc-worker"]["serializeImagePulls"] is True, settings["k8sdc-worker"]
    assert settings["k8sdc-worker2"]["serializeImagePulls"] is False, settings["k8sdc-worker2"]
    assert settings["k8sdc-worker2"]["maxParallelImagePulls"] == 2, settings["k8sdc-worker2"]
    assert {s["failCgroupV1"] for s in settings.values()} == {False}


def test_reconfigurable_worker_is_tainted_and_asks_our_credential_provider(
    own: target.ClusterTarget, core: client.CoreV1Api, node_exec: Callable[[str, list[str]], str]
) -> None:
    """kind-config.yaml: worker3 takes only pods that tolerate its taint; its kubelet runs our exec plugin."""
    node = core.read_node("k8sdc-worker3")
    taints = {(t.key, t.value, t.effect) for t in node.spec.taints or []}
    assert ("k8sdc.io/reconfigurable", "true", "NoSchedule") in taints, taints
    assert node.metadata.labels.get("k8sdc.io/node-role") == "reconfigurable", node.metadata.labels
    cmdline = node_exec("k8sdc-worker3", ["sh", "-c", "tr '\\0' ' ' < /proc/$(pidof kubelet)/cmdline"])
    assert "--image-credential-provider-config=/etc/k8sdc/credential-provider/config.yaml" in cmdline, cmdline
    answer = node_exec(
        "k8sdc-worker3",
        ["sh", "-c", "echo '{}' | /etc/k8sdc/credential-provider/bin/k8sdc-credential-provider"],
    )
    assert '"kind":"CredentialProviderResponse"' in answer, answer
