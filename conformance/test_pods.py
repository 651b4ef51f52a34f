"""Pods (doc 003: "Kubernetes in Action", chapter 3 — pods, their containers and the pod network).

A pod's containers share the network, UTS and IPC namespaces (and optionally the PID namespace) but not their
filesystems; all pods share one flat network.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pod_network
from k8s_doc_conformance.fixtures.apicalls import must_be_accepted
from k8s_doc_conformance.fixtures.capabilities import Capabilities
from k8s_doc_conformance.fixtures.scenario import Scenario


@pytest.mark.claim("POD-SHARED-NETWORK-NS")
def test_containers_share_ip_and_localhost(scenario: Scenario) -> None:
    """ "容器共享相同的 IP 地址和端口空间 … 容器之间可以通过 localhost 通信": a pod's containers share one IP and port
    space and talk over localhost."""
    token = uuid.uuid4().hex
    scripts = {
        "server": f"{pod_network.IP}; {pod_network.http_server(token, bind='127.0.0.1:', seconds=20)}",
        "client": f"{pod_network.IP}; {pod_network.fetch('127.0.0.1', 8080)}",
    }
    out = scenario.run(scenario.multi("net", scripts)).outputs
    server, client_ = out["server"].split(), out["client"].split()
    scenario.observe(documented="same IP; the client reaches the server on localhost", observed=out)
    assert server[0] == client_[0], f"containers report different IPs: {server[0]} vs {client_[0]}"
    assert client_[1:] == [token], f"localhost:8080 from the other container answered {client_[1:]}"


@pytest.mark.claim("POD-SHARED-UTS-NS")
def test_containers_share_uts_namespace(scenario: Scenario) -> None:
    """ "同一个 pod 中的容器 … 共享相同的 UTS 命名空间": the same hostname and UTS namespace in every container."""
    script = "hostname; readlink /proc/self/ns/uts"
    out = scenario.run(scenario.multi("uts", {"a": script, "b": script})).outputs
    scenario.observe(documented="identical hostname and UTS namespace", observed=out)
    assert out["a"].split() == out["b"].split(), out


@pytest.mark.claim("POD-SHARED-IPC-NS")
def test_containers_share_ipc_namespace(scenario: Scenario) -> None:
    """Containers of a pod share the IPC namespace: the same namespace, and shared memory written by one is seen by
    the other."""
    token = uuid.uuid4().hex
    writer = f"readlink /proc/self/ns/ipc; echo {token} > /dev/shm/k8sdc; sleep 10"
    reader = (
        "readlink /proc/self/ns/ipc; "
        "for i in $(seq 10); do [ -f /dev/shm/k8sdc ] && cat /dev/shm/k8sdc && break; sleep 1; done"
    )
    out = scenario.run(scenario.multi("ipc", {"writer": writer, "reader": reader})).outputs
    w, r = out["writer"].split(), out["reader"].split()
    scenario.observe(documented="one IPC namespace; /dev/shm shared", observed=out)
    assert w[0] == r[0], f"different IPC namespaces: {w[0]} vs {r[0]}"
    assert r[1:] == [token], f"the reader saw {r[1:]} in /dev/shm"


@pytest.mark.claim("POD-PID-NS-OPT-IN")
def test_pid_namespace_is_shared_only_when_asked(scenario: Scenario) -> None:
    """The PID namespace is not shared by default; ``shareProcessNamespace: true`` shares it (PID 1 is then the
    pod's sandbox, pause)."""
    marker = "sleep 31337"
    commands = {
        "a": f"{marker} & sleep 8; kill %1 2>/dev/null; exit 0",
        "b": "sleep 3; ps -o args | grep -c '^sleep 31337$'; cat /proc/1/cmdline | tr '\\0' ' '; echo",
    }
    default = scenario.run(scenario.multi("pid-default", commands)).outputs
    shared_pod = scenario.multi("pid-shared", commands, share_process_namespace=True)
    must_be_accepted(
        lambda: scenario.create(shared_pod),
        scenario.evidence,
        documented="shareProcessNamespace: true shares the PID namespace",
        what="a pod with shareProcessNamespace: true",
    )
    shared = scenario.finished("pid-shared").outputs
    seen_default, seen_shared = default["b"].splitlines(), shared["b"].splitlines()
    scenario.observe(
        documented="default: b does not see a's process; shared: it does, and PID 1 is pause",
        observed={"default": seen_default, "shareProcessNamespace": seen_shared},
    )
    assert seen_default[0] == "0", f"without sharing, b sees a's process: {seen_default}"
    assert seen_shared[0] == "1", f"with shareProcessNamespace, b does not see a's process: {seen_shared}"
    assert "pause" in seen_shared[1], f"PID 1 with a shared namespace is {seen_shared[1]!r}"


@pytest.mark.claim("POD-FILESYSTEM-ISOLATED")
def test_container_filesystems_are_isolated_unless_a_volume_is_shared(scenario: Scenario) -> None:
    """ "每个容器的文件系统与其他容器完全隔离 … 可以使用 Volume 共享文件目录": each container's filesystem is its own;
    sharing files takes a volume."""
    pod = scenario.multi(
        "fs",
        {
            "a": "echo private > /tmp/x; echo shared > /shared/y; sleep 8",
            "b": "sleep 3; [ -e /tmp/x ] && echo sees-private || echo no-private; cat /shared/y",
        },
    )
    pod.spec.volumes = [client.V1Volume(name="shared", empty_dir=client.V1EmptyDirVolumeSource())]
    for c in pod.spec.containers:
        c.volume_mounts = [client.V1VolumeMount(name="shared", mount_path="/shared")]
    seen = scenario.run(pod).outputs["b"].split()
    scenario.observe(documented=["no-private", "shared"], observed=seen)
    assert seen == ["no-private", "shared"], seen


@pytest.mark.claim("POD-PORT-CONFLICT")
def test_two_containers_cannot_bind_the_same_port(scenario: Scenario) -> None:
    """ "同一 pod 中的容器运行的多个进程不能绑定到相同的端口号": processes in different containers of a pod must not
    bind the same port — the second bind fails."""
    server = "(timeout 10 httpd -f -p 8080 -h /; echo exit=$?)"
    done = scenario.run(scenario.multi("ports", {"a": server, "b": f"sleep 2; {server}"}))
    scenario.observe(documented="one of them cannot bind :8080", observed=dict(done.outputs), phase=done.state)
    assert "in use" in done.outputs["b"].lower(), f"the second container bound :8080 too: {done.outputs}"


@pytest.mark.claim("POD-FLAT-NETWORK-NO-NAT")
@pytest.mark.needs("multi_node")
def test_pods_reach_each_other_by_ip_without_nat(scenario: Scenario, caps: Capabilities) -> None:
    """ "所有 pod 都在同一个共享网络地址空间中 … 它们之间没有 NAT": all pods share one flat address space and reach each
    other by pod IP, without NAT — the server sees the client's own pod IP."""
    first, second = caps.schedulable_nodes[:2]
    token = uuid.uuid4().hex
    server = scenario.start(scenario.pod("server", ["sh", "-c", pod_network.http_server(token)], node_name=first))
    script = f"{pod_network.IP}; {pod_network.fetch(server.status.pod_ip, 8080, '/cgi-bin/ip')}"
    done = scenario.run(scenario.pod("client", ["sh", "-c", script], node_name=second))
    own_ip, raw = [*done.output.split(), "", ""][:2]
    seen_as = raw.strip("[]").removeprefix("::ffff:")  # httpd reports IPv4 clients as IPv4-mapped IPv6
    scenario.observe(
        documented="the server sees the client's pod IP",
        observed={"client pod IP": own_ip, "client address the server saw": raw, "nodes": [first, second]},
    )
    assert done.succeeded and seen_as, f"the client on {second} did not reach {first}: {done.output}"
    assert seen_as == own_ip, f"the server saw {seen_as}, not the client's pod IP {own_ip}: NAT on the way"


@pytest.mark.claim("POD-NAMESPACES-NO-NETWORK-ISOLATION")
def test_namespaces_do_not_isolate_pod_networking(scenario: Scenario, make_namespace: Callable[[], str]) -> None:
    """ "命名空间之间并不提供对正在运行的对象的任何隔离": namespaces do not isolate running objects; with no network
    policy a pod in one namespace reaches a pod in another."""
    other = scenario.in_namespace(make_namespace())
    token = uuid.uuid4().hex
    server = other.start(other.pod("server", ["sh", "-c", pod_network.http_server(token)]))
    out = scenario.run(scenario.pod("client", ["sh", "-c", pod_network.fetch(server.status.pod_ip, 8080)])).output
    scenario.observe(documented="reachable across namespaces", observed=out.strip())
    assert out.strip() == token, f"a pod in {scenario.namespace} did not reach the pod in {other.namespace}: {out!r}"


@pytest.mark.claim("POD-CONTAINERPORT-INFORMATIONAL")
def test_container_ports_are_informational_and_can_be_named(scenario: Scenario) -> None:
    """ "在 pod 定义中指定端口纯粹是展示性的 … 可以给端口命名": declaring ports is informational (an undeclared port is
    still reachable), and a port can be named (a Service can target it by name)."""
    token = uuid.uuid4().hex
    undeclared = scenario.pod("undeclared", ["sh", "-c", pod_network.http_server(token)])
    named = scenario.pod("named", ["sh", "-c", pod_network.http_server(token)])
    named.metadata.labels = {"app": "named"}
    named.spec.containers[0].ports = [client.V1ContainerPort(name="web", container_port=8080)]
    service_ip = scenario.service("named", 80, target_port="web")
    ip = scenario.start(undeclared).status.pod_ip
    scenario.start(named)
    out = scenario.run(
        scenario.pod("client", ["sh", "-c", f"{pod_network.fetch(ip, 8080)}; {pod_network.fetch(service_ip, 80)}"])
    ).output
    scenario.observe(
        documented="undeclared port reachable; Service targetPort 'web' reaches the named port",
        observed={"answers": out.split()},
    )
    assert out.split() == [token, token], out
