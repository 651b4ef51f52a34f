"""imagePullPolicy at the kubelet (docs 000, 001, 002, 004: "镜像拉取策略" / "Atualizando imagens").

IfNotPresent pulls only what the node lacks, Always asks the registry at every container start (and downloads
only what the node lacks), Never never asks. Each scenario uses repositories of its own in the suite's open
registry, so the registry's log (the witness) shows exactly the requests its pods caused; pods are pinned to one
node, so "present on the node" is well defined.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.images.layers import busybox_layer, marker_layer
from k8s_doc_conformance.fixtures.pull_checks import asked, brief, pulled_message, run, started_or_failed
from k8s_doc_conformance.fixtures.registry.service import Registry


@pytest.mark.claim("IMG-POL-IFNOTPRESENT")
def test_if_not_present_pulls_only_a_missing_image(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, own_repo: str, pinned_node: str, evidence: Evidence
) -> None:
    """IfNotPresent: "只有当镜像在本地不存在时才会拉取。" The first pod on the node pulls; after the tag moves to new
    content, a second IfNotPresent pod on that node asks the registry nothing and runs the image it has (v1)."""
    image = open_registry.image(f"{own_repo}:t")
    push.push_marker(open_registry, own_repo, "t", f"v1 {own_repo}")
    first_since = datetime.now(UTC)
    _, first = run(core, namespace, pods.marker_pod("first", image, "IfNotPresent", pinned_node))
    first_asked = asked(open_registry, own_repo, first_since)
    push.push_marker(open_registry, own_repo, "t", f"v2 {own_repo}")
    second_since = datetime.now(UTC)
    _, second = run(core, namespace, pods.marker_pod("second", image, "IfNotPresent", pinned_node))
    second_asked = asked(open_registry, own_repo, second_since)
    message = pulled_message(core, namespace, "second")
    evidence.observe(
        documented={"first pod": "pulls", "second pod (image present)": "no registry request, runs the local v1"},
        observed={
            "first pod": {"output": first, "requests": brief(first_asked)},
            "second pod": {"output": second, "requests": brief(second_asked), "Pulled event": message},
        },
        node=pinned_node,
    )
    assert first == "v1" and any(r.kind == "blob" for r in first_asked), (first, brief(first_asked))
    assert second_asked == [], f"IfNotPresent asked the registry for a present image: {brief(second_asked)}"
    assert second == "v1", f"IfNotPresent ran {second!r}, not the image already on the node"


@pytest.mark.claim("IMG-POL-ALWAYS-RESOLVES-DIGEST")
def test_always_resolves_the_tag_and_uses_a_cached_digest(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, own_repo: str, pinned_node: str, evidence: Evidence
) -> None:
    """Always: "每当 kubelet 启动一个容器时，kubelet 会查询容器的镜像仓库，将名称解析为一个镜像摘要。
    如果 kubelet 有一个容器镜像，并且对应的摘要已在本地缓存，kubelet 就会使用其缓存的镜像；
    否则，kubelet 就会使用解析后的摘要拉取镜像"."""
    image = open_registry.image(f"{own_repo}:t")
    v1 = push.push_marker(open_registry, own_repo, "t", f"v1 {own_repo}")
    run(core, namespace, pods.marker_pod("first", image, "Always", pinned_node))
    cached_since = datetime.now(UTC)
    cached, cached_out = run(core, namespace, pods.marker_pod("cached", image, "Always", pinned_node))
    cached_asked = asked(open_registry, own_repo, cached_since)
    v2 = push.push_marker(open_registry, own_repo, "t", f"v2 {own_repo}")
    moved_since = datetime.now(UTC)
    moved, moved_out = run(core, namespace, pods.marker_pod("moved", image, "Always", pinned_node))
    moved_asked = asked(open_registry, own_repo, moved_since)
    observed = {
        "same digest": {
            "output": cached_out,
            "imageID": cached.status.container_statuses[0].image_id,
            "requests": brief(cached_asked),
        },
        "tag moved": {
            "output": moved_out,
            "imageID": moved.status.container_statuses[0].image_id,
            "requests": brief(moved_asked),
        },
    }
    evidence.observe(
        documented={
            "same digest": "the registry resolves the tag; the cached image runs (no blob downloads)",
            "tag moved": "the registry resolves the tag; the new digest is pulled and runs",
        },
        observed=observed,
        digests={"v1": v1, "v2": v2},
        node=pinned_node,
    )
    assert any(r.kind == "manifest" and r.reference == "t" for r in cached_asked), (
        f"Always did not resolve the tag at the registry: {brief(cached_asked)}"
    )
    assert not [r for r in cached_asked if r.kind == "blob"], f"Always downloaded a cached image: {brief(cached_asked)}"
    assert cached_out == "v1" and v1 in observed["same digest"]["imageID"], observed["same digest"]
    assert any(r.kind == "manifest" and r.reference == "t" for r in moved_asked), brief(moved_asked)
    assert moved_out == "v2" and v2 in observed["tag moved"]["imageID"], observed["tag moved"]
    assert [r for r in moved_asked if r.kind == "blob"], f"the new digest was not pulled: {brief(moved_asked)}"


