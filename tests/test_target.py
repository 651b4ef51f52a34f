"""Which cluster a run uses, kubectl's way: --kubeconfig, $KUBECONFIG (a list), --context alone, in-cluster; the
suite's own kind cluster only when nothing names one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from k8s_doc_conformance.fixtures import preflight, target
from k8s_doc_conformance.fixtures.errors import SetupError

REPO = Path(__file__).resolve().parents[1]


def kubeconfig(path: Path, contexts: dict[str, str], current: str | None = None) -> Path:
    """A kubeconfig with one cluster per context (context name -> server)."""
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": f"c-{n}", "cluster": {"server": s, "insecure-skip-tls-verify": True}} for n, s in contexts.items()
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": n, "context": {"cluster": f"c-{n}", "user": "u"}} for n in contexts],
        **({"current-context": current} if current else {}),
    }
    path.write_text(yaml.safe_dump(data))
    return path


def test_nothing_named_means_the_suite_cluster(tmp_path: Path) -> None:
    assert target.named_cluster(None, None, {}) is None
    assert target.named_cluster(None, None, {"KUBECONFIG": "  "}) is None


def test_kubeconfig_option_wins_over_the_environment(tmp_path: Path) -> None:
    named = target.named_cluster("/a:/b", "ctx", {"KUBECONFIG": "/c"})
    assert named is not None
    assert named.kubeconfigs == (Path("/a"), Path("/b")) and named.context == "ctx" and named.named_by == "--kubeconfig"


def test_kubeconfig_environment_list() -> None:
    named = target.named_cluster(None, None, {"KUBECONFIG": "/a::/b:/a"})
    assert named is not None and named.kubeconfigs == (Path("/a"), Path("/b")) and named.named_by == "$KUBECONFIG"
    assert named.kubeconfig_env() == {"KUBECONFIG": "/a:/b"} and named.kubectl_args() == []


def test_context_alone_uses_the_default_kubeconfig() -> None:
    named = target.named_cluster(None, "prod", {})
    assert named is not None and named.kubeconfigs == (Path("~/.kube/config").expanduser(),)
    assert named.kubectl_args() == ["--context=prod"] and named.named_by == "--context"


def test_in_cluster_when_running_in_a_pod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("x")
    monkeypatch.setattr(target, "SERVICE_ACCOUNT", tmp_path)
    named = target.named_cluster(None, None, {"KUBERNETES_SERVICE_HOST": "10.96.0.1"})
    assert named is not None and named.in_cluster and named.kubeconfig_env() == {}
    assert "in-cluster config" in target.describe(named)


def test_merged_list_picks_the_first_current_context(tmp_path: Path) -> None:
    a = kubeconfig(tmp_path / "a", {"one": "https://127.0.0.1:1"}, current="one")
    b = kubeconfig(tmp_path / "b", {"two": "https://127.0.0.1:2"}, current="two")
    named = target.named_cluster(None, None, {"KUBECONFIG": f"{tmp_path / 'missing'}:{a}:{b}"})
    assert named is not None
    assert preflight.load(named).configuration.host == "https://127.0.0.1:1"
    other = target.named_cluster(None, "two", {"KUBECONFIG": f"{a}:{b}"})
    assert other is not None and preflight.load(other).configuration.host == "https://127.0.0.1:2"


def test_merged_list_errors_are_one_line(tmp_path: Path) -> None:
    a = kubeconfig(tmp_path / "a", {"one": "https://127.0.0.1:1"})  # no current-context
    with pytest.raises(SetupError, match=r"no current-context; give --context \(it has: one\)"):
        preflight.load(target.ClusterTarget((a,), None, None, "$KUBECONFIG"))
    with pytest.raises(SetupError, match=r"unknown context 'x' \(it has: one\)"):
        preflight.load(target.ClusterTarget((a,), "x", None, "$KUBECONFIG"))
    with pytest.raises(SetupError, match=r"\(\$KUBECONFIG\): no such file"):
        preflight.load(target.ClusterTarget((tmp_path / "nope",), None, None, "$KUBECONFIG"))


def run_pytest(args: list[str], kubeconfig_env: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The suite's pytest in a subprocess with only ``$KUBECONFIG`` naming a cluster."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "KUBECONFIG": kubeconfig_env, "HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_run_names_its_cluster_first(tmp_path: Path) -> None:
    """The run's first line says which cluster and why; here $KUBECONFIG names an unreachable one, so the run stops
    right after it, with one error line."""
    kc = kubeconfig(tmp_path / "kc", {"far": "https://127.0.0.1:9"}, current="far")
    proc = run_pytest(["conformance", "-q", "--claim=ENV-HOSTNAME-IS-POD-NAME"], str(kc), tmp_path)
    assert proc.returncode != 0
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    assert first == f"cluster: kubeconfig {kc} at https://127.0.0.1:9 (named by $KUBECONFIG)", proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and errors[0].startswith(
        f"ERROR: kubeconfig {kc}: cannot reach the API server at https://127.0.0.1:9 ("
    ), proc.stderr


def test_list_images_touches_no_cluster(tmp_path: Path) -> None:
    proc = run_pytest(["--list-images", "--image-repository=mirror.test:5000/k8sdc/"], str(tmp_path / "none"), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.split()
    assert lines and all(ln.startswith("mirror.test:5000/k8sdc/") for ln in lines), proc.stdout
    assert {ln.split("/")[-1].split(":")[0] for ln in lines} == {"busybox", "registry", "relay"}
