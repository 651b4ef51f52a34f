"""Image names (docs 000, 001, 002, 004: "镜像名称" / "Nomes de imagens").

An image reference names a registry (default Docker Hub), a repository, a tag (default ``latest``) or a digest.
Observed with the suite's own registry: what ran, and which manifests the registry served.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import capabilities, pods
from k8s_doc_conformance.fixtures.apicalls import must_be_accepted
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.nodes import Node, tag_image, untag_image
from k8s_doc_conformance.fixtures.pull_checks import ran_or_failed_to_pull, registry_on_port, waiting_message
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.service import Registry
from k8s_doc_conformance.fixtures.signatures import Exclusive


@pytest.mark.claim("IMG-NAME-DEFAULT-REGISTRY")
def test_no_registry_means_docker_hub(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    caps: capabilities.Capabilities,
    cluster_nodes: Mapping[str, Node],
    run_id: str,
    evidence: Evidence,
) -> None:
    """ "如果你不指定仓库的主机名，Kubernetes 认为你在使用 Docker 公共仓库。" An image present on the nodes as
    ``docker.io/library/busybox:<tag>`` (the busybox image, tagged so in each schedulable node's containerd for the
    test) runs under the short name ``busybox:<tag>``."""
    short = f"busybox:k8sdc-{run_id.lower()}-{uuid.uuid4().hex[:6]}"
    on = [cluster_nodes[n] for n in caps.schedulable_nodes]
    try:
        for node in on:
            tag_image(node, busybox_image, f"docker.io/library/{short}")
        done, _ = pods.run_to_completion(core, namespace, pods.marker_pod("short", short))
    finally:
        for node in on:
            untag_image(node, f"docker.io/library/{short}")
    image = done.status.container_statuses[0].image
    evidence.observe(documented=f"docker.io/library/{short}", observed=image)
    assert done.status.phase in ("Succeeded", "Failed"), pods.describe(done)
    assert image == f"docker.io/library/{short}", image


@pytest.mark.claim("IMG-NAME-DEFAULT-TAG-LATEST")
def test_no_tag_means_latest(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """ "如果你不指定标签，Kubernetes 认为你想使用标签 latest。\""""
    repo = f"{run_id}/notag"
    push.push_marker(open_registry, repo, "latest", "latest")
    since = datetime.now(UTC)
    pod = pods.marker_pod("notag", open_registry.image(repo), "Always")
    must_be_accepted(
        lambda: core.create_namespaced_pod(namespace, pod),
        evidence,
        documented="the registry is asked for tag latest",
        what=f"a pod with the image {open_registry.image(repo)} (no tag)",
    )
    done = pods.wait_terminal(core, namespace, "notag", 120)
    out = pods.logs(core, namespace, "notag")
    asked = {
        r.reference for r in witness.requests(open_registry, since) if r.repository == repo and r.kind == "manifest"
    }
    evidence.observe(
        documented="the registry is asked for tag latest",
        observed={
            "manifest references asked for": sorted(x or "" for x in asked),
            "image": done.status.container_statuses[0].image,
        },
    )
    assert out.strip() == "latest", out
    assert "latest" in asked, asked


