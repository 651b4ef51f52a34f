"""Pods from YAML, kubectl and logs (doc 003, Kubernetes in Action ch. 3: "2 用YAML创建pod", "2.1 创建pod" and
"2.2 查看应用程序日志").

A pod's manifest has apiVersion, kind, metadata, spec and a read-only status; `kubectl explain` documents the
fields, `create` and `apply` create resources (only `apply` updates them), `kubectl get` prints them in several
formats, and `kubectl logs` shows what the containers wrote to stdout and stderr, until the pod is deleted.
"""

from __future__ import annotations

import re
import time
from typing import cast

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import explain, kubectl_get, manifests, pod_logs, pods
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.scenario import Scenario
from k8s_doc_conformance.fixtures.signatures import Kubectl, NodeExec
from k8s_doc_conformance.fixtures.waits import WaitTimeout, wait_for

OPTIONS = ("--tail=3", "--timestamps", "--previous")
#: About 10.8 MiB (10,800 lines of ~1 KB) between two markers, then a line a second for good.
TEN_MIB_THEN_TICKS = (
    "line=$(head -c 1000 /dev/zero | tr '\\0' x); echo FIRST-MARKER; i=0; "
    'while [ $i -lt 10800 ]; do echo "$i $line"; i=$((i+1)); done; echo LAST-MARKER; i=0; '
    'while true; do i=$((i+1)); echo "tick-$i"; sleep 1; done'
)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) ")
MIB = 1024 * 1024


