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
from contextlib import suppress

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import termination as term
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.nodes import Reconfigurable
from k8s_doc_conformance.fixtures.registry.service import RegistrySet
from k8s_doc_conformance.fixtures.signatures import Exclusive, Kubectl, NodeExec
from k8s_doc_conformance.fixtures.termination import PodRecorder, Started
from k8s_doc_conformance.fixtures.timeline import Timeline
from k8s_doc_conformance.fixtures.waits import WaitTimeout

# --------------------------------------------------------------------------- the documented example


@pytest.mark.slow
@pytest.mark.claim("HOOK-GRACE-EXAMPLE-60-55-10")
def test_example_grace_60_hook_55_shutdown_10_is_killed(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, started: Started, evidence: Evidence
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
        t0 = term.delete(core, namespace, name)
        time.sleep(5)
        during = term.while_terminating(core, kubectl, namespace, name)
        removed = None
        with suppress(WaitTimeout):
            removed = recorder.wait_deleted(100)
    prestop_start, prestop_end = follow.first("PRESTOP-START"), follow.first("PRESTOP-END")
    term_at, last_alive = follow.first("GOT TERM"), follow.last_alive()
    exit_code = recorder.exit_code("main")
    observed = {
        "preStop start (s after delete)": term.rel(prestop_start, t0),
        "preStop end": term.rel(prestop_end, t0),
        "TERM received": term.rel(term_at, t0),
        "last sign of life (KILL within 0.2 s)": term.rel(last_alive, t0),
        "clean exit reached": follow.has("CLEAN-EXIT"),
        "exit code": exit_code,
        "pod removed from the API": term.rel(removed, t0),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [follow], recorder))
    evidence.attach("pod events", tl.chart())
    evidence.observe(
        documented="TERM after the 55 s hook; killed at the 60 s grace (+2 s kubelet minimum) before the 10 s "
        "shutdown completes",
        observed=observed,
        while_terminating=during,
    )
    assert prestop_start is not None and prestop_start - t0 <= 3, f"preStop did not start at delete: {observed}"
    assert term_at is not None and 54 <= term_at - t0 <= 59, f"TERM not at about 55 s: {observed}"
    assert not follow.has("CLEAN-EXIT"), f"the 10 s shutdown completed, the container was not killed: {observed}"
    assert exit_code == 137, f"not killed (exit code {exit_code}): {observed}"
    assert last_alive is not None and 58 <= last_alive - t0 <= 60 + term.KUBELET_MIN_GRACE + 1, (
        f"killed at {term.rel(last_alive, t0)} s, not at the 60 s grace period: {observed}"
    )


# --------------------------------------------------------------------------- grace period and signals


@pytest.mark.slow
@pytest.mark.claim("TERM-DEFAULT-GRACE-30S")
def test_delete_sends_term_then_kill_after_default_30s(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
) -> None:
    """ "kubectl delete po …: tells Kubernetes to terminate all containers of the pod, sends the processes SIGTERM
    and waits 30 s; if they did not shut down, SIGKILL." A pod without terminationGracePeriodSeconds whose main
    process ignores TERM."""
    name = "default-grace"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=None))
    stored = core.read_namespaced_pod(name, namespace).spec.termination_grace_period_seconds
    recorder, t0 = term.delete_and_record(core, namespace, name, 90)
    f = follow["main"]
    term_at, last_alive = f.first("GOT TERM"), f.last_alive()
    exit_code = recorder.exit_code("main")
    observed = {
        "stored terminationGracePeriodSeconds": stored,
        "TERM received (s after delete)": term.rel(term_at, t0),
        "last sign of life": term.rel(last_alive, t0),
        "exit code": exit_code,
        "removed": term.rel(recorder.deleted_at(), t0),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [f], recorder))
    evidence.observe(documented="grace 30 s: TERM at once, KILL (137) at about 30 s", observed=observed)
    assert stored == 30, f"terminationGracePeriodSeconds defaulted to {stored}"
    assert term_at is not None and term_at - t0 <= 3, f"no TERM at deletion: {observed}"
    assert exit_code == 137, f"not killed: {observed}"
    assert last_alive is not None and 29 <= last_alive - t0 <= 30 + term.KUBELET_REACTION, (
        f"KILL not at 30 s: {observed}"
    )


@pytest.mark.claim("TERM-SIGTERM-TO-MAIN-PROCESS")
def test_term_goes_to_the_main_process_of_every_container(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
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
    recorder, t0 = term.delete_and_record(core, namespace, name)
    got = {n: [line.text for line in follow[n].snapshot() if line.text.startswith("GOT")] for n in names}
    times = {n: term.rel(follow[n].first("GOT TERM"), t0) for n in names}
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
    started: Started,
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
    recorder, t0 = term.delete_and_record(core, namespace, name)
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
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
) -> None:
    """ "Once the grace period has expired, the KILL signal is sent to any remaining processes, and the Pod is then
    deleted from the API server." Grace 5 s, a main process that ignores TERM."""
    name = "kill-after-5"
    follow = started(term.reporter_pod(name, [term.reporter_container("main", busybox_image, "ignore")], grace=5))
    recorder, t0 = term.delete_and_record(core, namespace, name)
    f = follow["main"]
    last_alive, code, removed = f.last_alive(), recorder.exit_code("main"), recorder.deleted_at()
    observed = {
        "TERM received": term.rel(f.first("GOT TERM"), t0),
        "last sign of life": term.rel(last_alive, t0),
        "exit code": code,
        "removed from the API": term.rel(removed, t0),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [f], recorder))
    evidence.observe(documented="KILL at 5 s, then the pod is removed from the API", observed=observed)
    assert code == 137, f"not killed: {observed}"
    assert last_alive is not None and 4 <= last_alive - t0 <= 5 + term.KUBELET_REACTION, f"KILL not at 5 s: {observed}"
    assert removed is not None and 0 <= removed - last_alive <= 10, f"not removed after the KILL: {observed}"


