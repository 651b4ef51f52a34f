"""Lifecycle hooks against the clock (docs 000-004 and 003's pod termination): preStop within the grace period, and
how hooks are delivered ("回调递送保证" / "Garantias de entrega de hooks" in 000-002 and 004: at least once, not
resent, a kubelet restart during delivery). Observed through the hook recorder (fixtures/hook_recorder.py) and the
API, as in test_lifecycle_hooks.py.
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import nodes, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.hook_recorder import HookRecorder
from k8s_doc_conformance.fixtures.lifecycle import (
    IDLE,
    SLACK,
    delete_and_watch,
    delete_pod,
    event_summary,
    events_of,
    exec_handler,
    first_at,
    follow_removal,
    hanging_prestop_pod,
    lifecycle,
    make_pod,
    on_term,
    restart_trial,
    shell,
    start,
    timings,
    wait_events,
)
from k8s_doc_conformance.fixtures.nodes import Reconfigurable
from k8s_doc_conformance.fixtures.signatures import Exclusive, Kubectl, NodeExec
from k8s_doc_conformance.fixtures.termination import KUBELET_MIN_GRACE, rel

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
    start(core, namespace, hanging_prestop_pod(rec, busybox_image, "countdown", grace, then=":"))
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
    start(core, namespace, hanging_prestop_pod(rec, busybox_image, "hang", grace))
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