@pytest.mark.claim("KCTL-STATUS-READONLY")
def test_status_is_read_only_and_need_not_be_given(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "status: read-only runtime data — the detailed status of the pod and its containers … It usually does not
    need to be specified at creation." A pod created without status is accepted; a status supplied at creation,
    or written through the pod itself (not its status subresource), is ignored."""
    plain = core.create_namespaced_pod(namespace, pods.sleeper("without-status", busybox_image))
    forged = pods.sleeper("with-status", busybox_image)
    fake_ip = "10.255.255.254"
    forged.status = client.V1PodStatus(phase="Succeeded", pod_ip=fake_ip, message="written by the client")
    created = core.create_namespaced_pod(namespace, forged)
    patched = core.patch_namespaced_pod(
        "without-status", namespace, {"status": {"phase": "Failed", "podIP": fake_ip, "message": "patched"}}
    )
    observed = {
        "created without status": {"accepted": True, "phase": plain.status.phase},
        "created with a status": {
            "phase": created.status.phase,
            "podIP": created.status.pod_ip,
            "message": created.status.message,
        },
        "status patched through the pod": {
            "phase": patched.status.phase,
            "podIP": patched.status.pod_ip,
            "message": patched.status.message,
        },
    }
    evidence.observe(
        documented="status need not be given; what the client writes into it is ignored (phase stays Pending/…)",
        observed=observed,
        supplied={"phase": "Succeeded", "podIP": fake_ip, "message": "written by the client"},
    )
    assert plain.status.phase == "Pending", observed
    assert created.status.phase == "Pending", f"the supplied status was stored: {observed['created with a status']}"
    assert created.status.pod_ip != fake_ip and created.status.message is None, observed
    update = observed["status patched through the pod"]
    assert update["phase"] != "Failed" and update["podIP"] != fake_ip and update["message"] is None, update


@pytest.mark.claim("KCTL-EXPLAIN")
def test_kubectl_explain_prints_fields(kubectl: Kubectl, evidence: Evidence) -> None:
    """ "You can also use the explain command to view field help for an API resource, e.g.: kubectl explain pods …
    This prints the object's explanation and lists the attributes it can contain … kubectl explain pods.spec\""""
    pods_out = kubectl("explain", "pods", check=False)
    spec_out = kubectl("explain", "pods.spec", check=False)
    evidence.attach("kubectl explain pods", pods_out.stdout + pods_out.stderr)
    evidence.attach("kubectl explain pods.spec", spec_out.stdout + spec_out.stderr)

    top, spec = list(explain.fields(pods_out.stdout)), list(explain.fields(spec_out.stdout))
    evidence.observe(
        documented="both commands succeed; pods lists apiVersion, kind, metadata, spec, status; pods.spec lists "
        "containers",
        observed={
            "explain pods": {"exit": pods_out.returncode, "fields": top},
            "explain pods.spec": {"exit": spec_out.returncode, "fields": spec},
        },
    )
    assert pods_out.returncode == 0, pods_out.stderr[-500:]
    assert spec_out.returncode == 0, spec_out.stderr[-500:]
    assert re.search(r"^KIND:\s+Pod$", pods_out.stdout, re.M), pods_out.stdout[:300]
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= set(top), top
    assert "containers" in spec, spec


@pytest.mark.claim("KCTL-CREATE-VS-APPLY")
def test_create_refuses_existing_apply_updates_in_place(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "create: if the resource already exists it reports an error and stops, meaning create cannot be used to
    update an existing resource's configuration"; "apply … compares the configuration in the YAML file with the
    existing resource and applies the difference … without manually deleting and recreating the resource\"."""
    v1, v2 = (manifests.kubia_manual("kubia-manual", busybox_image, {"version": v}) for v in ("1", "2"))
    kubectl("create", "-f", "-", "-n", namespace, input=v1)
    first = core.read_namespaced_pod("kubia-manual", namespace)
    again = kubectl("create", "-f", "-", "-n", namespace, input=v2, check=False)
    after_create = core.read_namespaced_pod("kubia-manual", namespace)
    applied = kubectl("apply", "-f", "-", "-n", namespace, input=v2, check=False)
    after_apply = core.read_namespaced_pod("kubia-manual", namespace)
    created_by_apply = kubectl(
        "apply", "-f", "-", "-n", namespace, input=manifests.kubia_manual("kubia-applied", busybox_image), check=False
    )

    def state(pod: client.V1Pod) -> dict[str, object]:
        return {"uid": pod.metadata.uid, "version label": pod.metadata.labels.get("version")}

    observed = {
        "second create": {"exit": again.returncode, "stderr": again.stderr.strip()[-300:], **state(after_create)},
        "apply": {"exit": applied.returncode, "stdout": applied.stdout.strip(), **state(after_apply)},
        "apply of a new pod": {"exit": created_by_apply.returncode, "stdout": created_by_apply.stdout.strip()},
    }
    evidence.observe(
        documented="second create fails AlreadyExists, label stays 1; apply sets label 2 on the same object (same UID)",
        observed=observed,
        first=state(first),
    )
    assert again.returncode != 0 and "AlreadyExists" in again.stderr, observed["second create"]
    assert after_create.metadata.labels.get("version") == "1", "the failed create changed the pod"
    assert applied.returncode == 0, applied.stderr[-500:]
    assert after_apply.metadata.labels.get("version") == "2", "apply did not update the label"
    assert after_apply.metadata.uid == first.metadata.uid, "apply replaced the pod instead of updating it"
    assert created_by_apply.returncode == 0, created_by_apply.stderr[-500:]


@pytest.mark.claim("KCTL-GET-OUTPUT-FORMATS")
def test_kubectl_get_output_formats(scenario: Scenario, kubectl: Kubectl) -> None:
    """ "kubectl get pods -o json / yaml / name / wide (… extra information such as the node name and IP address) /
    custom-columns=NAME:.metadata.name,STATUS:.status.phase / jsonpath='{.items[*].metadata.name}' /
    go-template='{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}'" — the document's commands, on one running
    pod."""
    pod = scenario.start(scenario.sleeper("kubia"))
    ns = scenario.namespace
    out = {k: kubectl("get", "pods", "-n", ns, "-o", fmt, check=False) for k, fmt in kubectl_get.OUTPUT_FORMATS.items()}
    failed = {k: p.stderr.strip()[-300:] for k, p in out.items() if p.returncode != 0}
    observed = kubectl_get.read({k: p.stdout for k, p in out.items() if k not in failed})
    expected = {
        "json items": ["kubia"],
        "yaml items": ["kubia"],
        "name": ["pod/kubia"],
        "wide": {"header": observed["wide"]["header"], "IP": pod.status.pod_ip, "NODE": pod.spec.node_name},
        "custom-columns": [["NAME", "STATUS"], ["kubia", "Running"]],
        "jsonpath": "kubia",
        "go-template": "kubia\n",
    }
    scenario.evidence.attach("kubectl get pods -o wide", out["wide"].stdout)
    scenario.observe(documented=expected, observed=observed, failed=failed)
    assert not failed, f"formats kubectl refused: {failed}"
    differ = {k: observed[k] for k in expected if observed[k] != expected[k]}
    assert not differ, f"formats whose output is not as documented: {differ}"


@pytest.mark.claim("KCTL-LOGS-PER-CONTAINER")
def test_kubectl_logs_shows_stdout_and_stderr_per_container(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "…the container runtime redirects these streams [stdout, stderr] to files, and logs can be viewed … with the
    Kubernetes command kubectl logs <pod_name>"; "kubectl logs <pod_name> -c<container_name> # multi-container pod:
    get one container's logs"."""

    def speaker(name: str) -> str:
        return f"echo {name}-stdout; echo {name}-stderr >&2; sleep 3600"

    core.create_namespaced_pod(namespace, pod_logs.shell_pod("single", busybox_image, speaker("single")))
    multi = pod_logs.shell_pod("multi", busybox_image, speaker("web"))
    multi.spec.containers[0].name = "web"
    multi.spec.containers.append(
        client.V1Container(
            name="sidecar", image=busybox_image, image_pull_policy="IfNotPresent", command=["sh", "-c", speaker("side")]
        )
    )
    core.create_namespaced_pod(namespace, multi)
    for name in ("single", "multi"):
        pods.wait_running(core, namespace, name)
    pod_logs.wait_logs(core, namespace, "single", lambda t: "single-stderr" in t, "to show both lines")
    for container in ("web", "sidecar"):
        pod_logs.wait_logs(
            core, namespace, "multi", lambda t: "-stderr" in t, "to show both lines", container=container
        )
    logs = {
        "kubectl logs single": kubectl("logs", "single", "-n", namespace).stdout.split(),
        "kubectl logs multi -cweb": kubectl("logs", "multi", "-cweb", "-n", namespace).stdout.split(),
        "kubectl logs multi -csidecar": kubectl("logs", "multi", "-csidecar", "-n", namespace).stdout.split(),
    }
    expected = {
        "kubectl logs single": ["single-stdout", "single-stderr"],
        "kubectl logs multi -cweb": ["web-stdout", "web-stderr"],
        "kubectl logs multi -csidecar": ["side-stdout", "side-stderr"],
    }
    evidence.observe(documented=expected, observed=logs)
    differ = {k: v for k, v in logs.items() if sorted(v) != sorted(expected[k])}
    assert not differ, f"logs not as documented: {differ}"


@pytest.mark.claim("KCTL-LOGS-OPTIONS")
def test_kubectl_logs_follow_streams_until_the_container_ends(scenario: Scenario, kubectl: Kubectl) -> None:
    """ "kubectl logs -f <pod_name> # follow the logs". A container prints twenty lines, one every half second, then
    ends: `logs -f`, started after its first line, streams every line and ends with it."""
    ticks = 'i=0; while [ $i -lt 20 ]; do i=$((i+1)); echo "tick-$i"; sleep 0.5; done'
    scenario.start(scenario.pod("follow", ["sh", "-c", ticks]))
    before = len(
        pod_logs.wait_logs(scenario.core, scenario.namespace, "follow", lambda t: "tick-1" in t, "to start").split()
    )
    started = time.monotonic()
    followed = kubectl("logs", "-f", "follow", "-n", scenario.namespace, check=False)
    streamed = followed.stdout.split()
    scenario.observe(
        documented="streams until the container ends: all 20 ticks",
        observed={"lines before": before, "lines streamed": len(streamed), "last": streamed[-1:]},
        took_s=round(time.monotonic() - started, 1), exit=followed.returncode, stderr=followed.stderr.strip()[-300:],
    )  # fmt: skip
    assert followed.returncode == 0, f"kubectl logs -f refused: {followed.stderr.strip()[-300:]}"
    assert streamed == [f"tick-{i}" for i in range(1, 21)], streamed
    assert before < 20, f"the container had finished before `logs -f` started ({before} lines)"


@pytest.mark.claim("KCTL-LOGS-OPTIONS")
def test_kubectl_logs_tail_timestamps_and_previous(scenario: Scenario, kubectl: Kubectl) -> None:
    """ "kubectl logs --tail=<number_of_lines> <pod_name> # limit the lines shown; kubectl logs --timestamps
    <pod_name> # show timestamps; kubectl logs --previous <pod_name> # if the container has restarted, --previous
    gets the previous container's logs\". The first container prints five lines and fails; the second prints a line
    a second, for good."""
    script = (
        "n=$(( $(cat /d/n 2>/dev/null || echo 0) + 1 )); echo $n > /d/n; i=0; "
        'while true; do i=$((i+1)); echo "instance-$n line-$i"; '
        "if [ $n -eq 1 ] && [ $i -ge 5 ]; then exit 1; fi; sleep 1; done"
    )
    restarter = scenario.pod("restarter", ["sh", "-c", script], restart_policy="OnFailure")
    restarter.spec.volumes = [client.V1Volume(name="d", empty_dir=client.V1EmptyDirVolumeSource())]
    restarter.spec.containers[0].volume_mounts = [client.V1VolumeMount(name="d", mount_path="/d")]
    scenario.create(restarter)
    pod_logs.wait_logs(scenario.core, scenario.namespace, "restarter", lambda t: "instance-2 line-4" in t, "to restart")
    runs = {o: kubectl("logs", o, "restarter", "-n", scenario.namespace, check=False) for o in OPTIONS}
    observed = {o: run.stdout.splitlines()[: 3 if o == "--timestamps" else None] for o, run in runs.items()}
    scenario.observe(
        documented={
            "--tail=3": "the last 3 lines",
            "--timestamps": "each line prefixed with an RFC 3339 time",
            "--previous": "instance-1's lines only",
        },
        observed=observed, refused={o: r.stderr.strip()[-300:] for o, r in runs.items() if r.returncode},
    )  # fmt: skip
    assert not [o for o, r in runs.items() if r.returncode], f"kubectl logs refused: {observed}"
    tail, stamped, previous = (runs[o].stdout.splitlines() for o in OPTIONS)
    assert len(tail) == 3 and all(line.startswith("instance-2 ") for line in tail), tail
    assert stamped and all(RFC3339.match(line) for line in stamped), observed["--timestamps"]
    assert previous[0].startswith("instance-1 ") and not any("instance-2" in line for line in previous), previous


@pytest.mark.claim("KCTL-LOGS-ROTATION")
@pytest.mark.needs("node_access")
def test_logs_rotate_at_10mb_and_kubectl_shows_the_latest_file(
    scenario: Scenario, kubectl: Kubectl, node_exec: NodeExec
) -> None:
    """ "Container logs are rotated automatically daily or every time the log file reaches 10 MB; the logs command
    only shows the log entries since the last rotation. This can be set in the Docker configuration file
    /etc/docker/daemon.json." The container writes about 10.8 MiB (10,800 lines of ~1 KB) and then a line a second;
    the node's log directory, `kubectl logs` and the node's /etc/docker/daemon.json are checked."""
    pod = scenario.start(scenario.pod("rotate", ["sh", "-c", TEN_MIB_THEN_TICKS]))
    node, served = pod.spec.node_name, pod_logs.kubelet_config(scenario.core, pod.spec.node_name)
    config = served if isinstance(served, dict) else {}
    files = pod_logs.after_rotation(node_exec, node, pod_logs.directory(config, pod))
    shown = pod_logs.kubectl_logs_showing(kubectl, "rotate", scenario.namespace, "tick-")  # a line a second since
    daemon_json = pod_logs.docker_daemon_json(node_exec, node)
    scenario.evidence.attach("log directory on the node", "\n".join(files))
    scenario.evidence.attach("kubectl logs (first and last 500 characters)", f"{shown[:500]}\n…\n{shown[-500:]}")
    scenario.observe(
        documented={
            "rotation": "daily or at 10 MB",
            "kubectl logs": "entries since the last rotation only",
            "configured in": "/etc/docker/daemon.json (log-opts max-size)",
        },
        observed={
            "rotated after ~10.8 MiB": pod_logs.rotated(files),
            "kubectl logs bytes": len(shown),
            "kubectl logs has FIRST-MARKER": "FIRST-MARKER" in shown,
            "/etc/docker/daemon.json": daemon_json[:300] if daemon_json is not None else "absent",
            "kubelet log settings (the real knobs; none is time-based)": pod_logs.log_settings(served),
            "runtime": pod.status.container_statuses[0].container_id.split(":", 1)[0],
        },
        node=node,
    )  # fmt: skip
    assert pod_logs.rotated(files), f"no rotation within 60 s after writing ~10.8 MiB: {files}"
    assert "FIRST-MARKER" not in shown and len(shown) < 10 * MIB, "kubectl logs shows entries from before rotation"
    assert "tick-" in shown, f"kubectl logs lacks the lines written after the rotation: {shown[-300:]}"
    assert daemon_json is not None and "max-size" in daemon_json, (
        f"{node} has no /etc/docker/daemon.json log settings: rotation is the kubelet's (containerLogMaxSize="
        f"{config.get('containerLogMaxSize')}, containerLogMaxFiles={config.get('containerLogMaxFiles')}, "
        "by size only, no daily rotation)"
    )


@pytest.mark.claim("KCTL-LOGS-GONE-WITH-POD")
def test_deleted_pods_logs_are_gone(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "When a pod is deleted, its logs are deleted with it, unless you set up centralized, cluster-wide logging."
    After the pod is deleted `kubectl logs` has nothing; a new pod of the same name shows only its own lines."""
    core.create_namespaced_pod(
        namespace, pod_logs.shell_pod("logger", busybox_image, "echo first-pod-line; sleep 3600")
    )
    pods.wait_running(core, namespace, "logger")
    try:
        before = pod_logs.wait_logs(core, namespace, "logger", lambda t: "first-pod-line" in t, "to show the line")
    except pod_logs.LogsRefused as refused:  # nothing to see go: the node's files are checked by the test below
        evidence.observe(
            documented="the pod's logs, then none after deletion", observed={"before deletion": str(refused)}
        )
        pytest.skip(
            f"kubectl cannot show logs on this cluster, so not their removal ({refused}; KCTL-LOGS-PER-CONTAINER)"
        )
    core.delete_namespaced_pod("logger", namespace)
    wait_for(lambda: [p.metadata.name for p in core.list_namespaced_pod(namespace).items], lambda n: not n, 60, "gone")
    after_delete = kubectl("logs", "logger", "-n", namespace, check=False)
    core.create_namespaced_pod(
        namespace, pod_logs.shell_pod("logger", busybox_image, "echo second-pod-line; sleep 3600")
    )
    pods.wait_running(core, namespace, "logger")
    successor = pod_logs.wait_logs(core, namespace, "logger", lambda t: "second-pod-line" in t, "to show the line")
    observed = {
        "before deletion": before.split(),
        "kubectl logs after deletion": {"exit": after_delete.returncode, "stderr": after_delete.stderr.strip()[-300:]},
        "new pod of the same name": successor.split(),
    }
    evidence.observe(documented="no logs after deletion; the new pod shows only its own line", observed=observed)
    assert after_delete.returncode != 0 and "not found" in after_delete.stderr.lower(), observed
    assert successor.split() == ["second-pod-line"], observed


@pytest.mark.claim("KCTL-LOGS-GONE-WITH-POD")
@pytest.mark.needs("node_access")
def test_deleted_pods_log_files_leave_the_node(
    core: client.CoreV1Api, namespace: str, busybox_image: str, node_exec: NodeExec, evidence: Evidence
) -> None:
    """ "When a pod is deleted, its logs are deleted with it…" — on the node: the pod's log directory
    (/var/log/pods/<namespace>_<pod>_<uid>) is removed, within 120 s (the kubelet's garbage collection runs every
    minute)."""
    core.create_namespaced_pod(namespace, pod_logs.shell_pod("logger", busybox_image, "echo a-line; sleep 3600"))
    pod = pods.wait_running(core, namespace, "logger")
    node, uid = pod.spec.node_name, pod.metadata.uid
    pattern = f"/var/log/pods/{namespace}_logger_{uid}"

    def present() -> list[str]:
        return node_exec(node, ["sh", "-c", f"ls -d {pattern} {pattern}/*/* 2>/dev/null || true"]).split()

    before = present()
    start = time.monotonic()
    core.delete_namespaced_pod("logger", namespace)
    try:
        after = wait_for(present, lambda files: not files, 120, f"{pattern} removed from {node}", interval=2)
    except WaitTimeout as exc:
        after = cast(list[str], exc.last)
    took = round(time.monotonic() - start, 1)
    evidence.observe(
        documented=f"{pattern} removed",
        observed={"before deletion": before, f"after {took} s": after},
        node=node,
    )
    if not before:
        raise RuntimeError(f"{pattern} not found on {node} while the pod ran: the test looks in the wrong place")
    assert not after, f"{took} s after the pod's deletion its logs remain on {node}: {after}"
