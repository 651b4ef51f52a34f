"""Pod termination (doc 003: "pod的终止", and the preStop example of "回调处理程序的实现").

Deleting a pod starts a graceful shutdown: the API object gets a deadline and shows as Terminating, preStop hooks
run, the runtime sends TERM (or the image's STOPSIGNAL) to each container's main process, KILL when the grace
period is over, then the kubelet moves the pod to a terminal phase and removes it with grace period 0. Observed
from inside the containers (reporter scripts, timestamped by the runtime: fixtures/termination.py) and through the
API (a watch on the pod), and attached as one timeline per scenario: deletion -> preStop start/end -> signal ->
exit or KILL -> removal.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, suppress

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from fixtures import nodes, pods
from fixtures import termination as term
from fixtures.apicalls import must_be_accepted
from fixtures.evidence import Evidence
from fixtures.nodes import Reconfigurable
from fixtures.registry.service import RegistrySet
from fixtures.signatures import Kubectl
from fixtures.termination import LogFollower, PodRecorder
from fixtures.timeline import Timeline
from fixtures.waits import WaitTimeout, wait_for

#: The kubelet's minimum time between the end of preStop (or a preStop that ran out of time) and KILL
#: (pkg/kubelet/kuberuntime/kuberuntime_container.go, minimumGracePeriodInSeconds).
KUBELET_MIN_GRACE = 2.0
#: Seconds the kubelet may take to act on a deletion on this busy 2-core host (measured 0.7-1.9 s): the grace period
#: starts when it does.
KUBELET_REACTION = 3.0
#: A finalizer of the suite's own: it holds a pod in the API until the scenario has read its final status.
KEEP_FINAL_STATUS = "k8sdc.io/keep-final-status"


@pytest.fixture
def started(
    core: client.CoreV1Api, namespace: str, evidence: Evidence
) -> Iterator[Callable[..., dict[str, LogFollower]]]:
    """``started(pod, follow=[names]) -> {name: LogFollower}``: create the pod, wait until it runs, follow the
    named containers' logs and wait until each reported READY (its traps are set). Followers stop afterwards.
    The pods are the documents' examples: a refusal (a policy capping the grace period) is a deviation."""
    followers: list[LogFollower] = []

    def start(pod: client.V1Pod, follow: list[str] | None = None, timeout: float = 120) -> dict[str, LogFollower]:
        grace = pod.spec.termination_grace_period_seconds
        must_be_accepted(
            lambda: core.create_namespaced_pod(namespace, pod),
            evidence,
            documented="the pod is created as the documentation describes it",
            what=f"pod {pod.metadata.name} (terminationGracePeriodSeconds {grace if grace is not None else 'default'})",
        )
        pods.wait_running(core, namespace, pod.metadata.name, timeout)
        names = follow if follow is not None else [c.name for c in pod.spec.containers]
        made = {n: LogFollower(core, namespace, pod.metadata.name, n) for n in names}
        followers.extend(made.values())
        for f in made.values():
            f.wait_for("READY", 60)
        return made

    yield start
    for f in followers:
        f.stop()


def delete(core: client.CoreV1Api, namespace: str, name: str) -> float:
    """Delete the pod with its own grace period; the epoch time just before the call."""
    t0 = time.time()
    core.delete_namespaced_pod(name, namespace)
    return t0


def force_delete(core: client.CoreV1Api, namespace: str, name: str) -> None:
    with suppress(ApiException):
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def rel(at: float | None, t0: float) -> float | None:
    return term.rel(at, t0)


def killed_at(follower: LogFollower, recorder: PodRecorder, container: str) -> tuple[float | None, int | None]:
    """(last line the container printed, its exit code as the API reported it)."""
    return follower.last_alive(), recorder.exit_code(container)


# --------------------------------------------------------------------------- the documented example


