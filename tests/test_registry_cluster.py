"""The run's registries seen from the cluster: every name of every registry pulls on every node; good and bad
credentials show up in the witness; a multi-arch index runs its amd64 variant; a re-pushed tag moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import capabilities, pods, pullsecrets
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.shared import RunRegistries
from k8s_doc_conformance.fixtures.waits import wait_for

#: Seconds to the kubelet's next pull attempt after a failed one (its image back-off starts at 10 s) and its requests.
BACKOFF_RETRY = 60.0

pytestmark = pytest.mark.cluster


def node_names(core: client.CoreV1Api) -> list[str]:
    return sorted(n.metadata.name for n in core.list_node().items)


def untainted_node(caps: capabilities.Capabilities) -> str:
    """A schedulable node: not the control-plane, not the reconfigurable node, whose kubelet scenarios may give
    node-level credentials at any moment (pods here name their node, which would bypass its taint)."""
    return caps.schedulable_nodes[-1]


@pytest.fixture(scope="module")
def probe_repo(registries: RunRegistries, run_id: str) -> str:
    """One small image in both registries, under a repository of this run (concurrent runs share registries)."""
    spec = push.marker_image("probe")
    alice = ("alice", registries.auth.users["alice"])
    repo = f"{run_id}/busybox"
    push.push_spec(registries.open.push_host, repo, "v1", spec, ca_cert=registries.open.ca_cert)
    push.push_spec(registries.auth.push_host, repo, "v1", spec, ca_cert=registries.auth.ca_cert, auth=alice)
    return f"{repo}:v1"


def puller(name: str, image: str, node: str, secret: str | None = None) -> client.V1Pod:
    pod = pods.command_pod(name, image, ["/bin/sh", "-c", "cat /marker"], node_name=node)
    pod.spec.containers[0].image_pull_policy = "Always"
    if secret:
        pod.spec.image_pull_secrets = [client.V1LocalObjectReference(name=secret)]
    pod.spec.tolerations = [client.V1Toleration(operator="Exists")]
    return pod


def test_every_name_pulls_on_every_node(
    registries: RunRegistries,
    probe_repo: str,
    core: client.CoreV1Api,
    namespace: str,
    exclusive: Callable[[str], AbstractContextManager[None]],
) -> None:
    """Every name of both registries pulls on every node, the reconfigurable one too: under its lock, since
    scenarios give that kubelet node-level credentials and restart it."""
    alice = ("alice", registries.auth.users["alice"])
    core.create_namespaced_secret(
        namespace, pullsecrets.dockerconfigjson_secret("alice", {n: alice for n in registries.auth.names})
    )
    since = datetime.now(UTC)
    expected = {}
    with exclusive("reconfigurable-node"):
        for reg in registries.all():
            for name in reg.names:
                for node in node_names(core):
                    pod = f"p-{uuid.uuid4().hex[:8]}"
                    expected[pod] = (reg, name, node)
                    core.create_namespaced_pod(
                        namespace,
                        puller(pod, reg.image(probe_repo, name), node, "alice" if reg.variant == "auth" else None),
                    )
        outcome = {pod: pods.wait_terminal(core, namespace, pod, timeout=180).status.phase for pod in expected}
    failed = {pod: expected[pod][1:] for pod, phase in outcome.items() if phase != "Succeeded"}
    assert not failed, f"pulls that failed (name, node): {sorted(failed.values())}"
    ips = {ip: name for ip, name in witness.client_names(registries.auth.network).items()}
    for reg in registries.all():
        served = [r for r in witness.requests(reg, since) if r.repository == probe_repo.split(":")[0]]
        # containerd resolves the tag with a HEAD (or GET) of the manifest on every pull with policy Always
        seen = {
            (r.host, ips.get(r.remote_ip), r.user)
            for r in served
            if r.kind == "manifest" and r.method in ("HEAD", "GET") and r.status == 200
        }
        assert seen, [(r.method, r.kind, r.status, r.host, r.remote_ip, r.user) for r in served][:20]
        for name in reg.names:
            for node in node_names(core):
                user = "alice" if reg.variant == "auth" else None
                assert (name, node, user) in seen, f"no authenticated manifest GET for {name} from {node}: {seen}"


def test_wrong_password_is_a_401_with_the_user_named(
    registries: RunRegistries,
    core: client.CoreV1Api,
    namespace: str,
    run_id: str,
    caps: capabilities.Capabilities,
) -> None:
    name = registries.auth.names[0]
    node = untainted_node(caps)
    repo = f"{run_id}/wrong-{uuid.uuid4().hex[:6]}"  # this test's own repository: the witness filters on it
    core.create_namespaced_secret(
        namespace, pullsecrets.dockerconfigjson_secret("wrong", {name: ("bob", "not-bobs-password")})
    )
    since = datetime.now(UTC)
    core.create_namespaced_pod(namespace, puller("wrong", registries.auth.image(f"{repo}:v1", name), node, "wrong"))
    pod = pods.wait_waiting_reason(core, namespace, "wrong", {"ErrImagePull", "ImagePullBackOff"})
    # containerd first asks anonymously, then again with bob's credentials after the challenge. The kubelet's first
    # attempt can go out without the pod's secret (its pull-secret cache waits at most 1 s: pods.pull_result; seen
    # with two runs at once), so the requests are read until its next attempt after the back-off.
    mine = wait_for(
        lambda: [r for r in witness.requests(registries.auth, since) if r.repository == repo],
        lambda rs: any(r.status == 401 and r.kind == "manifest" and r.attempted_user == "bob" for r in rs),
        BACKOFF_RETRY,
        "a manifest request refused with bob's credentials",
        interval=2.0,
    )
    failures = [r for r in mine if r.status == 401 and r.kind == "manifest"]
    assert failures and all(r.user is None for r in failures), failures
    assert not [r for r in mine if r.authenticated], "something authenticated"
    assert pod.status.phase == "Pending"


def test_multiarch_index_runs_the_amd64_variant(
    registries: RunRegistries,
    core: client.CoreV1Api,
    namespace: str,
    run_id: str,
    caps: capabilities.Capabilities,
) -> None:
    reg = registries.open
    image = push.push_multiarch(reg.push_host, f"{run_id}/multiarch", "v1", ca_cert=reg.ca_cert)
    node = untainted_node(caps)
    pod = puller("arch", reg.image(f"{run_id}/multiarch@{image.index}"), node)
    pod.spec.containers[0].command = None  # the image's entrypoint prints its architecture
    core.create_namespaced_pod(namespace, pod)
    done = pods.wait_terminal(core, namespace, "arch")
    assert pods.logs(core, namespace, "arch").strip() == "arch=amd64"
    image_id = done.status.container_statuses[0].image_id
    assert image.platforms["linux/amd64"] in image_id or image.index in image_id, image_id


def test_mutable_tag_resolves_to_the_newer_digest(
    registries: RunRegistries,
    core: client.CoreV1Api,
    namespace: str,
    run_id: str,
    caps: capabilities.Capabilities,
) -> None:
    reg = registries.open
    node = untainted_node(caps)
    tag = f"{run_id}/mutable:{uuid.uuid4().hex[:6]}"
    repo, version = tag.split(":")
    push.push_spec(reg.push_host, repo, version, push.marker_image("first"), ca_cert=reg.ca_cert)
    core.create_namespaced_pod(namespace, puller("first", reg.image(tag), node))
    pods.wait_terminal(core, namespace, "first")
    push.push_spec(reg.push_host, repo, version, push.marker_image("second"), ca_cert=reg.ca_cert)
    core.create_namespaced_pod(namespace, puller("second", reg.image(tag), node))
    pods.wait_terminal(core, namespace, "second")
    assert pods.logs(core, namespace, "first").strip() == "first"
    assert pods.logs(core, namespace, "second").strip() == "second"
