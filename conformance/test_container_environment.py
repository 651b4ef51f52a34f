"""Container environment (docs 000, 001, 002, 004: "容器环境" / "Ambiente de contêiner").

The Kubernetes container environment gives a container its filesystem (image plus volumes), information about the
container itself (hostname, downward API, environment variables) and about other objects in the cluster (service
environment variables, DNS).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods
from k8s_doc_conformance.fixtures.images import layers
from k8s_doc_conformance.fixtures.images.push import ImageSpec
from k8s_doc_conformance.fixtures.scenario import Scenario
from k8s_doc_conformance.fixtures.waits import WaitTimeout

ENV = ["env"]


@pytest.mark.claim("ENV-FILESYSTEM-IMAGE-PLUS-VOLUMES")
def test_filesystem_is_the_image_plus_volumes(scenario: Scenario) -> None:
    """ "The Container's filesystem is a combination of the image and one or more volumes.\""""
    pod = scenario.pod("fs", ["sh", "-c", "ls /bin/busybox; grep ' /data ' /proc/mounts"])
    pod.spec.volumes = [client.V1Volume(name="data", empty_dir=client.V1EmptyDirVolumeSource())]
    pod.spec.containers[0].volume_mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
    done = scenario.run(pod)
    scenario.evidence.attach("container output", done.output)
    lines = done.output.splitlines()
    scenario.observe(documented="image files and the volume are both in the filesystem", observed=lines)
    assert done.succeeded, done.state
    assert lines[0] == "/bin/busybox", "the image's file is not in the container's filesystem"
    assert len(lines) == 2 and lines[1].split()[1] == "/data", "the volume is not mounted at /data"


@pytest.mark.claim("ENV-HOSTNAME-IS-POD-NAME")
def test_hostname_is_the_pod_name(scenario: Scenario) -> None:
    """ "The hostname of a Container is the name of the Pod in which the Container is running. It is available
    through the hostname command or the gethostname function call in libc."

    Stated without conditions; checked for a plain pod and for the cases the documents do not mention.
    """
    long_name = "env-host-" + "x" * 61  # 70 characters: longer than a hostname may be
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "plain pod": ("env-host-test", {}),
        "pod with spec.hostname": ("env-host-spec", {"hostname": "chosen-hostname"}),
        "pod name of 70 characters": (long_name, {}),
        "hostNetwork pod": ("env-host-hostnet", {"host_network": True}),
    }
    observed = {}
    for case, (name, spec) in cases.items():
        done = scenario.run(scenario.pod(name, ["sh", "-c", "hostname; cat /proc/sys/kernel/hostname"], **spec))
        assert done.succeeded, f"{case}: {done.state}"
        hostname, kernel = done.output.split()
        observed[case] = {
            "pod name": name,
            "hostname": hostname,
            "kernel hostname": kernel,
            "node": done.pod.spec.node_name,
        }
        scenario.observe(documented=f"hostname == pod name {name!r}", observed=observed[case], case=case)
    assert observed["plain pod"]["hostname"] == "env-host-test", observed["plain pod"]
    differ = {case: o["hostname"] for case, o in observed.items() if o["hostname"] != o["pod name"]}
    assert not differ, f"hostname is not the pod name in these cases: {differ}"


@pytest.mark.claim("ENV-DOWNWARD-NAME-NAMESPACE")
def test_pod_name_and_namespace_through_the_downward_api(scenario: Scenario) -> None:
    """ "The Pod name and namespace are available as environment variables through the downward API.\""""
    pod = scenario.pod("downward", ENV)
    pod.spec.containers[0].env = [
        client.V1EnvVar(
            name=var, value_from=client.V1EnvVarSource(field_ref=client.V1ObjectFieldSelector(field_path=f))
        )
        for var, f in (("MY_POD_NAME", "metadata.name"), ("MY_POD_NAMESPACE", "metadata.namespace"))
    ]
    done = scenario.run(pod)
    env = pods.parse_env(done.output)
    seen = {k: env.get(k) for k in ("MY_POD_NAME", "MY_POD_NAMESPACE")}
    scenario.observe(documented={"MY_POD_NAME": "downward", "MY_POD_NAMESPACE": scenario.namespace}, observed=seen)
    assert done.succeeded, done.state
    assert seen == {"MY_POD_NAME": "downward", "MY_POD_NAMESPACE": scenario.namespace}