@pytest.mark.slow
@pytest.mark.claim("HOOK-GRACE-EXAMPLE-60-55-10")
def test_example_grace_60_hook_55_shutdown_10_is_killed(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, started: Callable, evidence: Evidence
) -> None:
    """ "if terminationGracePeriodSeconds is 60, the hook takes 55 s to complete, and the container takes 10 s to
    stop normally after receiving the signal, the container will be killed before it can stop normally, since
    terminationGracePeriodSeconds is less than the total time (55+10) it takes for these two things to happen."
    Run literally: grace 60, preStop ``sleep 55``, a main process that needs 10 s after TERM. Expected: TERM at about
    55 s, KILL at about 60 s (the kubelet grants at least 2 s after preStop), never CLEAN-EXIT. While it terminates,
    the phase, deletionTimestamp and kubectl's STATUS are recorded (the documents call it a "Terminating phase")."""
    name = "example-60-55-10"
    main = term.reporter_container("main", busybox_image, "exit", shutdown_seconds=10, prestop_seconds=55)
    follow = started(term.reporter_pod(name, [main], grace=60))["main"]
    recorder = PodRecorder(core, namespace, name)
    with Timeline(core, namespace) as tl:
        t0 = delete(core, namespace, name)
        time.sleep(5)
        during = core.read_namespaced_pod(name, namespace)
        shown = kubectl("get", "pod", name, "-n", namespace, "--no-headers").stdout.split()
        try:
            removed = recorder.wait_deleted(100)
        except WaitTimeout:
            removed = None
    prestop_start, prestop_end = follow.first("PRESTOP-START"), follow.first("PRESTOP-END")
    term_at, last_alive = follow.first("GOT TERM"), follow.last_alive()
    exit_code = recorder.exit_code("main")
    observed = {
        "preStop start (s after delete)": rel(prestop_start, t0),
        "preStop end": rel(prestop_end, t0),
        "TERM received": rel(term_at, t0),
        "last sign of life (KILL within 0.2 s)": rel(last_alive, t0),
        "clean exit reached": follow.has("CLEAN-EXIT"),
        "exit code": exit_code,
        "pod removed from the API": rel(removed, t0),
    }
    while_terminating = {
        "status.phase": during.status.phase,
        "metadata.deletionTimestamp": during.metadata.deletion_timestamp.isoformat(),
        "metadata.deletionGracePeriodSeconds": during.metadata.deletion_grace_period_seconds,
        "kubectl get pod STATUS": shown[2] if len(shown) > 2 else shown,
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [follow], recorder))
    evidence.attach("pod events", tl.entries)
    evidence.observe(
        documented="TERM after the 55 s hook; killed at the 60 s grace (+2 s kubelet minimum) before the 10 s "
        "shutdown completes",
        observed=observed,
        while_terminating=while_terminating,
    )
    assert prestop_start is not None and prestop_start - t0 <= 3, f"preStop did not start at delete: {observed}"
    assert term_at is not None and 54 <= term_at - t0 <= 59, f"TERM not at about 55 s: {observed}"
    assert not follow.has("CLEAN-EXIT"), f"the 10 s shutdown completed, the container was not killed: {observed}"
    assert exit_code == 137, f"not killed (exit code {exit_code}): {observed}"
    assert last_alive is not None and 58 <= last_alive - t0 <= 60 + KUBELET_MIN_GRACE + 1, (
        f"killed at {rel(last_alive, t0)} s, not at the 60 s grace period: {observed}"
    )


# --------------------------------------------------------------------------- grace period and signals


@pytest.mark.slow
@pytest.mark.claim("TERM-DEFAULT-GRACE-30S")
def test_delete_sends_term_then_kill_after_default_30s(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "kubectl delete po …: tells Kubernetes to terminate all containers of the pod, sends the processes SIGTERM
    and waits 30 s; if they did not shut down, SIGKILL." A pod without terminationGracePeriodSeconds whose main
    process ignores TERM."""
    name = "default-grace"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=None))
    stored = core.read_namespaced_pod(name, namespace).spec.termination_grace_period_seconds
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(90)
    f = follow["main"]
    term_at, last_alive = f.first("GOT TERM"), f.last_alive()
    exit_code = recorder.exit_code("main")
    observed = {
        "stored terminationGracePeriodSeconds": stored,
        "TERM received (s after delete)": rel(term_at, t0),
        "last sign of life": rel(last_alive, t0),
        "exit code": exit_code,
        "removed": rel(recorder.deleted_at(), t0),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [f], recorder))
    evidence.observe(documented="grace 30 s: TERM at once, KILL (137) at about 30 s", observed=observed)
    assert stored == 30, f"terminationGracePeriodSeconds defaulted to {stored}"
    assert term_at is not None and term_at - t0 <= 3, f"no TERM at deletion: {observed}"
    assert exit_code == 137, f"not killed: {observed}"
    assert last_alive is not None and 29 <= last_alive - t0 <= 30 + KUBELET_REACTION, f"KILL not at 30 s: {observed}"


@pytest.mark.claim("TERM-SIGTERM-TO-MAIN-PROCESS")
def test_term_goes_to_the_main_process_of_every_container(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "the kubelet first sends a TERM signal … to the main process in each container … These requests … are
    processed asynchronously … no guarantee as to the order." Three containers whose PID 1 reports TERM and exits;
    the first also runs a child process that reports what it receives (it gets no TERM: only the main process
    does). No order is asserted; the spread is recorded."""
    name = "three"
    names = ["alpha", "beta", "gamma"]
    containers = [term.reporter_container(n, busybox_image, "exit", child=(n == "alpha")) for n in names]
    follow = started(term.reporter_pod(name, containers, grace=20, restart_policy="Never"))
    follow["alpha"].wait_for("CHILD-READY", 30)
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    got = {n: [line.text for line in follow[n].snapshot() if line.text.startswith("GOT")] for n in names}
    times = {n: rel(follow[n].first("GOT TERM"), t0) for n in names}
    codes = {n: recorder.exit_code(n) for n in names}
    child = [line.text for line in follow["alpha"].snapshot() if line.text.startswith("CHILD-GOT")]
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="every container's main process (PID 1) receives TERM, in no guaranteed order",
        observed={"signals reported": got, "TERM times (s after delete)": times, "exit codes": codes},
        child_process_received=child,
        order=sorted(names, key=lambda n: times[n] or 1e9),
    )
    missing = [n for n in names if "GOT TERM pid=1" not in got[n]]
    assert not missing, f"no TERM reached PID 1 of {missing}: {got}"
    assert all(c == 0 for c in codes.values()), f"containers did not exit on TERM: {codes}"


