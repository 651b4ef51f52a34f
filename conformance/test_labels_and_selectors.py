"""Labels, label selectors and nodeSelector (doc 003: "使用标签组织pod" / "使用标签和选择器来约束pod调度").

Labels are key/value pairs attached to pods and other resources; label selectors (``kubectl -l``) select the
resources that carry given labels, and a pod's nodeSelector restricts the nodes it can be scheduled onto.

Pods that only need to exist (to be labelled and selected) are held by a scheduling gate: they are never scheduled,
so nothing runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import kubectl_get, metadata_checks, nodes, pods, selectors
from k8s_doc_conformance.fixtures.apicalls import STRICT_VALIDATION, dry_run_configmap, key_twice_configmap, rejection
from k8s_doc_conformance.fixtures.capabilities import Capabilities
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.selectors import GemPods
from k8s_doc_conformance.fixtures.signatures import Kubectl


@pytest.mark.claim("LBL-ARBITRARY-KV-ANY-RESOURCE")
def test_labels_attach_to_any_resource_and_selectors_filter_them(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "Labels can organize not only pods but also other Kubernetes resources. Precisely, a label is an arbitrary
    key-value pair attached to a resource, used to select/filter resources that carry that exact label (done with
    label selectors)." A Pod, a Service, a ConfigMap and a Secret carry the doc's labels (creation_method=manual,
    env=prod) and one of each carries env=debug; the selector picks exactly the first of each kind."""
    for env in ("prod", "debug"):
        labels = {"creation_method": "manual", "env": env}
        meta = client.V1ObjectMeta(name=f"kubia-{env}", labels=labels)
        core.create_namespaced_pod(namespace, pods.held_pod(f"kubia-{env}", busybox_image, labels))
        core.create_namespaced_service(
            namespace,
            client.V1Service(
                metadata=meta,
                spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)], selector={"app": "kubia"}),
            ),
        )
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=meta, data={"k": "v"}))
        core.create_namespaced_secret(namespace, client.V1Secret(metadata=meta, string_data={"k": "v"}))
    selector = "creation_method=manual,env=prod"
    listers: dict[str, Callable[..., Any]] = {
        "Pod": core.list_namespaced_pod,
        "Service": core.list_namespaced_service,
        "ConfigMap": core.list_namespaced_config_map,
        "Secret": core.list_namespaced_secret,
    }
    observed = {
        kind: sorted(o.metadata.name for o in lister(namespace, label_selector=selector).items)
        for kind, lister in listers.items()
    }
    labelled = {
        kind: {o.metadata.name: o.metadata.labels for o in lister(namespace).items if o.metadata.labels}
        for kind, lister in listers.items()
    }
    documented = {kind: ["kubia-prod"] for kind in listers}
    evidence.attach("objects and their labels", labelled)
    evidence.observe(documented=documented, observed=observed, selector=selector)
    assert observed == documented, f"{selector!r} selected {observed}"


@pytest.mark.claim("LBL-KEY-UNIQUE")
def test_a_label_key_is_unique_on_an_object(
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    busybox_image: str,
    kubectl: Kubectl,
    evidence: Evidence,
) -> None:
    """ "On the same resource object, label keys must be unique." A key that is already set cannot be given a
    second value (kubectl label without --overwrite is refused), and a manifest naming the key twice still gives the
    object a single value for the key (that strict field validation refuses such a manifest: the test below)."""
    core.create_namespaced_pod(namespace, pods.held_pod("kubia", busybox_image, {"env": "prod"}))
    relabel = kubectl("label", "pods", "kubia", "-n", namespace, "env=debug", check=False)
    after_relabel = core.read_namespaced_pod("kubia", namespace).metadata.labels
    manifest = key_twice_configmap("labels", "env", "prod", "debug")
    default = dry_run_configmap(api_client, namespace, manifest)
    observed = {
        "kubectl label env=debug (no --overwrite)": {
            "exit": relabel.returncode,
            "stderr": relabel.stderr.strip(),
            "labels after": after_relabel,
        },
        "key twice, default validation": {
            "status": default[0],
            "stored labels": default[1].get("metadata", {}).get("labels"),
            "warnings": default[2],
        },
    }
    evidence.observe(
        documented="a key holds one value: a second value is refused, a duplicate key never gives two",
        observed=observed,
    )
    assert relabel.returncode != 0 and "already has a value" in relabel.stderr, (
        f"a second value for env was not refused: exit {relabel.returncode}, {relabel.stderr.strip()!r}"
    )
    assert after_relabel == {"env": "prod"}, after_relabel
    assert default[0] == 201, default[1]
    stored = default[1]["metadata"].get("labels") or {}
    assert list(stored) == ["env"], f"the object holds {stored}"


