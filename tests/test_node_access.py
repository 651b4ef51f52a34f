"""Node access on a cluster the suite did not build (fixtures/node_access.py): the privileged DaemonSet reaches every
node of the plain cluster, runs commands there with stdin and exit codes, and what the suite writes through it (the
registry host names, fixtures/registry/hostnames.py) is taken away again to the byte."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import node_access, nodes, preflight, target
from k8s_doc_conformance.fixtures.images import catalog
from k8s_doc_conformance.fixtures.registry import hostnames

pytestmark = [pytest.mark.cluster, pytest.mark.plain_cluster]


@pytest.fixture(scope="module")
def plain() -> target.ClusterTarget:
    from k8s_doc_conformance.fixtures.cluster import kind

    return target.own_kind_cluster(kind.PROFILES["plain"].name, "plain")


@pytest.fixture(scope="module")
def reached(plain: target.ClusterTarget) -> Iterator[dict[str, node_access.PodNode]]:
    from k8s_doc_conformance.fixtures.plugin import kubectl_path

    api = preflight.load(plain)
    run_id = f"na-test-{uuid.uuid4().hex[:6]}"
    image = catalog.BUSYBOX.reference(catalog.DEFAULT_REPOSITORY)
    kubectl = [kubectl_path(plain), *plain.kubectl_args()]
    try:
        yield node_access.nodes(api, run_id, os.getpid(), image, kubectl, plain.kubeconfig_env())
    finally:
        node_access.remove(api, run_id)


def test_every_node_is_reached_as_itself(plain: target.ClusterTarget, reached: dict[str, node_access.PodNode]) -> None:
    names = {n.metadata.name for n in client.CoreV1Api(preflight.load(plain)).list_node().items}
    assert set(reached) == names
    for name, node in reached.items():
        assert nodes.output(node, ["cat", "/etc/hostname"]).strip() == name  # the node's files, not the pod's
        assert nodes.output(node, ["systemctl", "is-active", "kubelet"]).strip() == "active"  # its systemd
        assert node.run(["sh", "-c", "cat"], input=b"on stdin\n") == b"on stdin\n"
        with pytest.raises(nodes.NodeCommandError, match="exit 3"):
            node.run(["sh", "-c", "exit 3"])


def test_host_names_are_removed_to_the_byte(reached: dict[str, node_access.PodNode]) -> None:
    run_id = f"names-{uuid.uuid4().hex[:6]}"
    every = list(reached.values())
    before = {n.name: nodes.file_digest(n, hostnames.HOSTS) for n in every}
    name = f"{run_id}.k8sdc.test"
    record = hostnames.install(every, {"10.96.0.250": [name]}, catalog_ca(), run_id)
    try:
        for node in every:
            assert f"10.96.0.250 {name} {hostnames.marker(run_id)}" in nodes.output(node, ["cat", hostnames.HOSTS])
            assert "hosts.toml" in nodes.output(node, ["ls", f"{hostnames.CERTS_D}/{name}"])
            assert nodes.output(node, ["getent", "hosts", name]).split()[0] == "10.96.0.250"
    finally:
        problems = hostnames.remove(every, record, run_id)
    assert problems == []
    assert {n.name: nodes.file_digest(n, hostnames.HOSTS) for n in every} == before
    for node in every:
        assert nodes.file_digest(node, f"{hostnames.CERTS_D}/{name}/hosts.toml") is None


def catalog_ca() -> str:
    from k8s_doc_conformance.fixtures.registry import pki

    return pki.ca_cert().read_text()