@pytest.mark.claim("TERM-STOPSIGNAL-HONOURED")
def test_image_stopsignal_is_sent_instead_of_term(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    run_id: str,
    started: Callable,
    evidence: Evidence,
) -> None:
    """ "Many container runtimes respect the STOPSIGNAL value defined in the container image and, if different,
    send the container image's configured STOPSIGNAL instead of TERM." An image whose config says STOPSIGNAL
    SIGUSR1, whose entrypoint reports every signal it gets (containerd here)."""
    reg = registries.open
    repo = f"k8sdc/{run_id}/stopsignal-{uuid.uuid4().hex[:6]}"
    config = term.push_reporter_image(reg.push_host, reg.ca_cert, repo, "v1", stop_signal="SIGUSR1")
    image = f"{reg.names[0]}/{repo}:v1"
    container = client.V1Container(name="main", image=image, image_pull_policy="IfNotPresent")
    name = "stopsignal"
    follow = started(term.reporter_pod(name, [container], grace=20, restart_policy="Never"))["main"]
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    got = [line.text for line in follow.snapshot() if line.text.startswith("GOT")]
    evidence.attach("timeline (s after delete)", term.timeline(t0, [follow], recorder))
    evidence.observe(
        documented="the image's STOPSIGNAL (SIGUSR1) is sent instead of TERM",
        observed={"signals the main process got": got, "exit code": recorder.exit_code("main")},
        image_config_stop_signal=config.get("config", {}).get("StopSignal"),
    )
    assert got and got[0].startswith("GOT USR1"), f"first stop signal was not USR1: {got}"
    assert not any(g.startswith("GOT TERM") for g in got), f"TERM was sent as well: {got}"


@pytest.mark.claim("TERM-KILL-AFTER-GRACE")
def test_kill_when_grace_ends_then_removed_from_api(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "Once the grace period has expired, the KILL signal is sent to any remaining processes, and the Pod is then
    deleted from the API server." Grace 5 s, a main process that ignores TERM."""
    name = "kill-after-5"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=5))
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    f = follow["main"]
    last_alive, code, removed = f.last_alive(), recorder.exit_code("main"), recorder.deleted_at()
    observed = {
        "TERM received": rel(f.first("GOT TERM"), t0),
        "last sign of life": rel(last_alive, t0),
        "exit code": code,
        "removed from the API": rel(removed, t0),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [f], recorder))
    evidence.observe(documented="KILL at 5 s, then the pod is removed from the API", observed=observed)
    assert code == 137, f"not killed: {observed}"
    assert last_alive is not None and 4 <= last_alive - t0 <= 5 + KUBELET_REACTION, f"KILL not at 5 s: {observed}"
    assert removed is not None and 0 <= removed - last_alive <= 10, f"not removed after the KILL: {observed}"


