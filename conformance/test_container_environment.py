"""Container environment (docs: 000, 001, 002, 004 — "容器环境" / "Ambiente de contêiner")."""

from __future__ import annotations

import pytest
from kubernetes import client

from fixtures import pods


@pytest.mark.claim("ENV-HOSTNAME-IS-POD-NAME")
def test_hostname_is_the_pod_name(core: client.CoreV1Api, namespace: str, busybox_image: str) -> None:
    """ENV-HOSTNAME-IS-POD-NAME: "The hostname of a Container is the name of the Pod in which the Container is
    running. It is available through the hostname command or the gethostname function call in libc."
    """
    name = "env-host-test"
    pod = pods.command_pod(name, busybox_image, ["sh", "-c", "hostname; cat /proc/sys/kernel/hostname"])
    core.create_namespaced_pod(namespace, pod)

    finished = pods.wait_terminal(core, namespace, name)
    output = pods.logs(core, namespace, name).split()

    assert finished.status.phase == "Succeeded", f"pod ended {finished.status.phase}"
    assert output == [name, name], f"documented hostname {name!r}; observed hostname, kernel hostname = {output}"
