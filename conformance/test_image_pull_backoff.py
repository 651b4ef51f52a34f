"""ImagePullBackOff (docs 000, 001, 002: "ImagePullBackOff").

When the kubelet cannot pull an image the container waits; "BackOff" means Kubernetes keeps trying, with a delay
that grows up to a compiled-in limit of 300 s. Every pull attempt is a manifest request for a tag that does not
exist in the suite's open registry, so the registry's log (the witness) gives the attempt schedule exactly.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import uuid
from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import backoff, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.images import push
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.service import Registry, RegistrySet
from k8s_doc_conformance.fixtures.timeline import Timeline
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for


@pytest.mark.slow
@pytest.mark.waits(16 * 60)
@pytest.mark.claim("IMG-BO-CAP-300S")
def test_back_off_delay_stops_growing_at_300_seconds(
    core: client.CoreV1Api, namespace: str, registries: RegistrySet, run_id: str, evidence: Evidence
) -> None:
    """ "Kubernetes 会增加每次尝试之间的延迟，直到达到编译限制，即 300 秒（5 分钟）。" With the kubelet's defaults
    (10 s, doubling) the gaps are 10, 20, 40, 80, 160, then 300 (not 320) and 300 again (not 640): eight attempts,
    about 16 minutes. The scenario mostly sleeps (one witness read a minute) and holds no lock, so on a node that
    pulls serially a retry may wait behind other pulls: a gap whose attempt came as another pull of the node ended
    is shown as queued and may exceed the cap, never reach the uncapped doubling (640 s)."""
    open_registry = registries.open
    repo, image = backoff.missing_image(open_registry, run_id, "bo-cap")
    since, started = datetime.now(UTC), time.monotonic()
    core.create_namespaced_pod(namespace, backoff.waiting_pod("capped", image))
    wanted, deadline = 8, time.monotonic() + 21 * 60  # capped: the 8th comes by ~16.5 min; uncapped: after ~21 min
    seen = backoff.attempts(open_registry, repo, since)
    while len(seen) < wanted and time.monotonic() < deadline:
        time.sleep(backoff.SLOW_POLL)
        seen = backoff.attempts(open_registry, repo, since)
    gaps = backoff.gaps_of(seen)
    node_ip = core.read_namespaced_pod("capped", namespace).status.host_ip
    node_requests = [r for reg in registries.all() for r in witness.requests(reg, since) if r.remote_ip == node_ip]
    queued = backoff.queued(seen, node_requests, repo)
    evidence.attach("pull attempt schedule (registry witness)", backoff.attempt_chart(seen))
    evidence.observe(
        documented=f"gaps grow until {backoff.CAP:.0f} s, then stay there (never clearly above it)",
        observed={"gaps (s)": gaps, "attempts": len(seen), "watched (s)": round(time.monotonic() - started)},
        repository=repo,
        queued_behind_other_pulls_of_the_node=[gaps[i] for i in queued],
    )
    assert len(seen) >= wanted, f"only {len(seen)} pull attempts in 21 min (a 300 s cap gives {wanted}): gaps {gaps}"
    above = [g for i, g in enumerate(gaps) if g > backoff.CAP + backoff.SYNC_SLACK and i not in queued]
    assert not above, f"a back-off gap above {backoff.CAP:.0f} s: {gaps}"
    assert max(gaps) < 2 * backoff.CAP - backoff.SYNC_SLACK, f"the delay kept doubling past {backoff.CAP:.0f} s: {gaps}"
    capped = [g for g in gaps if g >= backoff.CAP - 10]
    assert len(capped) >= 2, f"the delay never settled at {backoff.CAP:.0f} s: gaps {gaps}"
    first = gaps.index(capped[0])
    growing = gaps[: first + 1]
    assert all(b > a for a, b in itertools.pairwise(growing)), f"no growth up to the cap: {gaps}"


@pytest.mark.claim("IMG-BO-WAITING-REASON")
def test_unpullable_image_waits_in_image_pull_back_off(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """ "当 kubelet 使用容器运行时创建 Pod 时，容器可能因为 ImagePullBackOff 导致状态为 Waiting" — and the kubelet
    keeps trying: the container waits (ErrImagePull, then ImagePullBackOff) and the registry sees repeated pulls."""
    repo, image = backoff.missing_image(open_registry, run_id, "bo-wait")
    since = datetime.now(UTC)
    with Timeline(core, namespace) as tl:
        core.create_namespaced_pod(namespace, backoff.waiting_pod("waiting", image))
        with contextlib.suppress(WaitTimeout):  # asserted below, from the timeline
            pods.wait_waiting_reason(core, namespace, "waiting", {"ImagePullBackOff"}, 120)
        try:
            seen = wait_for(
                lambda: backoff.attempts(open_registry, repo, since),
                lambda a: len(a) >= 3,
                90,
                "three pull attempts",
                2,
            )
        except WaitTimeout as exc:
            seen = list(exc.last)  # type: ignore[call-overload]
        pod = core.read_namespaced_pod("waiting", namespace)
    reasons = [e["state"] for e in tl.of("pod", pod="waiting")]
    evidence.attach("timeline", tl.chart())
    evidence.observe(
        documented="Waiting with ImagePullBackOff; the kubelet keeps trying",
        observed={"states": reasons, "pull attempts": backoff.schedule(seen), "phase": pod.status.phase},
    )
    assert pod.status.phase == "Pending", pods.describe(pod)
    assert any("waiting:ImagePullBackOff" in s for s in reasons), reasons
    assert len(seen) >= 3, f"the kubelet stopped trying after {len(seen)} attempt(s)"


@pytest.mark.waits(330)
@pytest.mark.claim("IMG-BO-INCREASING-DELAY")
def test_retries_come_with_an_increasing_delay(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """ "BackOff 部分表示 Kubernetes 将继续尝试拉取镜像，并增加回退延迟。"
    Five attempts: each gap longer than the last."""
    repo, image = backoff.missing_image(open_registry, run_id, "bo-grow")
    since = datetime.now(UTC)
    core.create_namespaced_pod(namespace, backoff.waiting_pod("growing", image))
    try:
        seen = wait_for(
            lambda: backoff.attempts(open_registry, repo, since), lambda a: len(a) >= 5, 330, "five pull attempts", 5
        )
    except WaitTimeout as exc:
        seen = list(exc.last)  # type: ignore[call-overload]
    gaps = backoff.gaps_of(seen)
    evidence.attach("pull attempt schedule (registry witness)", backoff.attempt_chart(seen))
    evidence.observe(documented="each delay longer than the one before", observed={"gaps (s)": gaps})
    assert len(seen) >= 5, f"only {len(seen)} attempts in 330 s: gaps {gaps}"
    assert all(b > a for a, b in itertools.pairwise(gaps)), f"the delay did not grow: {gaps}"


@pytest.mark.claim("IMG-BO-CAUSE-INVALID-NAME")
def test_an_invalid_image_name_backs_off(
    core: client.CoreV1Api, namespace: str, open_registry: Registry, run_id: str, evidence: Evidence
) -> None:
    """ "ImagePullBackOff 状态意味着容器无法启动，因为 Kubernetes 无法拉取容器镜像（原因包括无效的镜像名称…）".
    A name that is not a valid reference (upper case in the repository) should end in ImagePullBackOff; a valid name
    of an image that does not exist is recorded beside it."""
    repo = f"{run_id}/bo-name-{uuid.uuid4().hex[:8]}"
    invalid = open_registry.image(f"{repo}/Not_A_Valid:Name")
    nonexistent = open_registry.image(f"{repo}/no-such-image:v1")
    with Timeline(core, namespace) as tl:
        core.create_namespaced_pod(namespace, backoff.waiting_pod("invalid", invalid))
        core.create_namespaced_pod(namespace, backoff.waiting_pod("nonexistent", nonexistent))
        pods.wait_waiting_reason(core, namespace, "nonexistent", {"ImagePullBackOff"}, 120)
        first = pods.wait_waiting_reason(core, namespace, "invalid", {"InvalidImageName", *backoff.PULL_FAILED}, 120)
        time.sleep(25)  # long enough for a back-off cycle (10 s) to show
        last = core.read_namespaced_pod("invalid", namespace)
    states = {name: [e["state"] for e in tl.of("pod", pod=name)] for name in ("invalid", "nonexistent")}
    message = first.status.container_statuses[0].state.waiting.message
    evidence.attach("timeline", tl.chart())
    evidence.observe(
        documented={"invalid name": "ImagePullBackOff"},
        observed={**states, "invalid name's waiting message": message, "invalid name (last)": pods.describe(last)},
        images={"invalid": invalid, "nonexistent": nonexistent},
    )
    assert any("waiting:ImagePullBackOff" in s for s in states["invalid"]), (
        f"an invalid image name does not back off: {states['invalid']}"
    )


@pytest.mark.claim("IMG-BO-CAUSE-NO-SECRET")
def test_a_private_image_without_pull_secret_backs_off(
    core: client.CoreV1Api, namespace: str, registries: RegistrySet, run_id: str, evidence: Evidence
) -> None:
    """ "…或从私有仓库拉取而没有 imagePullSecret": a private image, no imagePullSecrets: ImagePullBackOff, the
    registry refused the (anonymous) requests with 401."""
    reg = registries.auth
    repo = f"{run_id}/bo-private-{uuid.uuid4().hex[:8]}"
    alice = ("alice", reg.users["alice"])
    push.push_marker(reg, repo, "v1", "private", auth=alice)
    since = datetime.now(UTC)
    pod = backoff.waiting_pod("private", reg.image(f"{repo}:v1"))
    pod.spec.containers[0].image_pull_policy = "Always"
    core.create_namespaced_pod(namespace, pod)
    final = pods.wait_pod(core, namespace, "private", backoff.decided, 120, "to run or back off")
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=private").items
    failed = [e.message for e in events if e.reason == "Failed"]
    statuses = [  # the kubelet's pulls only: the push just before can fall inside the window (seen on v1.23: 201)
        r.status
        for r in witness.requests(reg, since)
        if r.repository == repo and r.kind == "manifest" and r.method in ("GET", "HEAD")
    ]
    evidence.observe(
        documented="ImagePullBackOff (no credentials for a private registry)",
        observed={"state": pods.describe(final), "registry statuses": statuses, "Failed events": failed[:3]},
    )
    assert final.status.phase == "Pending" and "ImagePullBackOff" in pods.describe(final), pods.describe(final)
    assert statuses and set(statuses) == {401}, f"the registry did not refuse anonymous pulls: {statuses}"