@pytest.mark.claim("TERM-PRESTOP-2S-EXTENSION")
def test_prestop_running_past_grace_gets_a_2s_extension(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "If the preStop hook is still running when the grace period expires, the kubelet requests a one-off grace
    period extension of 2 seconds." Grace 5 s, preStop ``sleep 60``, a main process that ignores TERM: the
    container gets TERM when the 5 s are over and KILL about 2 s later (at about 7 s, not 5 s and not 60 s)."""
    name = "extension"
    main = term.reporter_container("main", busybox_image, "ignore", prestop_seconds=60)
    follow = started(term.reporter_pod(name, [main], grace=5))["main"]
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(90)
    term_at, last_alive = follow.first("GOT TERM"), follow.last_alive()
    observed = {
        "preStop start": rel(follow.first("PRESTOP-START"), t0),
        "preStop end": rel(follow.first("PRESTOP-END"), t0),
        "TERM received": rel(term_at, t0),
        "last sign of life": rel(last_alive, t0),
        "extension (KILL - TERM)": round(last_alive - term_at, 2) if last_alive and term_at else None,
        "exit code": recorder.exit_code("main"),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [follow], recorder))
    evidence.observe(documented="TERM at 5 s (grace over, hook still running), KILL at about 7 s", observed=observed)
    assert recorder.exit_code("main") == 137, f"not killed: {observed}"
    assert last_alive is not None and 6 <= last_alive - t0 <= 7 + KUBELET_REACTION, f"KILL not at 5+2 s: {observed}"
    assert term_at is not None and 1.5 <= last_alive - term_at <= 2.7, f"no 2 s between TERM and KILL: {observed}"


@pytest.mark.claim("TERM-RESTART-RESTARTS-GRACE")
@pytest.mark.needs("reconfigurable")
def test_kubelet_restart_restarts_the_full_grace_period(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    node_exec: Callable[[str, list[str]], str],
    reconfigurable_node: Reconfigurable,
    exclusive: Callable[[str], AbstractContextManager[None]],
    started: Callable,
    evidence: Evidence,
) -> None:
    """ "If the kubelet or the container runtime's management service is restarted while waiting for processes to
    terminate, the cluster retries from the start, including the full original grace period." Grace 20 s, a main
    process that ignores TERM, on the reconfigurable node; its kubelet is restarted 6 s after the delete. Expected:
    KILL about 20 s after the restart (about 27 s after the delete), not at 20 s."""
    grace, restart_after = 20, 6.0
    name = "restart"
    node = reconfigurable_node.name
    pod = reconfigurable_node.pin(
        term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=grace)
    )
    # the suite's finalizer keeps the pod until its final status is read: the restarted kubelet may remove the pod
    # before a watch sees the terminated state (seen on v1.23: KILL on time, the exit code never published)
    pod.metadata.finalizers = [KEEP_FINAL_STATUS]
    asked = time.time()
    with exclusive("reconfigurable-node"):
        locked = time.time()
        follow = started(pod)["main"]
        recorder = PodRecorder(core, namespace, name)
        t0 = delete(core, namespace, name)
        try:
            time.sleep(max(0.0, t0 + restart_after - time.time()))
            restart_begin = time.time()
            node_exec(node, ["systemctl", "restart", "kubelet"])
            restart_end = time.time()
            with suppress(WaitTimeout):
                wait_for(lambda: recorder.first(kubelet_removed), bool, 90, "the kubelet's delete", interval=0.5)
        finally:
            release(core, namespace, name)
            nodes.wait_ready(core, node)
    terms, last_alive, finished = follow.all("GOT TERM"), follow.last_alive(), recorder.finished_at("main")
    removed = recorder.first(kubelet_removed)
    # the log stream breaks with the kubelet: the status' finishedAt (whole seconds) bounds the KILL as well
    killed = max((t for t in (last_alive, finished) if t is not None), default=None)
    observed = {
        "TERM received (s after delete)": [rel(t, t0) for t in terms],
        "kubelet restarted": [rel(restart_begin, t0), rel(restart_end, t0)],
        "last sign of life": rel(last_alive, t0),
        "finishedAt (whole seconds)": rel(finished, t0),
        "KILL after the restart (s)": round(killed - restart_end, 2) if killed else None,
        "exit code": recorder.exit_code("main"),
        "final state": (removed or recorder.snapshots[-1]).containers.get("main"),
        "removed by the kubelet (grace 0)": rel(removed.at if removed else None, t0),
    }
    marks = [(restart_begin, "kubelet restart"), (restart_end, "kubelet restarted")]
    evidence.attach("timeline (s after delete)", term.timeline(t0, [follow], recorder, marks))
    evidence.observe(
        documented=f"after the restart, a full {grace} s grace period again: KILL about {grace} s after the restart",
        observed=observed,
        follower_errors=follow.errors[-5:],
        waited_for_the_node_s=round(locked - asked, 1),
        note="containerd 1.6 sends the stop signal once per container (IsStopSignaledWithTimeout): after the "
        "restart the kubelet's new StopContainer restarts the wait, not the signal",
    )
    assert killed is not None and recorder.exit_code("main") == 137, f"not killed: {observed}"
    assert killed - t0 > grace + 2, f"killed when the original grace period ended: {observed}"
    assert killed - restart_end >= grace - 1.5, f"less than a full grace period after the restart: {observed}"


def replica_failures(apps: client.AppsV1Api, namespace: str, name: str) -> list[str]:
    """The ReplicaSet's ReplicaFailure messages: the API server's refusals of the pods it tried to create."""
    status = apps.read_namespaced_replica_set(name, namespace).status
    return [str(c.message) for c in status.conditions or [] if c.type == "ReplicaFailure"]


def kubelet_removed(snap: term.Snapshot) -> bool:
    """The kubelet's own delete (grace period 0) after the container ended, held back by the suite's finalizer."""
    return snap.deletion_grace == 0 or snap.type == "DELETED"


def release(core: client.CoreV1Api, namespace: str, name: str) -> None:
    """Drop the suite's finalizer so that the pod goes (also when the scenario failed or was interrupted)."""
    with suppress(ApiException):
        core.patch_namespaced_pod(name, namespace, [{"op": "remove", "path": "/metadata/finalizers"}])


# --------------------------------------------------------------------------- what the API shows


@pytest.mark.claim("TERM-DELETION-DEADLINE-RECORDED")
def test_delete_records_the_deadline_and_kubectl_shows_terminating(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, started: Callable, evidence: Evidence
) -> None:
    """ "The Pod in the API server is updated with the time beyond which the Pod is considered 'dead', along with
    the grace period. If you use kubectl describe to check the Pod you're deleting, that Pod shows up as
    'Terminating'." Grace 30 s, a preStop hook that sleeps 600 s (the pod is force-deleted afterwards)."""
    name = "deadline"
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=600)
    started(term.reporter_pod(name, [main], grace=30))
    t0 = delete(core, namespace, name)
    try:
        time.sleep(1)
        pod = core.read_namespaced_pod(name, namespace)
        got = kubectl("get", "pod", name, "-n", namespace, "--no-headers").stdout.split()
        described = kubectl("describe", "pod", name, "-n", namespace).stdout
    finally:
        force_delete(core, namespace, name)
    deadline = pod.metadata.deletion_timestamp
    status_lines = [line.strip() for line in described.splitlines() if line.startswith(("Status:", "Termination"))]
    observed = {
        "deletionTimestamp": deadline.isoformat() if deadline else None,
        "deletionTimestamp - delete call (s)": round(deadline.timestamp() - t0, 2) if deadline else None,
        "deletionGracePeriodSeconds": pod.metadata.deletion_grace_period_seconds,
        "status.phase": pod.status.phase,
        "kubectl get STATUS": got[2] if len(got) > 2 else got,
        "kubectl describe": status_lines,
    }
    evidence.observe(documented="deletionTimestamp = delete time + 30 s; kubectl shows Terminating", observed=observed)
    assert deadline is not None, "no deletionTimestamp"
    assert abs(deadline.timestamp() - (t0 + 30)) <= 2, f"deadline is not delete time + 30 s: {observed}"
    assert pod.metadata.deletion_grace_period_seconds == 30, observed
    assert any(line.startswith("Status:") and "Terminating" in line for line in status_lines), (
        f"kubectl describe does not show Terminating: {status_lines}"
    )
    assert len(got) > 2 and got[2] == "Terminating", f"kubectl get STATUS: {got}"