@pytest.mark.claim("LBL-KEY-UNIQUE")
@pytest.mark.since(*STRICT_VALIDATION)
def test_strict_field_validation_refuses_a_label_key_given_twice(
    api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """ "On the same resource object, label keys must be unique." A manifest naming a label key twice is refused
    (400, duplicate field) when the client asks for strict field validation."""
    status, body = metadata_checks.key_twice_under_strict_validation(
        api_client, namespace, "labels", "env", ("prod", "debug"), evidence
    )
    assert status == 400 and "duplicate field" in str(body.get("message")), body


@pytest.mark.claim("LBL-MUTABLE-WITHOUT-RECREATE")
def test_labels_change_without_recreating_the_pod(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "Labels are usually attached to resources when writing the manifest, but they can also be set after the
    resource is created, without recreating the resource." A running pod gets a new label and a changed one: same
    UID, same container, no restart."""
    pod = pods.sleeper("kubia-manual", busybox_image)
    pod.metadata.labels = {"creation_method": "manual"}
    core.create_namespaced_pod(namespace, pod)
    before = pods.wait_running(core, namespace, "kubia-manual")
    refused = rejection(
        lambda: core.patch_namespaced_pod(
            "kubia-manual", namespace, {"metadata": {"labels": {"creation_method": "changed", "env": "prod"}}}
        )
    )
    time.sleep(3)  # give a kubelet that would restart or replace the pod the time to do it
    after = core.read_namespaced_pod("kubia-manual", namespace)

    def identity(p: client.V1Pod) -> dict[str, Any]:
        cs = p.status.container_statuses[0]
        return {
            "uid": p.metadata.uid,
            "creationTimestamp": p.metadata.creation_timestamp,
            "containerID": cs.container_id,
            "startedAt": cs.state.running.started_at if cs.state.running else None,
            "restartCount": cs.restart_count,
            "phase": p.status.phase,
        }

    evidence.observe(
        documented="labels {creation_method: changed, env: prod}; the same pod and container",
        observed={
            "label change": f"refused: {refused[0]} {refused[1]}" if refused else "accepted",
            "labels": after.metadata.labels,
            "before": identity(before),
            "after": identity(after),
        },
    )
    assert refused is None, f"the label change was refused ({refused[0]}): {refused[1]}"
    assert after.metadata.labels == {"creation_method": "changed", "env": "prod"}, after.metadata.labels
    assert identity(after) == identity(before), "the pod or its container was replaced"


@pytest.mark.claim("LBL-SYNTAX")
def test_label_keys_and_values_follow_the_documented_syntax(
    core: client.CoreV1Api, namespace: str, evidence: Evidence
) -> None:
    """ "A label is a key-value pair where both key and value are strings. Both key and value must be valid DNS
    labels, i.e. they must follow these rules: keys and values must be 1 to 63 characters long; keys and values may
    only contain letters (upper or lower case), digits, hyphens (-) and underscores (_); the key must start and end
    with a letter or digit." Each case is a dry-run create whose labels the rules accept or refuse."""
    cases: dict[str, tuple[str, str, bool]] = {  # case: (key, value, the rules accept it)
        "the doc's example": ("creation_method", "manual", True),
        "upper case and underscores": ("Creation_Method", "Manual_Env", True),
        "63-character key and value": ("k" * 63, "v" * 63, True),
        "value starting with '-'": ("env", "-prod", True),
        "value ending with '_'": ("env", "prod_", True),
        "empty value": ("env", "", False),
        "value with '.'": ("version", "1.2", False),
        "key with a prefix (example.com/env)": ("example.com/env", "prod", False),
        "64-character value": ("env", "v" * 64, False),
        "64-character key": ("k" * 64, "prod", False),
        "key starting with '-'": ("-env", "prod", False),
        "key ending with '_'": ("env_", "prod", False),
        "value with a space": ("env", "pr od", False),
        "value with '@'": ("env", "pr@d", False),
    }
    observed: dict[str, str] = {}
    wrong: dict[str, str] = {}
    for case, (key, value, accepted) in cases.items():
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="labelled", labels={key: value}))
        result = rejection(partial(core.create_namespaced_config_map, namespace, body, dry_run="All"))
        observed[case] = "accepted" if result is None else f"rejected {result[0]}: {result[1]}"
        if (result is None) != accepted:
            got = "accepted" if result is None else f"rejected ({result[0]})"
            wrong[case] = f"{got}, the rules say {'accepted' if accepted else 'rejected'}"
    evidence.attach("cases: (key, value, accepted by the documented rules)", cases)
    evidence.observe(
        documented={case: "accepted" if ok else "rejected" for case, (_, _, ok) in cases.items()},
        observed=observed,
        differing=wrong,
    )
    assert not wrong, f"not as the documented rules say: {wrong}"


