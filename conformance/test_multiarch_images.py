"""Multi-architecture images (docs 000, 001, 002, 004: "多架构镜像索引" / "Imagens multi-arquitetura com índice").

An image index points to one image manifest per architecture; under one name, each node fetches the image for
its own architecture. Observed with an index in the suite's open registry whose amd64 and arm64 images print
different markers, a pod per schedulable node, and the registry's log of which manifests each node fetched.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import capabilities, multiarch, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.service import RegistrySet


@pytest.mark.claim("IMG-ARCH-INDEX-SELECT")
def test_an_index_gives_each_node_its_architecture(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    run_id: str,
    caps: capabilities.Capabilities,
    evidence: Evidence,
) -> None:
    """ "镜像索引可以指向镜像的多个镜像清单，提供特定于体系结构版本的容器。…允许不同的系统基于它们所使用的机器体系结构
    取回正确的二进制镜像。" One name, an index of linux/amd64 and linux/arm64: every node runs the image of its own
    architecture and fetches no other platform's manifest. Also recorded: which digest containerStatuses[].imageID
    names (the index or the platform manifest)."""
    reg = registries.open
    repo = f"{run_id}/multiarch-{uuid.uuid4().hex[:8]}"
    # content of this test alone: the node names an image ID after the first repository it pulled it from
    markers = {platform: f"{marker} {repo}" for platform, marker in push.DEFAULT_MARKERS.items()}
    pushed = push.push_multiarch(reg.push_host, repo, "v1", markers, ca_cert=reg.ca_cert)
    nodes: list[str] = caps.schedulable_nodes
    arch = {n.metadata.name: n.status.node_info.architecture for n in core.list_node().items}
    since = datetime.now(UTC)
    for i, node in enumerate(nodes):
        pod = pods.command_pod(f"on-{i}", reg.image(f"{repo}:v1"), [], node_name=node)
        pod.spec.containers[0].command = None  # the image's entrypoint prints its marker
        core.create_namespaced_pod(namespace, pod)
    observed: dict[str, dict[str, object]] = {}
    for i, node in enumerate(nodes):
        observed[node] = multiarch.node_run(core, namespace, f"on-{i}", arch[node], pushed)
    requests = [r for r in witness.requests(reg, since) if r.repository == repo]
    fetched = sorted({f"{r.kind} {r.reference}" for r in requests if r.kind == "manifest"})
    evidence.observe(
        documented="each node runs the image of its architecture",
        observed=observed,
        index=pushed.index,
        platforms=pushed.platforms,
        manifests_fetched=fetched,
    )
    for node, seen in observed.items():
        assert seen["output"] == f"arch={seen['architecture']}", f"{node}: {seen}"
    foreign = [d for p, d in pushed.platforms.items() if p.split("/")[1] not in {*arch.values()}]
    asked_foreign = [r for r in requests if r.reference in foreign]
    assert not asked_foreign, f"nodes fetched another architecture's manifest: {[r.path for r in asked_foreign]}"


@pytest.mark.claim("IMG-ARCH-SUFFIX-CONVENTION")
def test_arch_suffixed_names_are_a_publishing_convention(evidence: Evidence) -> None:
    """ "Kubernetes 自身通常在命名容器镜像时添加后缀 -$(ARCH)。为了向前兼容，请在生成较老的镜像时也提供后缀。"
    How the Kubernetes project names the images it publishes, not something a cluster does."""
    evidence.not_applicable(
        "a naming convention for images the Kubernetes project publishes (e.g. registry.k8s.io/pause-amd64), not "
        "cluster behaviour; checking the public registry needs internet access, which the suite does not use"
    )