@pytest.mark.claim("TERM-KUBELET-SETS-TERMINAL-PHASE")
def test_kubelet_sets_a_terminal_phase_before_removal(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "The kubelet transitions the Pod into a terminal phase (Failed/Succeeded)" before the API server removes it.
    A Deployment-like pod (restartPolicy Always) whose two containers exit 0 on TERM; the watch must show phase
    Succeeded or Failed before DELETED."""
    name = "terminal-phase"
    containers = [term.reporter_container(n, busybox_image, "exit") for n in ("one", "two")]
    follow = started(term.reporter_pod(name, containers, grace=10))
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    terminal = recorder.first(lambda s: s.phase in pods.TERMINAL and s.type != "DELETED")
    phases = [(s.type, s.phase, rel(s.at, t0)) for s in recorder.snapshots]
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="phase Succeeded or Failed (MODIFIED) before DELETED",
        observed={"watch events (type, phase, s)": phases},
        terminal_phase=terminal.phase if terminal else None,
    )
    assert recorder.deleted_at() is not None, f"pod not removed: {phases}"
    assert terminal is not None, f"no terminal phase before removal: {phases}"
    assert terminal.at <= (recorder.deleted_at() or 0), phases


@pytest.mark.claim("TERM-FINAL-REMOVAL-GRACE-0")
def test_kubelet_removes_the_pod_with_grace_period_0(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "The kubelet triggers forcible removal of the Pod object from the API server by setting the grace period to
    0", then "the API server deletes the Pod's API object". Grace 10 s; the containers exit at once on TERM. The
    watch must show deletionGracePeriodSeconds going from 10 to 0 after every container has terminated, then
    DELETED."""
    name = "grace-zero"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "exit")], grace=10))
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    rows = [(s.type, s.deletion_grace, s.phase, s.containers, rel(s.at, t0)) for s in recorder.snapshots]
    finished = recorder.first(
        lambda s: bool(s.containers) and all(v.startswith("terminated") for v in s.containers.values())
    )
    zero = recorder.first(lambda s: s.deletion_grace == 0)
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="after the containers ended, deletionGracePeriodSeconds 0, then the object is deleted",
        observed={"watch (type, deletionGracePeriodSeconds, phase, containers, s)": rows},
    )
    assert recorder.deleted_at() is not None, f"pod not removed: {rows}"
    assert zero is not None, f"the grace period never became 0: {rows}"
    assert finished is not None and finished.at <= zero.at, f"grace 0 before the containers had terminated: {rows}"
    assert any(s.deletion_grace == 10 for s in recorder.snapshots), f"the delete did not record 10 s first: {rows}"


