"""Private registries (docs 000, 001, 002, 004: "使用私有仓库" / "Usando um registro privado"): configuring the nodes
and the kubelet credential provider. Pre-pulled images, imagePullSecrets, the use cases and pull secrets with node
configuration are in test_pre_pulled_images_and_pull_secrets.py.

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
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import node_credentials as nc
from k8s_doc_conformance.fixtures import pods, pullsecrets
from k8s_doc_conformance.fixtures import private_pulls as priv
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.nodes import Node
from k8s_doc_conformance.fixtures.private_pulls import PrivatePull

# --- configuring nodes to authenticate to a private registry -----------------------------------------------------


@pytest.mark.claim("PRIV-NODE-CONFIG-ALL-PODS")
@pytest.mark.needs("reconfigurable")
def test_node_credentials_let_every_pod_on_the_node_pull(
    private_pull: PrivatePull, make_namespace: Callable[[], str], reconfigurable: Node, evidence: Evidence
) -> None:
    """ "所有 Pod 均可读取任何已配置的私有仓库" (configuring nodes: all pods can read any configured private
    registry). The node's kubelet gets bob's credentials in /var/lib/kubelet/config.json; pods of two namespaces,
    without imagePullSecrets and with imagePullPolicy Always, pull the private image."""
    pp, node = private_pull, reconfigurable.name
    first, second = make_namespace(), make_namespace()
    with priv.node_changes(pp.core, reconfigurable) as files:
        priv.no_node_credentials(files, priv.DOCKER_CONFIG_PATHS, evidence)
        baseline = pp.pull(first, "no-node-config", node)
        files.write(priv.ROOT_CONFIG, nc.docker_config_json(pp.credentials("bob")))
        unrestarted = pp.pull(first, "config-written", node)
        restart = nc.restart_kubelet(pp.core, reconfigurable)
        restarted_at = datetime.now(UTC)
        outcome = {ns: pp.pull(ns, "reader", node) for ns in (first, second)}
    requests = pp.requests()
    after = priv.users_by_node([r for r in requests if r["at"] >= restarted_at.isoformat()])
    evidence.observe(
        documented={first: "ran", second: "ran"},
        observed=outcome,
        node=node,
        node_config=f"{priv.ROOT_CONFIG}: auths {{{pp.host}: bob}}",
        without_node_config=baseline,
        config_written_kubelet_not_restarted=unrestarted,
        kubelet_restart_seconds=restart,
        users_after_restart=after,
    )
    evidence.attach("registry manifest requests", requests)
    priv.no_credentials_yet(baseline, node, pp.image, evidence)
    assert outcome == {first: "ran", second: "ran"}, f"pods without pull secrets on a configured node: {outcome}"
    assert after.get(node) == ["bob"], f"the registry saw {node} pull as {after.get(node)}, not bob"


@pytest.mark.claim("PRIV-NODE-CONFIG-UNIFORM")
@pytest.mark.needs("reconfigurable", "second_node")
def test_pods_fail_on_nodes_without_the_config(
    private_pull: PrivatePull, namespace: str, reconfigurable: Node, evidence: Evidence
) -> None:
    """ "Você deve garantir que todos os nós no cluster tenham o mesmo .docker/config.json. Caso contrário, os pods
    serão executados com sucesso em alguns nós e falharão em outros." Credentials on the reconfigurable node only:
    the same pod runs there and fails to pull on another node."""
    pp, node = private_pull, reconfigurable.name
    elsewhere = priv.other_node(pp.core, node)
    with pp.node_config(reconfigurable, "bob"):
        outcome = {n: pp.pull(namespace, f"on-{n}", n) for n in (node, elsewhere)}
    requests = pp.requests()
    users = priv.users_by_node(requests)
    refused = sorted({str(r["status"]) for r in requests if r["node"] == elsewhere})
    evidence.observe(
        documented={node: "ran", elsewhere: "fails to pull"},
        observed=outcome,
        configured_node=node,
        users=users,
        statuses_from_the_other_node=refused,
    )
    evidence.attach("registry manifest requests", requests)
    priv.has_no_credentials(users, elsewhere, "bob", evidence)
    assert outcome[node] == "ran", f"the configured node {node}: {outcome[node]}"
    assert outcome[elsewhere] in pods.PULL_FAILED, f"{elsewhere} has no node config, yet: {outcome[elsewhere]}"
    assert elsewhere not in users, f"{elsewhere} authenticated: {users}"


@pytest.mark.claim("PRIV-NODE-CONFIG-VERIFY-EXAMPLE")
@pytest.mark.needs("reconfigurable", "second_node")
def test_the_documented_verification_pod(
    private_pull: PrivatePull, make_namespace: Callable[[], str], reconfigurable: Node, evidence: Evidence
) -> None:
    """ "Verifique se está funcionando criando um pod que usa uma imagem privada" (private-image-test-1,
    imagePullPolicy Always, ``echo SUCCESS``): ``kubectl logs`` prints SUCCESS when node auth works; when it does
    not, ``kubectl describe`` shows ``Failed to pull image "…"``. Positive on the configured node, negative on a
    node without the config."""
    pp, core, node = private_pull, private_pull.core, reconfigurable.name
    elsewhere = priv.other_node(core, node)
    good, bad = make_namespace(), make_namespace()

    def example(on: str) -> client.V1Pod:
        pod = priv.pod_on("private-image-test-1", pp.image, on, command=("echo", "SUCCESS"))
        pod.spec.containers[0].name = "uses-private-image"
        return pod

    with pp.node_config(reconfigurable, "bob"):
        works = priv.pull_outcome(core, good, example(node))
        fails = priv.pull_outcome(core, bad, example(elsewhere))
        # before the kubelet restarts (priv.node_changes): a restarted kubelet answers 404 for a while
        log = (
            pods.logs(core, good, "private-image-test-1", container="uses-private-image").strip()
            if works == "ran"
            else ""
        )
    events = priv.pull_events(core, bad, "private-image-test-1")
    failed = [e["message"] for e in events if e["reason"] == "Failed"]
    evidence.observe(
        documented={"logs": "SUCCESS", "describe": f'Failed to pull image "{pp.image}": …'},
        observed={"logs": log, "outcome without credentials": fails, "Failed events": failed[:2]},
    )
    evidence.attach("events of the failing pod", events)
    priv.has_no_credentials(priv.users_by_node(pp.requests()), elsewhere, "bob", evidence)
    assert works == "ran" and log == "SUCCESS", f"with node credentials: {works}, logs {log!r}"
    assert fails in pods.PULL_FAILED, f"without node credentials: {fails}"
    assert any(m.startswith(f'Failed to pull image "{pp.image}"') for m in failed), f"no such Failed event: {events}"


@pytest.mark.claim("PRIV-DOCKERCFG-SEARCH-PATHS")
@pytest.mark.needs("reconfigurable")
def test_kubelet_reads_docker_config_from_the_documented_paths(
    private_pull: PrivatePull, namespace: str, reconfigurable: Node, evidence: Evidence
) -> None:
    """ "Se você colocar o mesmo arquivo na lista de caminhos de pesquisa abaixo, o kubelet o usa": {--root-dir}/
    config.json, {cwd of kubelet}/config.json, ${HOME}/.docker/config.json, /.docker/config.json and the same for
    .dockercfg; "Você talvez tenha que definir HOME=/root". One file at a time, kubelet restarted each time."""
    pp, node = private_pull, reconfigurable.name
    cwd, home = nc.kubelet_cwd(reconfigurable), nc.kubelet_environment(reconfigurable).get("HOME")
    documented = priv.docker_config_search_paths(cwd)
    with priv.node_changes(pp.core, reconfigurable) as files:
        priv.no_node_credentials(files, [path for path, _ in documented.values()], evidence)
        baseline = pp.pull(namespace, "none", node)
        results = priv.pulls_with_each_file(
            pp.core, reconfigurable, files, namespace, pp.image, pp.credentials("bob"), documented
        )
    without_home = results.pop(priv.HOMELESS)
    evidence.observe(
        documented={label: "ran" for label in documented},
        observed=results,
        paths={label: where[0] for label, where in documented.items()},
        kubelet={"cwd": cwd, "HOME": home, "HOME for the ${HOME} entries": "/root (systemd drop-in)"},
        without_any_file=baseline,
        root_docker_config_without_HOME=without_home,
        users=priv.users_by_node(pp.requests()),
    )
    priv.no_credentials_yet(baseline, node, pp.image, evidence)
    not_read = [label for label, result in results.items() if result != "ran"]
    assert not not_read, f"the kubelet did not use Docker config at {not_read}"


@pytest.mark.claim("PRIV-DOCKERCFG-AUTHS-ONLY")
@pytest.mark.needs("reconfigurable")
def test_only_the_auths_section_is_used(
    private_pull: PrivatePull, namespace: str, reconfigurable: Node, evidence: Evidence
) -> None:
    """ "O Kubernetes padrão é compatível apenas com as seções auths e HttpHeaders na configuração do Docker.
    Auxiliares de credencial do Docker (credHelpers ou credsStore) não são suportados." A working credential helper
    (docker-credential-k8sdc on the kubelet's PATH) named by credHelpers or credsStore is never called; the same
    credentials under auths pull. (HttpHeaders: the kubelet parses them, but under CRI it hands the runtime only
    user names, passwords and tokens, so they cannot be observed at the registry; not checked.)"""
    pp, node = private_pull, reconfigurable.name
    host, password = pp.host, pp.registry.users["bob"]
    helper_log = "/var/lib/k8sdc/credential-helper.log"
    helper = (
        "#!/bin/sh\n"
        f'echo "$(date +%s.%N) $1" >>{helper_log}\n'
        "cat >/dev/null\n"
        f"printf '%s' '{json.dumps({'ServerURL': host, 'Username': 'bob', 'Secret': password})}'\n"
    )
    configs = {
        "credHelpers": {"credHelpers": {host: "k8sdc"}},
        "credsStore": {"credsStore": "k8sdc"},
        "auths": pullsecrets.docker_config(pp.credentials("bob")),
    }
    outcome: dict[str, str] = {}
    with priv.node_changes(pp.core, reconfigurable) as files:
        priv.no_node_credentials(files, priv.DOCKER_CONFIG_PATHS, evidence)
        files.write("/usr/local/bin/docker-credential-k8sdc", helper, "700")
        files.remove(helper_log)
        for i, (section, config) in enumerate(configs.items()):
            files.write(priv.ROOT_CONFIG, json.dumps(config))
            nc.restart_kubelet(pp.core, reconfigurable)
            outcome[section] = pp.pull(namespace, f"section-{i}", node)
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
    private_pull: PrivatePull, namespace: str, reconfigurable: Node, evidence: Evidence
) -> None:
    """ "你可以配置 kubelet,以调用插件可执行文件的方式来动态获取容器镜像的仓库凭据 … 需要 kubelet 级别的配置才能启用。"
    PRIV-VENDOR-EXTENSIONS: the plugin is such a local extension implementing node-to-registry authentication.
    The reconfigurable node's kubelet runs our exec plugin for provider.k8sdc.test (--image-credential-provider-config,
    matchImages); the plugin answers with bob's credentials. A pod without pull secrets pulls as bob; the plugin is
    not asked about an image outside matchImages; a node whose kubelet has no plugin cannot pull the image."""
    pp, node = private_pull, reconfigurable.name
    provided, unmatched = f"{nc.PROVIDER_HOST}/{pp.reference}", pp.image
    elsewhere = priv.other_node(pp.core, node)
    with priv.node_changes(pp.core, reconfigurable) as files:
        priv.no_node_credentials(files, priv.DOCKER_CONFIG_PATHS, evidence)
        priv.answering_provider(pp.core, reconfigurable, files, {nc.PROVIDER_HOST: ("bob", pp.registry.users["bob"])})
        cases = {
            "matched image, plugin's node": ("provided", provided, node),
            "image outside matchImages": ("unmatched", unmatched, node),
            "matched image, node without plugin": ("no-plugin", provided, elsewhere),
        }
        outcome = {case: priv.pull_outcome(pp.core, namespace, priv.pod_on(*pod)) for case, pod in cases.items()}
        asked = nc.provider_requests(reconfigurable, pp.since)
    requests = pp.requests()
    users = priv.users_by_node([r for r in requests if r["host"] == nc.PROVIDER_HOST])
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
