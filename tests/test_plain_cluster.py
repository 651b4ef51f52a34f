"""Any cluster, through its kubeconfig alone: the plain cluster (a stock two-node kind cluster, nothing of the
suite's on it) stands in for a user's. A representative subset of areas runs there as a user would run it, with
no more rights than fixtures/rbac/run-clusterrole.yaml grants (a ServiceAccount token bound to it); no scenario of
those areas may skip for want of an instrument, every verdict must equal the one expected on the suite's own
cluster (conformance/expected/1.35.yaml) unless a configuration difference listed here explains it, and afterwards
the cluster holds nothing of the run's."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_doc_conformance.fixtures import preflight, target

REPO = Path(__file__).resolve().parents[1]
EXPECTED = REPO / "conformance" / "expected" / "1.35.yaml"
CLUSTER_ROLE = REPO / "fixtures" / "rbac" / "run-clusterrole.yaml"
NODE_ACCESS_ROLE = REPO / "fixtures" / "rbac" / "node-access-clusterrole.yaml"
pytestmark = [pytest.mark.cluster, pytest.mark.plain_cluster]

#: One area per instrument a user's cluster gets from the suite: the busybox image (ENV), pushed test images (CTR),
#: the in-cluster registries with their witness (IMG-POL), the htpasswd registry and pull secrets (SECRET).
AREAS = ("ENV", "CTR", "IMG-POL", "SECRET")
#: Claims of those areas whose verdict differs on the plain cluster for a reason of its configuration, not of the
#: suite (claim -> the difference).
DIFFERENCES: dict[str, str] = {
    "SECRET-MERGE-WITH-NODE-CONFIG": "skipped: needs a node-level credential file, i.e. node access",
}


@pytest.fixture(scope="module")
def plain() -> target.ClusterTarget:
    """The plain cluster, created (or reused) here: ``nox -s cluster -- up --profile plain`` makes the same one."""
    from k8s_doc_conformance.fixtures.cluster import kind

    profile = kind.PROFILES["plain"]
    return target.own_kind_cluster(profile.name, "plain")


@contextlib.contextmanager
def bound_identity(
    plain: target.ClusterTarget, directory: Path, drop: str | None = None, node_access: bool = False
) -> Iterator[Path]:
    """A kubeconfig for a fresh ServiceAccount bound only to the run ClusterRole (a copy under a unique name, without
    the rules for resource ``drop``; with ``node_access`` the node-access role's rules too), all removed afterwards."""
    api = preflight.load(plain)
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    name = f"k8sdc-rbac-{uuid.uuid4().hex[:6]}"
    role, binding = list(yaml.safe_load_all(CLUSTER_ROLE.read_text()))
    if node_access:
        role["rules"] += next(yaml.safe_load_all(NODE_ACCESS_ROLE.read_text()))["rules"]
    role["rules"] = [r for r in role["rules"] if drop not in r.get("resources", [])]
    role["metadata"]["name"] = binding["metadata"]["name"] = binding["roleRef"]["name"] = name
    binding["subjects"] = [{"kind": "ServiceAccount", "name": name, "namespace": name}]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        core.create_namespaced_service_account(name, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
        rbac.create_cluster_role(role)
        rbac.create_cluster_role_binding(binding)
        spec = client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
        token = core.create_namespaced_service_account_token(
            name, name, client.AuthenticationV1TokenRequest(spec=spec)
        ).status.token
        cluster = dict(yaml.safe_load(plain.kubeconfig.read_text())["clusters"][0]["cluster"])
        path = directory / f"{name}.kubeconfig"
        path.touch(mode=0o600)
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "plain", "cluster": cluster}],
                    "users": [{"name": name, "user": {"token": token}}],
                    "contexts": [{"name": name, "context": {"cluster": "plain", "user": name}}],
                    "current-context": name,
                }
            )
        )
        yield path
    finally:
        with contextlib.suppress(ApiException):
            rbac.delete_cluster_role_binding(name)
        with contextlib.suppress(ApiException):
            rbac.delete_cluster_role(name)
        core.delete_namespace(name)


@pytest.fixture
def least_privileged(plain: target.ClusterTarget, tmp_path: Path) -> Iterator[Path]:
    with bound_identity(plain, tmp_path) as path:
        yield path


def test_preflight_names_a_missing_permission(plain: target.ClusterTarget, tmp_path: Path) -> None:
    """The same role without its pods/exec and pods/portforward rule: the preflight names exactly what is missing."""
    with bound_identity(plain, tmp_path, drop="pods/exec") as path:
        named = target.named_cluster(str(path), None, {})
        assert named is not None
        time.sleep(1)  # RBAC changes reach the authorizer through its informer
        assert preflight.missing_permissions(preflight.load(named)) == [
            "create pods/exec", "create pods/portforward", "get pods/exec", "get pods/portforward"
        ]  # fmt: skip