@pytest.mark.claim("IMG-NAME-TAG-CHARSET")
def test_tag_characters(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """Tags may contain upper- and lower-case letters, digits, '_', '.' and '-', with rules on where separators may
    stand: a valid tag runs; tags breaking those rules give InvalidImageName."""
    repo = f"{run_id}/charset"
    push.push_marker(open_registry, repo, "Ab_1.0-rc", "charset")
    done, out = pods.run_to_completion(
        core, namespace, pods.marker_pod("valid", open_registry.image(f"{repo}:Ab_1.0-rc"))
    )
    outcomes = {"Ab_1.0-rc": f"{done.status.phase}: {out.strip()}"}
    for i, bad in enumerate((".bad", "-bad", "t" * 129)):
        core.create_namespaced_pod(namespace, pods.marker_pod(f"bad-{i}", open_registry.image(f"{repo}:{bad}")))
        final = pods.wait_waiting_reason(core, namespace, f"bad-{i}", {"InvalidImageName", "ErrImagePull"}, 60)
        outcomes[bad[:12]] = final.status.container_statuses[0].state.waiting.reason
    evidence.observe(
        documented={
            "Ab_1.0-rc": "runs",
            ".bad": "InvalidImageName",
            "-bad": "InvalidImageName",
            "t…(129)": "InvalidImageName",
        },
        observed=outcomes,
    )
    assert outcomes["Ab_1.0-rc"] == "Succeeded: charset", outcomes
    assert [v for k, v in outcomes.items() if k != "Ab_1.0-rc"] == ["InvalidImageName"] * 3, outcomes


@pytest.mark.claim("IMG-NAME-DIGEST-REF")
def test_image_by_digest(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """An image can be referenced as ``<image-name>@<digest>``."""
    repo = f"{run_id}/digest"
    digest = push.push_marker(open_registry, repo, "v1", "by-digest")
    done, out = pods.run_to_completion(
        core, namespace, pods.marker_pod("digest", open_registry.image(f"{repo}@{digest}"))
    )
    image_id = done.status.container_statuses[0].image_id
    evidence.observe(
        documented=f"runs; imageID contains {digest}", observed={"output": out.strip(), "imageID": image_id}
    )
    assert out.strip() == "by-digest" and digest in image_id, (out, image_id)


@pytest.mark.claim("IMG-NAME-DIGEST-PINS-CODE")
def test_a_digest_pins_the_code(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """ "镜像摘要唯一标识了镜像的特定版本，所以 Kubernetes 每次启动具有特定镜像名称和摘要的容器时，都会运行相同的代码。"
    The tag moves to new content; a pod naming the old digest (policy Always) still runs the old code."""
    repo = f"{run_id}/pinned"
    first = push.push_marker(open_registry, repo, "t", "v1")
    second = push.push_marker(open_registry, repo, "t", "v2")
    _, out = pods.run_to_completion(
        core, namespace, pods.marker_pod("pinned", open_registry.image(f"{repo}@{first}"), "Always")
    )
    evidence.observe(documented="v1", observed=out.strip(), digests={"v1": first, "v2 (tag now)": second})
    assert out.strip() == "v1"


@pytest.mark.claim("IMG-NAME-TAG-MOVE-MIXES-VERSIONS")
def test_a_moved_tag_can_mix_versions(
    core: client.CoreV1Api,
    namespace: str,
    open_registry: Registry,
    run_id: str,
    caps: capabilities.Capabilities,
    evidence: Evidence,
) -> None:
    """ "…如果镜像仓库把镜像标签指向了新的代码 …你可能会看到有些 Pod 运行旧代码，有些 Pod 运行新代码":
    after the tag moves, a pod that pulls (Always) runs the new code while one started earlier ran the old."""
    node = caps.schedulable_nodes[0]
    repo = f"{run_id}/moving"
    image = open_registry.image(f"{repo}:t")
    push.push_marker(open_registry, repo, "t", "v1")
    _, a = pods.run_to_completion(core, namespace, pods.marker_pod("a", image, "IfNotPresent", node))
    push.push_marker(open_registry, repo, "t", "v2")
    _, b = pods.run_to_completion(core, namespace, pods.marker_pod("b", image, "Always", node))
    _, c = pods.run_to_completion(
        core, namespace, pods.marker_pod("c", f"{open_registry.image(repo)}:t", "IfNotPresent", node)
    )
    observed = {"A (before the move)": a.strip(), "B (Always, after)": b.strip(), "C (IfNotPresent, after)": c.strip()}
    evidence.observe(documented="old and new code side by side", observed=observed, node=node)
    assert observed["A (before the move)"] == "v1"
    assert observed["B (Always, after)"] == "v2"
    assert len(set(observed.values())) == 2, f"no mix of versions: {observed}"


#: The documentation's example port; on the node it is forwarded (DNAT) to the registry's port 443.
ALT_PORT = 10443


@pytest.mark.claim("IMG-NAME-REGISTRY-HOST-PORT")
def test_registry_host_and_port_in_the_name(
    core: client.CoreV1Api,
    namespace: str,
    open_registry: Registry,
    run_id: str,
    caps: capabilities.Capabilities,
    request: pytest.FixtureRequest,
    exclusive: Exclusive,
    evidence: Evidence,
) -> None:
    """ "镜像名称也可以包含所在仓库的主机名…还可以包含仓库的端口号，例如：fictional.registry.example:10443/imagename"
    The suite's registry under a name with a port serves the pull: in a cluster the suite did not build its own
    ``localhost:<port>``; on the suite's cluster ``open.k8sdc.test:10443`` (forwarded on the node, which needs node
    access). The same name with a port where nothing answers fails, so the port in the name is the one used."""
    node = caps.schedulable_nodes[0]
    repo = f"{run_id}/hostport-{uuid.uuid4().hex[:8]}"
    marker = f"host-and-port {repo}"  # content of this test alone: status.image names the first tag of an image ID
    push.push_marker(open_registry, repo, "v1", marker)
    with_port = next((n for n in open_registry.names if ":" in n), None)
    name = with_port.rsplit(":", 1)[0] if with_port else open_registry.names[0]
    forwarded = (
        nullcontext(with_port)
        if with_port
        else registry_on_port(request.getfixturevalue("node_exec"), node, name, ALT_PORT)
    )
    with exclusive(f"registry-port-{ALT_PORT}"), forwarded as host:
        since = datetime.now(UTC)
        image = f"{host}/{repo}:v1"
        core.create_namespaced_pod(namespace, pods.marker_pod("with-port", image, "IfNotPresent", node))
        done = pods.wait_pod(core, namespace, "with-port", ran_or_failed_to_pull, 120, "to run or fail to pull")
        out = pods.logs(core, namespace, "with-port") if done.status.phase in pods.TERMINAL else ""
        served = [r for r in witness.requests(open_registry, since) if r.repository == repo and r.kind == "manifest"]
        wrong = f"{name}:{ALT_PORT + 1}/{repo}:v1"
        core.create_namespaced_pod(namespace, pods.marker_pod("wrong-port", wrong, "IfNotPresent", node))
        failed = pods.wait_pod(core, namespace, "wrong-port", ran_or_failed_to_pull, 120, "to run or fail to pull")
    status = done.status.container_statuses[0]
    evidence.observe(
        documented=f"pulled from the registry at {host}",
        observed={
            "output": out.strip(),
            "containerStatuses[].image": status.image,
            "manifest requests served": [
                f"{r.method} {r.reference} -> {r.status} (from {r.remote_ip})" for r in served
            ],
            f"port {ALT_PORT + 1}": pods.describe(failed),
            f"port {ALT_PORT + 1} message": waiting_message(failed),
        },
        node=node,
    )
    assert out.strip() == marker, f"not pulled through {host}: {pods.describe(done)}"
    assert status.image == image, status.image
    assert any(r.status == 200 for r in served), "the registry served no manifest for the host:port name"
