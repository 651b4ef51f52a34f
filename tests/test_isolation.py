"""Through --kubeconfig, a run creates nothing outside its own namespaces."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, dynamic

from k8s_doc_conformance.fixtures import target
from k8s_doc_conformance.fixtures.registry.shared import RunRegistries

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.cluster, pytest.mark.alone]
# Objects that change on their own while the cluster runs (heartbeats, events) are not "created by the run".
CHURN = {"Event", "Lease", "EndpointSlice", "Endpoints"}


def snapshot(api_client: client.ApiClient, skip_namespaces: set[str]) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every listable object outside ``skip_namespaces``."""
    dyn = dynamic.DynamicClient(api_client)
    seen: set[tuple[str, str, str]] = set()
    for resource in dyn.resources.search():
        if "list" not in (resource.verbs or []) or "/" in resource.name or resource.kind in CHURN:
            continue
        try:
            items = resource.get().items
        except Exception:
            continue
        for item in items:
            ns = item.metadata.namespace or ""
            if resource.kind == "IPAddress":  # a Service's ClusterIP allocation belongs to the Service's namespace
                ns = getattr(getattr(item.spec, "parentRef", None), "namespace", None) or ns
            if ns not in skip_namespaces:
                seen.add((resource.kind, ns, item.metadata.name))
    return seen


def test_run_through_kubeconfig_creates_nothing_outside_its_namespace(
    cluster: target.ClusterTarget, api_client: client.ApiClient, core: client.CoreV1Api, registries: RunRegistries
) -> None:
    """The suite's own cluster, reached as any cluster would be: --kubeconfig, and --registry for test images."""
    run_id = f"isolation-{uuid.uuid4().hex[:6]}"

    def suite_namespaces() -> set[str]:
        selector = "app.kubernetes.io/managed-by=k8s-doc-conformance"
        return {ns.metadata.name for ns in core.list_namespace(label_selector=selector).items}

    before = snapshot(api_client, suite_namespaces())
    command = [
        *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", f"--run-id={run_id}"),
        *(f"--kubeconfig={cluster.kubeconfig}", "--claim=ENV-DOWNWARD-NAME-NAMESPACE", "conformance"),
        *(f"--registry={registries.open.ip}", f"--registry-ca={registries.open.ca_cert}"),
    ]
    proc = subprocess.run(
        command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=False
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0 and "passed" in summary and "skipped" not in summary, proc.stdout[-3000:]
    ours = {ns.metadata.name for ns in core.list_namespace(label_selector=f"k8sdc.io/run={run_id}").items}
    skip = suite_namespaces()
    after = snapshot(api_client, skip)
    # Other workers of this run create and delete their namespaces while the snapshot lists objects: a namespace
    # that appeared meanwhile is labelled now, one that went away was transient. Neither is this run's leak.
    skip |= ours | suite_namespaces()
    existing = {ns.metadata.name for ns in core.list_namespace().items}

    def transient(obj: tuple[str, str, str]) -> bool:
        kind, ns, name = obj
        if kind == "Namespace":
            return name in skip or name not in existing
        return ns in skip or (ns != "" and ns not in existing)

    # the run's namespaces are its own (and other concurrent runs' are theirs); anything else new is a leak
    created = {obj for obj in after - before if not transient(obj)}
    assert not created, sorted(created)
