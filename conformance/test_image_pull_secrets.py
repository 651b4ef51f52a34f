"""imagePullSecrets (docs 000, 001, 002, 004: "在 Pod 上指定 imagePullSecrets" / "Especificando imagePullSecrets").

Pods name Secrets that hold registry credentials; the kubelet uses them to pull. Observed end to end: a real
registry with htpasswd users, and its log (the witness) for which user, if any, authenticated each request.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import pods, pullsecrets
from k8s_doc_conformance.fixtures.apicalls import rejection
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.private_pulls import (
    PrivatePull,
    kubectl_registry_secret,
    pull_outcome,
    user_secret,
    users_seen,
)
from k8s_doc_conformance.fixtures.registry import witness
from k8s_doc_conformance.fixtures.registry.service import unrelated_name
from k8s_doc_conformance.fixtures.signatures import Kubectl


@pytest.mark.claim("SECRET-SAME-NAMESPACE")
def test_pull_secrets_come_from_the_pod_namespace(
    private_pull: PrivatePull, make_namespace: Callable[[], str], evidence: Evidence
) -> None:
    """ "…the Secret must be in the same namespace as the Pod": a secret in another namespace is not used."""
    a, b = make_namespace(), make_namespace()
    private_pull.core.create_namespaced_secret(a, user_secret(private_pull.registry))
    outcome = {
        "pod in the secret's namespace": private_pull.pull_anywhere(a, "p", secrets=["regcred"]),
        "pod in another namespace": private_pull.pull_anywhere(b, "p", secrets=["regcred"]),
    }
    evidence.observe(
        documented={"pod in the secret's namespace": "ran", "pod in another namespace": "no pull"}, observed=outcome
    )
    assert outcome["pod in the secret's namespace"] == "ran"
    assert outcome["pod in another namespace"] in pods.PULL_FAILED, outcome


@pytest.mark.claim("SECRET-ALLOWED-TYPES")
def test_only_docker_config_secret_types_are_used(
    private_pull: PrivatePull, namespace: str, evidence: Evidence
) -> None:
    """Pull secrets are of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg; an Opaque secret with
    the same content is not used."""
    core, auths = private_pull.core, private_pull.credentials("alice")
    json_secret = pullsecrets.dockerconfigjson_secret("as-json", auths)
    cfg_secret = pullsecrets.dockercfg_secret("as-cfg", auths)
    opaque = client.V1Secret(
        metadata=client.V1ObjectMeta(name="as-opaque"), type="Opaque", string_data=json_secret.string_data
    )
    secrets = {"dockerconfigjson": json_secret, "dockercfg": cfg_secret, "opaque": opaque}
    refused = {kind: rejection(partial(core.create_namespaced_secret, namespace, s)) for kind, s in secrets.items()}
    outcome = {
        kind: f"secret refused ({no[0]}): {no[1]}" if (no := refused[kind]) else
        private_pull.pull_anywhere(namespace, f"p-{kind}", secrets=[str(secret.metadata.name)])
        for kind, secret in secrets.items()
    }  # fmt: skip
    evidence.observe(documented={"dockerconfigjson": "ran", "dockercfg": "ran", "opaque": "no pull"}, observed=outcome)
    assert outcome["dockerconfigjson"] == outcome["dockercfg"] == "ran", outcome
    assert outcome["opaque"] in pods.PULL_FAILED, outcome


@pytest.mark.claim("SECRET-TYPE-VALIDATION")
def test_docker_config_secrets_must_carry_valid_data(
    core: client.CoreV1Api, namespace: str, evidence: Evidence
) -> None:
    """A docker-config secret type needs its data key with valid content."""
    cases = {
        "dockerconfigjson without .dockerconfigjson": client.V1Secret(
            metadata=client.V1ObjectMeta(name="a"), type="kubernetes.io/dockerconfigjson", string_data={"x": "{}"}
        ),
        "dockerconfigjson with invalid JSON": client.V1Secret(
            metadata=client.V1ObjectMeta(name="b"),
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": "{not json"},
        ),
        "dockercfg without .dockercfg": client.V1Secret(
            metadata=client.V1ObjectMeta(name="c"), type="kubernetes.io/dockercfg", string_data={"x": "{}"}
        ),
    }
    results = {
        case: rejection(partial(core.create_namespaced_secret, namespace, s, dry_run="All"))
        for case, s in cases.items()
    }
    evidence.observe(documented="all rejected", observed=results)
    assert all(r is not None and r[0] == 422 for r in results.values()), results


@pytest.mark.claim("SECRET-KUBECTL-DOCKER-REGISTRY")
def test_kubectl_create_secret_docker_registry(
    private_pull: PrivatePull, namespace: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """``kubectl create secret docker-registry <name> --docker-server=… --docker-username=… --docker-password=…
    --docker-email=…`` makes a secret pods can pull with."""
    server = kubectl_registry_secret(kubectl, namespace, private_pull.registries)
    secret = private_pull.core.read_namespaced_secret("regcred", namespace)
    config = pullsecrets.stored_config(secret)
    entry = config["auths"].get(server, {})
    password = private_pull.registry.users["alice"]
    shape = {
        "type": secret.type,
        "fields": sorted(entry),
        "auth is base64(user:password)": base64.b64decode(entry.get("auth", "")).decode() == f"alice:{password}",
    }
    outcome = private_pull.pull_anywhere(namespace, "same", host=server, secrets=["regcred"])
    evidence.observe(documented="a dockerconfigjson secret that pulls", observed={"secret": shape, "pull": outcome})
    assert shape["type"] == "kubernetes.io/dockerconfigjson"
    assert {"username", "password", "email", "auth"} <= set(entry) and shape["auth is base64(user:password)"], shape
    assert outcome == "ran", outcome


@pytest.mark.claim("SECRET-KUBECTL-SINGLE-REGISTRY")
def test_kubectl_registry_secret_serves_one_registry(
    private_pull: PrivatePull, namespace: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """The secret ``kubectl create secret docker-registry`` makes "only works with a single private registry"."""
    server = kubectl_registry_secret(kubectl, namespace, private_pull.registries)
    other = unrelated_name(private_pull.registry)  # another host name: to the kubelet, another registry
    config = pullsecrets.stored_config(private_pull.core.read_namespaced_secret("regcred", namespace))
    outcome = private_pull.pull_anywhere(namespace, "other", host=other, secrets=["regcred"])
    evidence.observe(
        documented=f"credentials for {server} only",
        observed={"registries": sorted(config["auths"]), f"pull from {other}": outcome},
    )
    assert sorted(config["auths"]) == [server]
    assert outcome in pods.PULL_FAILED, outcome


@pytest.mark.claim("SECRET-IMPORT-DOCKER-CONFIG")
def test_a_docker_config_file_imports_as_a_secret(
    private_pull: PrivatePull, namespace: str, kubectl: Kubectl, evidence: Evidence, tmp_path: Path
) -> None:
    """An existing Docker credentials file (two registries here) becomes a secret with
    ``kubectl create secret generic --from-file=.dockerconfigjson=… --type=kubernetes.io/dockerconfigjson``."""
    reg = private_pull.registry
    first, second = reg.names[0], unrelated_name(reg)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(pullsecrets.docker_config({first: ("alice", reg.users["alice"]), second: ("bob", reg.users["bob"])}))
    )
    config.chmod(0o600)
    kubectl(
        "create",
        "secret",
        "generic",
        "imported",
        "-n",
        namespace,
        f"--from-file=.dockerconfigjson={config}",
        "--type=kubernetes.io/dockerconfigjson",
    )
    since = datetime.now(UTC)
    outcome = {
        first: private_pull.pull_anywhere(namespace, "first", host=first, secrets=["imported"]),
        second: private_pull.pull_anywhere(namespace, "second", host=second, secrets=["imported"]),
    }
    users = {u for u in users_seen(private_pull.registries, private_pull.repo, since) if u}
    evidence.observe(documented="both registries pull", observed={"pulls": outcome, "users the registry saw": users})
    assert outcome == {first: "ran", second: "ran"}, outcome
    assert users == {"alice", "bob"}, users


@pytest.mark.claim("SECRET-SERVICEACCOUNT-AUTOMATION")
def test_serviceaccount_pull_secrets_are_added_to_its_pods(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "…you can add imagePullSecrets to a ServiceAccount, and they are added to its pods" (only to pods that name
    none of their own)."""
    core.create_namespaced_service_account(
        namespace,
        client.V1ServiceAccount(
            metadata=client.V1ObjectMeta(name="puller"),
            image_pull_secrets=[client.V1LocalObjectReference(name="regcred")],
        ),
    )
    plain = pods.command_pod("plain", busybox_image, ["true"], service_account_name="puller")
    own = pods.command_pod(
        "own",
        busybox_image,
        ["true"],
        service_account_name="puller",
        image_pull_secrets=[client.V1LocalObjectReference(name="mine")],
    )
    stored = {
        p.metadata.name: [s.name for s in p.spec.image_pull_secrets or []]
        for p in (core.create_namespaced_pod(namespace, x, dry_run="All") for x in (plain, own))
    }
    evidence.observe(documented={"plain": ["regcred"], "own": ["mine"]}, observed=stored)
    assert stored == {"plain": ["regcred"], "own": ["mine"]}


