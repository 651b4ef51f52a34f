"""Pods (doc 003: "Kubernetes in Action", chapter 3 — pods, their containers and the pod network).

A pod's containers share the network, UTS and IPC namespaces (and optionally the PID namespace) but not their
filesystems; all pods share one flat network.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures.apicalls import must_be_accepted
from k8s_doc_conformance.fixtures.evidence import Evidence

IP = "ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1"
GET = "printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port}"


def multi_pod(name: str, image: str, commands: dict[str, str], **spec: object) -> client.V1Pod:
    """A pod with one container per entry, each running a shell script once (restartPolicy Never)."""
    containers = [
        client.V1Container(name=c, image=image, image_pull_policy="IfNotPresent", command=["sh", "-c", script])
        for c, script in commands.items()
    ]
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            containers=containers, restart_policy="Never", termination_grace_period_seconds=1, **spec
        ),
    )


def run_multi(core: client.CoreV1Api, namespace: str, pod: client.V1Pod, timeout: float = 120) -> dict[str, str]:
    core.create_namespaced_pod(namespace, pod)
    return finish_multi(core, namespace, pod, timeout)


def finish_multi(core: client.CoreV1Api, namespace: str, pod: client.V1Pod, timeout: float = 120) -> dict[str, str]:
    """Wait for a created multi_pod to finish; each container's output."""
    pods.wait_terminal(core, namespace, pod.metadata.name, timeout)
    return {c.name: pods.logs(core, namespace, pod.metadata.name, container=c.name) for c in pod.spec.containers}


def http_server(token: str, port: int = 8080, seconds: int = 60, bind: str = "") -> str:
    """busybox httpd serving ``token`` at / and the client's address at /cgi-bin/ip, for ``seconds``."""
    return (
        "mkdir -p /www/cgi-bin && "
        f"echo {token} > /www/index.html && "
        "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip && "
        "chmod +x /www/cgi-bin/ip && "
        f"(timeout {seconds} httpd -f -p {bind}{port} -h /www; exit 0)"
    )


def fetch(host: str, port: int, path: str = "/", tries: int = 30) -> str:
    """Shell: GET ``path`` until it answers; prints the last line of the response (the body) and nothing else (a
    Service's endpoints may take a while: a controller that batches EndpointSlice updates, nc refusing till then)."""
    get = GET.format(path=path, host=host, port=port)
    return (
        f'for i in $(seq {tries}); do out=$({get} 2>/dev/null | tail -n1); [ -n "$out" ] && echo "$out" && break; '
        "sleep 1; done"
    )