@pytest.mark.claim("TERM-PRESTOP-2S-EXTENSION")
def test_prestop_running_past_grace_gets_a_2s_extension(
    core: client.CoreV1Api, namespace: str, busybox_image: str, started: Started, evidence: Evidence
) -> None:
    """ "If the preStop hook is still running when the grace period expires, the kubelet requests a one-off grace
    period extension of 2 seconds." Grace 5 s, preStop ``sleep 60``, a main process that ignores TERM: the
    container gets TERM when the 5 s are over and KILL about 2 s later (at about 7 s, not 5 s and not 60 s)."""
    name = "extension"
    main = term.reporter_container("main", busybox_image, "ignore", prestop_seconds=60)
    follow = started(term.reporter_pod(name, [main], grace=5))["main"]
    recorder, t0 = term.delete_and_record(core, namespace, name, 90)
    term_at, last_alive = follow.first("GOT TERM"), follow.last_alive()
    observed = {
        "preStop start": term.rel(follow.first("PRESTOP-START"), t0),
        "preStop end": term.rel(follow.first("PRESTOP-END"), t0),
        "TERM received": term.rel(term_at, t0),
        "last sign of life": term.rel(last_alive, t0),
        "extension (KILL - TERM)": round(last_alive - term_at, 2) if last_alive and term_at else None,
        "exit code": recorder.exit_code("main"),
    }
    evidence.attach("timeline (s after delete)", term.timeline(t0, [follow], recorder))
    evidence.observe(documented="TERM at 5 s (grace over, hook still running), KILL at about 7 s", observed=observed)
    assert recorder.exit_code("main") == 137, f"not killed: {observed}"
    assert last_alive is not None and 6 <= last_alive - t0 <= 7 + term.KUBELET_REACTION, (
        f"KILL not at 5+2 s: {observed}"
    )
    assert term_at is not None and 1.5 <= last_alive - term_at <= 2.7, f"no 2 s between TERM and KILL: {observed}"


@pytest.mark.claim("TERM-RESTART-RESTARTS-GRACE")
@pytest.mark.needs("reconfigurable")
def test_kubelet_restart_restarts_the_full_grace_period(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    node_exec: NodeExec,
    reconfigurable_node: Reconfigurable,
    exclusive: Exclusive,
    started: Started,
    evidence: Evidence,
) -> None:
    """ "If the kubelet or the container runtime's management service is restarted while waiting for processes to
    terminate, the cluster retries from the start, including the full original grace period." Grace 20 s, a main
    process that ignores TERM, on the reconfigurable node; its kubelet is restarted 6 s after the delete. Expected:
    KILL about 20 s after the restart (about 27 s after the delete), not at 20 s."""
    grace, restart_after, name, node = 20, 6.0, "restart", reconfigurable_node.name
    main = term.reporter_container("main", busybox_image, "ignore")
    pod = reconfigurable_node.pin(term.reporter_pod(name, [main], grace=grace))
    pod.metadata.finalizers = [term.KEEP_FINAL_STATUS]  # see term.delete_and_restart_kubelet
    asked = time.time()
    with exclusive("reconfigurable-node"):
        locked = time.time()
        follow = started(pod)["main"]
        recorder = PodRecorder(core, namespace, name)
        t0, restart_begin, restart_end = term.delete_and_restart_kubelet(
            core, namespace, name, node_exec, node, restart_after, recorder
        )
    terms, last_alive, finished = follow.all("GOT TERM"), follow.last_alive(), recorder.finished_at("main")
    removed = recorder.first(term.kubelet_removed)
    # the log stream breaks with the kubelet: the status' finishedAt (whole seconds) bounds the KILL as well
    killed = max((t for t in (last_alive, finished) if t is not None), default=None)
    observed = {
        "TERM received (s after delete)": [term.rel(t, t0) for t in terms],
        "kubelet restarted": [term.rel(restart_begin, t0), term.rel(restart_end, t0)],
        "last sign of life": term.rel(last_alive, t0),
        "finishedAt (whole seconds)": term.rel(finished, t0),
        "KILL after the restart (s)": round(killed - restart_end, 2) if killed else None,
        "exit code": recorder.exit_code("main"),
        "final state": (removed or recorder.snapshots[-1]).containers.get("main"),
        "removed by the kubelet (grace 0)": term.rel(removed.at if removed else None, t0),
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