@pytest.mark.claim("LBL-KUBECTL-OPERATIONS")
def test_kubectl_adds_changes_removes_and_shows_labels(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "…you can view labels with kubectl get po --show-labels, and use -L creation_method,env to show the labels
    you are interested in. kubectl label pods <pod_name> <key>=<value> # add; … <key>=<new_value> --overwrite #
    modify; … <key>- # remove\""""
    name = "kubia-manual-v2"
    core.create_namespaced_pod(
        namespace, pods.held_pod(name, busybox_image, {"creation_method": "manual", "env": "prod"})
    )

    def labels() -> dict[str, str]:
        return dict(core.read_namespaced_pod(name, namespace).metadata.labels or {})

    shown = kubectl_get.row(kubectl, namespace, name, "--show-labels")
    columns = kubectl_get.row(kubectl, namespace, name, "-L", "creation_method,env")
    steps: dict[str, dict[str, str]] = {}
    for step, args in (
        ("add tier=web", ["tier=web"]),
        ("modify env=debug --overwrite", ["env=debug", "--overwrite"]),
        ("remove tier-", ["tier-"]),
    ):
        done = kubectl("label", "pods", name, "-n", namespace, *args, check=False)
        steps[step] = labels() if done.returncode == 0 else {"kubectl failed": done.stderr.strip()[-300:]}
    documented = {
        "--show-labels LABELS": "creation_method=manual,env=prod",
        "-L columns": {"CREATION_METHOD": "manual", "ENV": "prod"},
        "add tier=web": {"creation_method": "manual", "env": "prod", "tier": "web"},
        "modify env=debug --overwrite": {"creation_method": "manual", "env": "debug", "tier": "web"},
        "remove tier-": {"creation_method": "manual", "env": "debug"},
    }
    observed = {
        "--show-labels LABELS": shown.get("LABELS"),
        "-L columns": {k: columns.get(k) for k in ("CREATION_METHOD", "ENV")},
        **steps,
    }
    evidence.observe(documented=documented, observed=observed)
    wrong = {step: got for step, got in observed.items() if got != documented[step]}
    assert not wrong, f"not as documented: {wrong}"


@pytest.mark.claim("SEL-EQUALS")
def test_selector_key_equals_value(gem_pods_made: GemPods) -> None:
    """ "-l <key>=<value>: selects resources with the corresponding label.\""""
    cases = {"app=gem-battle-blue": {"blue"}, "env=prod": {"account", "blue", "no-app"}, "app=gem-none": set()}
    observed = gem_pods_made.select(cases)
    assert observed == cases, f"selected: {observed}"


@pytest.mark.claim("SEL-EXISTS")
def test_selector_key_exists(gem_pods_made: GemPods) -> None:
    """ "-l <key>: selects resources that have the label." (whatever its value)"""
    cases = {"app": {"account", "blue", "red"}, "env": set(selectors.GEM_PODS), "tier": set()}
    observed = gem_pods_made.select(cases)
    assert observed == cases, f"selected: {observed}"


@pytest.mark.claim("SEL-NOT-EXISTS")
def test_selector_key_does_not_exist(gem_pods_made: GemPods) -> None:
    """ "-l '!<key>': selects resources that do not have the label.\""""
    cases = {"!app": {"no-app"}, "!tier": set(selectors.GEM_PODS), "!env": set()}
    observed = gem_pods_made.select(cases)
    assert observed == cases, f"selected: {observed}"


@pytest.mark.claim("SEL-NOT-EQUALS")
def test_selector_key_not_equals_value(gem_pods_made: GemPods) -> None:
    """ "-l <key>!=<value>" (listed without explanation): resources whose label's value is not <value>. A pod
    without the label has no such value, so it is selected too."""
    cases = {"app!=gem-account": {"blue", "red", "no-app"}, "env!=prod": {"red"}}
    observed = gem_pods_made.select(cases)
    assert observed == cases, f"selected: {observed}"


@pytest.mark.claim("SEL-IN-NOTIN")
def test_selector_in_and_notin(gem_pods_made: GemPods) -> None:
    """ "-l app in (gem-account)", "-l app notin (gem-account)": the set-based selectors; notin also selects a pod
    without the label (its value is not in the set)."""
    cases = {
        "app in (gem-account)": {"account"},
        "app in (gem-account,gem-battle-blue)": {"account", "blue"},
        "app notin (gem-account)": {"blue", "red", "no-app"},
        "app notin (gem-account,gem-battle-blue,gem-battle-red)": {"no-app"},
    }
    observed = gem_pods_made.select(cases)
    assert observed == cases, f"selected: {observed}"


@pytest.mark.claim("SEL-COMMA-AND")
def test_comma_separated_conditions_must_all_hold(gem_pods_made: GemPods) -> None:
    """ "To filter on several conditions, separate them with commas: -l 'app notin (gem-account),app=gem-battle-blue'."
    Only the pods that satisfy every condition are selected."""
    cases = {
        "app notin (gem-account),app=gem-battle-blue": {"blue"},
        "app,env=prod": {"account", "blue"},
        "env=prod,app!=gem-battle-blue": {"account", "no-app"},
        "app=gem-account,env=debug": set(),
    }
    observed = gem_pods_made.select(cases)
    assert observed == cases, f"selected: {observed}"


@pytest.mark.claim("SCHED-NODESELECTOR")
@pytest.mark.needs("multi_node")
def test_node_selector_schedules_only_onto_labelled_nodes(
    core: client.CoreV1Api, namespace: str, busybox_image: str, caps: Capabilities, evidence: Evidence
) -> None:
    """ "With the node selector added, this pod will only be scheduled onto nodes that have the gpu: "true" label."
    One schedulable node gets a run-unique gpu label; six pods selecting it all land there; once no node has the
    label, a new pod is not scheduled (FailedScheduling)."""
    target = caps.schedulable_nodes[0]
    with nodes.temporary_label(core, target, "gpu") as selector:
        gpu_pods = [pods.sleeper(f"kubia-gpu-{i}", busybox_image, node_selector=selector) for i in range(6)]
        placed = pods.placed(core, namespace, gpu_pods)
    core.create_namespaced_pod(namespace, pods.sleeper("kubia-gpu-none", busybox_image, node_selector=selector))
    unplaced = pods.wait_unschedulable(core, namespace, "kubia-gpu-none")
    events = pods.events_with_reason(core, namespace, "kubia-gpu-none", "FailedScheduling")
    (key,) = selector
    evidence.observe(
        documented=f"every pod on {target} (the only node labelled {key}=true); none once no node has it",
        observed={
            "placed": placed,
            "other schedulable nodes": [n for n in caps.schedulable_nodes if n != target],
            "after the label was removed": unplaced,
            "FailedScheduling events": [e.message for e in events],
        },
    )
    assert set(placed.values()) == {target}, f"pods landed on nodes without the label: {placed}"
    assert unplaced.startswith("Pending, unschedulable"), unplaced
    assert events, "no FailedScheduling event for the pod no node can take"


@pytest.mark.claim("SCHED-HOSTNAME-LABEL")
def test_every_node_has_a_hostname_label_that_pins_pods(
    core: client.CoreV1Api, namespace: str, busybox_image: str, caps: Capabilities, evidence: Evidence
) -> None:
    """ "Every node has a kubernetes.io/hostname label, so we could also schedule onto one specific node, but this
    is not recommended: if that node goes down, the pod becomes unschedulable." One pod pinned to each schedulable
    node lands there; a pod pinned to a host name no node has stays unschedulable."""
    hostnames = {
        n.metadata.name: (n.metadata.labels or {}).get("kubernetes.io/hostname") for n in core.list_node().items
    }
    pinned = {node: f"pinned-{i}" for i, node in enumerate(caps.schedulable_nodes) if hostnames.get(node)}
    made = [
        pods.sleeper(name, busybox_image, node_selector={"kubernetes.io/hostname": str(hostnames[node])})
        for node, name in pinned.items()
    ]
    by_name = pods.placed(core, namespace, made)
    placed = {node: by_name[name] for node, name in pinned.items()}
    gone = f"k8sdc-gone-{uuid.uuid4().hex[:8]}"
    core.create_namespaced_pod(
        namespace, pods.sleeper("pinned-gone", busybox_image, node_selector={"kubernetes.io/hostname": gone})
    )
    unplaced = pods.wait_unschedulable(core, namespace, "pinned-gone")
    evidence.observe(
        documented="every node labelled; a pinned pod on its node; pinned to a missing node: unschedulable",
        observed={"hostname labels": hostnames, "pinned pod -> node": placed, f"pinned to {gone}": unplaced},
    )
    assert all(hostnames.values()), f"nodes without kubernetes.io/hostname: {hostnames}"
    assert placed and all(node == got for node, got in placed.items()), placed
    assert unplaced.startswith("Pending, unschedulable"), unplaced
