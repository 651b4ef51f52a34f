"""Private registries (docs 000, 001, 002, 004: "使用私有仓库" / "Usando um registro privado").

The documents list the ways to give pods registry credentials: configuring the nodes (a Docker ``config.json``
the kubelet reads, or, in 000/001, a kubelet credential-provider exec plugin), pre-pulled images, imagePullSecrets,
and vendor extensions; then use cases. Observed end to end on the suite's auth registry (htpasswd users), whose log
(the witness) names the user each request authenticated as and the node it came from.

Node configuration is changed only on the reconfigurable node (fixtures/nodes.py: on the suite's cluster
k8sdc-worker3, tainted; our pods tolerate it and are pinned there), under ``exclusive("reconfigurable-node")``, and
put back in a ``finally`` with a kubelet restart: the kubelet keeps the node's Docker config for 5 minutes
(pkg/credentialprovider/provider.go NewDefaultDockerKeyring), so a file it has read goes on being used after it is
removed. Passwords are written to the node on stdin (fixtures/node_credentials.py) and never recorded: evidence
names users only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from fixtures import node_credentials as nc
from fixtures import nodes, pods, pullsecrets
from fixtures.capabilities import kubelet_config
from fixtures.evidence import Evidence
from fixtures.images import push
from fixtures.nodes import Node, Reconfigurable
from fixtures.registry import witness
from fixtures.registry.service import RegistrySet, unrelated_name
from fixtures.signatures import Exclusive

KUBELET_ROOT = "/var/lib/kubelet"  # the kubelet's --root-dir default; kind does not change it
ROOT_CONFIG = f"{KUBELET_ROOT}/config.json"


# --- fixtures and helpers ------------------------------------------------------------------------------------------


@pytest.fixture
def reconfigurable(
    reconfigurable_node: Reconfigurable, cluster_nodes: Mapping[str, Node], exclusive: Exclusive
) -> Iterator[Node]:
    """The reconfigurable node (fixtures/nodes.py), held for the whole test."""
    with exclusive("reconfigurable-node"):
        yield cluster_nodes[reconfigurable_node.name]


@pytest.fixture
def private_image(registries: RegistrySet, run_id: str) -> str:
    """A repository of its own in the auth registry, pushed by alice (reference without host: ``<repo>:v1``)."""
    return push_private(registries, run_id)


def push_private(registries: RegistrySet, run_id: str) -> str:
    """Push a private image to a new repository of the auth registry as alice; returns ``<repo>:v1``.

    Its content is unique too: the kubelet keeps its pull records by image ID, so an image with the same content
    pulled earlier under another name would count as pulled by the kubelet (with whatever credentials)."""
    reg = registries.auth
    unique = uuid.uuid4().hex[:8]
    repo = f"{run_id}/priv-{unique}"
    alice = ("alice", reg.users["alice"])
    spec = push.marker_image(f"private-{unique}")
    push.push_spec(reg.push_host, repo, "v1", spec, ca_cert=reg.ca_cert, auth=alice)
    return f"{repo}:v1"


def other_node(core: client.CoreV1Api, besides: str) -> str:
    """A Ready, untainted node other than ``besides`` (a node with kubelet defaults)."""
    for node in sorted(core.list_node().items, key=lambda n: n.metadata.name):
        if node.metadata.name != besides and nodes.ready(node) and not node.spec.taints and not node.spec.unschedulable:
            return str(node.metadata.name)
    pytest.skip("needs a second schedulable node")


def pod_on(
    name: str,
    image: str,
    node: str,
    policy: str = "Always",
    secrets: tuple[str, ...] = (),
    command: tuple[str, ...] = ("cat", "/marker"),
) -> client.V1Pod:
    """A pod pinned to ``node`` (tolerating NoSchedule taints such as the reconfigurable node's) that runs ``command``
    once."""
    tolerate = client.V1Toleration(operator="Exists", effect="NoSchedule")
    pod = pods.command_pod(name, image, list(command), node_name=node, tolerations=[tolerate])
    pod.spec.containers[0].image_pull_policy = policy
    if secrets:
        pod.spec.image_pull_secrets = [client.V1LocalObjectReference(name=s) for s in secrets]
    return pod


def pull_outcome(
    core: client.CoreV1Api, namespace: str, pod: client.V1Pod, timeout: float = 120, retries: int | None = None
) -> str:
    """Create the pod; "ran" once it ran (its image was there), else the waiting reason (ErrImagePull, ...)."""
    core.create_namespaced_pod(namespace, pod)
    return pods.pull_result(core, namespace, pod.metadata.name, timeout, retries)


def manifest_requests(registries: RegistrySet, repo: str, since: datetime) -> list[dict[str, Any]]:
    """The auth registry's manifest requests for ``repo``: node, method, status, user (never a password)."""
    reg = registries.auth
    names = reg.client_names()
    return [
        {
            "node": names.get(r.remote_ip, r.remote_ip),
            "at": r.start.isoformat(),
            "method": r.method,
            "host": r.host,
            "status": r.status,
            "user": r.user,
            "authenticated": r.authenticated or r.user is not None,
            "refused_user": r.attempted_user,
        }
        for r in witness.requests(reg, since)
        if r.repository == repo and r.kind == "manifest"
    ]


def users_by_node(requests: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The users each node authenticated as on its successful manifest requests. The auth registry serves no
    anonymous request, so only requests it names a user for count (the witness can give a challenged HEAD the 200
    of a neighbouring request from the same node: see the lead's notes on witness._fill_status_from_access_log)."""
    seen: dict[str, list[str]] = {}
    for r in requests:
        if r["status"] == 200 and r["user"] and r["user"] not in seen.setdefault(r["node"], []):
            seen[r["node"]].append(r["user"])
    return seen


def pull_events(core: client.CoreV1Api, namespace: str, pod: str) -> list[dict[str, Any]]:
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={pod}").items
    return [{"reason": e.reason, "type": e.type, "message": e.message} for e in events]


@contextmanager
def node_changes(core: client.CoreV1Api, node: Node) -> Iterator[nc.NodeFiles]:
    """Files changed on ``node`` inside the block are put back afterwards, and the kubelet restarted (it caches
    the Docker config it read)."""
    files = nc.NodeFiles(node)
    try:
        yield files
    finally:
        if files.changed:
            files.restore()
            nc.restart_kubelet(core, node, daemon_reload=True)


def no_node_credentials(files: nc.NodeFiles, paths: list[str]) -> None:
    """Precondition: none of the kubelet's Docker config search paths holds a file (else the test is meaningless)."""
    present = [p for p in paths if files.exists(p)]
    if present:
        raise RuntimeError(f"precondition: {files.node.name} already has Docker config files {present}")


# Where the kubelet looks (pkg/credentialprovider/config.go: DefaultDockerConfigJSONPaths, DefaultDockercfgPaths;
# the preferred path is the kubelet's --root-dir, cmd/kubelet/app/server.go SetPreferredDockercfgPath).
JSON_PATHS = [ROOT_CONFIG, "/config.json", "/root/.docker/config.json", "/.docker/config.json"]
CFG_PATHS = [f"{KUBELET_ROOT}/.dockercfg", "/.dockercfg", "/root/.dockercfg"]


# --- configuring nodes to authenticate to a private registry -----------------------------------------------------


@pytest.mark.claim("PRIV-NODE-CONFIG-ALL-PODS")
@pytest.mark.needs("reconfigurable")
def test_node_credentials_let_every_pod_on_the_node_pull(
    core: client.CoreV1Api,
    make_namespace: Callable[[], str],
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "所有 Pod 均可读取任何已配置的私有仓库" (configuring nodes: all pods can read any configured private
    registry). The node's kubelet gets bob's credentials in /var/lib/kubelet/config.json; pods of two namespaces,
    without imagePullSecrets and with imagePullPolicy Always, pull the private image."""
    reg, node = registries.auth, reconfigurable.name
    host = reg.names[0]
    image, repo = f"{host}/{private_image}", private_image.split(":")[0]
    first, second = make_namespace(), make_namespace()
    since = datetime.now(UTC)
    with node_changes(core, reconfigurable) as files:
        no_node_credentials(files, JSON_PATHS + CFG_PATHS)
        baseline = pull_outcome(core, first, pod_on("no-node-config", image, node))
        files.write(ROOT_CONFIG, nc.docker_config_json({host: ("bob", reg.users["bob"])}))
        unrestarted = pull_outcome(core, first, pod_on("config-written", image, node))
        restart = nc.restart_kubelet(core, reconfigurable)
        restarted_at = datetime.now(UTC)
        outcome = {ns: pull_outcome(core, ns, pod_on("reader", image, node)) for ns in (first, second)}
    requests = manifest_requests(registries, repo, since)
    after = users_by_node([r for r in requests if r["at"] >= restarted_at.isoformat()])
    evidence.observe(
        documented={first: "ran", second: "ran"},
        observed=outcome,
        node=node,
        node_config=f"{ROOT_CONFIG}: auths {{{host}: bob}}",
        without_node_config=baseline,
        config_written_kubelet_not_restarted=unrestarted,
        kubelet_restart_seconds=restart,
        users_after_restart=after,
    )
    evidence.attach("registry manifest requests", requests)
    if baseline == "ran":
        raise RuntimeError(f"precondition: {node} pulled {image} before any node config")
    assert outcome == {first: "ran", second: "ran"}, f"pods without pull secrets on a configured node: {outcome}"
    assert after.get(node) == ["bob"], f"the registry saw {node} pull as {after.get(node)}, not bob"


@pytest.mark.claim("PRIV-NODE-CONFIG-UNIFORM")
@pytest.mark.needs("reconfigurable", "second_node")
def test_pods_fail_on_nodes_without_the_config(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "Você deve garantir que todos os nós no cluster tenham o mesmo .docker/config.json. Caso contrário, os pods
    serão executados com sucesso em alguns nós e falharão em outros." Credentials on the reconfigurable node only:
    the same pod runs there and fails to pull on another node."""
    reg, node = registries.auth, reconfigurable.name
    host = reg.names[0]
    image, repo = f"{host}/{private_image}", private_image.split(":")[0]
    elsewhere = other_node(core, node)
    since = datetime.now(UTC)
    with node_changes(core, reconfigurable) as files:
        files.write(ROOT_CONFIG, nc.docker_config_json({host: ("bob", reg.users["bob"])}))
        nc.restart_kubelet(core, reconfigurable)
        outcome = {n: pull_outcome(core, namespace, pod_on(f"on-{n}", image, n)) for n in (node, elsewhere)}
    requests = manifest_requests(registries, repo, since)
    users = users_by_node(requests)
    refused = sorted({str(r["status"]) for r in requests if r["node"] == elsewhere})
    evidence.observe(
        documented={node: "ran", elsewhere: "fails to pull"},
        observed=outcome,
        configured_node=node,
        users=users,
        statuses_from_the_other_node=refused,
    )
    evidence.attach("registry manifest requests", requests)
    assert outcome[node] == "ran", f"the configured node {node}: {outcome[node]}"
    assert outcome[elsewhere] in pods.PULL_FAILED, f"{elsewhere} has no node config, yet: {outcome[elsewhere]}"
    assert elsewhere not in users, f"{elsewhere} authenticated: {users}"


@pytest.mark.claim("PRIV-NODE-CONFIG-VERIFY-EXAMPLE")
@pytest.mark.needs("reconfigurable", "second_node")
def test_the_documented_verification_pod(
    core: client.CoreV1Api,
    make_namespace: Callable[[], str],
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "Verifique se está funcionando criando um pod que usa uma imagem privada" (private-image-test-1,
    imagePullPolicy Always, ``echo SUCCESS``): ``kubectl logs`` prints SUCCESS when node auth works; when it does
    not, ``kubectl describe`` shows ``Failed to pull image "…"``. Positive on the configured node, negative on a
    node without the config."""
    reg, node = registries.auth, reconfigurable.name
    host = reg.names[0]
    image = f"{host}/{private_image}"
    elsewhere = other_node(core, node)
    good, bad = make_namespace(), make_namespace()

    def example(on: str) -> client.V1Pod:
        pod = pod_on("private-image-test-1", image, on, command=("echo", "SUCCESS"))
        pod.spec.containers[0].name = "uses-private-image"
        return pod

    with node_changes(core, reconfigurable) as files:
        files.write(ROOT_CONFIG, nc.docker_config_json({host: ("bob", reg.users["bob"])}))
        nc.restart_kubelet(core, reconfigurable)
        works = pull_outcome(core, good, example(node))
        fails = pull_outcome(core, bad, example(elsewhere))
        # before the kubelet restarts (node_changes): a restarted kubelet answers 404 for a while
        log = (
            pods.logs(core, good, "private-image-test-1", container="uses-private-image").strip()
            if works == "ran"
            else ""
        )
    events = pull_events(core, bad, "private-image-test-1")
    failed = [e["message"] for e in events if e["reason"] == "Failed"]
    evidence.observe(
        documented={"logs": "SUCCESS", "describe": f'Failed to pull image "{image}": …'},
        observed={"logs": log, "outcome without credentials": fails, "Failed events": failed[:2]},
    )
    evidence.attach("events of the failing pod", events)
    assert works == "ran" and log == "SUCCESS", f"with node credentials: {works}, logs {log!r}"
    assert fails in pods.PULL_FAILED, f"without node credentials: {fails}"
    assert any(m.startswith(f'Failed to pull image "{image}"') for m in failed), f"no such Failed event: {events}"


@pytest.mark.claim("PRIV-DOCKERCFG-SEARCH-PATHS")
@pytest.mark.needs("reconfigurable")
def test_kubelet_reads_docker_config_from_the_documented_paths(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "Se você colocar o mesmo arquivo na lista de caminhos de pesquisa abaixo, o kubelet o usa": {--root-dir}/
    config.json, {cwd of kubelet}/config.json, ${HOME}/.docker/config.json, /.docker/config.json and the same for
    .dockercfg; "Você talvez tenha que definir HOME=/root". One file at a time, kubelet restarted each time."""
    reg, node = registries.auth, reconfigurable.name
    host = reg.names[0]
    image, repo = f"{host}/{private_image}", private_image.split(":")[0]
    bob = {host: ("bob", reg.users["bob"])}
    cwd, env = nc.kubelet_cwd(reconfigurable), nc.kubelet_environment(reconfigurable)
    home = env.get("HOME")
    documented = {
        "{--root-dir:-/var/lib/kubelet}/config.json": (ROOT_CONFIG, "json"),
        "{cwd of kubelet}/config.json": (f"{cwd.rstrip('/')}/config.json", "json"),
        "${HOME}/.docker/config.json": ("/root/.docker/config.json", "json"),
        "/.docker/config.json": ("/.docker/config.json", "json"),
        "{--root-dir:-/var/lib/kubelet}/.dockercfg": (f"{KUBELET_ROOT}/.dockercfg", "cfg"),
        "{cwd of kubelet}/.dockercfg": (f"{cwd.rstrip('/')}/.dockercfg", "cfg"),
        "${HOME}/.dockercfg": ("/root/.dockercfg", "cfg"),
        "/.dockercfg": ("/.dockercfg", "cfg"),
    }
    homeless = "${HOME}/.docker/config.json, HOME not set"
    # (label, path, kind, HOME for the kubelet): HOME=/root (a systemd drop-in) only for the ${HOME} entries, last
    steps: list[tuple[str, str, str, str | None]]
    steps = [(label, *where, None) for label, where in documented.items() if "${HOME}" not in label]
    steps.append((homeless, "/root/.docker/config.json", "json", None))
    steps += [(label, *where, "/root") for label, where in documented.items() if "${HOME}" in label]
    results: dict[str, str] = {}
    since = datetime.now(UTC)
    with node_changes(core, reconfigurable) as files:
        no_node_credentials(files, [path for path, _ in documented.values()])
        baseline = pull_outcome(core, namespace, pod_on("none", image, node))
        done: dict[tuple[str, str | None], str] = {}
        for i, (label, path, kind, with_home) in enumerate(steps):
            if (path, with_home) in done:  # the same file as an earlier entry (the kubelet's cwd is /)
                results[label] = done[(path, with_home)]
                continue
            if with_home and home != with_home:
                nc.set_kubelet_home(files, with_home)
            files.write(path, nc.docker_config_json(bob) if kind == "json" else nc.dockercfg(bob))
            nc.restart_kubelet(core, reconfigurable, daemon_reload=True)
            results[label] = done[(path, with_home)] = pull_outcome(core, namespace, pod_on(f"path-{i}", image, node))
            files.remove(path)
    users = users_by_node(manifest_requests(registries, repo, since))
    without_home = results.pop(homeless)
    evidence.observe(
        documented={label: "ran" for label in documented},
        observed=results,
        paths={label: where[0] for label, where in documented.items()},
        kubelet={"cwd": cwd, "HOME": home, "HOME for the ${HOME} entries": "/root (systemd drop-in)"},
        without_any_file=baseline,
        root_docker_config_without_HOME=without_home,
        users=users,
    )
    if baseline == "ran":
        raise RuntimeError(f"precondition: {node} pulled {image} without any Docker config file")
    not_read = [label for label, result in results.items() if result != "ran"]
    assert not not_read, f"the kubelet did not use Docker config at {not_read}"


@pytest.mark.claim("PRIV-DOCKERCFG-AUTHS-ONLY")
@pytest.mark.needs("reconfigurable")
def test_only_the_auths_section_is_used(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "O Kubernetes padrão é compatível apenas com as seções auths e HttpHeaders na configuração do Docker.
    Auxiliares de credencial do Docker (credHelpers ou credsStore) não são suportados." A working credential helper
    (docker-credential-k8sdc on the kubelet's PATH) named by credHelpers or credsStore is never called; the same
    credentials under auths pull. (HttpHeaders: the kubelet parses them, but under CRI it hands the runtime only
    user names, passwords and tokens, so they cannot be observed at the registry; not checked.)"""
    reg, node = registries.auth, reconfigurable.name
    host = reg.names[0]
    image = f"{host}/{private_image}"
    helper_log = "/var/lib/k8sdc/credential-helper.log"
    helper = (
        "#!/bin/sh\n"
        f'echo "$(date +%s.%N) $1" >>{helper_log}\n'
        "cat >/dev/null\n"
        f"printf '%s' '{json.dumps({'ServerURL': host, 'Username': 'bob', 'Secret': reg.users['bob']})}'\n"
    )
    configs = {
        "credHelpers": {"credHelpers": {host: "k8sdc"}},
        "credsStore": {"credsStore": "k8sdc"},
        "auths": pullsecrets.docker_config({host: ("bob", reg.users["bob"])}),
    }
    outcome: dict[str, str] = {}
    with node_changes(core, reconfigurable) as files:
        no_node_credentials(files, JSON_PATHS + CFG_PATHS)
        files.write("/usr/local/bin/docker-credential-k8sdc", helper, "700")
        files.remove(helper_log)
        for i, (section, config) in enumerate(configs.items()):
            files.write(ROOT_CONFIG, json.dumps(config))
            nc.restart_kubelet(core, reconfigurable)
            outcome[section] = pull_outcome(core, namespace, pod_on(f"section-{i}", image, node))
        calls = len(nc.read_lines(reconfigurable, helper_log))
    evidence.observe(
        documented={"credHelpers": "not used", "credsStore": "not used", "auths": "ran"},
        observed=outcome,
        credential_helper_calls=calls,
    )
    assert outcome["auths"] == "ran", f"auths: {outcome['auths']}"
    used = [s for s in ("credHelpers", "credsStore") if outcome[s] == "ran"]
    assert not used and calls == 0, f"credential helpers were used: {used}, helper called {calls} times"


# --- the kubelet credential provider (000, 001) -------------------------------------------------------------------


@pytest.mark.claim("PRIV-CRED-PROVIDER-PLUGIN", "PRIV-VENDOR-EXTENSIONS")
@pytest.mark.needs("reconfigurable", "second_node")
@pytest.mark.since(
    "1.26",
    "the kubelet's credential-provider plugins as the suite configures and answers them (kubelet.config.k8s.io/v1 and "
    "credentialprovider.kubelet.k8s.io/v1, GA in 1.26; KubeletCredentialProviders was alpha and off before 1.24)",
)
def test_credential_provider_plugin_supplies_credentials(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "你可以配置 kubelet,以调用插件可执行文件的方式来动态获取容器镜像的仓库凭据 … 需要 kubelet 级别的配置才能启用。"
    PRIV-VENDOR-EXTENSIONS: the plugin is such a local extension implementing node-to-registry authentication.
    The reconfigurable node's kubelet runs our exec plugin for provider.k8sdc.test (--image-credential-provider-config,
    matchImages); the plugin answers with bob's credentials. A pod without pull secrets pulls as bob; the plugin is
    not asked about an image outside matchImages; a node whose kubelet has no plugin cannot pull the image."""
    reg, node = registries.auth, reconfigurable.name
    provided = f"{nc.PROVIDER_HOST}/{private_image}"
    unmatched = f"{reg.names[0]}/{private_image}"
    repo = private_image.split(":")[0]
    elsewhere = other_node(core, node)
    since = datetime.now(UTC)
    with node_changes(core, reconfigurable) as files:
        no_node_credentials(files, JSON_PATHS + CFG_PATHS)
        if not nc.provider_configured(reconfigurable):  # a cluster the suite did not build: install it for the test
            try:
                nc.install_provider(files)
            except RuntimeError as exc:
                pytest.skip(f"cannot give the kubelet a credential-provider plugin: {exc}")
            nc.restart_kubelet(core, reconfigurable)
        files.write(nc.PROVIDER_RESPONSE, nc.provider_response({nc.PROVIDER_HOST: ("bob", reg.users["bob"])}))
        outcome = {
            "matched image, plugin's node": pull_outcome(core, namespace, pod_on("provided", provided, node)),
            "image outside matchImages": pull_outcome(core, namespace, pod_on("unmatched", unmatched, node)),
            "matched image, node without plugin": pull_outcome(
                core, namespace, pod_on("no-plugin", provided, elsewhere)
            ),
        }
        asked = nc.provider_requests(reconfigurable, since)
    requests = manifest_requests(registries, repo, since)
    users = users_by_node([r for r in requests if r["host"] == nc.PROVIDER_HOST])
    asked_images = sorted({r.image for r in asked})  # the kubelet asks about the repository, without the tag
    provided_repo, unmatched_repo = provided.rsplit(":", 1)[0], unmatched.rsplit(":", 1)[0]
    evidence.observe(
        documented={
            "matched image, plugin's node": "ran",
            "image outside matchImages": "fails to pull (plugin not asked)",
            "matched image, node without plugin": "fails to pull",
        },
        observed=outcome,
        plugin_asked_for=asked_images,
        plugin_requests=[{"at": r.at.isoformat(), "image": r.image, "kind": r.kind} for r in asked],
        users=users,
    )
    evidence.attach("registry manifest requests", requests)
    assert outcome["matched image, plugin's node"] == "ran", outcome
    assert users.get(node) == ["bob"], f"the registry saw {node} pull as {users.get(node)}, not the plugin's bob"
    assert provided_repo in asked_images, f"the plugin's log has no request for {provided}: {asked_images}"
    assert unmatched_repo not in asked_images, f"the plugin was asked about {unmatched}, outside matchImages"
    assert outcome["image outside matchImages"] in pods.PULL_FAILED, outcome
    assert outcome["matched image, node without plugin"] in pods.PULL_FAILED, outcome


# --- pre-pulled images --------------------------------------------------------------------------------------------


@pytest.mark.claim("PRIV-PREPULLED-USABLE-BY-ALL")
@pytest.mark.needs("node_access")
def test_images_pre_pulled_by_root_are_usable_by_every_pod(
    core: client.CoreV1Api,
    cluster_nodes: Mapping[str, Node],
    make_namespace: Callable[[], str],
    registries: RegistrySet,
    private_image: str,
    evidence: Evidence,
) -> None:
    """ "所有 Pod 都可以使用节点上缓存的所有镜像" (pre-pulled images; "requires root access to all nodes"). Root pulls
    the private image on a node with alice's credentials (crictl); pods of two namespaces, without pull secrets,
    with IfNotPresent and Never, run it there, and the registry is not asked again."""
    reg = registries.auth
    image, repo = f"{reg.names[0]}/{private_image}", private_image.split(":")[0]
    node = other_node(core, "")
    namespaces = [make_namespace(), make_namespace()]
    try:
        nc.pre_pull(cluster_nodes[node], image, "alice", reg.users["alice"])
        pulled_at = datetime.now(UTC)
        outcome = {
            f"{ns} {policy}": pull_outcome(core, ns, pod_on(f"use-{policy.lower()}", image, node, policy))
            for ns in namespaces
            for policy in ("IfNotPresent", "Never")
        }
    finally:
        nc.remove_image(cluster_nodes[node], image)
    asked_after = [r for r in manifest_requests(registries, repo, pulled_at) if r["node"] == node]
    evidence.observe(
        documented={k: "ran" for k in outcome},
        observed=outcome,
        node=node,
        registry_requests_after_the_pre_pull=asked_after,
    )
    assert all(v == "ran" for v in outcome.values()), f"pods without pull secrets: {outcome}"
    assert not asked_after, f"the pods' node asked the registry again: {asked_after}"


@pytest.mark.claim("PRIV-PREPULLED-USABLE-BY-ALL")
@pytest.mark.needs("node_access")
def test_an_image_a_pod_pulled_with_its_secret_is_usable_by_every_pod(
    core: client.CoreV1Api,
    cluster_nodes: Mapping[str, Node],
    api_client: client.ApiClient,
    make_namespace: Callable[[], str],
    registries: RegistrySet,
    private_image: str,
    evidence: Evidence,
) -> None:
    """ "所有 Pod 都可以使用节点上缓存的所有镜像": any cached image, also one the kubelet pulled for a pod with
    imagePullSecrets. Pod A (alice's secret) pulls the image on a node; pod B (another namespace, no secret,
    IfNotPresent, same node) should run it from the cache."""
    reg = registries.auth
    image, repo = f"{reg.names[0]}/{private_image}", private_image.split(":")[0]
    node = other_node(core, "")
    owner, other = make_namespace(), make_namespace()
    core.create_namespaced_secret(
        owner, pullsecrets.dockerconfigjson_secret("regcred", {reg.names[0]: ("alice", reg.users["alice"])})
    )
    try:
        first = pull_outcome(core, owner, pod_on("a", image, node, "IfNotPresent", ("regcred",)))
        pulled_at = datetime.now(UTC)
        second = pull_outcome(core, other, pod_on("b", image, node, "IfNotPresent"))
    finally:
        nc.remove_image(cluster_nodes[node], image)
    asked_after = [r for r in manifest_requests(registries, repo, pulled_at) if r["node"] == node]
    settings = kubelet_config(api_client, node) or {}
    evidence.observe(
        documented={"pod A (secret)": "ran", "pod B (no secret, IfNotPresent, same node)": "ran from the cache"},
        observed={"pod A (secret)": first, "pod B (no secret, IfNotPresent, same node)": second},
        node=node,
        registry_requests_for_pod_b=asked_after,
        imagePullCredentialsVerificationPolicy=settings.get("imagePullCredentialsVerificationPolicy"),
        featureGates=settings.get("featureGates"),
        events_of_pod_b=pull_events(core, other, "b"),
    )
    if first != "ran":
        raise RuntimeError(f"precondition: pod A with alice's secret did not run: {first}")
    assert second == "ran", (
        f"pod B without a secret could not use the image pod A pulled with one on {node} ({second}): the kubelet "
        "checks the pod's own credentials against the registry before reusing it (KubeletEnsureSecretPulledImages)"
    )


@pytest.mark.claim("PRIV-PREPULLED-SAME-ON-ALL-NODES")
@pytest.mark.needs("node_access", "multi_node")
def test_pre_pulled_images_must_be_on_every_node(
    core: client.CoreV1Api,
    cluster_nodes: Mapping[str, Node],
    namespace: str,
    registries: RegistrySet,
    private_image: str,
    evidence: Evidence,
) -> None:
    """ "如果你希望使用提前拉取镜像的方法代替仓库认证,就必须保证集群中所有节点提前拉取的镜像是相同的。" The image is
    pre-pulled on one node only: a pod without pull secrets (imagePullPolicy Never) runs there and cannot start on
    another node."""
    reg = registries.auth
    image = f"{reg.names[0]}/{private_image}"
    node = other_node(core, "")
    elsewhere = other_node(core, node)
    try:
        nc.pre_pull(cluster_nodes[node], image, "alice", reg.users["alice"])
        outcome = {n: pull_outcome(core, namespace, pod_on(f"on-{n}", image, n, "Never")) for n in (node, elsewhere)}
    finally:
        nc.remove_image(cluster_nodes[node], image)
    evidence.observe(documented={node: "ran", elsewhere: "ErrImageNeverPull"}, observed=outcome, pre_pulled_on=node)
    assert outcome[node] == "ran", outcome
    assert outcome[elsewhere] in pods.NEVER_PULL, outcome


# --- imagePullSecrets ----------------------------------------------------------------------------------------------


@pytest.mark.claim("PRIV-PULLSECRET-ONLY-OWNER")
def test_only_pods_with_their_own_key_pull(
    core: client.CoreV1Api, namespace: str, registries: RegistrySet, private_image: str, evidence: Evidence
) -> None:
    """ "只有提供自己密钥的 Pod 才能访问私有仓库": of two pods on one node pulling the private image (Always), the one
    with imagePullSecrets runs, the one without fails to pull."""
    reg = registries.auth
    image, repo = f"{reg.names[0]}/{private_image}", private_image.split(":")[0]
    node = other_node(core, "")
    core.create_namespaced_secret(
        namespace, pullsecrets.dockerconfigjson_secret("regcred", {reg.names[0]: ("alice", reg.users["alice"])})
    )
    since = datetime.now(UTC)
    outcome = {
        "with its own key": pull_outcome(core, namespace, pod_on("with-key", image, node, secrets=("regcred",))),
        "without": pull_outcome(core, namespace, pod_on("without", image, node)),
    }
    users = users_by_node(manifest_requests(registries, repo, since))
    evidence.observe(documented={"with its own key": "ran", "without": "fails to pull"}, observed=outcome, users=users)
    assert outcome["with its own key"] == "ran", outcome
    assert outcome["without"] in pods.PULL_FAILED, outcome
    assert users.get(node) == ["alice"], users


# --- use cases -----------------------------------------------------------------------------------------------------


@pytest.mark.claim("PRIV-USECASE-PUBLIC-NO-CONFIG")
def test_public_images_need_no_configuration(evidence: Evidence) -> None:
    """ "使用来自公共仓库的公共镜像 … 不需要配置" / "Use imagens públicas no Docker hub. Nenhuma configuração
    necessária." """
    evidence.not_applicable(
        "a public registry (Docker Hub) is on the internet, which the suite does not use; that a registry anyone may "
        "read needs no configuration is checked on the suite's open registry (PRIV-USECASE-OPEN-INTERNAL)"
    )


@pytest.mark.claim("PRIV-USECASE-OPEN-INTERNAL")
def test_an_open_internal_registry_needs_no_configuration(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    push_image: Callable[..., str],
    evidence: Evidence,
) -> None:
    """ "在防火墙内运行一个组织内部的私有仓库,并开放读取权限 … 不需要配置 Kubernetes": an image from the suite's open
    registry (anonymous reads) runs in a fresh namespace: no imagePullSecrets, default ServiceAccount unchanged."""
    image = push_image(f"open-{uuid.uuid4().hex[:8]}", push.marker_image("internal"))
    repo = image.split("/", 1)[1].rsplit(":", 1)[0]
    since = datetime.now(UTC)
    pod = pods.command_pod("internal", image, ["cat", "/marker"])
    pod.spec.containers[0].image_pull_policy = "Always"
    outcome = pull_outcome(core, namespace, pod)
    done = core.read_namespaced_pod("internal", namespace)
    out = pods.logs(core, namespace, "internal") if outcome == "ran" else ""
    sa = core.read_namespaced_service_account("default", namespace)
    asked = [
        {"status": r.status, "user": r.user}
        for r in witness.requests(registries.open, since)
        if r.repository == repo and r.kind == "manifest"
    ]
    evidence.observe(
        documented="runs without any Kubernetes configuration",
        observed={"outcome": outcome, "phase": done.status.phase, "output": out.strip()},
        pod_pull_secrets=done.spec.image_pull_secrets,
        default_serviceaccount_pull_secrets=sa.image_pull_secrets,
        registry_requests=asked,
    )
    assert outcome == "ran" and out.strip() == "internal", f"an open registry's image: {pods.describe(done)}"
    assert not done.spec.image_pull_secrets and not sa.image_pull_secrets
    assert asked and all(r["user"] is None and r["status"] == 200 for r in asked), asked


# --- pull secrets together with node config (SECRET area) ----------------------------------------------------------


@pytest.mark.claim("SECRET-MERGE-WITH-NODE-CONFIG")
@pytest.mark.needs("reconfigurable")
def test_pull_secrets_and_node_config_are_merged(
    core: client.CoreV1Api,
    namespace: str,
    registries: RegistrySet,
    private_image: str,
    reconfigurable: Node,
    evidence: Evidence,
) -> None:
    """ "你也可以将此方法与节点级别的 .docker/config.json 配置结合使用。 来自不同来源的凭据会被合并。" The node's
    config.json has bob for one registry name, the pod's secret alice for another: a pod with a container from
    each pulls both, as bob and as alice."""
    reg, node = registries.auth, reconfigurable.name
    by_node, by_secret = reg.names[0], unrelated_name(reg)
    repo = private_image.split(":")[0]
    core.create_namespaced_secret(
        namespace, pullsecrets.dockerconfigjson_secret("regcred", {by_secret: ("alice", reg.users["alice"])})
    )
    pod = pod_on("both", f"{by_node}/{private_image}", node, secrets=("regcred",))
    pod.spec.containers.append(
        client.V1Container(
            name="second", image=f"{by_secret}/{private_image}", image_pull_policy="Always", command=["true"]
        )
    )
    since = datetime.now(UTC)
    with node_changes(core, reconfigurable) as files:
        no_node_credentials(files, JSON_PATHS + CFG_PATHS)
        files.write(ROOT_CONFIG, nc.docker_config_json({by_node: ("bob", reg.users["bob"])}))
        nc.restart_kubelet(core, reconfigurable)
        outcome = pull_outcome(core, namespace, pod)
    requests = manifest_requests(registries, repo, since)
    users = {
        h: sorted({r["user"] for r in requests if r["host"] == witness.host_of(h) and r["status"] == 200} - {None})
        for h in (by_node, by_secret)
    }
    evidence.observe(
        documented={by_node: ["bob"], by_secret: ["alice"], "pod": "ran"},
        observed={**users, "pod": outcome},
    )
    evidence.attach("registry manifest requests", requests)
    assert outcome == "ran", f"a pod with one image per credential source: {outcome}"
    assert users == {by_node: ["bob"], by_secret: ["alice"]}, users


@pytest.mark.claim("PRIV-USECASE-ALWAYSPULLIMAGES-ISOLATION")
@pytest.mark.needs("node_access")
def test_always_pull_images_keeps_tenants_images_apart(
    core: client.CoreV1Api,
    cluster_nodes: Mapping[str, Node],
    api_client: client.ApiClient,
    make_namespace: Callable[[], str],
    registries: RegistrySet,
    run_id: str,
    node_exec: Callable[[str, list[str]], str],
    exclusive: Exclusive,
    evidence: Evidence,
) -> None:
    """ "确保 AlwaysPullImages 准入控制器被启用。否则,所有 Pod 都可以使用所有镜像。" (multi-tenant use case). Tenant A's
    pod pulls A's private image with A's pull secret onto a node; a pod of tenant B (no secret, IfNotPresent, same
    node) can use it when AlwaysPullImages is off, and cannot when it is on (submitted through a second API server
    with AlwaysPullImages, fixtures/admission.py: stored with Always, so the kubelet asks the registry as B). An
    image root pre-pulled on the node is observed the same way, as evidence."""
    from fixtures import admission

    reg = registries.auth
    host = reg.names[0]
    tenant_image = f"{host}/{push_private(registries, run_id)}"
    preloaded_image = f"{host}/{push_private(registries, run_id)}"
    node = other_node(core, "")
    control_plane = core.list_node(label_selector="node-role.kubernetes.io/control-plane").items[0].metadata.name
    tenant_a, tenant_b = make_namespace(), make_namespace()
    core.create_namespaced_secret(
        tenant_a, pullsecrets.dockerconfigjson_secret("regcred", {host: ("alice", reg.users["alice"])})
    )
    try:
        owner = pull_outcome(core, tenant_a, pod_on("owner", tenant_image, node, "IfNotPresent", ("regcred",)))
        nc.pre_pull(cluster_nodes[node], preloaded_image, "alice", reg.users["alice"])
        without = {
            "tenant image": pull_outcome(core, tenant_b, pod_on("off-tenant", tenant_image, node, "IfNotPresent")),
            "pre-pulled image": pull_outcome(
                core, tenant_b, pod_on("off-preloaded", preloaded_image, node, "IfNotPresent")
            ),
        }
        stored: dict[str, str] = {}
        with (
            exclusive("second-apiserver"),
            admission.second_apiserver(node_exec, api_client, control_plane, ["AlwaysPullImages"]) as second,
        ):
            forced = client.CoreV1Api(second.api)
            for name, image in (("on-tenant", tenant_image), ("on-preloaded", preloaded_image)):
                made = forced.create_namespaced_pod(tenant_b, pod_on(name, image, node, "IfNotPresent"))
                stored[name] = made.spec.containers[0].image_pull_policy
            plugins = second.admission_plugins
        with_plugin = {
            "tenant image": pods.pull_result(core, tenant_b, "on-tenant"),
            "pre-pulled image": pods.pull_result(core, tenant_b, "on-preloaded"),
        }
    finally:
        nc.remove_image(cluster_nodes[node], tenant_image)
        nc.remove_image(cluster_nodes[node], preloaded_image)
    evidence.observe(
        documented={
            "AlwaysPullImages off": {"tenant image": "ran", "pre-pulled image": "ran"},
            "AlwaysPullImages on": {"tenant image": "fails to pull", "pre-pulled image": "fails to pull"},
        },
        observed={"AlwaysPullImages off": without, "AlwaysPullImages on": with_plugin},
        tenant_a_pod=owner,
        stored_policy_with_alwayspullimages=stored,
        second_apiserver_admission_plugins=plugins,
        node=node,
    )
    if owner != "ran":
        raise RuntimeError(f"precondition: tenant A's pod with its secret did not run: {owner}")
    assert set(stored.values()) == {"Always"}, f"AlwaysPullImages did not force Always: {stored}"
    assert all(v in pods.PULL_FAILED for v in with_plugin.values()), f"with AlwaysPullImages: {with_plugin}"
    assert without["tenant image"] == "ran", (
        f"without AlwaysPullImages tenant B could not use tenant A's cached image ({without['tenant image']}): the "
        "kubelet itself checks B's credentials before reusing an image it pulled with A's secret "
        "(KubeletEnsureSecretPulledImages)"
    )