@pytest.mark.claim("TERM-FORCE-DELETE")
def test_force_delete_removes_the_pod_at_once(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, started: Callable, evidence: Evidence
) -> None:
    """ "kubectl delete po/poname --force --grace-period 0" force-deletes a pod: the API object is gone at once,
    although its preStop hook would take 600 s."""
    name = "forced"
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=600)
    started(term.reporter_pod(name, [main], grace=600))
    recorder = PodRecorder(core, namespace, name)
    t0 = time.time()
    out = kubectl("delete", f"po/{name}", "-n", namespace, "--force", "--grace-period", "0")
    returned = time.time()
    try:
        core.read_namespaced_pod(name, namespace)
        still_there = True
    except ApiException as exc:
        still_there = exc.status != 404
    with suppress(WaitTimeout):
        recorder.wait_deleted(5)
    observed = {
        "kubectl returned after (s)": round(returned - t0, 2),
        "GET after kubectl": "still there" if still_there else "404 NotFound",
        "DELETED event (s)": rel(recorder.deleted_at(), t0),
        "kubectl output": (out.stdout + out.stderr).strip(),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [], recorder))
    evidence.observe(documented="the pod object is removed immediately", observed=observed)
    assert not still_there, f"the pod still exists after a forced delete: {observed}"
    removed = recorder.deleted_at()
    assert removed is not None and removed - t0 <= 2, f"not removed at once: {observed}"


# --------------------------------------------------------------------------- sidecars, endpoints, controllers