@pytest.mark.waits(300)
@pytest.mark.claim("IMG-POL-ALWAYS-EVERY-START")
def test_always_asks_the_registry_at_every_container_start(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, own_repo: str, pinned_node: str, evidence: Evidence
) -> None:
    """Always: the registry is queried "每当 kubelet 启动一个容器时" — including each restart of a container that
    exits (restartPolicy Always): one tag resolution per start."""
    image = open_registry.image(f"{own_repo}:t")
    push.push_marker(open_registry, own_repo, "t", f"v1 {own_repo}")
    pod = pods.command_pod("restarts", image, ["/bin/sh", "-c", "sleep 1; exit 1"], node_name=pinned_node)
    pod.spec.restart_policy = "Always"
    pod.spec.containers[0].image_pull_policy = "Always"
    since = datetime.now(UTC)
    core.create_namespaced_pod(namespace, pod)

    def restarts(p: client.V1Pod) -> int:
        return max((cs.restart_count for cs in p.status.container_statuses or []), default=0)

    final = pods.wait_pod(core, namespace, "restarts", lambda p: restarts(p) >= 3, 300, "to restart 3 times")
    starts = restarts(final) + 1
    resolutions = [r for r in asked(open_registry, own_repo, since) if r.kind == "manifest" and r.reference == "t"]
    evidence.observe(
        documented="one registry lookup per container start",
        observed={"container starts": starts, "tag resolutions": len(resolutions)},
        requests=[f"{r.start.isoformat()} {r.method} {r.reference} -> {r.status}" for r in resolutions],
        node=pinned_node,
    )
    # a lookup for the next start may already have happened when the restart count was read
    assert starts <= len(resolutions) <= starts + 1, (
        f"{starts} container starts, {len(resolutions)} registry lookups of the tag"
    )


@pytest.mark.claim("IMG-POL-NEVER")
def test_never_does_not_fetch(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, own_repo: str, pinned_node: str, evidence: Evidence
) -> None:
    """Never: "Kubelet 不会尝试获取镜像。如果镜像已经以某种方式存在本地，kubelet 会尝试启动容器；否则，会启动失败。"
    The image exists in the registry, so a pull would succeed: absent from the node it still fails
    (ErrImageNeverPull) without a request; once present (pulled by an IfNotPresent pod) it runs, again without one."""
    absent_repo, present_repo = f"{own_repo}-absent", f"{own_repo}-present"
    push.push_marker(open_registry, absent_repo, "v1", f"absent {absent_repo}")
    push.push_marker(open_registry, present_repo, "v1", f"present {present_repo}")
    since = datetime.now(UTC)
    core.create_namespaced_pod(
        namespace, pods.marker_pod("absent", open_registry.image(f"{absent_repo}:v1"), "Never", pinned_node)
    )
    absent = pods.wait_pod(core, namespace, "absent", started_or_failed, 120, "to start or fail")
    absent_asked = asked(open_registry, absent_repo, since)
    run(
        core,
        namespace,
        pods.marker_pod("preload", open_registry.image(f"{present_repo}:v1"), "IfNotPresent", pinned_node),
    )
    present_since = datetime.now(UTC)
    _, present_out = run(
        core, namespace, pods.marker_pod("present", open_registry.image(f"{present_repo}:v1"), "Never", pinned_node)
    )
    present_asked = asked(open_registry, present_repo, present_since)
    state = absent.status.container_statuses[0].state
    reason = state.waiting.reason if state.waiting else absent.status.phase
    evidence.observe(
        documented={"absent": "startup fails, no fetch", "present": "runs, no fetch"},
        observed={
            "absent": {"state": pods.describe(absent), "requests": brief(absent_asked)},
            "present": {"output": present_out, "requests": brief(present_asked)},
        },
        node=pinned_node,
    )
    assert absent_asked == [] and present_asked == [], (
        f"Never fetched: absent {brief(absent_asked)}, present {brief(present_asked)}"
    )
    assert reason == "ErrImageNeverPull", pods.describe(absent)
    assert present_out == "present"


