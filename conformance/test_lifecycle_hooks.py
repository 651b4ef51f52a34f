"""Container lifecycle hooks (docs 000, 001, 002, 004: "容器生命周期回调" / "Hooks de ciclo de vida do contêiner";
003: "容器生命周期回调", "回调处理程序的实现", "使用回调函数").

Two hooks, PostStart and PreStop, run handlers (exec in the container; httpGet, and per the docs tcpSocket and
sleep, by the kubelet). Observed through a hook recorder (fixtures/hook_recorder.py): a separate pod that records
every hook delivery and every report from the containers (an entrypoint starting, a TERM trap, a hook's own steps)
with microsecond timestamps on the host's clock; and through the API (events, container states, a watch).
"""

from __future__ import annotations

import re
import time
import uuid
from contextlib import suppress
from functools import partial
from typing import Any, cast

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from fixtures import explain, nodes, pods
from fixtures.apicalls import must_be_accepted, rejection
from fixtures.evidence import Evidence
from fixtures.hook_recorder import TCP_PORT, HookRecorder
from fixtures.lifecycle import (
    IDLE,
    KUBELET_MIN_GRACE,
    SLACK,
    delete_and_watch,
    delete_pod,
    epoch,
    event_summary,
    events_of,
    exec_handler,
    first_at,
    follow_removal,
    lifecycle,
    make_pod,
    on_term,
    rel,
    shell,
    start,
    timings,
    wait_events,
)
from fixtures.nodes import Reconfigurable
from fixtures.signatures import Exclusive, Kubectl, NodeExec
from fixtures.timeline import Timeline
from fixtures.waits import WaitTimeout, wait_for

# =========================================================================== the hooks


@pytest.mark.claim("HOOK-TWO-HOOKS")
def test_two_hooks_are_exposed(kubectl: Kubectl, evidence: Evidence) -> None:
    """ "There are two hooks that are exposed to containers" (PostStart, PreStop). The API's Lifecycle has exactly
    two handler fields (a handler: a field with its own exec and httpGet, whatever kubectl's format names its type);
    other fields (stopSignal, v1.33+) are not hooks."""
    out = kubectl("explain", "pod.spec.containers.lifecycle", "--recursive").stdout
    fields = explain.fields(out)
    hooks = sorted(name for name, f in fields.items() if {"exec", "httpGet"} <= f.fields.keys())
    evidence.observe(
        documented=["postStart", "preStop"],
        observed={
            "hooks": hooks,
            "all Lifecycle fields": {name: f"{f.type}: {', '.join(f.fields)}" for name, f in fields.items()},
        },
    )
    assert hooks == ["postStart", "preStop"], f"Lifecycle handler fields: {hooks}"


