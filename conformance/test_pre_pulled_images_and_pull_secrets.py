"""Private registries, continued (docs 000, 001, 002, 004: "使用私有仓库" / "Usando um registro privado"): pre-pulled
images, imagePullSecrets on the pod, the documents' use cases, and pull secrets together with node configuration.
Observed as in test_private_registries.py: the suite's auth registry and its witness, which names the user each
request authenticated as and the node it came from; node configuration changed only on the reconfigurable node and
put back afterwards (fixtures/private_pulls.py). Evidence names users only, never passwords.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import node_credentials as nc
from k8s_doc_conformance.fixtures import pods, pullsecrets
from k8s_doc_conformance.fixtures import private_pulls as priv
from k8s_doc_conformance.fixtures.admission import AlwaysPullPair
from k8s_doc_conformance.fixtures.capabilities import kubelet_config
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.nodes import Node
from k8s_doc_conformance.fixtures.private_pulls import PrivatePull
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.service import RegistrySet, unrelated_name

# --- pre-pulled images --------------------------------------------------------------------------------------------


@pytest.mark.claim("PRIV-PREPULLED-USABLE-BY-ALL")
@pytest.mark.needs("node_access")
def test_images_pre_pulled_by_root_are_usable_by_every_pod(
    private_pull: PrivatePull,
    cluster_nodes: Mapping[str, Node],
    make_namespace: Callable[[], str],
    evidence: Evidence,
) -> None:
    """ "所有 Pod 都可以使用节点上缓存的所有镜像" (pre-pulled images; "requires root access to all nodes"). Root pulls
    the private image on a node with alice's credentials (crictl); pods of two namespaces, without pull secrets,
    with IfNotPresent and Never, run it there, and the registry is not asked again."""
    pp = private_pull
    node = priv.other_node(pp.core, "")
    namespaces = [make_namespace(), make_namespace()]
    with nc.images_removed_afterwards(cluster_nodes[node], pp.image):
        nc.pre_pull(cluster_nodes[node], pp.image, "alice", pp.registry.users["alice"])
        pulled_at = datetime.now(UTC)
        outcome = {
            f"{ns} {policy}": pp.pull(ns, f"use-{policy.lower()}", node, policy=policy)
            for ns in namespaces
            for policy in ("IfNotPresent", "Never")
        }
    asked_after = [r for r in pp.requests(since=pulled_at) if r["node"] == node]
    evidence.observe(
        documented={k: "ran" for k in outcome},
        observed=outcome,
        node=node,
        registry_requests_after_the_pre_pull=asked_after,
    )
    assert all(v == "ran" for v in outcome.values()), f"pods without pull secrets: {outcome}"
    assert not asked_after, f"the pods' node asked the registry again: {asked_after}"


@pytest.mark.claim("PRIV-PREPULLED-USABLE-BY-ALL")
@pytest.mark.needs("node_access")
def test_an_image_a_pod_pulled_with_its_secret_is_usable_by_every_pod(
    private_pull: PrivatePull,
    cluster_nodes: Mapping[str, Node],
    api_client: client.ApiClient,
    make_namespace: Callable[[], str],
    evidence: Evidence,
) -> None:
    """ "所有 Pod 都可以使用节点上缓存的所有镜像": any cached image, also one the kubelet pulled for a pod with
    imagePullSecrets. Pod A (alice's secret) pulls the image on a node; pod B (another namespace, no secret,
    IfNotPresent, same node) should run it from the cache."""
    pp, core = private_pull, private_pull.core
    node = priv.other_node(core, "")
    owner, other = make_namespace(), make_namespace()
    core.create_namespaced_secret(owner, priv.user_secret(pp.registry))
    with nc.images_removed_afterwards(cluster_nodes[node], pp.image):
        first = pp.pull(owner, "a", node, policy="IfNotPresent", secrets=("regcred",))
        pulled_at = datetime.now(UTC)
        second = pp.pull(other, "b", node, policy="IfNotPresent")
    asked_after = [r for r in pp.requests(since=pulled_at) if r["node"] == node]
    settings = kubelet_config(api_client, node) or {}
    evidence.observe(
        documented={"pod A (secret)": "ran", "pod B (no secret, IfNotPresent, same node)": "ran from the cache"},
        observed={"pod A (secret)": first, "pod B (no secret, IfNotPresent, same node)": second},
        node=node,
        registry_requests_for_pod_b=asked_after,
        imagePullCredentialsVerificationPolicy=settings.get("imagePullCredentialsVerificationPolicy"),
        featureGates=settings.get("featureGates"),
        events_of_pod_b=priv.pull_events(core, other, "b"),
    )
    if first != "ran":
        raise RuntimeError(f"precondition: pod A with alice's secret did not run: {first}")
    assert second == "ran", (
        f"pod B without a secret could not use the image pod A pulled with one on {node} ({second}): the kubelet "
        "checks the pod's own credentials against the registry before reusing it (KubeletEnsureSecretPulledImages)"
    )


@pytest.mark.claim("PRIV-PREPULLED-SAME-ON-ALL-NODES")
@pytest.mark.needs("node_access", "multi_node")
def test_pre_pulled_images_must_be_on_every_node(
    private_pull: PrivatePull, cluster_nodes: Mapping[str, Node], namespace: str, evidence: Evidence
) -> None:
    """ "如果你希望使用提前拉取镜像的方法代替仓库认证,就必须保证集群中所有节点提前拉取的镜像是相同的。" The image is
    pre-pulled on one node only: a pod without pull secrets (imagePullPolicy Never) runs there and cannot start on
    another node."""
    pp = private_pull
    node = priv.other_node(pp.core, "")
    elsewhere = priv.other_node(pp.core, node)
    with nc.images_removed_afterwards(cluster_nodes[node], pp.image):
        nc.pre_pull(cluster_nodes[node], pp.image, "alice", pp.registry.users["alice"])
        outcome = {n: pp.pull(namespace, f"on-{n}", n, policy="Never") for n in (node, elsewhere)}
    evidence.observe(documented={node: "ran", elsewhere: "ErrImageNeverPull"}, observed=outcome, pre_pulled_on=node)
    assert outcome[node] == "ran", outcome
    assert outcome[elsewhere] in pods.NEVER_PULL, outcome


# --- imagePullSecrets ----------------------------------------------------------------------------------------------


@pytest.mark.claim("PRIV-PULLSECRET-ONLY-OWNER")
def test_only_pods_with_their_own_key_pull(private_pull: PrivatePull, namespace: str, evidence: Evidence) -> None:
    """ "只有提供自己密钥的 Pod 才能访问私有仓库": of two pods on one node pulling the private image (Always), the one
    with imagePullSecrets runs, the one without fails to pull."""
    pp = private_pull
    node = priv.other_node(pp.core, "")
    pp.core.create_namespaced_secret(namespace, priv.user_secret(pp.registry))
    outcome = {
        "with its own key": pp.pull(namespace, "with-key", node, secrets=("regcred",)),
        "without": pp.pull(namespace, "without", node),
    }
    users = priv.users_by_node(pp.requests())
    evidence.observe(documented={"with its own key": "ran", "without": "fails to pull"}, observed=outcome, users=users)
    assert outcome["with its own key"] == "ran", outcome
    assert outcome["without"] in pods.PULL_FAILED, outcome
    assert users.get(node) == ["alice"], users


# --- use cases -----------------------------------------------------------------------------------------------------


@pytest.mark.claim("PRIV-USECASE-PUBLIC-NO-CONFIG")
def test_public_images_need_no_configuration(evidence: Evidence) -> None:
    """ "使用来自公共仓库的公共镜像 … 不需要配置" / "Use imagens públicas no Docker hub. Nenhuma configuração
    necessária." """
    evidence.not_applicable(
        "a public registry (Docker Hub) is on the internet, which the suite does not use; that a registry anyone may "
        "read needs no configuration is checked on the suite's open registry (PRIV-USECASE-OPEN-INTERNAL)"
    )


