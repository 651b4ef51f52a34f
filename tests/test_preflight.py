"""Bad input about the cluster ends in one clear line and a non-zero exit, before anything is created."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from k8s_doc_conformance.fixtures import preflight, target
from k8s_doc_conformance.fixtures.errors import SetupError

REPO = Path(__file__).resolve().parents[1]


def kubeconfig(tmp_path: Path, server: str, user: dict[str, str], ca: str | None = None) -> Path:
    cluster: dict[str, object] = {"server": server}
    if ca:
        cluster["certificate-authority-data"] = ca
    else:
        cluster["insecure-skip-tls-verify"] = True
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(data))
    return path


def test_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="no such file"):
        preflight.load_kubeconfig(tmp_path / "nope", None)


def test_invalid_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "kc"
    bad.write_text("clusters: [unclosed\n")
    with pytest.raises(SetupError, match="not valid YAML"):
        preflight.load_kubeconfig(bad, None)
    bad.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(SetupError, match="no contexts"):
        preflight.load_kubeconfig(bad, None)


def test_unknown_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, "https://127.0.0.1:1", {"token": "x"})
    with pytest.raises(SetupError, match="unknown context 'other' \\(it has: ctx\\)"):
        preflight.load_kubeconfig(path, "other")


def test_unreachable_api_server(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, "https://127.0.0.1:1", {"token": "x"})
    with pytest.raises(SetupError, match=re.escape("cannot reach the API server at https://127.0.0.1:1")):
        preflight.check_cluster(preflight.load_kubeconfig(path, None), "kc", timeout=3)


def test_pytest_run_with_a_bad_kubeconfig_says_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "-q", f"--kubeconfig={tmp_path / 'missing'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR:")]
    assert errors == [f"ERROR: kubeconfig {tmp_path / 'missing'}: no such file"], proc.stderr


def test_unknown_claim_and_area_are_usage_errors() -> None:
    for arg, needle in (
        ("--claim=NO-SUCH-CLAIM", "unknown claim ID(s) NO-SUCH-CLAIM"),
        ("--area=NOPE", "unknown area"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "conformance", "-q", arg], cwd=REPO, capture_output=True, text=True
        )
        assert proc.returncode == 4 and needle in proc.stderr, proc.stderr


# --- against the suite's own cluster: credentials it rejects, and RBAC that forbids namespaces ------------------


@pytest.fixture
def own_api(cluster: target.ClusterTarget, api_client: client.ApiClient) -> client.ApiClient:
    if not cluster.owned:
        pytest.skip("creates a ServiceAccount on the suite's own cluster")
    return api_client


@pytest.fixture
def powerless_token(own_api: client.ApiClient, namespace: str) -> Iterator[str]:
    """A real token of a ServiceAccount that has no RBAC permissions at all."""
    core = client.CoreV1Api(own_api)
    name = f"powerless-{uuid.uuid4().hex[:6]}"
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600))
    yield core.create_namespaced_service_account_token(name, namespace, request).status.token


def _server_and_ca(api: client.ApiClient) -> tuple[str, str]:
    ca_file = api.configuration.ssl_ca_cert
    return api.configuration.host, base64.b64encode(Path(ca_file).read_bytes()).decode()


@pytest.mark.cluster
def test_rejected_credentials(own_api: client.ApiClient, tmp_path: Path) -> None:
    server, ca = _server_and_ca(own_api)
    path = kubeconfig(tmp_path, server, {"token": "not-a-valid-token"}, ca)
    with pytest.raises(SetupError, match="rejected our credentials \\(401 Unauthorized\\)"):
        preflight.check_cluster(preflight.load_kubeconfig(path, None), "kc")


@pytest.mark.cluster
def test_rbac_forbidding_namespaces(own_api: client.ApiClient, powerless_token: str, tmp_path: Path) -> None:
    server, ca = _server_and_ca(own_api)
    path = kubeconfig(tmp_path, server, {"token": powerless_token}, ca)
    with pytest.raises(SetupError, match="RBAC forbids creating namespaces"):
        preflight.check_cluster(preflight.load_kubeconfig(path, None), "kc")