@pytest.mark.claim("HOOK-POSTSTART-NO-ORDER-WITH-ENTRYPOINT")
def test_poststart_and_entrypoint_run_concurrently(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "This hook is executed immediately after a container is created. However, there is no guarantee that the
    hook will execute before the container ENTRYPOINT." The entrypoint writes /tmp/ep-started; postStart waits up to
    20 s for that file (a hook that must finish before the entrypoint would wait in vain and fail)."""
    rec = hook_recorder
    hook = exec_handler(
        f"{rec.report('hook-start')}; i=0; until [ -f /tmp/ep-started ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; "
        f"sleep 0.1; done; {rec.report('hook-saw-entrypoint')}"
    )
    main = shell(
        "main",
        busybox_image,
        f"{rec.report('entrypoint')}; touch /tmp/ep-started; {IDLE}",
        lifecycle=lifecycle(post_start=hook),
    )
    core.create_namespaced_pod(namespace, make_pod("order", [main]))
    try:
        running = pods.wait_running(core, namespace, "order", 60)
        state = pods.describe(running)
    except WaitTimeout as exc:
        state = pods.describe(exc.last)
    ep, hs, saw = (first_at(rec.records(n)) for n in ("entrypoint", "hook-start", "hook-saw-entrypoint"))
    t0 = min(t for t in (ep, hs) if t is not None) if (ep or hs) else 0.0
    observed = {
        "pod": state,
        "entrypoint started (s)": rel(ep, t0),
        "hook started (s)": rel(hs, t0),
        "hook saw the entrypoint's file (s)": rel(saw, t0),
        "events": [e["reason"] for e in event_summary(events_of(core, namespace, "order"))],
    }
    evidence.observe(
        documented="the hook and the entrypoint run at the same time; the hook sees the file", observed=observed
    )
    assert hs is not None and ep is not None, f"hook or entrypoint did not run: {observed}"
    assert saw is not None and "=running" in state, f"the hook never saw the entrypoint's file: {observed}"
    assert abs(hs - ep) < 2.0, f"the hook did not run immediately after the container was created: {observed}"


@pytest.mark.claim("HOOK-NO-PARAMETERS")
def test_no_parameters_are_passed_to_the_handler(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "No parameters are passed to the handler." An exec hook ``sh -c SCRIPT`` gets no extra arguments ($# = 0);
    an httpGet hook requests exactly the configured path: GET, no query string, no body."""
    rec = hook_recorder
    exec_hook = exec_handler('echo "hook-args count=$# zero=$0 all=$*" > /proc/1/fd/1')
    exec_side = shell("exec-hook", busybox_image, IDLE, lifecycle=lifecycle(post_start=exec_hook))
    http_hook = rec.http_get("no-params")
    http_side = shell("http-hook", busybox_image, IDLE, lifecycle=lifecycle(post_start=http_hook))
    start(core, namespace, make_pod("params", [exec_side, http_side]))
    line = wait_for(
        lambda: [
            x for x in pods.logs(core, namespace, "params", "exec-hook").splitlines() if x.startswith("hook-args")
        ],
        bool,
        30,
        "the exec hook's report",
    )[0]
    got = rec.wait("no-params", timeout=30)[0]
    observed = {
        "exec hook": line,
        "http request": {
            "method": got.method,
            "uri": got.uri,
            "query": got.query,
            "body length": got.content_length,
            "headers": got.headers,
        },
    }
    evidence.observe(documented="exec: $# = 0; httpGet: GET of the configured path, nothing more", observed=observed)
    assert line.startswith("hook-args count=0 "), f"the exec handler got arguments: {line}"
    assert got.method == "GET" and got.uri == http_hook.http_get.path, (
        f"request differs from the configured one: {observed}"
    )
    assert got.query == "" and got.content_length in ("", "0"), f"the HTTP handler got parameters: {observed}"


# --------------------------------------------------------------------------- preStop: when it is called


@pytest.mark.claim("HOOK-PRESTOP-ON-API-DELETE")
def test_prestop_runs_before_a_deleted_container_is_terminated(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "This hook is called immediately before a container is terminated due to an API request." preStop
    (httpGet, sent by the kubelet) reaches the recorder when the pod is deleted, before the container gets TERM."""
    rec = hook_recorder
    main = shell(
        "main", busybox_image, f"{on_term(rec)}; {IDLE}", lifecycle=lifecycle(pre_stop=rec.http_get("prestop-api"))
    )
    start(core, namespace, make_pod("api-delete", [main], grace=10))
    removal = delete_and_watch(core, namespace, "api-delete")
    prestop, term = first_at(rec.records("prestop-api")), first_at(rec.records("term"))
    observed = {
        "preStop received (s after delete)": rel(prestop, removal.asked),
        "TERM received (s after delete)": rel(term, removal.asked),
        "pod removed (s)": removal.took(),
    }
    evidence.observe(documented="preStop called on delete, before TERM", observed=observed, states=removal.states)
    assert prestop is not None, f"preStop was not called on delete: {observed}"
    assert term is None or prestop <= term, f"preStop came after TERM: {observed}"


@pytest.mark.claim("HOOK-PRESTOP-ON-PROBE-FAILURE")
@pytest.mark.parametrize("probe", ["liveness", "startup"])
def test_prestop_runs_when_a_probe_failure_kills_the_container(
    probe: str,
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    hook_recorder: HookRecorder,
    evidence: Evidence,
) -> None:
    """ "… or a management event such as a liveness/startup probe failure." The first container instance fails its
    probe (an emptyDir remembers it ran before, so the second passes); its preStop must reach the recorder before
    the kubelet restarts it."""
    rec = hook_recorder
    check = client.V1ExecAction(command=["cat", "/tmp/healthy"])
    if probe == "liveness":
        # healthy for 2 s, then not (first instance only)
        first = "if [ ! -f /data/ran ]; then touch /data/ran; (sleep 2; rm /tmp/healthy) & fi"
        script = f"touch /tmp/healthy; {first}; {on_term(rec, 'term-' + probe)}; {IDLE}"
        probes = {"liveness_probe": client.V1Probe(_exec=check, period_seconds=1, failure_threshold=1)}
    else:
        # never ready on the first instance: the startup probe gives up after 3 failures
        first = "if [ -f /data/ran ]; then touch /tmp/healthy; fi; touch /data/ran"
        script = f"{first}; {on_term(rec, 'term-' + probe)}; {IDLE}"
        probes = {"startup_probe": client.V1Probe(_exec=check, period_seconds=1, failure_threshold=3)}
    main = shell(
        "main",
        busybox_image,
        script,
        lifecycle=lifecycle(pre_stop=rec.exec_report(f"prestop-{probe}")),
        volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")],
        **probes,
    )
    pod = make_pod("probe", [main], grace=5, restart="Always", volumes=[client.V1Volume(name="data", empty_dir={})])
    core.create_namespaced_pod(namespace, pod)

    def restarted(p: client.V1Pod) -> bool:
        return any((cs.restart_count or 0) >= 1 for cs in p.status.container_statuses or [])

    after = pods.wait_pod(core, namespace, "probe", restarted, 90, "to be restarted by the kubelet")
    prestops, terms = rec.records(f"prestop-{probe}"), rec.records(f"term-{probe}")
    cs = after.status.container_statuses[0]
    evs = event_summary(events_of(core, namespace, "probe"))
    observed = {
        "restartCount": cs.restart_count,
        "last termination": cs.last_state.terminated.to_dict() if cs.last_state and cs.last_state.terminated else None,
        "preStop calls": len(prestops),
        "TERM received": len(terms),
        "preStop before TERM": bool(prestops and terms and prestops[0].at <= terms[0].at),
        "kill events": [e["message"] for e in evs if e["reason"] == "Killing"],
    }
    evidence.observe(
        documented=f"preStop runs when a failed {probe} probe kills the container", observed=observed, events=evs
    )
    assert prestops, f"no preStop call before the {probe}-probe kill: {observed}"
    assert not terms or prestops[0].at <= terms[0].at, f"preStop came after TERM: {observed}"


@pytest.mark.claim("HOOK-PRESTOP-ON-PREEMPTION-CONTENTION")
@pytest.mark.needs("reconfigurable")
def test_prestop_runs_when_the_scheduler_preempts_the_pod(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    busybox_image: str,
    hook_recorder: HookRecorder,
    reconfigurable_node: Reconfigurable,
    exclusive: Exclusive,
    run_id: str,
    evidence: Evidence,
) -> None:
    """ "… a management event such as … preemption, resource contention." On the reconfigurable node, a
    low-priority pod takes all the CPU left; a high-priority pod asking the same is scheduled there by preempting
    it, and the victim's preStop reaches the recorder. (Node-pressure eviction is not exercised.)"""
    rec = hook_recorder
    sched = client.SchedulingV1Api(api_client)
    suffix = uuid.uuid4().hex[:6]
    classes = {"low": (f"k8sdc-hooks-low-{suffix}", 10), "high": (f"k8sdc-hooks-high-{suffix}", 1000)}
    for name, value in classes.values():
        sched.create_priority_class(
            client.V1PriorityClass(
                metadata=client.V1ObjectMeta(name=name, labels={"k8sdc.io/run": run_id}), value=value
            )
        )
    try:
        with exclusive("reconfigurable-node"):
            free = free_cpu_millis(core, reconfigurable_node.name)
            request = client.V1ResourceRequirements(requests={"cpu": f"{free}m"})
            victim = shell(
                "main",
                busybox_image,
                f"{on_term(rec, 'term-victim')}; {IDLE}",
                resources=request,
                lifecycle=lifecycle(pre_stop=rec.exec_report("prestop-victim")),
            )
            start(
                core,
                namespace,
                reconfigurable_node.pin(make_pod("victim", [victim], grace=5, priority_class_name=classes["low"][0])),
            )
            t0 = time.time()
            preemptor = shell("main", busybox_image, IDLE, resources=request)
            core.create_namespaced_pod(
                namespace,
                reconfigurable_node.pin(
                    make_pod("preemptor", [preemptor], grace=0, priority_class_name=classes["high"][0])
                ),
            )
            try:
                prestops = rec.wait("prestop-victim", timeout=60)
            except WaitTimeout:
                prestops = []
            with suppress(WaitTimeout):
                pods.wait_running(core, namespace, "preemptor", 60)
            preemptor_now = core.read_namespaced_pod("preemptor", namespace)
            with suppress(ApiException):
                core.delete_namespaced_pod("preemptor", namespace, grace_period_seconds=0)
            victim_now = None
            with suppress(ApiException):
                victim_now = core.read_namespaced_pod("victim", namespace)
    finally:
        for name, _ in classes.values():
            with suppress(ApiException):
                sched.delete_priority_class(name)
    disruption = [
        f"{c.type}={c.status} {c.reason}: {c.message}"
        for c in (victim_now.status.conditions or [] if victim_now else [])
        if c.type == "DisruptionTarget"
    ]
    observed = {
        "CPU requested by each pod": f"{free}m",
        "preStop called (s after the preemptor was created)": rel(first_at(prestops), t0),
        "TERM received (s)": rel(first_at(rec.records("term-victim")), t0),
        "victim": (pods.describe(victim_now) + (" (deleting)" if victim_now.metadata.deletion_timestamp else ""))
        if victim_now
        else "gone",
        "victim DisruptionTarget": disruption,
        "preemptor": f"{pods.describe(preemptor_now)} on {preemptor_now.spec.node_name}",
        "events": [
            e["message"]
            for e in event_summary(events_of(core, namespace, "victim"))
            if e["reason"] in ("Preempted", "Killing")
        ],
    }
    evidence.observe(documented="the preempted pod's preStop hook is called", observed=observed)
    assert prestops, f"no preStop call for the preempted pod: {observed}"


def free_cpu_millis(core: client.CoreV1Api, node: str) -> int:
    """The node's allocatable CPU minus the requests of the pods bound to it, in millicores."""
    allocatable = cpu_millis(core.read_node(node).status.allocatable["cpu"])
    bound = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
    used = sum(
        cpu_millis((c.resources.requests or {}).get("cpu", "0"))
        for p in bound
        if p.status.phase not in pods.TERMINAL
        for c in p.spec.containers
        if c.resources
    )
    return allocatable - used


def cpu_millis(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


@pytest.mark.claim("HOOK-PRESTOP-FAILS-IF-TERMINATED")
def test_no_prestop_for_a_container_that_already_completed(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "A call to the PreStop hook fails if the container is already in a terminated or completed state." Two
    containers exit 0 (restartPolicy Never); the pod is deleted afterwards. Neither the httpGet preStop (which the
    kubelet would send whatever the container's state) nor the exec preStop reaches the recorder, and no preStop
    succeeds."""
    rec = hook_recorder
    http_side = shell(
        "http-hook", busybox_image, "exit 0", lifecycle=lifecycle(pre_stop=rec.http_get("prestop-done-http"))
    )
    exec_side = shell(
        "exec-hook", busybox_image, "exit 0", lifecycle=lifecycle(pre_stop=rec.exec_report("prestop-done-exec"))
    )
    core.create_namespaced_pod(namespace, make_pod("completed", [http_side, exec_side], grace=5))
    done = pods.wait_terminal(core, namespace, "completed", 60)
    removal = delete_and_watch(core, namespace, "completed")
    time.sleep(2)  # a late call would show now
    calls = [r for r in rec.records() if r.name.startswith("prestop-done")]
    evs = event_summary(events_of(core, namespace, "completed"))
    observed = {
        "before delete": pods.describe(done),
        "preStop calls received": [(r.name, r.user_agent) for r in calls],
        "FailedPreStopHook events": [e["message"] for e in evs if e["reason"] == "FailedPreStopHook"],
        "pod removed (s)": removal.took(),
    }
    evidence.observe(documented="no successful preStop call for completed containers", observed=observed, events=evs)
    assert done.status.phase == "Succeeded", f"the containers did not complete: {observed}"
    assert not calls, f"preStop was called although the containers had completed: {observed}"


# --------------------------------------------------------------------------- preStop and the grace period


@pytest.mark.claim("HOOK-PRESTOP-BEFORE-TERM")
def test_prestop_completes_before_term_is_sent(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "The hook must complete before the TERM signal to stop the container can be sent." preStop reports its start,
    sleeps 3 s and reports its end; the main process reports TERM. Grace 20 s, so nothing runs out."""
    rec = hook_recorder
    hook = exec_handler(f"{rec.report('prestop-start')}; sleep 3; {rec.report('prestop-end')}")
    main = shell("main", busybox_image, f"{on_term(rec)}; {IDLE}", lifecycle=lifecycle(pre_stop=hook))
    start(core, namespace, make_pod("before-term", [main], grace=20))
    removal = delete_and_watch(core, namespace, "before-term")
    begin, end, term = (first_at(rec.records(n)) for n in ("prestop-start", "prestop-end", "term"))
    t0 = removal.asked
    observed = {
        "preStop start (s after delete)": rel(begin, t0),
        "preStop end (s)": rel(end, t0),
        "TERM (s)": rel(term, t0),
        "TERM after preStop end (s)": rel(term, end) if term and end else None,
        "removed (s)": removal.took(),
    }
    evidence.observe(documented="TERM only after preStop returned (t_end <= t_TERM)", observed=observed)
    assert begin is not None and end is not None and term is not None, f"missing reports: {observed}"
    assert end <= term, f"TERM arrived while preStop was still running: {observed}"


@pytest.mark.claim("HOOK-GRACE-COUNTS-PRESTOP")
def test_grace_period_countdown_includes_prestop(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "The Pod's termination grace period countdown begins before the PreStop hook is executed, so regardless of
    the outcome of the handler, the container will eventually terminate within the Pod's termination grace
    period." Grace 6 s, preStop ``sleep 3600``, a main process that ignores TERM. TERM must come one grace period
    after a moment between the delete and the hook's start (the countdown's start), and the container must be gone
    within the grace period plus the one-off 2 s extension doc 003 documents for a preStop still running."""
    grace = 6
    rec = hook_recorder
    hook = exec_handler(f"{rec.report('prestop-start')}; sleep 3600")
    main = shell("main", busybox_image, f"{on_term(rec, then=':')}; {IDLE}", lifecycle=lifecycle(pre_stop=hook))
    start(core, namespace, make_pod("countdown", [main], grace=grace))
    removal = delete_and_watch(core, namespace, "countdown")
    begin, term = first_at(rec.records("prestop-start")), first_at(rec.records("term"))
    observed = {
        "grace period (s)": grace,
        "after the delete call (s)": timings(
            removal.asked, call_returned=removal.returned, preStop_start=begin, TERM=term, pod_removed=removal.gone
        ),
        "after preStop started (s)": timings(begin or 0, TERM=term, pod_removed=removal.gone),
        "container exit codes": removal.exit_codes,
    }
    evidence.observe(
        documented=f"TERM {grace} s after the countdown starts (at or before preStop); gone within {grace}+2 s",
        observed=observed,
        states=removal.states,
    )
    assert begin is not None and term is not None and removal.gone is not None, f"missing reports: {observed}"
    assert removal.asked + grace - 0.5 <= term <= begin + grace + 1.0, f"countdown did not start by preStop: {observed}"
    assert removal.gone - begin <= grace + KUBELET_MIN_GRACE + SLACK, (
        f"not terminated within the grace period: {observed}"
    )


@pytest.mark.claim("HOOK-GRACE-EXAMPLE-60-55-10")
def test_hook_plus_shutdown_longer_than_grace_is_killed(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "If terminationGracePeriodSeconds is 60, and the hook takes 55 seconds to complete, and the Container takes
    10 seconds to stop normally after receiving the signal, then the Container will be killed before it can stop
    normally." Scaled: grace 8 s, preStop 5 s, a TERM handler that needs 6 s. Expected (from the hook's start):
    TERM at about 5 s, killed at about 8 s (3 s left, more than the kubelet's 2 s minimum), no clean exit."""
    grace, hook_s, shutdown_s = 8, 5, 6
    rec = hook_recorder
    hook = exec_handler(f"{rec.report('prestop-start')}; sleep {hook_s}; {rec.report('prestop-end')}")
    shutdown = f"sleep {shutdown_s}; {rec.report('clean-exit')}; exit 0"
    main = shell("main", busybox_image, f"{on_term(rec, then=shutdown)}; {IDLE}", lifecycle=lifecycle(pre_stop=hook))
    start(core, namespace, make_pod("example", [main], grace=grace))
    removal = delete_and_watch(core, namespace, "example")
    begin = first_at(rec.records("prestop-start"))
    time.sleep(max(0.0, (begin or removal.asked) + hook_s + shutdown_s + 1 - time.time()))  # a clean exit's time
    end, term, clean = (first_at(rec.records(n)) for n in ("prestop-end", "term", "clean-exit"))
    observed = {
        "after preStop started (s)": timings(
            begin or 0, preStop_end=end, TERM=term, clean_exit=clean, pod_removed=removal.gone
        ),
        "preStop start after the delete call (s)": rel(begin, removal.asked),
        "container exit codes": removal.exit_codes,
    }
    evidence.observe(
        documented=f"TERM at ~{hook_s} s, killed at ~{grace} s, before the {shutdown_s} s shutdown ends",
        observed=observed,
        states=removal.states,
    )
    assert begin is not None and term is not None and end is not None and end <= term, (
        f"TERM not after the hook: {observed}"
    )
    assert clean is None, f"the container stopped normally: {observed}"
    assert removal.gone is not None and removal.gone - begin <= grace + SLACK, (
        f"not killed when the grace period ended: {observed}"
    )


@pytest.mark.claim("HOOK-PRESTOP-HANG-TERMINATING")
def test_hanging_prestop_keeps_the_pod_terminating_until_the_grace_period_ends(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    hook_recorder: HookRecorder,
    kubectl: Kubectl,
    evidence: Evidence,
) -> None:
    """ "If a PreStop hook hangs during execution, the Pod's phase will be Terminating and remain there until the
    Pod is killed after its terminationGracePeriodSeconds expires." Grace 8 s, preStop ``sleep 3600``; 2 s into the
    hang, the pod's phase and kubectl's STATUS column are read."""
    grace = 8
    rec = hook_recorder
    hook = exec_handler(f"{rec.report('prestop-start')}; sleep 3600")
    main = shell("main", busybox_image, f"{on_term(rec)}; {IDLE}", lifecycle=lifecycle(pre_stop=hook))
    start(core, namespace, make_pod("hang", [main], grace=grace))
    removal = delete_pod(core, namespace, "hang")
    begin = rec.wait("prestop-start", timeout=10)[0].at
    time.sleep(max(0.0, begin + 2 - time.time()))
    during = core.read_namespaced_pod("hang", namespace)
    table = kubectl("get", "pod", "hang", "-n", namespace, "--no-headers").stdout.split()
    follow_removal(core, namespace, "hang", removal, timeout=grace + 60)
    observed = {
        "status.phase during the hang": during.status.phase,
        "deletionTimestamp set": during.metadata.deletion_timestamp is not None,
        "kubectl STATUS": table[2] if len(table) > 2 else table,
        "after preStop started (s)": timings(begin, TERM=first_at(rec.records("term")), pod_removed=removal.gone),
        "preStop start after the delete call (s)": rel(begin, removal.asked),
    }
    evidence.observe(documented=f"phase Terminating during the hang; pod killed at ~{grace} s", observed=observed)
    assert removal.gone is not None and removal.gone - begin <= grace + KUBELET_MIN_GRACE + SLACK, (
        f"not killed when the grace period expired: {observed}"
    )
    assert during.status.phase == "Terminating", (
        f"the phase is {during.status.phase!r}, not Terminating: 'Terminating' is only kubectl's display of a set "
        f"deletionTimestamp (STATUS {observed['kubectl STATUS']}); no such pod phase exists"
    )


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
    from fixtures.hook_recorder import PORT, kubelet_hook_agent, recorder_first

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
    metrics = kubectl("get", "--raw", "/metrics", check=False).stdout
    gate = re.findall(
        r'kubernetes_feature_enabled\{name="PodLifecycleSleepAction(?:AllowZero)?",stage="(\w*)"\} (\d)', metrics
    )
    gate_lines = [x for x in metrics.splitlines() if 'name="PodLifecycleSleepAction' in x]
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
    validation = {}
    for secs in (-1, 0, grace, grace + 1):
        probe_pod = make_pod(
            f"v{secs + 1}",
            [
                shell(
                    "main",
                    busybox_image,
                    IDLE,
                    lifecycle=lifecycle(pre_stop=client.V1LifecycleHandler(sleep=client.V1SleepAction(seconds=secs))),
                )
            ],
            grace=grace,
        )
        result = rejection(partial(core.create_namespaced_pod, namespace, probe_pod, dry_run="All"))
        validation[f"seconds={secs}"] = "accepted" if result is None else f"{result[0]} {result[1][:160]}"
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


def poststart_blocking_pod(rec: HookRecorder, image: str, hook_s: int) -> client.V1Pod:
    hook = exec_handler(f"{rec.report('poststart-start')}; sleep {hook_s}; {rec.report('poststart-end')}")
    main = shell("main", image, f"{rec.report('entrypoint')}; {IDLE}", lifecycle=lifecycle(post_start=hook))
    return make_pod("blocked", [main])


def first_running(tl: Timeline) -> float | None:
    return next((epoch(e["at"]) for e in tl.of("pod", pod="blocked") if "=running" in e["state"]), None)


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
    pod = core.read_namespaced_pod("ps-fails", namespace)
    cs = (pod.status.container_statuses or [None])[0]
    summary = event_summary(evs)
    observed = {
        "events": [f"{e['type']} {e['reason']}: {e['message'][:120]}" for e in summary],
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


# --------------------------------------------------------------------------- delivery


@pytest.mark.claim("HOOK-DELIVERY-AT-LEAST-ONCE")
def test_every_container_start_gets_its_poststart_at_least_once(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "Hook delivery is intended to be at least once … Generally, only single deliveries are made." Eight pods,
    each with an httpGet postStart to the recorder: each started container gets at least one delivery, and most
    exactly one (duplicates are reported, not failed)."""
    rec, n = hook_recorder, 8
    for i in range(n):
        main = shell("main", busybox_image, IDLE, lifecycle=lifecycle(post_start=rec.http_get(f"once-{i}")))
        core.create_namespaced_pod(namespace, make_pod(f"once-{i}", [main], grace=1))
    starts = {}
    for i in range(n):
        p = pods.wait_running(core, namespace, f"once-{i}", 120)
        starts[f"once-{i}"] = 1 + p.status.container_statuses[0].restart_count
    time.sleep(1)
    counts = {name: len(rec.records(name)) for name in starts}
    observed = {"container starts": starts, "deliveries": counts}
    evidence.observe(documented=">= 1 delivery per container start, usually exactly 1", observed=observed)
    assert all(counts[k] >= starts[k] for k in starts), f"a container start without its postStart delivery: {observed}"
    assert sum(counts[k] == starts[k] for k in starts) > n / 2, f"duplicates are not the exception: {observed}"


@pytest.mark.claim("HOOK-HTTP-NO-RESEND")
def test_http_hook_to_a_receiver_that_is_down_is_not_resent(
    core: client.CoreV1Api, namespace: str, busybox_image: str, hook_recorder: HookRecorder, evidence: Evidence
) -> None:
    """ "If, for example, an HTTP hook receiver is down and is unable to take traffic, there is no attempt to
    resend." postStart httpGet to a port of the recorder where nothing listens (restartPolicy Never): the hook
    fails. The receiver then comes up on that port; over 10 s it receives nothing."""
    rec, port = hook_recorder, 8082
    main = shell("main", busybox_image, IDLE, lifecycle=lifecycle(post_start=rec.http_get("no-resend", port=port)))
    core.create_namespaced_pod(namespace, make_pod("down", [main], grace=1))
    evs = wait_events(core, namespace, "down", {"FailedPostStartHook"}, 60)
    failed_at = time.time()
    rec.listen(port)
    time.sleep(10)
    got = rec.records("no-resend")
    final = core.read_namespaced_pod("down", namespace)
    hook_events = [
        f"{e['reason']} (x{e['count']}): {e['message'][:300]}"
        for e in event_summary(events_of(core, namespace, "down"))
        if "Hook" in e["reason"]
    ]
    observed = {
        "hook failure": hook_events or [e.message for e in evs],
        "pod": pods.describe(final),
        "requests once the receiver was up (over 10 s)": [rel(r.at, failed_at) for r in got],
    }
    evidence.observe(documented="no resend once the receiver is back", observed=observed)
    assert not got, f"the hook was sent again: {observed}"


@pytest.mark.claim("HOOK-DELIVERY-AT-LEAST-ONCE", "HOOK-KUBELET-RESTART-REDELIVERY")
@pytest.mark.needs("reconfigurable")
def test_kubelet_restart_during_poststart_delivery(
    core: client.CoreV1Api,
    namespace: str,
    busybox_image: str,
    hook_recorder: HookRecorder,
    node_exec: NodeExec,
    reconfigurable_node: Reconfigurable,
    exclusive: Exclusive,
    evidence: Evidence,
) -> None:
    """ "For example, if a kubelet restarts in the middle of sending a hook, the hook might be resent after the
    kubelet comes back up." Five trials on the reconfigurable node: a pod's postStart httpGet is held in flight by
    the recorder (6 s) and the kubelet is restarted meanwhile. Verdict on counts: every started container got at
    least one delivery; resends are reported (they may or may not happen)."""
    rec, trials, hold, node = hook_recorder, 5, 6, reconfigurable_node
    results = []
    with exclusive("reconfigurable-node"):
        try:
            for i in range(trials):
                results.append(
                    restart_trial(core, namespace, busybox_image, rec, node_exec, node, f"redeliver-{i}", hold)
                )
        finally:
            nodes.wait_ready(core, node.name)
    evidence.attach("trials", results)
    deliveries = [t["deliveries"] for t in results]
    starts = [t["container starts"] for t in results]
    observed = {
        "deliveries per trial": deliveries,
        "container starts per trial": starts,
        "resent after the restart": sum(max(0, d - s) for d, s in zip(deliveries, starts, strict=True)),
        "states": [t["after"] for t in results],
    }
    evidence.observe(documented=">= 1 delivery per started container; a resend may happen", observed=observed)
    assert all(d >= s for d, s in zip(deliveries, starts, strict=True)), (
        f"a started container got no delivery: {observed}"
    )


def restart_trial(
    core: client.CoreV1Api,
    namespace: str,
    image: str,
    rec: HookRecorder,
    node_exec: NodeExec,
    node: Reconfigurable,
    name: str,
    hold: int,
) -> dict[str, Any]:
    """One trial: postStart held in flight, kubelet restarted, then the counts."""
    main = shell(
        "main",
        image,
        f"{rec.report('started-' + name)}; {IDLE}",
        lifecycle=lifecycle(post_start=rec.http_get(name, hold=hold)),
    )
    created = time.time()
    core.create_namespaced_pod(namespace, node.pin(make_pod(name, [main], grace=1)))
    try:
        first = rec.wait(name, kind="hold-start", timeout=60)[0]
    except WaitTimeout:  # no delivery at all: nothing to interrupt, the counts say it
        return {"pod": name, "deliveries": 0, "container starts": len(rec.records("started-" + name)), "after": "-"}
    before = pods.describe(core.read_namespaced_pod(name, namespace))
    restart_at = time.time()
    node_exec(node.name, ["sh", "-c", "systemctl reset-failed kubelet 2>/dev/null; systemctl restart kubelet"])
    restarted = time.time()
    nodes.wait_ready(core, node.name)
    try:
        after_pod = pods.wait_pod(
            core,
            namespace,
            name,
            lambda p: any(cs.state.running or cs.state.terminated for cs in p.status.container_statuses or []),
            60,
            "to run",
        )
    except WaitTimeout as exc:
        after_pod = exc.last
    running = time.time()
    time.sleep(max(0.0, first.at + hold + 2 - time.time()))  # a resend, or the held request's end, shows by now
    after_pod = core.read_namespaced_pod(name, namespace)
    cs = after_pod.status.container_statuses[0]
    held = rec.records(name)
    return {
        "pod": name,
        "hold started (s before the restart)": round(restart_at - first.at, 2),
        "state during the hold": before,
        "after": pods.describe(after_pod),
        "deliveries": len([r for r in held if r.kind == "hold-start"]),
        "delivery times (s after the restart)": [rel(r.at, restart_at) for r in held if r.kind == "hold-start"],
        "container starts": len(rec.records("started-" + name)),
        "restartCount": cs.restart_count,
        "phases (s after creation)": timings(
            created, hold_start=first.at, restart_begin=restart_at, restart_end=restarted, running=running
        ),
    }


# --------------------------------------------------------------------------- the documented example


NGINX_STAND_IN = """cat > /bin/nginx <<'EOF'
#!/bin/sh
if [ "$1" = "-s" ] && [ "$2" = "quit" ]; then kill -QUIT "$(cat /tmp/nginx.pid)"; exit 0; fi
echo $$$$ > /tmp/nginx.pid  # $$$$: the kubelet turns $$ into $ in commands
trap 'echo "nginx: graceful quit"; exit 0' QUIT
trap 'echo "nginx: TERM"; exit 0' TERM
echo "nginx: master started"
while :; do sleep 1 & wait $!; done
EOF
chmod +x /bin/nginx
exec /bin/nginx
"""


@pytest.mark.claim("HOOK-LIFECYCLE-DEMO-EXAMPLE")
def test_lifecycle_demo_example(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """The documented lifecycle-demo pod: postStart ``echo Hello from the postStart handler > /usr/share/message``,
    preStop ``nginx -s quit; while killall -0 nginx; do sleep 1; done``. No nginx image can be pulled here: the
    container runs a stand-in ``/bin/nginx`` (busybox script: a master process named nginx that quits gracefully
    on QUIT, ``nginx -s quit`` sends it QUIT), and /usr/share is an emptyDir (busybox has none). Expected: the
    message file holds the string; on delete, the pod is gone well within its 30 s grace period."""
    post = client.V1LifecycleHandler(
        _exec=client.V1ExecAction(
            command=["/bin/sh", "-c", "echo Hello from the postStart handler > /usr/share/message"]
        )
    )
    pre = client.V1LifecycleHandler(
        _exec=client.V1ExecAction(command=["/bin/sh", "-c", "nginx -s quit; while killall -0 nginx; do sleep 1; done"])
    )
    container = shell(
        "lifecycle-demo-container",
        busybox_image,
        NGINX_STAND_IN,
        lifecycle=lifecycle(post_start=post, pre_stop=pre),
        volume_mounts=[client.V1VolumeMount(name="share", mount_path="/usr/share")],
    )
    pod = make_pod(
        "lifecycle-demo", [container], grace=30, restart="Always", volumes=[client.V1Volume(name="share", empty_dir={})]
    )
    start(core, namespace, pod)
    message = kubectl("exec", "-n", namespace, "lifecycle-demo", "--", "cat", "/usr/share/message", check=False)
    removal = delete_and_watch(core, namespace, "lifecycle-demo")
    evs = event_summary(events_of(core, namespace, "lifecycle-demo"))
    observed = {
        "/usr/share/message": message.stdout.strip() or message.stderr.strip(),
        "pod removed (s after delete)": removal.took(),
        "exit codes": removal.exit_codes,
        "hook events": [f"{e['reason']}: {e['message'][:200]}" for e in evs if "Hook" in e["reason"]],
    }
    evidence.observe(
        documented="message written; pod removed well within 30 s", observed=observed, states=removal.states
    )
    assert message.stdout.strip() == "Hello from the postStart handler", (
        f"postStart did not write the message: {observed}"
    )
    took = removal.took()
    assert took is not None and took < 15, f"the pod was not removed well within its 30 s grace period: {observed}"