@pytest.mark.claim("PRIV-USECASE-OPEN-INTERNAL")
def test_an_open_internal_registry_needs_no_configuration(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    push_image: Callable[..., str],
    evidence: Evidence,
) -> None:
    """ "在防火墙内运行一个组织内部的私有仓库,并开放读取权限 … 不需要配置 Kubernetes": an image from the suite's open
    registry (anonymous reads) runs in a fresh namespace: no imagePullSecrets, default ServiceAccount unchanged."""
    image = push_image(f"open-{uuid.uuid4().hex[:8]}", push.marker_image("internal"))
    repo = image.split("/", 1)[1].rsplit(":", 1)[0]
    since = datetime.now(UTC)
    pod = pods.command_pod("internal", image, ["cat", "/marker"])
    pod.spec.containers[0].image_pull_policy = "Always"
    outcome = priv.pull_outcome(core, namespace, pod)
    done = core.read_namespaced_pod("internal", namespace)
    out = pods.logs(core, namespace, "internal") if outcome == "ran" else ""
    sa = core.read_namespaced_service_account("default", namespace)
    asked = [
        {"status": r.status, "user": r.user}
        for r in witness.requests(registries.open, since)
        if r.repository == repo and r.kind == "manifest"
    ]
    evidence.observe(
        documented="runs without any Kubernetes configuration",
        observed={"outcome": outcome, "phase": done.status.phase, "output": out.strip()},
        pod_pull_secrets=done.spec.image_pull_secrets,
        default_serviceaccount_pull_secrets=sa.image_pull_secrets,
        registry_requests=asked,
    )
    assert outcome == "ran" and out.strip() == "internal", f"an open registry's image: {pods.describe(done)}"
    assert not done.spec.image_pull_secrets and not sa.image_pull_secrets
    assert asked and all(r["user"] is None and r["status"] == 200 for r in asked), asked