@pytest.mark.claim("ENV-USER-AND-IMAGE-ENV")
def test_user_and_image_environment_variables(scenario: Scenario, push_image: Callable[..., str]) -> None:
    """ "User defined environment variables from the Pod definition are also available to the Container, as are any
    environment variables specified statically in the container image.\""""
    image_env = {"PATH": "/bin", "FROM_IMAGE": "image-value", "OVERRIDDEN": "image-value"}
    image = push_image(
        "env", ImageSpec(layers=(layers.busybox_layer("amd64"),), entrypoint=("/bin/sh", "-c"), env=image_env)
    )
    pod = scenario.pod("userenv", ENV, image=image)
    pod.spec.containers[0].env = [
        client.V1EnvVar(name="FROM_SPEC", value="spec-value"),
        client.V1EnvVar(name="OVERRIDDEN", value="spec-value"),
    ]
    done = scenario.run(pod)
    env = pods.parse_env(done.output)
    seen = {k: env.get(k) for k in ("FROM_IMAGE", "FROM_SPEC", "OVERRIDDEN")}
    scenario.observe(documented="spec and image variables both present; the spec wins a clash", observed=seen)
    assert done.succeeded, done.state
    assert seen["FROM_SPEC"] == "spec-value", "the Pod definition's variable is missing"
    assert seen["FROM_IMAGE"] == "image-value", "the image's variable is missing"
    assert seen["OVERRIDDEN"] == "spec-value", "a variable set in both: the spec value should win"


@pytest.mark.claim("ENV-SVC-HOST-PORT-VARS")
def test_service_host_and_port_variables(scenario: Scenario) -> None:
    """ "For a service named foo that maps to a Container named bar, the following variables are defined:
    FOO_SERVICE_HOST=<the host the service is running on>, FOO_SERVICE_PORT=<the port the service is running on>."
    The "host" is checked against the Service's ClusterIP (there is no other host a Service runs on).
    """
    foo_ip, foo_bar_ip = scenario.service("foo", 80), scenario.service("foo-bar", 8081)
    done = scenario.run(scenario.pod("svcvars", ENV))
    env = pods.parse_env(done.output)
    seen = {k: env.get(k) for k in ("FOO_SERVICE_HOST", "FOO_SERVICE_PORT", "FOO_BAR_SERVICE_HOST")}
    expected = {"FOO_SERVICE_HOST": foo_ip, "FOO_SERVICE_PORT": "80", "FOO_BAR_SERVICE_HOST": foo_bar_ip}
    scenario.observe(documented=expected, observed=seen, note="documented 'host' = the Service's ClusterIP")
    assert done.succeeded, done.state
    assert seen == expected


@pytest.mark.claim("ENV-SVC-ONLY-AT-CREATION")
def test_only_services_existing_at_container_creation_are_injected(scenario: Scenario) -> None:
    """ "A list of all services that were running when a Container was created is available to that Container as
    environment variables." The Service is created while the pod's first container runs; a container without the
    variable exits and is replaced, one with it stays: so the first container must exit, and its successor stay.
    """
    script = "if env | grep '^BAR_SERVICE_HOST='; then sleep 3600; fi; echo BAR_SERVICE_HOST=absent; sleep 5; exit 1"
    pod = scenario.pod("late", ["sh", "-c", script], restart_policy="OnFailure")
    # the exited container's output travels in its pod status (lastState.terminated.message), read in the same
    # object as the restart count, rather than by a second request for the previous container's log
    pod.spec.containers[0].termination_message_policy = "FallbackToLogsOnError"
    scenario.start(pod)
    bar_ip = scenario.service("bar")

    def replaced(p: client.V1Pod) -> bool:
        return any(
            cs.restart_count >= 1 and cs.state.running and cs.last_state.terminated
            for cs in p.status.container_statuses or []
        )

    try:
        final = pods.wait_pod(
            scenario.core, scenario.namespace, "late", replaced, 120, "to replace its first container"
        )
    except WaitTimeout as exc:
        final = exc.last
    status = final.status.container_statuses[0]
    restarts = status.restart_count
    output = pods.exited_output(scenario.core, scenario.namespace, "late", status)
    first, current = (pods.parse_env(out).get("BAR_SERVICE_HOST") for out in (output, scenario.logs("late")))
    scenario.observe(
        documented={"container created before the Service": "absent", "containers created after": bar_ip},
        observed={"restarts": restarts, "last exited container": first, "running container": current},
        pod=pods.describe(final),
    )
    assert restarts >= 1, f"the container created before the Service saw BAR_SERVICE_HOST={current}"
    assert restarts == 1, f"{restarts - 1} container(s) created after the Service lacked its variables"
    assert first == "absent" and current == bar_ip