@pytest.mark.claim("IMG-POL-ALWAYS-LAYER-CACHE")
def test_always_downloads_only_missing_layers(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, own_repo: str, pinned_node: str, evidence: Evidence
) -> None:
    """ "你的容器运行时可以注意到节点上已经存在的镜像层，这样就不需要再次下载。" Two images share their lower layers
    (busybox and a layer of this test alone); after the first ran on the node, an Always pull of the second downloads
    its own layer and config, not the shared ones."""
    shared = (busybox_layer("amd64"), marker_layer(f"shared base of {own_repo}", "/base"))
    for tag in ("one", "two"):
        spec = push.ImageSpec(
            layers=(*shared, marker_layer(f"{tag} {own_repo}")), entrypoint=("/bin/sh", "-c", "cat /marker; echo")
        )
        push.push_spec(open_registry.push_host, own_repo, tag, spec, ca_cert=open_registry.ca_cert)
    manifests = push.read_manifests(open_registry.push_host, own_repo, ("one", "two"), ca_cert=open_registry.ca_cert)
    layer_blobs = {tag: [layer["digest"] for layer in m["layers"]] for tag, m in manifests.items()}
    shared_blobs = set(layer_blobs["one"][:2])
    assert shared_blobs == set(layer_blobs["two"][:2]), layer_blobs  # same lower layers, same blobs
    own_blobs = {layer_blobs["two"][2], manifests["two"]["config"]["digest"]}
    one_since = datetime.now(UTC)
    run(core, namespace, pods.marker_pod("one", open_registry.image(f"{own_repo}:one"), "Always", pinned_node))
    one_blobs = {r.reference for r in asked(open_registry, own_repo, one_since) if r.kind == "blob"}
    two_since = datetime.now(UTC)
    _, out = run(core, namespace, pods.marker_pod("two", open_registry.image(f"{own_repo}:two"), "Always", pinned_node))
    two_blobs = {r.reference for r in asked(open_registry, own_repo, two_since) if r.kind == "blob"}
    evidence.observe(
        documented="the second image's pull downloads no layer already on the node",
        observed={
            "blobs downloaded for image one": sorted(str(b) for b in one_blobs),
            "blobs downloaded for image two": sorted(str(b) for b in two_blobs),
        },
        shared_layers=sorted(shared_blobs),
        image_two_own_blobs=sorted(own_blobs),
        node=pinned_node,
    )
    assert out == "two"
    assert not two_blobs & shared_blobs, f"layers already on the node were downloaded again: {two_blobs & shared_blobs}"
    assert two_blobs == own_blobs, f"image two: expected downloads {own_blobs}, got {two_blobs}"


@pytest.mark.claim("IMG-POL-DEFAULT-PULLS-EACH")
def test_by_default_the_kubelet_pulls_each_image(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, own_repo: str, pinned_node: str, evidence: Evidence
) -> None:
    """ "默认情况下，kubelet 会尝试从指定的仓库拉取每个镜像。" Pods without imagePullPolicy, images already on the node:
    the registry should be asked for each (a tagged image and a :latest one)."""
    for tag in ("v1", "latest"):
        push.push_marker(open_registry, own_repo, tag, f"{tag} {own_repo}")
        run(
            core,
            namespace,
            pods.marker_pod(f"preload-{tag}", open_registry.image(f"{own_repo}:{tag}"), "IfNotPresent", pinned_node),
        )
    observed: dict[str, object] = {}
    contacted: dict[str, bool] = {}
    for tag in ("v1", "latest"):
        since = datetime.now(UTC)
        done, _ = run(
            core,
            namespace,
            pods.marker_pod(f"default-{tag}", open_registry.image(f"{own_repo}:{tag}"), None, pinned_node),
        )
        requests = asked(open_registry, own_repo, since)
        contacted[tag] = any(r.kind == "manifest" for r in requests)
        observed[f":{tag}"] = {
            "stored imagePullPolicy": done.spec.containers[0].image_pull_policy,
            "registry asked": contacted[tag],
            "requests": brief(requests),
        }
    evidence.observe(
        documented={":v1": "registry asked", ":latest": "registry asked"}, observed=observed, node=pinned_node
    )
    assert all(contacted.values()), f"no pull attempt by default for {[t for t, c in contacted.items() if not c]}"
