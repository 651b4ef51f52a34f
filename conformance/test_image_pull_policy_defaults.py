"""imagePullPolicy defaulting (docs 000, 001, 002, 004: "默认镜像拉取策略" / "Atualizando imagens").

When a Pod (or a workload's Pod template) is submitted without imagePullPolicy, the API server sets one from the
image reference. Observed with server-side dry runs (nothing runs) and workloads with zero replicas.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_doc_conformance.fixtures import admission, capabilities, pods, pull_checks
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.service import RegistrySet


@pytest.mark.claim("IMG-DEF-LATEST-ALWAYS")
def test_latest_tag_defaults_to_always(core: client.CoreV1Api, namespace: str, evidence: Evidence) -> None:
    """ "如果你省略了 imagePullPolicy 字段，并且容器镜像的标签是 :latest，imagePullPolicy 会自动设置为 Always。\""""
    stored = pull_checks.policy_of(core, namespace, "k8sdc.test/busybox:latest")
    evidence.observe(documented="Always", observed=stored)
    assert stored == "Always"


@pytest.mark.claim("IMG-DEF-NOTAG-ALWAYS")
def test_no_tag_defaults_to_always(core: client.CoreV1Api, namespace: str, evidence: Evidence) -> None:
    """ "如果你省略了 imagePullPolicy 字段，并且没有指定容器镜像的标签，imagePullPolicy 会自动设置为 Always。\""""
    stored = pull_checks.policy_of(core, namespace, "k8sdc.test/busybox")
    evidence.observe(documented="Always", observed=stored)
    assert stored == "Always"


@pytest.mark.claim("IMG-DEF-TAG-IFNOTPRESENT")
def test_other_tag_defaults_to_if_not_present(core: client.CoreV1Api, namespace: str, evidence: Evidence) -> None:
    """ "如果你省略了 imagePullPolicy 字段，并且你为容器镜像指定了摘要（或不是 :latest 的标签），
    imagePullPolicy 会自动设置为 IfNotPresent。\""""
    stored = pull_checks.policy_of(core, namespace, "k8sdc.test/busybox:1.36")
    evidence.observe(documented="IfNotPresent", observed=stored)
    assert stored == "IfNotPresent"


@pytest.mark.claim("IMG-DEF-DIGEST-IFNOTPRESENT")
def test_digest_defaults_to_if_not_present(core: client.CoreV1Api, namespace: str, evidence: Evidence) -> None:
    """001: a digest (without a :latest tag) defaults to IfNotPresent. Also recorded: ``:latest@digest`` and
    ``:1.36@digest``."""
    observed = {
        ref: pull_checks.policy_of(core, namespace, f"k8sdc.test/busybox{ref}")
        for ref in (f"@{pull_checks.DIGEST}", f":latest@{pull_checks.DIGEST}", f":1.36@{pull_checks.DIGEST}")
    }
    evidence.observe(documented={f"@{pull_checks.DIGEST}": "IfNotPresent"}, observed=observed)
    assert observed[f"@{pull_checks.DIGEST}"] == "IfNotPresent", observed


@pytest.mark.claim("IMG-DEF-004-EMPTY-ALWAYS")
def test_empty_policy_is_set_to_always(core: client.CoreV1Api, namespace: str, evidence: Evidence) -> None:
    """004: "Quando imagePullPolicy é definido sem um valor específico, ele também é definido como Always."
    Checked for a tagged image (and recorded for :latest)."""
    observed = {image: pull_checks.policy_of(core, namespace, image, "") for image in pull_checks.TAGGED_AND_LATEST}
    evidence.observe(documented="Always", observed=observed)
    assert set(observed.values()) == {"Always"}, observed