@pytest.mark.claim("ENV-SVC-SAME-NAMESPACE-ONLY")
def test_only_services_of_the_pod_namespace_are_injected(scenario: Scenario, make_namespace: Callable[[], str]) -> None:
    """ "…a list of all services that were running when a Container was created, limited to services in the same
    namespace as the Pod and the Kubernetes control plane services." (004 says: all services.)"""
    scenario.in_namespace(make_namespace()).service("other")
    scenario.service("mine")
    done = scenario.run(scenario.pod("nsvars", ENV))
    env = pods.parse_env(done.output)
    seen = {k: env.get(k) for k in ("MINE_SERVICE_HOST", "OTHER_SERVICE_HOST", "KUBERNETES_SERVICE_HOST")}
    scenario.observe(
        documented="variables for the pod's namespace and the control plane only",
        observed={k: ("present" if v else "absent") for k, v in seen.items()},
    )
    assert done.succeeded, done.state
    assert seen["MINE_SERVICE_HOST"], "a Service of the pod's own namespace is missing"
    assert seen["KUBERNETES_SERVICE_HOST"], "the control-plane Service is missing"
    assert not seen["OTHER_SERVICE_HOST"], "a Service of another namespace was injected"


@pytest.mark.claim("ENV-SVC-CONTROL-PLANE")
def test_control_plane_service_variables_in_every_namespace(scenario: Scenario) -> None:
    """The control-plane Service (default/kubernetes) is injected into every namespace's containers, also when
    service links are turned off for the pod."""
    api_ip = scenario.core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    plain = scenario.run(scenario.pod("cp", ENV))
    unlinked = scenario.run(scenario.pod("cpnolinks", ENV, enable_service_links=False))
    seen = {
        "fresh namespace": pods.parse_env(plain.output).get("KUBERNETES_SERVICE_HOST"),
        "enableServiceLinks: false": pods.parse_env(unlinked.output).get("KUBERNETES_SERVICE_HOST"),
    }
    scenario.observe(documented=f"KUBERNETES_SERVICE_HOST={api_ip}", observed=seen)
    assert plain.succeeded and unlinked.succeeded, (plain.state, unlinked.state)
    assert seen == {"fresh namespace": api_ip, "enableServiceLinks: false": api_ip}


@pytest.mark.claim("ENV-SVC-DOCKER-LINK-VARS")
def test_service_variables_are_docker_link_compatible(scenario: Scenario) -> None:
    """004: the service variables are "compatible with Docker links" (FOO_PORT, FOO_PORT_80_TCP, …)."""
    ip = scenario.service("foo", 80)
    done = scenario.run(scenario.pod("links", ENV))
    env = pods.parse_env(done.output)
    expected = {
        "FOO_PORT": f"tcp://{ip}:80",
        "FOO_PORT_80_TCP": f"tcp://{ip}:80",
        "FOO_PORT_80_TCP_PROTO": "tcp",
        "FOO_PORT_80_TCP_PORT": "80",
        "FOO_PORT_80_TCP_ADDR": ip,
    }
    seen = {k: env.get(k) for k in expected}
    scenario.observe(documented=expected, observed=seen)
    assert done.succeeded, done.state
    assert seen == expected


@pytest.mark.claim("ENV-SVC-IP-AND-DNS")
def test_services_have_ips_and_dns_names(scenario: Scenario) -> None:
    """ "Services have dedicated IP addresses and are available to the Container via DNS, if DNS addon is
    enabled.\""""
    if not scenario.core.list_namespaced_service("kube-system", label_selector="k8s-app=kube-dns").items:
        scenario.evidence.not_applicable("the cluster has no DNS add-on (no kube-dns Service)")
    name = f"dns-{uuid.uuid4().hex[:4]}"
    ip, fqdn = scenario.service(name), f"{name}.{scenario.namespace}.svc.cluster.local"
    command = ["sh", "-c", f"for i in 1 2 3 4 5; do nslookup {fqdn} && exit 0; sleep 1; done; exit 1"]
    done = scenario.run(scenario.pod("dns", command))
    answers = re.findall(r"Address:\s*([0-9.]+)$", done.output, re.M)
    scenario.evidence.attach("nslookup", done.output)
    scenario.observe(documented=f"{fqdn} resolves to the Service IP {ip}", observed=answers)
    assert done.succeeded, f"{fqdn} did not resolve: {done.output[-300:]}"
    assert ip in answers, f"{fqdn} resolved to {answers}, not the Service IP {ip}"
