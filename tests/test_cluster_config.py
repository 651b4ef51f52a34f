"""kind-config.yaml rendering and the per-node pod-network script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.cluster import kind, network


def test_render_sets_image_and_absolute_mounts() -> None:
    config = kind.render_config(kind.DEFAULT_CONFIG, "k8sdc/kind-node:test")
    nodes = config["nodes"]
    assert [n["role"] for n in nodes] == ["control-plane", "worker", "worker", "worker"]
    assert {n["image"] for n in nodes} == {"k8sdc/kind-node:test"}
    mounts = [m for n in nodes for m in n.get("extraMounts", [])]
    assert mounts and all(Path(m["hostPath"]).is_absolute() and Path(m["hostPath"]).exists() for m in mounts)


def test_a_changed_kind_config_means_a_new_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``up`` recreates a cluster created from another config (e.g. a node added to kind-config.yaml)."""
    monkeypatch.setenv("K8SDC_CACHE", str(tmp_path))
    assert kind.config_changed("c", kind.DEFAULT_CONFIG, "img")  # never created here
    kind.rendered_config_path("c").parent.mkdir(parents=True)
    kind.rendered_config_path("c").write_text(json.dumps(kind.render_config(kind.DEFAULT_CONFIG, "img")))
    assert not kind.config_changed("c", kind.DEFAULT_CONFIG, "img")
    changed = tmp_path / "kind-config.yaml"
    changed.write_text(kind.DEFAULT_CONFIG.read_text().replace("podSubnet: 10.244.0.0/16", "podSubnet: 10.9.0.0/16"))
    assert kind.config_changed("c", changed, "img")


def test_config_keeps_kubelet_settings_the_scenarios_need() -> None:
    text = kind.DEFAULT_CONFIG.read_text()
    assert "failCgroupV1: false" in text
    config = kind.render_config(kind.DEFAULT_CONFIG, "x")
    assert config["networking"]["disableDefaultCNI"] is True
    patch_dir = Path(config["nodes"][2]["extraMounts"][0]["hostPath"])
    patch = (patch_dir / "kubeletconfiguration+merge.yaml").read_text()
    assert "serializeImagePulls: false" in patch and "maxParallelImagePulls: 2" in patch


def test_node_script_routes_to_peers_only() -> None:
    me = network.NodeNet("w1", "172.30.0.3", "10.244.1.0/24")
    peers = [network.NodeNet("cp", "172.30.0.2", "10.244.0.0/24"), network.NodeNet("w2", "172.30.0.4", "10.244.2.0/24")]
    script = network.node_script(me, peers, "10.244.0.0/16")
    assert "ip route replace 10.244.0.0/24 via 172.30.0.2" in script
    assert "ip route replace 10.244.2.0/24 via 172.30.0.4" in script
    assert "10.244.1.0/24 via" not in script
    assert script.index("MASQUERADE") < script.index(network.CNI_CONF)  # CNI config last: node turns Ready after


def test_cni_conflist_uses_the_node_pod_cidr() -> None:
    conf = json.loads(network.cni_conflist("10.244.7.0/24"))
    assert conf["plugins"][0]["type"] == "ptp"
    assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.7.0/24"}]]


def test_up_waits_for_a_node_that_is_not_ready_instead_of_recreating(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scenario may make the reconfigurable node NotReady for a minute while other runs use the cluster."""
    answers = [["node k8sdc-worker3 is not Ready"], ["node k8sdc-worker3 is not Ready"], []]
    monkeypatch.setattr(kind, "health", lambda name, image: answers.pop(0))
    monkeypatch.setattr(kind.time, "sleep", lambda seconds: None)
    assert kind.settled_health("k8sdc", "img") == []
    assert answers == []


def test_up_does_not_wait_for_a_stopped_node(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def health(name: str, image: str) -> list[str]:
        calls.append(name)
        return ["node k8sdc-worker is exited"]

    monkeypatch.setattr(kind, "health", health)
    assert kind.settled_health("k8sdc", "img") == ["node k8sdc-worker is exited"]
    assert calls == ["k8sdc"]


def test_a_node_whose_mount_lost_its_host_side_is_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout removed and cloned again: the node still shows the deleted files (another inode)."""
    source = tmp_path / "credential-provider"
    source.mkdir()
    node = {"Name": "/k8sdc-worker3", "Mounts": [{"Type": "bind", "Source": str(source), "Destination": "/etc/x"}]}
    inside = {"stat": kind.identity(source)}  # what `stat -c %i:%Z` shows in the node

    def docker(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 0, stdout=inside["stat"] + "\n", stderr="")

    monkeypatch.setattr(kind.subprocess, "run", docker)
    assert kind.stale_mounts(node) == []
    inside["stat"] = "4242:1"  # the node still shows the deleted directory; the path now names a new one
    problems = kind.stale_mounts(node)
    assert problems == [f"node k8sdc-worker3: /etc/x no longer shows {source} (removed or replaced)"]
