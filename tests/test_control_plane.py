"""fixtures/control_plane.py without a cluster: which kube-controller-manager pod runs (GC-TERMINATED-THRESHOLD must
not break when a restart leaves two), its flags, and the default its --help gives (a different one must be read as
such, so that the scenario can deviate)."""

from __future__ import annotations

import datetime as dt

from kubernetes import client

from k8s_doc_conformance.fixtures import control_plane

KCM = "kube-controller-manager"
FLAG = "--terminated-pod-gc-threshold"
HELP = """\
PodGC controller flags:

      --terminated-pod-gc-threshold int32
                Number of terminated pods that can exist before the terminated pod garbage collector starts deleting
                terminated pods. If <= 0, the terminated pod garbage collector is disabled. (default 12500)

ReplicaSet controller flags:

      --concurrent-replicaset-syncs int32   The number of replica sets allowed to sync concurrently. (default 5)
"""


def pod(name: str, *, started: int | None, phase: str = "Running", deleting: bool = False) -> client.V1Pod:
    """A kube-controller-manager pod whose container runs since ``started`` (seconds after an epoch), or waits."""
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    state = (
        client.V1ContainerState(running=client.V1ContainerStateRunning(started_at=at + dt.timedelta(seconds=started)))
        if started is not None
        else client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason="CrashLoopBackOff"))
    )
    status = client.V1ContainerStatus(
        name=KCM, image="k", image_id="sha256:1", ready=started is not None, restart_count=0, state=state
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, deletion_timestamp=at if deleting else None),
        spec=client.V1PodSpec(containers=[client.V1Container(name=KCM, image="k")]),
        status=client.V1PodStatus(phase=phase, container_statuses=[status]),
    )


def test_the_running_pod_is_chosen_when_a_restart_left_two() -> None:
    old = pod("kcm-old", started=10, deleting=True)
    new = pod("kcm-new", started=20)
    assert control_plane.running_pod([old, new], KCM) is new
    assert control_plane.running_pod([new, old], KCM) is new


def test_of_several_running_the_last_started_is_chosen() -> None:
    first, second = pod("kcm-a", started=30), pod("kcm-b", started=5)
    assert control_plane.running_pod([second, first], KCM) is first


def test_none_runs_while_restarting() -> None:
    waiting = pod("kcm", started=None)
    pending = pod("kcm-p", started=1, phase="Pending")
    assert control_plane.running_pod([waiting, pending], KCM) is None
    assert control_plane.running_pod([], KCM) is None


def test_a_pod_without_a_container_of_that_name_is_judged_by_its_first() -> None:
    other = pod("cm", started=3)
    other.spec.containers[0].name = other.status.container_statuses[0].name = "controller-manager"
    assert control_plane.running_pod([other], KCM) is other


def test_flag_value_in_both_forms_the_last_one_wins() -> None:
    args = ["kube-controller-manager", "--a=1", "--terminated-pod-gc-threshold=50", "--b"]
    assert control_plane.flag_value(args, FLAG) == "50"
    assert control_plane.flag_value([*args, "--terminated-pod-gc-threshold", "7"], FLAG) == "7"
    assert control_plane.flag_value(args, "--terminated-pod-gc") is None
    assert control_plane.flag_value([FLAG], FLAG) is None


def test_help_entry_and_its_default() -> None:
    entry = control_plane.flag_help(HELP, FLAG)
    assert entry.startswith("--terminated-pod-gc-threshold int32 Number of terminated pods")
    assert "ReplicaSet" not in entry and "concurrent" not in entry
    assert control_plane.help_default(entry) == 12500
    one_line = control_plane.flag_help(HELP, "--concurrent-replicaset-syncs")
    assert control_plane.help_default(one_line) == 5


def test_another_default_is_read_as_it_is() -> None:
    """What lets the scenario deviate: a binary whose default is not 12500, or that has no such flag."""
    changed = HELP.replace("(default 12500)", "(default 5)")
    assert control_plane.help_default(control_plane.flag_help(changed, FLAG)) == 5
    zero = HELP.replace(" (default 12500)", "")  # pflag shows no default when it is 0
    assert control_plane.help_default(control_plane.flag_help(zero, FLAG)) is None
    gone = HELP.replace(FLAG, "--other-threshold")
    assert control_plane.flag_help(gone, FLAG) == ""
    assert control_plane.flag_help(HELP, "--terminated-pod-gc") == ""  # a prefix is not the flag


PODGC_LOG = "\n".join(
    (
        'I1202 03:48:01.100000 1 gc_controller.go:182] "Found orphaned Pod assigned to the Node, deleting."'
        ' pod="ns1/orphan" node="k8sdc-ghost-1"',
        'I1202 03:48:01.200000 1 gc_controller.go:78] "PodGC is force deleting Pod" pod="ns1/orphan"',
        'I1202 03:48:01.300000 1 gc_controller.go:186] "Forced deletion of orphaned Pod succeeded" pod="ns1/orphan"',
        'I1202 03:48:02.000000 1 gc_controller.go:316] "Forced deletion of unscheduled terminating Pod succeeded"'
        ' logger="pod-garbage-collector-controller" pod="ns2/unbound-held"',
        'I1202 03:48:03.000000 1 gc_controller.go:264] "Forced deletion of orphaned Pod succeeded"'
        ' logger="pod-garbage-collector-controller" pod="ns1/orphan-2"',
        'I1202 03:48:04.000000 1 replica_set.go:676] "Finished syncing" logger="replicaset-controller"'
        ' kind="ReplicaSet" key="ns1/orphan"',
    )
)


def test_podgc_deletions_are_read_from_the_controller_managers_log() -> None:
    """The lines of v1.23's and v1.35's log formats that record PodGC deleting a pod, and only that pod's: another
    pod whose name starts alike, a line that only finds the orphan, another controller's line name no deletion."""
    orphan = control_plane.podgc_deletions(PODGC_LOG, "ns1", "orphan")
    assert [line.split("] ")[1].split('"')[1] for line in orphan] == [
        "PodGC is force deleting Pod",
        "Forced deletion of orphaned Pod succeeded",
    ]
    assert len(control_plane.podgc_deletions(PODGC_LOG, "ns2", "unbound-held")) == 1
    assert control_plane.podgc_deletions(PODGC_LOG, "ns2", "orphan") == []
    assert control_plane.podgc_deletions(PODGC_LOG, "ns1", "orphan-3") == []
