"""Container lifecycle hooks (docs 000, 001, 002, 004: "容器生命周期回调" / "Hooks de ciclo de vida do contêiner";
003: "容器生命周期回调", "使用回调函数"): the two hooks, when preStop is called, and the documents' lifecycle-demo
example. Handler types and hook failures are in test_hook_handlers.py; the grace period and delivery in
test_hook_grace_and_delivery.py.

Two hooks, PostStart and PreStop, run handlers (exec in the container; httpGet, and per the docs tcpSocket and
sleep, by the kubelet). Observed through a hook recorder (fixtures/hook_recorder.py): a separate pod that records
every hook delivery and every report from the containers (an entrypoint starting, a TERM trap, a hook's own steps)
with microsecond timestamps on the host's clock; and through the API (events, container states, a watch).
"""

from __future__ import annotations

import time
from contextlib import suppress

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_doc_conformance.fixtures import explain, nodes, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.hook_recorder import HookRecorder
from k8s_doc_conformance.fixtures.lifecycle import (
    IDLE,
    delete_and_watch,
    event_summary,
    events_of,
    exec_handler,
    first_at,
    lifecycle,
    make_pod,
    on_term,
    priority_classes,
    probe_failing_once,
    shell,
    start,
)
from k8s_doc_conformance.fixtures.nodes import Reconfigurable
from k8s_doc_conformance.fixtures.signatures import Exclusive, Kubectl
from k8s_doc_conformance.fixtures.termination import rel
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for

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
    main, data = probe_failing_once(probe, busybox_image, rec)
    # grace 30 s: the kubelet waits for preStop at most the grace period, then sends TERM anyway
    core.create_namespaced_pod(namespace, make_pod("probe", [main], grace=30, restart="Always", volumes=[data]))
    after = pods.wait_restarted(core, namespace, "probe")
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
    with priority_classes(api_client, run_id, low=10, high=1000) as classes, exclusive("reconfigurable-node"):
        free = nodes.free_cpu_millis(core, reconfigurable_node.name)
        request = client.V1ResourceRequirements(requests={"cpu": f"{free}m"})
        victim = shell(
            "main",
            busybox_image,
            f"{on_term(rec, 'term-victim')}; {IDLE}",
            resources=request,
            lifecycle=lifecycle(pre_stop=rec.exec_report("prestop-victim")),
        )
        low = make_pod("victim", [victim], grace=5, priority_class_name=classes["low"])
        start(core, namespace, reconfigurable_node.pin(low))
        t0 = time.time()
        preemptor = shell("main", busybox_image, IDLE, resources=request)
        high = make_pod("preemptor", [preemptor], grace=0, priority_class_name=classes["high"])
        core.create_namespaced_pod(namespace, reconfigurable_node.pin(high))
        prestops = rec.within("prestop-victim", timeout=60)
        with suppress(WaitTimeout):
            pods.wait_running(core, namespace, "preemptor", 60)
        preemptor_now = core.read_namespaced_pod("preemptor", namespace)
        with suppress(ApiException):
            core.delete_namespaced_pod("preemptor", namespace, grace_period_seconds=0)
        victim_now = pods.read_or_none(core, namespace, "victim")
    observed = {
        "CPU requested by each pod": f"{free}m",
        "preStop called (s after the preemptor was created)": rel(first_at(prestops), t0),
        "TERM received (s)": rel(first_at(rec.records("term-victim")), t0),
        "victim": pods.describe_deleting(victim_now),
        "victim DisruptionTarget": pods.conditions(victim_now, "DisruptionTarget"),
        "preemptor": f"{pods.describe(preemptor_now)} on {preemptor_now.spec.node_name}",
        "events": [e.message for e in events_of(core, namespace, "victim") if e.reason in ("Preempted", "Killing")],
    }
    evidence.observe(documented="the preempted pod's preStop hook is called", observed=observed)
    assert prestops, f"no preStop call for the preempted pod: {observed}"


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