@pytest.mark.claim("POD-SHARED-NETWORK-NS")
def test_containers_share_ip_and_localhost(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "容器共享相同的 IP 地址和端口空间 … 容器之间可以通过 localhost 通信": a pod's containers share one IP and port
    space and talk over localhost."""
    token = uuid.uuid4().hex
    out = run_multi(
        core,
        namespace,
        multi_pod(
            "net",
            busybox_image,
            {
                "server": f"{IP}; {http_server(token, bind='127.0.0.1:', seconds=20)}",
                "client": f"{IP}; {fetch('127.0.0.1', 8080)}",
            },
        ),
    )
    server, client_ = out["server"].split(), out["client"].split()
    evidence.observe(documented="same IP; the client reaches the server on localhost", observed=out)
    assert server[0] == client_[0], f"containers report different IPs: {server[0]} vs {client_[0]}"
    assert client_[1:] == [token], f"localhost:8080 from the other container answered {client_[1:]}"


@pytest.mark.claim("POD-SHARED-UTS-NS")
def test_containers_share_uts_namespace(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "同一个 pod 中的容器 … 共享相同的 UTS 命名空间": the same hostname and UTS namespace in every container."""
    script = "hostname; readlink /proc/self/ns/uts"
    out = run_multi(core, namespace, multi_pod("uts", busybox_image, {"a": script, "b": script}))
    evidence.observe(documented="identical hostname and UTS namespace", observed=out)
    assert out["a"].split() == out["b"].split(), out


@pytest.mark.claim("POD-SHARED-IPC-NS")
def test_containers_share_ipc_namespace(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """Containers of a pod share the IPC namespace: the same namespace, and shared memory written by one is seen by
    the other."""
    token = uuid.uuid4().hex
    writer = f"readlink /proc/self/ns/ipc; echo {token} > /dev/shm/k8sdc; sleep 10"
    reader = (
        "readlink /proc/self/ns/ipc; "
        "for i in $(seq 10); do [ -f /dev/shm/k8sdc ] && cat /dev/shm/k8sdc && break; sleep 1; done"
    )
    out = run_multi(core, namespace, multi_pod("ipc", busybox_image, {"writer": writer, "reader": reader}))
    w, r = out["writer"].split(), out["reader"].split()
    evidence.observe(documented="one IPC namespace; /dev/shm shared", observed=out)
    assert w[0] == r[0], f"different IPC namespaces: {w[0]} vs {r[0]}"
    assert r[1:] == [token], f"the reader saw {r[1:]} in /dev/shm"


@pytest.mark.claim("POD-PID-NS-OPT-IN")
def test_pid_namespace_is_shared_only_when_asked(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """The PID namespace is not shared by default; ``shareProcessNamespace: true`` shares it (PID 1 is then the
    pod's sandbox, pause)."""
    marker = "sleep 31337"
    commands = {
        "a": f"{marker} & sleep 8; kill %1 2>/dev/null; exit 0",
        "b": "sleep 3; ps -o args | grep -c '^sleep 31337$'; cat /proc/1/cmdline | tr '\\0' ' '; echo",
    }
    default = run_multi(core, namespace, multi_pod("pid-default", busybox_image, commands))
    shared_pod = multi_pod("pid-shared", busybox_image, commands, share_process_namespace=True)
    must_be_accepted(
        lambda: core.create_namespaced_pod(namespace, shared_pod),
        evidence,
        documented="shareProcessNamespace: true shares the PID namespace",
        what="a pod with shareProcessNamespace: true",
    )
    shared = finish_multi(core, namespace, shared_pod)
    seen_default, seen_shared = default["b"].splitlines(), shared["b"].splitlines()
    evidence.observe(
        documented="default: b does not see a's process; shared: it does, and PID 1 is pause",
        observed={"default": seen_default, "shareProcessNamespace": seen_shared},
    )
    assert seen_default[0] == "0", f"without sharing, b sees a's process: {seen_default}"
    assert seen_shared[0] == "1", f"with shareProcessNamespace, b does not see a's process: {seen_shared}"
    assert "pause" in seen_shared[1], f"PID 1 with a shared namespace is {seen_shared[1]!r}"


@pytest.mark.claim("POD-FILESYSTEM-ISOLATED")
def test_container_filesystems_are_isolated_unless_a_volume_is_shared(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "每个容器的文件系统与其他容器完全隔离 … 可以使用 Volume 共享文件目录": each container's filesystem is its own;
    sharing files takes a volume."""
    pod = multi_pod(
        "fs",
        busybox_image,
        {
            "a": "echo private > /tmp/x; echo shared > /shared/y; sleep 8",
            "b": "sleep 3; [ -e /tmp/x ] && echo sees-private || echo no-private; cat /shared/y",
        },
    )
    pod.spec.volumes = [client.V1Volume(name="shared", empty_dir=client.V1EmptyDirVolumeSource())]
    for c in pod.spec.containers:
        c.volume_mounts = [client.V1VolumeMount(name="shared", mount_path="/shared")]
    out = run_multi(core, namespace, pod)
    seen = out["b"].split()
    evidence.observe(documented=["no-private", "shared"], observed=seen)
    assert seen == ["no-private", "shared"], seen


@pytest.mark.claim("POD-PORT-CONFLICT")
def test_two_containers_cannot_bind_the_same_port(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "同一 pod 中的容器运行的多个进程不能绑定到相同的端口号": processes in different containers of a pod must not
    bind the same port — the second bind fails."""
    server = "(timeout 10 httpd -f -p 8080 -h /; echo exit=$?)"
    pod = multi_pod("ports", busybox_image, {"a": server, "b": f"sleep 2; {server}"})
    core.create_namespaced_pod(namespace, pod)
    done = pods.wait_terminal(core, namespace, "ports")
    out = {c: pods.logs(core, namespace, "ports", container=c) for c in ("a", "b")}
    evidence.observe(documented="one of them cannot bind :8080", observed=out, phase=pods.describe(done))
    assert "in use" in out["b"].lower(), f"the second container bound :8080 too: {out}"


@pytest.mark.claim("POD-FLAT-NETWORK-NO-NAT")
@pytest.mark.needs("multi_node")
def test_pods_reach_each_other_by_ip_without_nat(
    core: client.CoreV1Api, namespace: str, busybox_image: str, caps: object, evidence: Evidence
) -> None:
    """ "所有 pod 都在同一个共享网络地址空间中 … 它们之间没有 NAT": all pods share one flat address space and reach each
    other by pod IP, without NAT — the server sees the client's own pod IP."""
    first, second = caps.schedulable_nodes[:2]  # type: ignore[attr-defined]
    token = uuid.uuid4().hex
    core.create_namespaced_pod(
        namespace, pods.command_pod("server", busybox_image, ["sh", "-c", http_server(token)], node_name=first)
    )
    server = pods.wait_running(core, namespace, "server")
    client_pod = pods.command_pod(
        "client",
        busybox_image,
        ["sh", "-c", f"{IP}; {fetch(server.status.pod_ip, 8080, '/cgi-bin/ip')}"],
        node_name=second,
    )
    done, out = pods.run_to_completion(core, namespace, client_pod)
    own_ip, raw = [*out.split(), "", ""][:2]
    seen_as = raw.strip("[]").removeprefix("::ffff:")  # httpd reports IPv4 clients as IPv4-mapped IPv6
    evidence.observe(
        documented="the server sees the client's pod IP",
        observed={"client pod IP": own_ip, "client address the server saw": raw, "nodes": [first, second]},
    )
    assert done.status.phase == "Succeeded" and seen_as, f"the client on {second} did not reach {first}: {out}"
    assert seen_as == own_ip, f"the server saw {seen_as}, not the client's pod IP {own_ip}: NAT on the way"


@pytest.mark.claim("POD-NAMESPACES-NO-NETWORK-ISOLATION")
def test_namespaces_do_not_isolate_pod_networking(
    core: client.CoreV1Api, make_namespace: Callable[[], str], busybox_image: str, evidence: Evidence
) -> None:
    """ "命名空间之间并不提供对正在运行的对象的任何隔离": namespaces do not isolate running objects; with no network
    policy a pod in one namespace reaches a pod in another."""
    a, b = make_namespace(), make_namespace()
    token = uuid.uuid4().hex
    core.create_namespaced_pod(b, pods.command_pod("server", busybox_image, ["sh", "-c", http_server(token)]))
    server = pods.wait_running(core, b, "server")
    _, out = pods.run_to_completion(
        core, a, pods.command_pod("client", busybox_image, ["sh", "-c", fetch(server.status.pod_ip, 8080)])
    )
    evidence.observe(documented="reachable across namespaces", observed=out.strip())
    assert out.strip() == token, f"a pod in {a} did not reach the pod in {b}: {out!r}"


@pytest.mark.claim("POD-CONTAINERPORT-INFORMATIONAL")
def test_container_ports_are_informational_and_can_be_named(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "在 pod 定义中指定端口纯粹是展示性的 … 可以给端口命名": declaring ports is informational (an undeclared port is
    still reachable), and a port can be named (a Service can target it by name)."""
    token = uuid.uuid4().hex
    undeclared = pods.command_pod("undeclared", busybox_image, ["sh", "-c", http_server(token)])
    named = pods.command_pod("named", busybox_image, ["sh", "-c", http_server(token)])
    named.metadata.labels = {"app": "named"}
    named.spec.containers[0].ports = [client.V1ContainerPort(name="web", container_port=8080)]
    core.create_namespaced_pod(namespace, undeclared)
    core.create_namespaced_pod(namespace, named)
    core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="named"),
            spec=client.V1ServiceSpec(
                selector={"app": "named"}, ports=[client.V1ServicePort(port=80, target_port="web")]
            ),
        ),
    )
    ip = pods.wait_running(core, namespace, "undeclared").status.pod_ip
    pods.wait_running(core, namespace, "named")
    service_ip = core.read_namespaced_service("named", namespace).spec.cluster_ip
    script = f"{fetch(ip, 8080)}; {fetch(service_ip, 80)}"
    _, out = pods.run_to_completion(core, namespace, pods.command_pod("client", busybox_image, ["sh", "-c", script]))
    evidence.observe(
        documented="undeclared port reachable; Service targetPort 'web' reaches the named port",
        observed={"answers": out.split()},
    )
    assert out.split() == [token, token], out
