"""The sensitivity self-test on the suite's own cluster puts back what it changed: after a Ctrl-C (exit 3, nothing
left), and after being killed outright (its journal still names the change; ``--restore`` puts it back). The
profile used, EVERYONE-IS-CLUSTER-ADMIN, binds every user to cluster-admin, so these tests run alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import target
from k8s_doc_conformance.fixtures.cluster import kind
from k8s_doc_conformance.fixtures.nodeimage.cache import cache_root

REPO = Path(__file__).resolve().parents[1]
PROFILE = "EVERYONE-IS-CLUSTER-ADMIN"
BINDING = "k8sdc-sensitivity-everyone-admin"
JOURNAL = cache_root() / "sensitivity" / f"{kind.CLUSTER_NAME}.journal"
pytestmark = [pytest.mark.cluster, pytest.mark.alone]


def binding_exists(rbac: client.RbacAuthorizationV1Api) -> bool:
    return any(b.metadata.name == BINDING for b in rbac.list_cluster_role_binding().items)


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "k8s_doc_conformance.fixtures.sensitivity", f"--reports-dir={tmp_path}", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def wait_applied(proc: subprocess.Popen[str], rbac: client.RbacAuthorizationV1Api) -> None:
    deadline = time.monotonic() + 120
    while not binding_exists(rbac):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the profile's ClusterRoleBinding never appeared"
        time.sleep(0.5)


@pytest.fixture
def rbac(cluster: target.ClusterTarget, api_client: client.ApiClient) -> client.RbacAuthorizationV1Api:
    if cluster.kind_name != kind.CLUSTER_NAME:
        pytest.skip(f"changes the configuration of the suite's own cluster {kind.CLUSTER_NAME}")
    return client.RbacAuthorizationV1Api(api_client)


def test_a_ctrl_c_puts_the_cluster_back(rbac: client.RbacAuthorizationV1Api, tmp_path: Path) -> None:
    proc = start(tmp_path, "--profile", PROFILE)
    wait_applied(proc, rbac)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the self-test and its pytest
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 3, out
    assert not binding_exists(rbac), out
    assert f"deleted ClusterRoleBinding {BINDING}" in out
    assert not JOURNAL.exists()
    assert list(tmp_path.glob("sensitivity-*/sensitivity.json")), out


def test_a_killed_self_test_is_put_right_by_the_next(rbac: client.RbacAuthorizationV1Api, tmp_path: Path) -> None:
    proc = start(tmp_path, "--profile", PROFILE)
    try:
        wait_applied(proc, rbac)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    assert binding_exists(rbac) and BINDING in JOURNAL.read_text()
    restore = start(tmp_path, "--restore")
    out, _ = restore.communicate(timeout=300)
    assert restore.returncode == 0, out
    assert "putting back what an interrupted self-test left changed" in out
    assert not binding_exists(rbac) and not JOURNAL.exists()