@pytest.mark.claim("TERM-SIDECARS-LAST-REVERSE-ORDER")
@pytest.mark.since("1.29", "sidecar containers (restartable init containers, SidecarContainers beta and on by default)")
def test_sidecars_get_term_after_main_containers_in_reverse_order(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Callable, evidence: Evidence
) -> None:
    """ "If the Pod includes one or more sidecar containers (init containers with an Always restart policy), the
    kubelet will delay sending the TERM signal to these sidecar containers until the last main container has fully
    terminated. The sidecar containers will be terminated in the reverse order they are defined in the Pod spec."
    Sidecars s1, s2 (1 s to shut down each) and a main container that needs 3 s after TERM."""
    name = "sidecars"
    sidecars = [
        term.reporter_container(n, busybox_image, "exit", shutdown_seconds=1, restart_policy="Always")
        for n in ("s1", "s2")
    ]
    main = term.reporter_container("main", busybox_image, "exit", shutdown_seconds=3)
    pod = term.reporter_pod(name, [main], grace=30, init_containers=sidecars)
    follow = started(pod, follow=["s1", "s2", "main"])
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    got = {n: follow[n].first("GOT TERM") for n in follow}
    ended = {n: follow[n].last_alive() for n in follow}
    observed = {
        "TERM received (s after delete)": {n: rel(t, t0) for n, t in got.items()},
        "exited (last line)": {n: rel(t, t0) for n, t in ended.items()},
        "exit codes": {n: recorder.exit_code(n) for n in follow},
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(documented="main: TERM then exit; then s2 TERM; then s1 TERM", observed=observed)
    s1, s2, main_term, main_end = got["s1"], got["s2"], got["main"], ended["main"]
    assert s1 is not None and s2 is not None and main_term is not None, f"a container got no TERM: {observed}"
    assert main_end is not None and s2 >= main_end, f"sidecar s2 got TERM before the main container ended: {observed}"
    assert s1 >= main_end, f"sidecar s1 got TERM before the main container ended: {observed}"
    assert s2 < s1, f"sidecars not terminated in reverse order (s2 first): {observed}"


@pytest.mark.claim("TERM-ENDPOINT-NOT-READY")
def test_terminating_pod_is_not_ready_in_endpointslices(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    busybox_image: str,
    started: Callable,
    evidence: Evidence,
) -> None:
    """ "While the kubelet starts the graceful shutdown, the control plane evaluates whether to remove the
    shutting-down Pod from EndpointSlice objects … Pods that are terminating have ready set to false, so that load
    balancers do not use them for regular traffic." A Service selects the pod; the pod's preStop sleeps 20 s. Within
    5 s of the delete, its endpoint must be gone or have ready=false."""
    discovery = client.DiscoveryV1Api(api_client)
    name, labels = "served", {"app": "served"}
    core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="served"),
            spec=client.V1ServiceSpec(selector=labels, ports=[client.V1ServicePort(port=80, target_port=8080)]),
        ),
    )
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=20)
    started(term.reporter_pod(name, [main], grace=25, labels=labels))
    ip = core.read_namespaced_pod(name, namespace).status.pod_ip

    def endpoint() -> dict[str, object] | None:
        slices = discovery.list_namespaced_endpoint_slice(namespace, label_selector="kubernetes.io/service-name=served")
        for s in slices.items:
            for ep in s.endpoints or []:
                if ip in (ep.addresses or []):
                    c = ep.conditions
                    return {"ready": c.ready, "serving": c.serving, "terminating": c.terminating}
        return None

    before = wait_for(endpoint, lambda e: e is not None and e["ready"] is True, 60, "endpoint ready")
    seen: list[tuple[float, object]] = []
    t0 = delete(core, namespace, name)
    try:
        while time.time() - t0 < 8:
            now = endpoint()
            if not seen or seen[-1][1] != now:
                seen.append((round(time.time() - t0, 2), now))
            time.sleep(0.2)
    finally:
        force_delete(core, namespace, name)
    not_ready_at = next((t for t, e in seen if e is None or not e["ready"]), None)  # type: ignore[index]
    evidence.observe(
        documented="the terminating pod's endpoint is removed or has ready=false within seconds",
        observed={"before delete": before, "changes (s after delete, endpoint)": seen},
    )
    assert not_ready_at is not None and not_ready_at <= 5, f"endpoint still ready after the delete: {seen}"


@pytest.mark.claim("TERM-REPLICASET-REPLACES")
def test_replicaset_treats_the_terminating_pod_as_a_serving_replica(
    core: client.CoreV1Api, api_client: client.ApiClient, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """003: "ReplicaSets and other workload resources treat the shutting-down pod as a replica that can serve."
    A ReplicaSet with one replica whose pod's preStop sleeps 30 s: if the terminating pod still counts as a serving
    replica, no replacement appears while it terminates (watched for 10 s)."""
    apps = client.AppsV1Api(api_client)
    labels = {"app": "replicated"}
    main = term.reporter_container("main", busybox_image, "exit", prestop_seconds=30)
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[main], termination_grace_period_seconds=35),
    )
    apps.create_namespaced_replica_set(
        namespace,
        client.V1ReplicaSet(
            metadata=client.V1ObjectMeta(name="replicated"),
            spec=client.V1ReplicaSetSpec(
                replicas=1, selector=client.V1LabelSelector(match_labels=labels), template=template
            ),
        ),
    )

    def running() -> list[client.V1Pod]:
        return [p for p in core.list_namespaced_pod(namespace).items if p.status.phase == "Running"]

    try:
        first = wait_for(running, lambda ps: len(ps) == 1, 120, "the ReplicaSet's pod running")[0].metadata.name
    except WaitTimeout:
        refused = replica_failures(apps, namespace, "replicated")
        if not refused:
            raise
        evidence.observe(documented="a pod of the ReplicaSet runs", observed={"its pod was refused": refused[0]})
        raise AssertionError(f"the ReplicaSet could not create its pod (a policy?): {refused[0]}") from None
    with Timeline(core, namespace) as tl:
        t0 = delete(core, namespace, first)
        replacement: tuple[str, float] | None = None
        old_terminating = True
        while time.time() - t0 < 10 and replacement is None:
            for p in core.list_namespaced_pod(namespace).items:
                if p.metadata.name != first and not p.metadata.deletion_timestamp:
                    replacement = (p.metadata.name, round(time.time() - t0, 2))
            try:
                old = core.read_namespaced_pod(first, namespace)
                old_terminating = old.metadata.deletion_timestamp is not None
            except ApiException:
                old_terminating = False
            time.sleep(0.2)
        rs = apps.read_namespaced_replica_set("replicated", namespace).status
    force_delete(core, namespace, first)
    evidence.attach("pods and events", tl.entries)
    evidence.observe(
        documented="the terminating pod counts as a serving replica: no replacement while it shuts down",
        observed={
            "replacement (name, s after delete)": replacement,
            "old pod still terminating then": old_terminating,
            "ReplicaSet status": {
                "replicas": rs.replicas,
                "ready": rs.ready_replicas,
                "terminating": rs.terminating_replicas,
            },
        },
    )
    assert replacement is None, (
        f"the ReplicaSet created {replacement[0]} {replacement[1]} s after the delete while {first} was still "
        "terminating: it does not treat the shutting-down pod as a serving replica"
    )


