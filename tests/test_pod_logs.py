"""pod_logs.kubelet_reported: when a 404 for a pod's logs is a refusal and when it is only too early."""

from __future__ import annotations

from kubernetes import client

from k8s_doc_conformance.fixtures import pod_logs


def _pod(*statuses: client.V1ContainerStatus) -> client.V1Pod:
    return client.V1Pod(status=client.V1PodStatus(container_statuses=list(statuses) or None))


def _status(
    state: client.V1ContainerState | None, last: client.V1ContainerState | None = None
) -> client.V1ContainerStatus:
    return client.V1ContainerStatus(
        name="main", image="i", image_id="", ready=False, restart_count=0, state=state, last_state=last
    )


def test_a_scheduled_pod_without_statuses_is_not_reported() -> None:
    assert not pod_logs.kubelet_reported(_pod())


def test_a_waiting_container_is_not_reported() -> None:
    waiting = client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason="ContainerCreating"))
    assert not pod_logs.kubelet_reported(_pod(_status(waiting)))


def test_a_running_or_ended_container_is_reported() -> None:
    running = client.V1ContainerState(running=client.V1ContainerStateRunning())
    ended = client.V1ContainerState(terminated=client.V1ContainerStateTerminated(exit_code=1))
    waiting = client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason="CrashLoopBackOff"))
    assert pod_logs.kubelet_reported(_pod(_status(running)))
    assert pod_logs.kubelet_reported(_pod(_status(ended)))
    assert pod_logs.kubelet_reported(_pod(_status(waiting, last=ended)))