# --- pull secrets together with node config (SECRET area) ----------------------------------------------------------


@pytest.mark.claim("SECRET-MERGE-WITH-NODE-CONFIG")
@pytest.mark.needs("reconfigurable")
def test_pull_secrets_and_node_config_are_merged(
    private_pull: PrivatePull, namespace: str, reconfigurable: Node, evidence: Evidence
) -> None:
    """ "你也可以将此方法与节点级别的 .docker/config.json 配置结合使用。 来自不同来源的凭据会被合并。" The node's
    config.json has bob for one registry name, the pod's secret alice for another: a pod with a container from
    each pulls both, as bob and as alice."""
    pp, reg, node = private_pull, private_pull.registry, reconfigurable.name
    by_node, by_secret = pp.host, unrelated_name(reg)
    pp.core.create_namespaced_secret(
        namespace, pullsecrets.dockerconfigjson_secret("regcred", {by_secret: ("alice", reg.users["alice"])})
    )
    pod = priv.pod_on("both", pp.image, node, secrets=("regcred",))
    pod.spec.containers.append(
        client.V1Container(
            name="second", image=f"{by_secret}/{pp.reference}", image_pull_policy="Always", command=["true"]
        )
    )
    with pp.node_config(reconfigurable, "bob", evidence):
        outcome = priv.pull_outcome(pp.core, namespace, pod)
    requests = pp.requests()
    users = {
        h: sorted({r["user"] for r in requests if r["host"] == witness.host_of(h) and r["status"] == 200} - {None})
        for h in (by_node, by_secret)
    }
    evidence.observe(
        documented={by_node: ["bob"], by_secret: ["alice"], "pod": "ran"},
        observed={**users, "pod": outcome},
    )
    evidence.attach("registry manifest requests", requests)
    assert outcome == "ran", f"a pod with one image per credential source: {outcome}"
    assert users == {by_node: ["bob"], by_secret: ["alice"]}, users


