"""Kubernetes releases: picking one, its own cluster and kind config, and the version matrix report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8s_doc_conformance.fixtures import catalogue
from k8s_doc_conformance.fixtures.cluster import kind
from k8s_doc_conformance.fixtures.nodeimage import versions
from k8s_doc_conformance.reports import matrix, runs

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("name", "minor"), [(None, versions.DEFAULT_RELEASE), ("1.29", "1.29"), ("v1.29", "1.29")])
def test_a_release_is_named_by_its_minor(name: str | None, minor: str) -> None:
    assert versions.release(name).minor == minor


def test_only_the_pinned_patch_release_is_accepted() -> None:
    pinned = versions.RELEASES["1.29"].version
    assert versions.release(pinned).version == pinned
    for bad in ("1.29.1", "1.30", "2.0", "latest", ""):
        with pytest.raises(ValueError, match=r"unsupported Kubernetes release .*supported: 1\.35 "):
            versions.release(bad)


def test_every_release_says_why_and_pins_its_toolchain() -> None:
    for minor, release in versions.RELEASES.items():
        assert release.minor == minor and release.why and release.era
        assert release.go is None or release.go.startswith("go1."), release
    assert versions.RELEASES[versions.DEFAULT_RELEASE].version == versions.KUBERNETES


def test_each_release_has_its_own_cluster_and_network() -> None:
    suite = kind.PROFILES["suite"]
    default = versions.release(None)
    assert (kind.cluster_name(suite, default), kind.network_name(suite, default)) == (suite.name, suite.network)
    older = versions.release("1.29")
    assert kind.cluster_name(suite, older) == f"{suite.name}-1-29"
    assert kind.network_name(suite, older) == f"{suite.network}-1-29"
    assert kind.release_of_image("k8sdc/kind-node:v1.29.15-0123456789abcdef") == "1.29"
    assert kind.release_of_image("kindest/node:v1.35.4") == "1.35"
    assert kind.release_of_image("busybox") is None


def _kubelet_patches(config: dict[str, Any]) -> list[dict[str, Any]]:
    docs = [yaml.safe_load(p) for p in config.get("kubeadmConfigPatches", [])]
    return [d for d in docs if d.get("kind") == "KubeletConfiguration"]


def test_an_older_kubelet_gets_only_the_settings_it_has() -> None:
    """kind-config.yaml sets failCgroupV1 (1.31+): a 1.29 cluster is created without it, the rest unchanged."""
    newest = kind.render_config(kind.DEFAULT_CONFIG, "img", versions.release(None))
    old = kind.render_config(kind.DEFAULT_CONFIG, "img", versions.release("1.29"))
    assert _kubelet_patches(newest)[0]["failCgroupV1"] is False
    assert "failCgroupV1" not in _kubelet_patches(old)[0]
    assert _kubelet_patches(old)[0]["resolvConf"] == _kubelet_patches(newest)[0]["resolvConf"]
    assert old["nodes"] == newest["nodes"]
    # the default release's rendering is the config as written (an existing cluster is not recreated for it)
    assert newest["kubeadmConfigPatches"] == yaml.safe_load(kind.DEFAULT_CONFIG.read_text())["kubeadmConfigPatches"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--kubernetes=1.30"], "--kubernetes: unsupported Kubernetes release '1.30'"),
        (["--kubernetes=1.29", "--kubeconfig=/dev/null"], "--kubernetes 1.29 builds the suite's own kind cluster"),
        (
            ["--kubernetes=1.29", "--expectations=conformance/expected/1.35.yaml"],
            "are for Kubernetes 1.35; this run builds the suite's own cluster at 1.29",
        ),
    ],
)
def test_a_wrong_release_is_bad_input(args: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:xdist", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 4 and needle in proc.stderr, proc.stdout + proc.stderr


def test_the_cluster_command_names_a_wrong_release() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "k8s_doc_conformance.fixtures.cluster", "status", "--kubernetes", "1.30"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "unsupported Kubernetes release '1.30'" in proc.stderr, proc.stderr


# --- the version matrix ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("era", "releases", "expected"),
    [
        ("~v1.27-v1.29", ["1.29", "1.31", "1.35"], ("1.29", True)),
        ("~v1.29-v1.31", ["1.29", "1.31", "1.35"], ("1.31", True)),
        ("~v1.20-v1.23", ["1.29", "1.35", "1.31"], ("1.29", False)),
        ("Pods chapter Docker-era; notes ~v1.29-v1.31", ["1.35", "1.29"], ("1.29", True)),
        ("~v1.36-v1.37", ["1.29", "1.35"], ("1.35", False)),
    ],
)
def test_a_document_is_judged_on_the_newest_release_of_its_era(
    era: str, releases: list[str], expected: tuple[str, bool]
) -> None:
    assert matrix.era_release(era, releases) == expected


def _run(tmp_path: Path, name: str, version: str, verdicts: dict[str, str]) -> Path:
    run = tmp_path / name
    run.mkdir()
    empty = {"tests": [], "duration": 0, "reason": None, "documented": None, "observed": None, "evidence": []}
    claims = {
        cid: {"verdict": v, "area": "A", "statement": cid, **empty, "results": [], "expected": None}
        for cid, v in verdicts.items()
    }
    counts = {v: list(verdicts.values()).count(v) for v in runs.VERDICTS}
    data = {"format_version": 1, "run_id": name, "catalogue": "claims.yaml", "counts": counts}
    (run / "verdicts.json").write_text(json.dumps(data | {"expectations": None, "claims": claims}))
    (run / "run.json").write_text(json.dumps({"run_id": name, "cluster": {"kubernetes_version": version}}))
    return run


CATALOGUE = {
    "documents": {
        "001": {"docs_version": "~v1.27-v1.29", "title": "newest"},
        "002": {"docs_version": "~v1.20-v1.23", "title": "oldest"},
    },
    "claims": [
        {
            "id": "A-OLD-WRONG",
            "area": "A",
            "statement": "s",
            "sources": [{"doc": "001", "quote": "q1", "english": "e1"}],
        },
        {
            "id": "A-OUTDATED",
            "area": "A",
            "statement": "s",
            "sources": [{"doc": "002", "quote": "q2", "english": "e2"}],
        },
        {"id": "A-HOLDS", "area": "A", "statement": "s", "sources": [{"doc": "001", "quote": "q3", "english": "e3"}]},
    ],
}


def test_the_matrix_names_where_a_verdict_changed_and_what_was_wrong_in_its_era(tmp_path: Path) -> None:
    new = _run(
        tmp_path, "r135", "v1.35.4", {"A-OLD-WRONG": "deviates", "A-OUTDATED": "deviates", "A-HOLDS": "conforms"}
    )
    old = _run(
        tmp_path, "r129", "v1.29.15", {"A-OLD-WRONG": "deviates", "A-OUTDATED": "conforms", "A-HOLDS": "conforms"}
    )
    release_runs = matrix.load_runs([str(new), str(old)])
    assert [r.release for r in release_runs] == ["1.29", "1.35"]
    data = matrix.build_data(release_runs, catalogue.parse(CATALOGUE, Path("claims.yaml")), "m")
    assert data["claims"]["A-OUTDATED"]["changed"] == [
        {"from": "1.29", "to": "1.35", "was": "conforms", "now": "deviates"}
    ]
    assert data["claims"]["A-OLD-WRONG"]["changed"] == []
    doc001 = data["documents"]["001"]
    assert (doc001["judged_on"], doc001["era_run"]) == ("1.29", True)
    assert [r["claim"] for r in doc001["did_not_hold"]] == ["A-OLD-WRONG"]
    assert [r["claim"] for r in doc001["held"]] == ["A-HOLDS"]
    doc002 = data["documents"]["002"]
    assert (doc002["judged_on"], doc002["era_run"], doc002["did_not_hold"]) == ("1.29", False, [])
    assert [r["claim"] for r in doc002["outdated"]] == ["A-OUTDATED"]  # held in (the nearest to) its era, not on 1.35
    page = matrix.render_html(data)
    assert "no release of its era was run; judged on the nearest, 1.29" in page
    assert "1.29 → 1.35: conforms → deviates" in page and "q1" in page
    assert "Held in its era (1.29), outdated by 1.35: 1" in page and "run without expectations" in page


def test_two_runs_of_one_release_are_bad_input(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", "v1.29.15", {"A-HOLDS": "conforms"})
    b = _run(tmp_path, "b", "v1.29.15", {"A-HOLDS": "conforms"})
    with pytest.raises(runs.BadInput, match=r"two runs of Kubernetes 1\.29"):
        matrix.load_runs([str(a), str(b)])
    proc = subprocess.run(
        [sys.executable, "-m", "k8s_doc_conformance.reports", "matrix", "--out", str(tmp_path / "m"), str(a), str(b)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 4 and "two runs of Kubernetes 1.29" in proc.stderr, proc.stderr


def test_every_expectations_file_is_for_a_supported_release_and_lists_the_same_claims() -> None:
    from k8s_doc_conformance.fixtures import verdicts

    catalogue = verdicts.load_catalogue(REPO / "conformance" / "claims.yaml")
    files = sorted((REPO / "conformance" / "expected").glob("*.yaml"))
    listed = {}
    for path in files:
        expectations = verdicts.load_expectations(path, catalogue)
        assert expectations.kubernetes == path.stem and path.stem in versions.RELEASES, path
        listed[path.stem] = set(expectations.claims)
    reference = listed.pop(versions.DEFAULT_RELEASE)
    assert all(claims == reference for claims in listed.values()), {r: c ^ reference for r, c in listed.items()}
    oldest = min(versions.RELEASES.values(), key=lambda r: r.minor_number)
    assert oldest.minor in listed, "nox -s tests runs the oldest release against its expectations"


@pytest.mark.parametrize(
    ("server", "release", "older"),
    [("v1.29.15", "1.30", True), ("v1.30.0", "1.30", False), ("v1.35.4", "1.30", False), ("v2.0.0", "1.30", False)],
)
def test_since_compares_the_servers_minor(server: str, release: str, older: bool) -> None:
    """``@pytest.mark.since(release, feature)`` makes a scenario not-applicable only on an older server."""
    from k8s_doc_conformance.fixtures.capabilities import Capabilities

    caps = Capabilities(False, False, False, [], [], None, server, {})
    assert caps.older_than(release) is older


def test_a_kubelet_below_1_24_gets_the_systemd_cgroup_driver() -> None:
    """kind v0.31 gives a kubelet older than 1.24 the cgroupfs driver; the node's containerd runs runc with systemd's
    (a mismatch leaves every sandbox unstartable), so the rendered config sets systemd for it, and only for it."""
    old = versions.Release("v1.23.17", "go1.20.14", "test", "test")
    drivers = [p.get("cgroupDriver") for p in _kubelet_patches(kind.render_config(kind.DEFAULT_CONFIG, "img", old))]
    assert "systemd" in drivers
    for release in versions.RELEASES.values():
        rendered = kind.render_config(kind.DEFAULT_CONFIG, "img", release)
        set_here = any("cgroupDriver" in p for p in _kubelet_patches(rendered))
        assert set_here == (release.minor_number < versions.KIND_SYSTEMD_SINCE), release.version


def test_a_kubeadm_below_1_25_gets_the_kubelet_patches_as_flags() -> None:
    """kubeadm applies kubeletconfiguration patches from 1.25 on and silently ignores them before: there, worker2's
    patch (serializeImagePulls: false, maxParallelImagePulls: 2) becomes a kubelet flag, leaving out the setting
    that kubelet lacks (maxParallelImagePulls, 1.27); from 1.25 the patch directory alone carries it."""

    def extra_args(release: versions.Release) -> list[dict[str, str]]:
        found = []
        for node in kind.render_config(kind.DEFAULT_CONFIG, "img", release)["nodes"]:
            for patch in node.get("kubeadmConfigPatches", []):
                doc = yaml.safe_load(patch)
                if doc.get("kind") == "JoinConfiguration" and "kubeletExtraArgs" in doc.get("nodeRegistration", {}):
                    found.append(doc["nodeRegistration"]["kubeletExtraArgs"])
        return found

    old = versions.Release("v1.23.17", "go1.20.14", "test", "test")
    assert extra_args(old) == [{"serialize-image-pulls": "false"}]
    for release in versions.RELEASES.values():
        expected = [{"serialize-image-pulls": "false"}] if release.minor_number < 25 else []
        assert extra_args(release) == expected, release.version
