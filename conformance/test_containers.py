"""Containers overview (docs 000, 001, 002, 004: "容器" / "Contêineres").

Containers are images run by a container runtime on a node; a pod's containers run together on one node, and a
container is changed by replacing it with one from a new image, not in place.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures.apicalls import must_be_accepted
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.waits import wait_for


@pytest.mark.claim("CTR-POD-COLOCATED")
def test_containers_of_a_pod_run_on_one_node(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "…containers of a Pod are co-located and co-scheduled on the same node.\""""
    node_env = [
        client.V1EnvVar(
            name="NODE",
            value_from=client.V1EnvVarSource(field_ref=client.V1ObjectFieldSelector(field_path="spec.nodeName")),
        )
    ]
    containers = [
        client.V1Container(name=c, image=busybox_image, command=["sh", "-c", "echo $NODE"], env=node_env)
        for c in ("a", "b")
    ]
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="together"),
        spec=client.V1PodSpec(containers=containers, restart_policy="Never"),
    )
    core.create_namespaced_pod(namespace, pod)
    done = pods.wait_terminal(core, namespace, "together")
    seen = {c: pods.logs(core, namespace, "together", container=c).strip() for c in ("a", "b")}
    evidence.observe(documented=f"both on {done.spec.node_name}", observed=seen)
    assert done.status.phase == "Succeeded", pods.describe(done)
    assert seen == {"a": done.spec.node_name, "b": done.spec.node_name}


@pytest.mark.claim("CTR-IMAGE-CHANGE-REPLACES")
def test_changing_the_image_replaces_the_container(
    core: client.CoreV1Api, namespace: str, push_image: Callable[..., str], evidence: Evidence
) -> None:
    """ "…you don't change the code of a running container; you build a new image and recreate the container": a
    new image on a running pod gives a new container (new ID, new image), not an in-place change."""
    first = push_image("replace-a", push.marker_image("first"))
    second = push_image("replace-b", push.marker_image("second"))
    pod = pods.command_pod("replaced", first, ["sh", "-c", "cat /marker; echo; sleep 3600"])
    core.create_namespaced_pod(namespace, pod)
    before = pods.wait_running(core, namespace, "replaced").status.container_statuses[0]
    must_be_accepted(
        lambda: core.patch_namespaced_pod(
            "replaced", namespace, {"spec": {"containers": [{"name": "main", "image": second}]}}
        ),
        evidence,
        documented="a new container: new container ID and image, restart count up",
        what="a new image for the running pod's container",
    )

    def swapped(p: client.V1Pod) -> bool:
        cs = p.status.container_statuses[0]
        return cs.container_id != before.container_id and bool(cs.state.running)

    after = pods.wait_pod(core, namespace, "replaced", swapped, 120, "to run the new image")
    after = after.status.container_statuses[0]
    output = wait_for(lambda: pods.logs(core, namespace, "replaced").strip(), bool, 15, "the new container's output")
    evidence.observe(
        documented="a new container: new container ID and image, restart count up",
        observed={
            "before": {"id": before.container_id, "image": before.image_id, "restarts": before.restart_count},
            "after": {"id": after.container_id, "image": after.image_id, "restarts": after.restart_count},
            "output now": output,
        },
    )
    assert after.image_id != before.image_id
    assert after.restart_count == before.restart_count + 1
    assert output == "second", output


@pytest.mark.claim("CTR-RUNTIME-CRI")
def test_nodes_run_a_cri_runtime(core: client.CoreV1Api, evidence: Evidence) -> None:
    """ "Kubernetes supports container runtimes such as containerd, CRI-O, and any other implementation of the
    Kubernetes CRI" (002 also lists Docker, whose dockershim was removed in v1.24)."""
    runtimes = {n.metadata.name: n.status.node_info.container_runtime_version for n in core.list_node().items}
    evidence.observe(documented="containerd:// or cri-o://", observed=runtimes)
    assert runtimes and all(v.split("://")[0] in ("containerd", "cri-o") for v in runtimes.values()), runtimes
