"""Lifecycle hook handlers and failures (docs 000-002, 004: "回调处理程序的实现" / "Implementações de manipulador
de hook", "回调处理程序执行" / "Execução do manipulador de hook"; 003: "回调处理程序的实现"): exec, httpGet, tcpSocket
and sleep handlers; a postStart that blocks or fails; a preStop that fails; the events hooks leave. Observed through
the hook recorder (fixtures/hook_recorder.py) and the API, as in test_lifecycle_hooks.py.
"""

from __future__ import annotations

import re
import time
import uuid
from contextlib import suppress
from typing import cast

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures.apicalls import must_be_accepted, rejection
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.hook_recorder import TCP_PORT, HookRecorder
from k8s_doc_conformance.fixtures.lifecycle import (
    IDLE,
    delete_and_watch,
    epoch,
    event_summary,
    events_of,
    exec_handler,
    feature_gate,
    first_at,
    first_running,
    lifecycle,
    make_pod,
    on_term,
    poststart_blocking_pod,
    shell,
    sleep_validation,
    start,
    timings,
    wait_events,
)
from k8s_doc_conformance.fixtures.signatures import Kubectl
from k8s_doc_conformance.fixtures.termination import rel
from k8s_doc_conformance.fixtures.timeline import Timeline
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for

# --------------------------------------------------------------------------- handler types