@pytest.mark.slow
@pytest.mark.claim("TERM-FORCE-KILL-AND-PAUSE-CLEANUP")
@pytest.mark.needs("node_access")
def test_forced_shutdown_kills_and_removes_the_pause_container(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    node_exec: Callable[[str, list[str]], str],
    started: Callable,
    evidence: Evidence,
) -> None:
    """ "When the grace period expires, if there is still any container running in the Pod, the kubelet triggers
    forcible shutdown. The container runtime sends SIGKILL to any processes still running in any container in the
    Pod. The kubelet also cleans up a hidden pause container." Grace 3 s, a main process that ignores TERM; on the
    node (containerd's own view) the pod's sandbox (pause) and containers must stop and then be removed (the
    kubelet's container GC runs once a minute: within 90 s)."""
    name = "forced-shutdown"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=3))
    pod = core.read_namespaced_pod(name, namespace)
    node, uid = pod.spec.node_name, pod.metadata.uid
    before = runtime_view(node_exec, node, uid)
    recorder = PodRecorder(core, namespace, name)
    t0 = delete(core, namespace, name)
    with suppress(WaitTimeout):
        recorder.wait_deleted(60)
    at_removal = runtime_view(node_exec, node, uid)
    samples = [(rel(time.time(), t0), at_removal)]
    deadline = time.time() + 90
    while time.time() < deadline and samples[-1][1]:
        time.sleep(3)
        samples.append((rel(time.time(), t0), runtime_view(node_exec, node, uid)))
    gone_at = samples[-1][0] if not samples[-1][1] else None
    evidence.attach("timeline (s after delete)", term.timeline(t0, follow.values(), recorder))
    evidence.observe(
        documented="SIGKILL after the grace period; the pause (sandbox) container is cleaned up",
        observed={
            "exit code": recorder.exit_code("main"),
            "last sign of life": rel(follow["main"].last_alive(), t0),
            "runtime before delete": before,
            "runtime when the API object was removed": at_removal,
            "all of the pod's containers removed from containerd (s after delete)": gone_at,
        },
        samples=samples,
    )
    assert recorder.exit_code("main") == 137, "main container not killed with SIGKILL"
    running = {cid: v for cid, v in at_removal.items() if v["status"] == "RUNNING"}
    assert not running, f"still running in containerd when the pod was removed: {running}"
    assert any(v["kind"] == "sandbox" for v in before.values()), f"no pause sandbox seen before the delete: {before}"
    assert gone_at is not None, f"the pod's sandbox/containers were not removed within 90 s: {samples[-1][1]}"


def runtime_view(node_exec: Callable[[str, list[str]], str], node: str, uid: str) -> dict[str, dict[str, str]]:
    """containerd's containers of a pod (by its UID): {id[:12]: {kind: sandbox|container, name, status}}."""
    script = (
        f"for id in $(ctr -n k8s.io containers ls -q 'labels.\"io.kubernetes.pod.uid\"=={uid}'); do "
        'kind=$(ctr -n k8s.io containers info "$id" | grep -o \'"io.cri-containerd.kind": "[a-z]*"\' '
        "| cut -d'\"' -f4); "
        "st=$(ctr -n k8s.io tasks ls | awk -v id=\"$id\" '$1==id {print $3}'); "
        'echo "$id ${kind:-?} ${st:-NO-TASK}"; done'
    )
    out = node_exec(node, ["sh", "-c", script])
    view = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            view[parts[0][:12]] = {"kind": parts[1], "status": parts[2]}
    return view