@pytest.mark.claim("IMG-DEF-UPDATING-IMAGES-IFNOTPRESENT")
def test_first_created_workloads_default_to_if_not_present(
    api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """ "当你（或控制器）首次创建 Deployment、StatefulSet、Pod 或其他包含 Pod 模板的对象时，如果没有指定拉取策略，则所有
    容器的拉取策略会被默认设置为 IfNotPresent。" Checked for a tagged image and for :latest."""
    observed = {
        image: pull_checks.deployment_policy(api_client, namespace, image) for image in pull_checks.TAGGED_AND_LATEST
    }
    evidence.observe(documented="IfNotPresent for every container", observed=observed)
    assert set(observed.values()) == {"IfNotPresent"}, observed


@pytest.mark.claim("IMG-DEF-APPLIES-TO-TEMPLATES")
def test_defaulting_applies_to_workload_templates(
    api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """Defaulting happens when an object is submitted, for Pods and for the Pod templates of workloads."""
    apps, batch = client.AppsV1Api(api_client), client.BatchV1Api(api_client)
    sel = client.V1LabelSelector(match_labels={"app": "defaults"})
    job_template = pull_checks.template("k8sdc.test/busybox:1.36")
    job_template.spec.restart_policy = "Never"
    makers: dict[str, Callable[[], object]] = {
        "Deployment": lambda: apps.create_namespaced_deployment(
            namespace, pull_checks.deployment("d", "k8sdc.test/busybox:1.36"), dry_run="All"
        ),
        "StatefulSet": lambda: apps.create_namespaced_stateful_set(
            namespace,
            client.V1StatefulSet(
                metadata=client.V1ObjectMeta(name="s"),
                spec=client.V1StatefulSetSpec(
                    selector=sel, service_name="s", template=pull_checks.template("k8sdc.test/busybox")
                ),
            ),
            dry_run="All",
        ),
        "DaemonSet": lambda: apps.create_namespaced_daemon_set(
            namespace,
            client.V1DaemonSet(
                metadata=client.V1ObjectMeta(name="ds"),
                spec=client.V1DaemonSetSpec(selector=sel, template=pull_checks.template("k8sdc.test/busybox:latest")),
            ),
            dry_run="All",
        ),
        "Job": lambda: batch.create_namespaced_job(
            namespace,
            client.V1Job(metadata=client.V1ObjectMeta(name="j"), spec=client.V1JobSpec(template=job_template)),
            dry_run="All",
        ),
    }
    expected = {"Deployment": "IfNotPresent", "StatefulSet": "Always", "DaemonSet": "Always", "Job": "IfNotPresent"}
    observed = {kind: make().spec.template.spec.containers[0].image_pull_policy for kind, make in makers.items()}  # type: ignore[attr-defined]
    evidence.observe(documented=expected, observed=observed)
    assert observed == expected


@pytest.mark.claim("IMG-DEF-ONLY-AT-CREATION")
def test_policy_is_not_recomputed_when_the_tag_changes(
    api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """The policy is set when the object is first created; changing the tag later does not recompute it
    (checked with a strategic-merge patch, as ``kubectl set image`` does; a full replace is recorded too)."""
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, pull_checks.deployment("patched", "k8sdc.test/busybox:1.36"))
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "k8sdc.test/busybox:latest"}]}}}}
    patched = apps.patch_namespaced_deployment("patched", namespace, patch).spec.template.spec.containers[0]
    for _ in range(5):  # the deployment controller updates the object too: re-read on a conflict
        current = apps.read_namespaced_deployment("patched", namespace)
        current.spec.template.spec.containers[0].image = "k8sdc.test/busybox:latest"
        current.spec.template.spec.containers[0].image_pull_policy = None
        try:
            replaced = apps.replace_namespaced_deployment("patched", namespace, current).spec.template.spec.containers[
                0
            ]
            break
        except ApiException as exc:
            if exc.status != 409:
                raise
    else:
        raise RuntimeError("the Deployment kept changing under the replace")
    observed = {
        "patch to :latest": patched.image_pull_policy,
        "replace without a policy (to :latest)": replaced.image_pull_policy,
    }
    evidence.observe(documented={"patch to :latest": "IfNotPresent"}, observed=observed)
    assert observed["patch to :latest"] == "IfNotPresent", observed


@pytest.mark.needs("node_access")
@pytest.mark.claim("IMG-DEF-ALWAYSPULLIMAGES")
def test_always_pull_images_admission_forces_pulls(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    run_id: str,
    caps: capabilities.Capabilities,
    always_pull_pair: Callable[[], AbstractContextManager[admission.AlwaysPullPair]],
    evidence: Evidence,
) -> None:
    """ "启用准入控制器 AlwaysPullImages" forces a pull. The same pod is submitted through an API server without the
    plugin and through one with it (the cluster's own and a second kube-apiserver, fixtures/admission.py); the image is
    on the node already. Without it the pod keeps IfNotPresent and runs without asking the registry; with it the pod
    is stored with Always and the kubelet asks the registry."""
    reg, node = registries.open, caps.schedulable_nodes[0]
    repo = f"{run_id}/alwayspull-{uuid.uuid4().hex[:8]}"
    push.push_marker(reg, repo, "v1", f"forced {repo}")
    image = reg.image(f"{repo}:v1")
    pods.run_to_completion(core, namespace, pods.marker_pod("preload", image, node=node))

    def submitted(api: client.CoreV1Api, name: str) -> dict[str, object]:
        """Submit the pod through ``api``; its stored policy, final state and the registry requests it caused."""
        since = datetime.now(UTC)
        stored = api.create_namespaced_pod(namespace, pods.marker_pod(name, image, node=node)).spec.containers[0]
        done = pods.wait_terminal(core, namespace, name, 180)
        asked = witness.requests(reg, since, repository=repo)
        return {
            "stored imagePullPolicy": stored.image_pull_policy,
            "registry asked": any(r.kind == "manifest" for r in asked),
            "requests": [f"{r.method} {r.kind} {r.reference} -> {r.status}" for r in asked],
            "state": pods.describe(done),
        }

    with always_pull_pair() as servers:
        without, forced = submitted(servers.without_plugin, "without-plugin"), submitted(servers.with_plugin, "with")
    evidence.observe(
        documented={"with AlwaysPullImages": {"stored imagePullPolicy": "Always", "registry asked": True}},
        observed={"without AlwaysPullImages": without, "with AlwaysPullImages": forced},
        api_servers=servers.evidence(),
        node=node,
    )
    assert without["stored imagePullPolicy"] == "IfNotPresent" and not without["registry asked"], f"baseline: {without}"
    assert forced["stored imagePullPolicy"] == "Always", f"AlwaysPullImages did not force Always: {forced}"
    assert forced["registry asked"], f"the image already on the node was not pulled again: {forced}"