def test_subset_through_the_plain_clusters_kubeconfig(
    plain: target.ClusterTarget, least_privileged: Path, tmp_path: Path
) -> None:
    run_id = f"plain-{uuid.uuid4().hex[:6]}"
    command = [
        *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-n", "2", "--dist", "worksteal"),
        *(f"--run-id={run_id}", f"--reports-dir={tmp_path}", "conformance"),
        *(f"--area={a}" for a in AREAS),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "KUBECONFIG": str(least_privileged)}  # as a user names a cluster
    started = time.monotonic()
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=1500)
    took = time.monotonic() - started
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    assert first.startswith(f"cluster: kubeconfig {least_privileged}") and "(named by $KUBECONFIG)" in first, first
    assert "RBAC:" not in proc.stdout, [ln for ln in proc.stdout.splitlines() if "RBAC:" in ln]
    verdicts = json.loads((tmp_path / run_id / "verdicts.json").read_text())["claims"]
    expected = yaml.safe_load(EXPECTED.read_text())["claims"]
    judged = {c: v for c, v in verdicts.items() if v["area"] in AREAS}
    unjudged = {
        c: v["reason"]
        for c, v in judged.items()
        if v["verdict"] in ("skipped", "untested", "error") and c not in DIFFERENCES
    }
    assert not unjudged, f"not judged through the kubeconfig alone: {unjudged}\n{proc.stdout[-3000:]}"
    differ = {
        c: (expected[c]["verdict"], v["verdict"])
        for c, v in judged.items()
        if c in expected and v["verdict"] != expected[c]["verdict"] and c not in DIFFERENCES
    }
    assert not differ, f"(expected on the suite's cluster, observed on the plain one): {differ}"
    print(f"plain cluster: {len(judged)} claims of {', '.join(AREAS)} judged in {took:.0f}s")
    _assert_nothing_left(plain, run_id)


#: Node-level claims run with --node-access, one per kind of change: node credential files and kubelet restarts
#: (PRIV), a kubelet configuration change (IMG-PAR), a kubelet restart mid-termination (TERM).
NODE_CLAIMS = ("PRIV-NODE-CONFIG-ALL-PODS", "PRIV-NODE-CONFIG-UNIFORM", "IMG-PAR-MAX-UNLIMITED-DEFAULT")
#: Files those scenarios change on the reconfigurable node, compared by sha256 before and after the run.
NODE_FILES = (
    "/var/lib/kubelet/config.yaml",
    "/var/lib/kubelet/config.json",
    "/root/.docker/config.json",
    "/etc/default/kubelet",
    "/etc/hosts",
)
#: Directories whose listing must be as before (the registry host names' certs.d entries, plugin state).
NODE_DIRS = ("/etc/containerd/certs.d", "/etc/systemd/system/kubelet.service.d")
#: What the credential-provider scenario installs for itself (must be gone).
NODE_TREES = ("/etc/k8sdc", "/var/lib/k8sdc")


def test_node_access_on_the_plain_cluster(plain: target.ClusterTarget, tmp_path: Path) -> None:
    """``--node-access --reconfigurable-node <control plane>`` through an identity bound to the two ClusterRoles: the
    run says what it will do first, the node-level claims are judged as on the suite's cluster, and afterwards the
    DaemonSet's namespace is gone and every file the scenarios changed has its original checksum."""
    from k8s_doc_conformance.fixtures import nodes

    control_plane = nodes.DockerNode(f"{plain.kind_name}-control-plane")
    worker = nodes.DockerNode(f"{plain.kind_name}-worker")

    def state() -> dict[str, object]:
        return {
            **{f"{n.name}:{p}": nodes.file_digest(n, p) for n in (control_plane, worker) for p in NODE_FILES},
            **{f"{n.name}:{d}/": nodes.output(n, ["ls", "-a", d]) for n in (control_plane, worker) for d in NODE_DIRS},
            **{n.name: nodes.output(n, ["sh", "-c", 'ls -d "$@" 2>/dev/null; true', "sh", *NODE_TREES])
               for n in (control_plane, worker)},
        }  # fmt: skip

    before = state()
    run_id = f"plain-na-{uuid.uuid4().hex[:6]}"
    with bound_identity(plain, tmp_path, node_access=True) as identity:
        command = [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-n", "2", "--dist", "worksteal"),
            *(f"--run-id={run_id}", f"--reports-dir={tmp_path}", "conformance", "--node-access"),
            *("--reconfigurable-node", control_plane.name, *(f"--claim={c}" for c in NODE_CLAIMS)),
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO), "KUBECONFIG": str(identity)}
        proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=1200)
    lines = proc.stdout.splitlines()
    assert any(ln.startswith("--node-access: a privileged DaemonSet") for ln in lines[:4]), lines[:6]
    assert "RBAC:" not in proc.stdout, [ln for ln in lines if "RBAC:" in ln]
    verdicts = json.loads((tmp_path / run_id / "verdicts.json").read_text())["claims"]
    expected = yaml.safe_load(EXPECTED.read_text())["claims"]
    observed = {c: verdicts[c]["verdict"] for c in NODE_CLAIMS}
    assert observed == {c: expected[c]["verdict"] for c in NODE_CLAIMS}, f"{observed}\n{proc.stdout[-3000:]}"
    _assert_nothing_left(plain, run_id)
    after = state()
    assert after == before, f"changed by the run: {[k for k in before if before[k] != after.get(k)]}"


def _assert_nothing_left(plain: target.ClusterTarget, run_id: str) -> None:
    """The run's namespaces are gone (deleted without waiting by the run: give them a minute)."""
    core = client.CoreV1Api(preflight.load(plain))
    deadline = time.monotonic() + 90
    left: list[str] = []
    while time.monotonic() < deadline:
        left = [n.metadata.name for n in core.list_namespace(label_selector=f"k8sdc.io/run={run_id}").items]
        if not left:
            return
        time.sleep(3)
    pytest.fail(f"namespaces of run {run_id} still on the plain cluster after 90 s: {left}")