@pytest.mark.claim("PRIV-USECASE-ALWAYSPULLIMAGES-ISOLATION")
@pytest.mark.needs("node_access")
def test_always_pull_images_keeps_tenants_images_apart(
    core: client.CoreV1Api,
    cluster_nodes: Mapping[str, Node],
    make_namespace: Callable[[], str],
    registries: RegistrySet,
    run_id: str,
    always_pull_pair: Callable[[], AbstractContextManager[AlwaysPullPair]],
    evidence: Evidence,
) -> None:
    """ "确保 AlwaysPullImages 准入控制器被启用。否则,所有 Pod 都可以使用所有镜像。" (multi-tenant use case). Tenant A's
    pod pulls A's private image with A's pull secret onto a node; a pod of tenant B (no secret, IfNotPresent, same
    node) can use it when admitted without AlwaysPullImages, and cannot when admitted with it (through the cluster's
    own API server and a second one that differs by the plugin, fixtures/admission.py: stored with Always, so the
    kubelet asks the registry as B). An image root pre-pulled on the node is observed the same way, as evidence."""
    reg, node = registries.auth, priv.other_node(core, "")
    tenant_image, pre_pulled = (f"{reg.names[0]}/{priv.push_private(registries, run_id)}" for _ in range(2))
    images = {"tenant image": tenant_image, "pre-pulled image": pre_pulled}
    tenant_a, tenant_b = make_namespace(), make_namespace()
    core.create_namespaced_secret(tenant_a, priv.user_secret(reg))

    def tenant_b_pods(api: client.CoreV1Api, prefix: str) -> dict[str, client.V1Pod]:
        """Tenant B's pods (no secret, IfNotPresent, on the node), one per image, created through ``api``."""
        return {
            what: api.create_namespaced_pod(tenant_b, priv.pod_on(f"{prefix}-{n}", image, node, "IfNotPresent"))
            for n, (what, image) in enumerate(images.items())
        }

    with nc.images_removed_afterwards(cluster_nodes[node], *images.values()):
        owner_pod = priv.pod_on("owner", tenant_image, node, "IfNotPresent", ("regcred",))
        owner = priv.pull_outcome(core, tenant_a, owner_pod)
        nc.pre_pull(cluster_nodes[node], pre_pulled, "alice", reg.users["alice"])
        with always_pull_pair() as servers:
            off, on = tenant_b_pods(servers.without_plugin, "off"), tenant_b_pods(servers.with_plugin, "on")
        without, with_plugin = pods.pull_results(core, off), pods.pull_results(core, on)
    stored = {what: pod.spec.containers[0].image_pull_policy for what, pod in on.items()}
    evidence.observe(
        documented={
            "AlwaysPullImages off": {"tenant image": "ran", "pre-pulled image": "ran"},
            "AlwaysPullImages on": {"tenant image": "fails to pull", "pre-pulled image": "fails to pull"},
        },
        observed={"AlwaysPullImages off": without, "AlwaysPullImages on": with_plugin},
        tenant_a_pod=owner, stored_policy_with_alwayspullimages=stored, api_servers=servers.evidence(), node=node,
    )  # fmt: skip
    if owner != "ran":
        raise RuntimeError(f"precondition: tenant A's pod with its secret did not run: {owner}")
    assert set(stored.values()) == {"Always"}, f"AlwaysPullImages did not force Always: {stored}"
    assert all(v in pods.PULL_FAILED for v in with_plugin.values()), f"with AlwaysPullImages: {with_plugin}"
    assert without["tenant image"] == "ran", (
        f"without AlwaysPullImages tenant B could not use tenant A's cached image ({without['tenant image']}): the "
        "kubelet itself checks B's credentials before reusing an image it pulled with A's secret "
        "(KubeletEnsureSecretPulledImages)"
    )