@pytest.mark.claim("SECRET-VIRTUAL-CONFIG-MERGE")
def test_pull_secrets_merge_into_one_virtual_config(
    private_pull: PrivatePull, namespace: str, evidence: Evidence
) -> None:
    """ "The kubelet merges the imagePullSecrets into a single virtual .docker/config.json": one secret per
    registry serves a pod with images from both, and of two secrets for one registry the working one is used."""
    core, reg = private_pull.core, private_pull.registry
    first, second = reg.names[0], unrelated_name(reg)
    alice, bob = ("alice", reg.users["alice"]), ("bob", reg.users["bob"])
    for name, auths in (
        ("for-first", {first: alice}),
        ("for-second", {second: bob}),
        ("wrong", {first: ("carol", "not-carols-password")}),
    ):
        core.create_namespaced_secret(namespace, pullsecrets.dockerconfigjson_secret(name, auths))
    both = pods.marker_pod("both", private_pull.image, "Always", secrets=["for-first", "for-second"])
    both.spec.containers.append(
        client.V1Container(
            name="second",
            image=f"{second}/{private_pull.reference}",
            image_pull_policy="Always",
            command=["/bin/sh", "-c", "true"],
        )
    )
    since = datetime.now(UTC)
    outcome = {
        "one secret per registry": pull_outcome(core, namespace, both),
        "a wrong and a right secret": private_pull.pull_anywhere(namespace, "fallback", secrets=["wrong", "for-first"]),
    }
    seen = users_seen(private_pull.registries, private_pull.repo, since)
    attempted = [r.attempted_user for r in witness.requests(reg, since) if r.attempted_user]
    evidence.observe(documented="both pull", observed=outcome, users=sorted({u for u in seen if u}), refused=attempted)
    assert outcome == {"one secret per registry": "ran", "a wrong and a right secret": "ran"}, outcome