@pytest.mark.claim("HOOK-EXEC-IN-CONTAINER-NS-CGROUP")
def test_exec_handler_runs_in_the_containers_namespaces_and_cgroups(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "Exec - Executes a specific command, such as pre-stop.sh, inside the cgroups and namespaces of the
    Container. Resources consumed by the command are counted against the Container." The postStart hook compares
    its namespaces and cgroups with PID 1's, then allocates 48 MiB (dd); the container's memory cgroup high-water
    mark, read by the entrypoint before and after, must grow by about that much."""
    hook = exec_handler(
        '{ for n in mnt net pid uts ipc; do echo "ns $n $(readlink /proc/self/ns/$n) $(readlink /proc/1/ns/$n)"; done; '
        "echo \"cgroup $(cat /proc/self/cgroup | tr '\\n' ' ')|$(cat /proc/1/cgroup | tr '\\n' ' ')\"; "
        "until [ -f /tmp/baseline ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; "
        "echo hook-done; } > /proc/1/fd/1; touch /tmp/hook-done"
    )
    usage = "/sys/fs/cgroup/memory/memory.max_usage_in_bytes"
    script = (
        f'echo "baseline $(cat {usage})"; touch /tmp/baseline; until [ -f /tmp/hook-done ]; do sleep 0.2; done; '
        f'echo "after $(cat {usage})"; {IDLE}'
    )
    limits = client.V1ResourceRequirements(limits={"memory": "128Mi"}, requests={"memory": "128Mi"})
    main = shell("main", busybox_image, script, resources=limits, lifecycle=lifecycle(post_start=hook))
    start(core, namespace, make_pod("exec-ns", [main]))
    out = wait_for(
        lambda: pods.logs(core, namespace, "exec-ns"),
        lambda s: "\nafter " in s or s.startswith("after "),
        60,
        "the entrypoint's report",
    )
    lines = out.splitlines()
    ns = {parts[1]: parts[2:] for x in lines if (parts := x.split()) and parts[0] == "ns"}
    cgroup = next((x.split(" ", 1)[1].split("|") for x in lines if x.startswith("cgroup ")), ["?", "??"])
    numbers = {x.split()[0]: int(x.split()[1]) for x in lines if x.split()[0] in ("baseline", "after")}
    grew = (numbers.get("after", 0) - numbers.get("baseline", 0)) / 2**20
    observed = {
        "namespaces (hook, PID 1)": ns,
        "same cgroups": cgroup[0] == cgroup[1],
        "container memory high-water mark grew by (MiB)": round(grew, 1),
    }
    evidence.observe(
        documented="hook in PID 1's namespaces and cgroups; its 48 MiB counted to the container",
        observed=observed,
        cgroup=cgroup,
    )
    assert len(ns) == 5 and all(len(v) == 2 and v[0] == v[1] for v in ns.values()), f"namespaces differ: {ns}"
    assert cgroup[0] == cgroup[1], f"cgroups differ: {cgroup}"
    assert grew >= 40, f"the hook's memory was not counted against the container: {observed}"


@pytest.mark.claim("HOOK-HTTP-EXECUTED-BY-KUBELET")
def test_http_handler_is_sent_by_the_kubelet(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    shellless_image: str,
    evidence: Evidence,
) -> None:
    """ "HTTP - Executes an HTTP request against a specific endpoint on the Container." "httpGet and tcpSocket are
    executed by the kubelet process, exec in the container." A shell-less container (only ``pause``) has a postStart
    httpGet with no host (the pod's IP), port 8080: a recorder started before it in the same pod logs the request's
    source address and User-Agent. It comes from the node, not from the pod, with the kubelet's User-Agent
    kube-lifecycle/<version> (a plain Go client's before 1.26). The node's addresses are those a hostNetwork pod on
    that node sees (any of its interfaces may be the source: the pod network's gateway on a ptp CNI)."""
    from k8s_doc_conformance.fixtures.hook_recorder import PORT, kubelet_hook_agent, recorder_first

    hook = client.V1LifecycleHandler(http_get=client.V1HTTPGetAction(port=PORT, path="/cgi-bin/hook/from-kubelet"))
    main = client.V1Container(name="main", image=shellless_image, lifecycle=lifecycle(post_start=hook))
    pod = make_pod("http-hook", [recorder_first(busybox_image), main])
    running = start(core, namespace, pod)
    rec = HookRecorder(core, namespace, "http-hook", running.status.pod_ip)
    got = rec.wait("from-kubelet", timeout=30)
    node_addresses = {running.status.host_ip} | pods.node_addresses(
        core, namespace, running.spec.node_name, busybox_image
    )
    version = client.VersionApi(core.api_client).get_code()
    agent = kubelet_hook_agent(version.major, version.minor)
    observed = {
        "source address": got[0].remote,
        "pod IP": running.status.pod_ip,
        "node addresses": sorted(node_addresses),
        "User-Agent": got[0].user_agent,
        "requests": len(got),
    }
    evidence.observe(
        documented=f"the request comes from the kubelet (node address, User-Agent {agent})", observed=observed
    )
    assert got[0].remote != running.status.pod_ip and got[0].remote in node_addresses, (
        f"not sent from the node: {observed}"
    )
    assert got[0].user_agent == agent, f"not the kubelet's User-Agent ({agent}): {observed}"


@pytest.mark.claim("HOOK-TCPSOCKET")
def test_tcpsocket_handler_is_executed_by_the_kubelet(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "httpGet and tcpSocket are executed by the kubelet process." A postStart tcpSocket handler aimed at the
    recorder's TCP port (which records every connection): the kubelet should open a connection and the container
    should run."""
    rec = hook_recorder
    hook = client.V1LifecycleHandler(tcp_socket=client.V1TCPSocketAction(host=rec.ip, port=TCP_PORT))
    main = shell("main", busybox_image, IDLE, lifecycle=lifecycle(post_start=hook))
    admission = rejection(lambda: core.create_namespaced_pod(namespace, make_pod("tcp-hook", [main])))
    if admission is None:
        try:
            final = pods.wait_pod(
                core,
                namespace,
                "tcp-hook",
                lambda p: p.status.phase in ("Running", *pods.TERMINAL),
                60,
                "to run or stop",
            )
        except WaitTimeout as exc:
            final = exc.last
        time.sleep(1)
        state = pods.describe(final)
    else:
        state = "rejected"
    connections = rec.records(f"tcp-{TCP_PORT}")
    evs = event_summary(events_of(core, namespace, "tcp-hook"))
    observed = {
        "API": f"rejected {admission}" if admission else "accepted",
        "pod": state,
        "TCP connections from the kubelet": len(connections),
        "hook events": [
            f"{e['reason']}: {e['message']}" for e in evs if "Hook" in e["reason"] or e["reason"] == "Killing"
        ],
    }
    evidence.observe(
        documented="the kubelet opens the TCP connection; the container runs", observed=observed, events=evs
    )
    assert admission is None, f"the API rejects a tcpSocket lifecycle handler: {admission}"
    assert connections, (
        f"the kubelet never connected: tcpSocket lifecycle handlers are deprecated and not run; the hook fails "
        f"({observed['hook events']}) and the container is killed ({state})"
    )
    assert "=running" in state, f"the container did not run: {observed}"


@pytest.mark.claim("HOOK-SLEEP-HANDLER")
@pytest.mark.since("1.30", "the sleep hook handler (on by default; PodLifecycleSleepAction was alpha and off in 1.29)")
def test_sleep_handler_pauses_before_the_container_stops(
    core: client.CoreV1Api,
    namespace: str,
    shellless_image: str,
    busybox_image: str,
    kubectl: Kubectl,
    evidence: Evidence,
) -> None:
    """ "Sleep: pauses the container for a period of time. A Beta feature enabled by the default-on
    PodLifecycleSleepAction feature gate." (doc 003). preStop ``sleep: {seconds: 5}`` on an image without a shell or
    sleep binary (so the kubelet, not the container, sleeps), grace 30 s: deletion takes at least 5 s and well
    under 30 s, counted until the containers have stopped (the kubelet may take longer to remove the pod object
    from the API on a busy node: that is recorded, not judged). The gate's stage and the API's validation are
    recorded."""
    gate, gate_lines = feature_gate(kubectl, "PodLifecycleSleepAction")
    seconds, grace = 5, 30
    hook = client.V1LifecycleHandler(sleep=client.V1SleepAction(seconds=seconds))
    main = client.V1Container(name="main", image=shellless_image, lifecycle=lifecycle(pre_stop=hook))
    pod = make_pod("sleeper", [main], grace=grace)
    must_be_accepted(
        lambda: core.create_namespaced_pod(namespace, pod),
        evidence,
        documented=f"a container with a preStop sleep handler of {seconds} s",
        what="pod sleeper (preStop sleep: {seconds: 5})",
    )
    pods.wait_running(core, namespace, "sleeper")
    removal = delete_and_watch(core, namespace, "sleeper")
    validation = sleep_validation(core, namespace, busybox_image, (-1, 0, grace, grace + 1), grace)
    took = removal.stopped_after()
    observed = {
        "containers stopped (s after delete)": took,
        "pod removed (s after delete)": removal.took(),
        "exit codes": removal.exit_codes,
        "feature gate metrics": gate_lines,
        "validation (grace 30)": validation,
    }
    evidence.observe(
        documented=f"the containers stop >= {seconds} s after deletion and well under {grace} s",
        observed=observed,
        states=removal.states,
    )
    assert gate == [] or any(enabled == "1" for _, enabled in gate), f"PodLifecycleSleepAction is off: {gate_lines}"
    # at least the sleep; and clearly before the grace period, which is when a hung handler would end
    assert took is not None and seconds <= took <= grace * 2 / 3, (
        f"the sleep handler did not pause {seconds} s: {observed}"
    )


# --------------------------------------------------------------------------- postStart blocks, failures, events


@pytest.mark.claim("HOOK-POSTSTART-BLOCKS-RUNNING")
def test_running_poststart_keeps_the_container_from_running(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "If a hook hangs or takes too long, the container cannot reach the running state." postStart runs 8 s: the
    API shows the container waiting (ContainerCreating) and the pod not Ready until the hook ends."""
    rec, hook_s = hook_recorder, 8
    with Timeline(core, namespace) as tl:
        start(core, namespace, poststart_blocking_pod(rec, busybox_image, hook_s), timeout=90)
    begin, end = first_at(rec.records("poststart-start")), first_at(rec.records("poststart-end"))
    running = first_running(tl)
    states = [f"{rel(epoch(e['at']), begin or 0)}s {e['state']}" for e in tl.of("pod", pod="blocked")]
    observed = {
        "hook ran (s)": rel(end, begin),
        "container first seen running (s after the hook started)": rel(running, begin),
        "states (s after the hook started)": states,
    }
    evidence.observe(documented=f"not running before the {hook_s} s hook ends", observed=observed, timeline=tl.entries)
    assert begin is not None and end is not None and running is not None, f"incomplete: {observed}"
    assert running >= end, f"the container was running while postStart still ran: {observed}"
    assert any("waiting:ContainerCreating" in s for s in states), f"no waiting state seen: {observed}"


@pytest.mark.claim("HOOK-POSTSTART-CONTAINER-ALREADY-STARTED")
def test_container_process_starts_while_poststart_blocks(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "… the container cannot reach the running state, but the container has actually already started." (doc
    003). With an 8 s postStart, the entrypoint reports at once; state.running.startedAt is that moment, about 8 s
    before the status turned running."""
    rec, hook_s = hook_recorder, 8
    with Timeline(core, namespace) as tl:
        running_pod = start(core, namespace, poststart_blocking_pod(rec, busybox_image, hook_s), timeout=90)
    entry, end = first_at(rec.records("entrypoint")), first_at(rec.records("poststart-end"))
    running = first_running(tl)
    started_at = running_pod.status.container_statuses[0].state.running.started_at.timestamp()
    observed = {
        "entrypoint ran (s before the status turned running)": rel(running, entry),
        "startedAt (s before the status turned running, 1 s resolution)": rel(running, started_at),
        "hook ended (s before the status turned running)": rel(running, end),
    }
    evidence.observe(documented=f"the process runs ~{hook_s} s before the status says running", observed=observed)
    assert entry is not None and end is not None and running is not None, f"incomplete: {observed}"
    assert end - entry >= hook_s - 1.5, f"the entrypoint did not run while the hook blocked: {observed}"
    assert started_at <= entry + 0.5 and running - started_at >= hook_s - 1.5, (
        f"startedAt is not the process start: {observed}"
    )


@pytest.mark.claim("HOOK-POSTSTART-FAILURE-KILLS")
def test_failed_poststart_kills_the_container(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "If either a PostStart or PreStop hook fails, it kills the Container." postStart ``exit 1`` (restartPolicy
    Always): the main process gets TERM, the events say FailedPostStartHook and Killing, the container restarts and
    the kubelet backs off."""
    rec = hook_recorder
    main = shell(
        "main",
        busybox_image,
        f"{on_term(rec)}; {rec.report('entrypoint')}; {IDLE}",
        lifecycle=lifecycle(post_start=exec_handler("exit 1")),
    )
    core.create_namespaced_pod(namespace, make_pod("ps-fails", [main], grace=2, restart="Always"))
    try:
        evs = wait_events(core, namespace, "ps-fails", {"FailedPostStartHook", "Killing", "BackOff"}, 90)
    except WaitTimeout as exc:
        evs = cast(list[client.CoreV1Event], exc.last)
    # The events can be ahead of the status the kubelet writes: the restart is waited for on the pod itself.
    try:
        pod = pods.wait_restarted(core, namespace, "ps-fails", 30)
    except WaitTimeout as exc:
        pod = cast(client.V1Pod, exc.last)
    cs = (pod.status.container_statuses or [None])[0]
    summary = event_summary(evs)
    observed = {
        "events": [f"{e['type']} {e['reason']}: {e['message'][:120]}" for e in summary],
        "pod": pods.describe(pod),
        "restartCount": cs.restart_count if cs else None,
        "TERM received by the container": len(rec.records("term")),
        "container starts": len(rec.records("entrypoint")),
    }
    evidence.observe(documented="FailedPostStartHook, Killing, restart, BackOff", observed=observed)
    reasons = {(e["type"], e["reason"]) for e in summary}
    assert ("Warning", "FailedPostStartHook") in reasons, f"no FailedPostStartHook warning: {observed}"
    assert ("Normal", "Killing") in reasons and rec.records("term"), f"the container was not killed: {observed}"
    assert cs is not None and cs.restart_count >= 1, f"the container was not restarted: {observed}"


@pytest.mark.claim("HOOK-PRESTOP-FAILURE-EVENT")
def test_failed_prestop_is_reported_and_the_container_stopped(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "If a handler fails for some reason, it broadcasts an event … for PreStop, this is the FailedPreStopHook
    event." and "If either a PostStart or PreStop hook fails, it kills the Container." preStop ``exit 1``, grace
    30 s: the event exists after the pod is gone, and TERM follows at once."""
    rec = hook_recorder
    hook = exec_handler(f"{rec.report('prestop-start')}; exit 1")
    main = shell("main", busybox_image, f"{on_term(rec)}; {IDLE}", lifecycle=lifecycle(pre_stop=hook))
    start(core, namespace, make_pod("pre-fails", [main], grace=30))
    removal = delete_and_watch(core, namespace, "pre-fails")
    try:
        evs = wait_events(core, namespace, "pre-fails", {"FailedPreStopHook"}, 20)
    except WaitTimeout as exc:
        evs = cast(list[client.CoreV1Event], exc.last)
    summary = event_summary(evs)
    begin, term = first_at(rec.records("prestop-start")), first_at(rec.records("term"))
    observed = {
        "events": [f"{e['type']} {e['reason']}: {e['message'][:200]}" for e in summary],
        "after the delete call (s)": timings(removal.asked, preStop=begin, TERM=term, pod_removed=removal.gone),
    }
    evidence.observe(documented="a FailedPreStopHook event; the container is stopped at once", observed=observed)
    assert any(e["reason"] == "FailedPreStopHook" and e["type"] == "Warning" for e in summary), (
        f"no FailedPreStopHook: {observed}"
    )
    assert begin is not None and term is not None and term - begin < 1.5, (
        f"the container was not stopped at once: {observed}"
    )


@pytest.mark.claim("HOOK-EVENT-SEQUENCE-EXAMPLE")
def test_badcommand_poststart_event_sequence(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """The lifecycle-demo example with postStart ``badcommand``: Scheduled, Pulled, Created, Started,
    FailedPostStartHook ("Exec lifecycle hook ([badcommand]) for Container … failed - error: command 'badcommand'
    exited with 126 …"), Killing (message FailedPostStartHook), BackOff ("Back-off restarting failed container").
    The image is already on the node, so there is no Pulling; the exit code is not pinned."""
    hook = client.V1LifecycleHandler(_exec=client.V1ExecAction(command=["badcommand"]))
    main = shell("lifecycle-demo-container", busybox_image, IDLE, lifecycle=lifecycle(post_start=hook))
    pod = make_pod("lifecycle-demo", [main], grace=2, restart="Always")
    created = core.create_namespaced_pod(namespace, pod)
    wanted = {"Scheduled", "Created", "Started", "FailedPostStartHook", "Killing", "BackOff"}
    try:
        evs = wait_events(core, namespace, "lifecycle-demo", wanted, 90)
    except WaitTimeout as exc:
        evs = cast(list[client.CoreV1Event], exc.last)
    summary = event_summary(evs)
    by_reason = {e["reason"]: e for e in summary}
    expected_hook = (
        rf'Exec lifecycle hook \(\[badcommand\]\) for Container "lifecycle-demo-container" in Pod '
        rf'"lifecycle-demo_{namespace}\({created.metadata.uid}\)" failed - error: '
        r"command 'badcommand' exited with \d+"
    )
    observed = {
        "events (in order)": [f"{e['type']} {e['reason']} (x{e['count']}): {e['message'][:250]}" for e in summary]
    }
    evidence.observe(documented=sorted(wanted), observed=observed)
    missing = wanted - set(by_reason)
    assert not missing, f"missing events {sorted(missing)}: {observed}"
    assert re.match(expected_hook, by_reason["FailedPostStartHook"]["message"]), (
        f"hook event message differs: {observed}"
    )
    assert "FailedPostStartHook" in by_reason["Killing"]["message"], f"Killing message differs: {observed}"
    assert "Back-off restarting failed container" in by_reason["BackOff"]["message"], (
        f"BackOff message differs: {observed}"
    )


@pytest.mark.claim("HOOK-LOGS-NOT-IN-EVENTS")
def test_hook_output_is_not_in_pod_events(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "The logs for a hook handler are not exposed in Pod events." Two postStart exec hooks print a marker: one
    succeeds, one fails (``exit 1``). Neither marker may appear in the pods' events (nor in the container logs). The
    hooks assemble their marker as they run (printf), so an event that quotes the hook's command does not hold it:
    only one that carries the hook's output does."""
    tag = uuid.uuid4().hex[:8]
    ok_marker, bad_marker = f"MARKER-OK-{tag}", f"MARKER-BAD-{tag}"
    printed = "printf 'MARKER-%s-%s\\n' {} " + tag
    ok = shell("main", busybox_image, IDLE, lifecycle=lifecycle(post_start=exec_handler(printed.format("OK"))))
    bad = shell(
        "main", busybox_image, IDLE, lifecycle=lifecycle(post_start=exec_handler(printed.format("BAD") + "; exit 1"))
    )
    core.create_namespaced_pod(namespace, make_pod("hook-ok", [ok]))
    core.create_namespaced_pod(namespace, make_pod("hook-bad", [bad]))
    pods.wait_running(core, namespace, "hook-ok", 60)
    with suppress(WaitTimeout):
        wait_events(core, namespace, "hook-bad", {"FailedPostStartHook"}, 60)
    time.sleep(1)
    messages = {
        e.metadata.name: f"{e.involved_object.name} {e.reason}: {e.message}"
        for e in core.list_namespaced_event(namespace).items
    }
    ok_logs = pods.logs(core, namespace, "hook-ok")
    with_ok = [m for m in messages.values() if ok_marker in m]
    with_bad = [m for m in messages.values() if bad_marker in m]
    observed = {
        "events with the successful hook's output": with_ok,
        "successful hook's output in kubectl logs": ok_marker in ok_logs,
        "events with the failed hook's output": [m[:400] for m in with_bad],
    }
    evidence.observe(documented="no hook output in any event", observed=observed)
    assert not with_ok and ok_marker not in ok_logs, f"a successful hook's output is exposed: {observed}"
    assert not with_bad, f"the failed hook's output is in its FailedPostStartHook event: {with_bad[0][:300]}"
