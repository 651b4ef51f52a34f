"""Annotations (doc 003: "注解").

Annotations are key/value pairs on pods and other objects, like labels, but meant for tools rather than for
identifying objects: nothing selects by them. kubectl annotate adds, changes and removes them; the documentation
also states rules for their keys, values and size.

Pods that only need to exist are held by a scheduling gate (never scheduled, nothing runs); checks of what the API
accepts are server-side dry runs.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from kubernetes import client

from k8s_doc_conformance.fixtures import metadata_checks, pods
from k8s_doc_conformance.fixtures.apicalls import (
    STRICT_VALIDATION,
    dry_run_configmap,
    key_twice_configmap,
    raw_post,
    rejection,
)
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.signatures import Kubectl

TOTAL_LIMIT = 256 * 1024  # "256KB", read as 256 KiB


@pytest.mark.claim("ANN-NO-SELECTOR")
def test_there_is_no_annotation_selector(
    core: client.CoreV1Api, namespace: str, busybox_image: str, evidence: Evidence
) -> None:
    """ "Annotations are also key-value pairs, but unlike labels they are not meant to hold identifying
    information, and there is no such thing as an annotation selector." A pod annotated k8sdc.io/owner=alice: label
    selectors on that key select nothing, and field selectors on annotations are refused."""
    core.create_namespaced_pod(
        namespace, pods.held_pod("annotated", busybox_image, annotations={"k8sdc.io/owner": "alice"})
    )
    core.create_namespaced_pod(namespace, pods.held_pod("plain", busybox_image))
    by_label = {
        selector: sorted(p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=selector).items)
        for selector in ("k8sdc.io/owner=alice", "k8sdc.io/owner")
    }
    by_field = {
        selector: metadata_checks.outcome(
            rejection(partial(core.list_namespaced_pod, namespace, field_selector=selector))
        )
        for selector in ("metadata.annotations.k8sdc.io/owner=alice", "metadata.annotations['k8sdc.io/owner']=alice")
    }
    stored = core.read_namespaced_pod("annotated", namespace).metadata.annotations
    evidence.observe(
        documented="no selector finds the pod by its annotation",
        observed={"annotations": stored, "label selectors": by_label, "field selectors": by_field},
    )
    assert stored == {"k8sdc.io/owner": "alice"}, stored
    assert all(not found for found in by_label.values()), f"a label selector found the annotated pod: {by_label}"
    assert all(o.startswith("rejected 400") for o in by_field.values()), f"a field selector on annotations: {by_field}"


@pytest.mark.claim("ANN-KUBECTL-OPERATIONS")
def test_kubectl_adds_changes_removes_and_describes_annotations(
    core: client.CoreV1Api, namespace: str, busybox_image: str, kubectl: Kubectl, evidence: Evidence
) -> None:
    """ "kubectl annotate pod my-pod my-annotation=my-value # add; kubectl describe pod my-pod # view; kubectl
    annotate pod my-pod my-annotation=new-value --overwrite # modify; kubectl annotate pod my-pod my-annotation- #
    remove\""""
    core.create_namespaced_pod(namespace, pods.held_pod("my-pod", busybox_image))

    def mine() -> dict[str, str]:
        found = core.read_namespaced_pod("my-pod", namespace).metadata.annotations or {}
        return {k: v for k, v in found.items() if k == "my-annotation"}

    def described() -> list[str]:
        """describe's lines naming my-annotation, without the "Annotations:" heading and column padding."""
        out = kubectl("describe", "pod", "my-pod", "-n", namespace).stdout
        return [
            " ".join(line.removeprefix("Annotations:").split()) for line in out.splitlines() if "my-annotation" in line
        ]

    observed: dict[str, Any] = {}
    for step, args in (
        ("add", ["my-annotation=my-value"]),
        ("modify", ["my-annotation=new-value", "--overwrite"]),
        ("remove", ["my-annotation-"]),
    ):
        kubectl("annotate", "pod", "my-pod", "-n", namespace, *args)
        observed[step] = {"annotations": mine(), "describe": described()}
    documented = {
        "add": {"annotations": {"my-annotation": "my-value"}, "describe": ["my-annotation: my-value"]},
        "modify": {"annotations": {"my-annotation": "new-value"}, "describe": ["my-annotation: new-value"]},
        "remove": {"annotations": {}, "describe": []},
    }
    evidence.observe(documented=documented, observed=observed)
    wrong = {step: got for step, got in observed.items() if got != documented[step]}
    assert not wrong, f"not as documented: {wrong}"


@pytest.mark.claim("ANN-VALUE-TYPES")
def test_annotation_values_can_be_strings_booleans_and_integers(
    api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """ "Annotations are a set of key-value pairs where the key is a string and the value can be a string, boolean,
    integer or other type." Objects whose annotation value is each of these JSON types, created (dry run)."""
    values: dict[str, str] = {"string": '"manual"', "boolean": "true", "integer": "1", "number": "1.5"}
    observed: dict[str, str] = {}
    for kind, value in values.items():
        body = (
            '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typed", "annotations": '
            f'{{"k8sdc.io/value": {value}}}}}}}'
        ).encode()
        status, answer, _ = raw_post(
            api_client, f"/api/v1/namespaces/{namespace}/configmaps", body, [("dryRun", "All")]
        )
        if status == 201:
            observed[kind] = f"accepted, stored as {answer['metadata']['annotations']['k8sdc.io/value']!r}"
        else:
            observed[kind] = f"rejected {status}: {answer.get('message')}"
    evidence.observe(
        documented={kind: "accepted" for kind in values},
        observed=observed,
        sent={kind: f'"k8sdc.io/value": {value}' for kind, value in values.items()},
    )
    refused = {kind: o for kind, o in observed.items() if not o.startswith("accepted")}
    assert not refused, f"annotation values refused: {refused}"


@pytest.mark.claim("ANN-KEY-RULES")
def test_annotation_keys_are_unique_and_without_special_characters(
    core: client.CoreV1Api, api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """ "Annotation keys must be unique and must not contain spaces, tabs or other special characters." Keys with a
    space, a tab or another special character are refused, ordinary keys (the doc's deployment.kubernetes.io/revision
    among them) accepted; a manifest giving a key twice still gives the object one value for the key (that strict
    field validation refuses such a manifest: the test below)."""
    refused_keys = {
        "space": "my key",
        "tab": "my\tkey",
        "newline": "my\nkey",
        **{f"'{c}'": f"my{c}key" for c in "@#$%&*!:=,;?+~\"'()[]{}<>|\\^`"},
    }
    accepted_keys = ["my-annotation", "my_annotation", "deployment.kubernetes.io/revision", "example.com/Owner.Name"]
    observed_refused = {
        case: metadata_checks.outcome(metadata_checks.annotated(core, namespace, {key: "v"}))
        for case, key in refused_keys.items()
    }
    observed_accepted = {
        key: metadata_checks.outcome(metadata_checks.annotated(core, namespace, {key: "v"})) for key in accepted_keys
    }
    manifest = key_twice_configmap("annotations", "my-annotation", "one", "two")
    default = dry_run_configmap(api_client, namespace, manifest)
    stored = default[1].get("metadata", {}).get("annotations") if default[0] == 201 else None
    evidence.attach("keys with special characters", observed_refused)
    evidence.observe(
        documented="special-character keys refused; ordinary keys accepted; a key holds one value",
        observed={
            "special-character keys accepted": [k for k, o in observed_refused.items() if o == "accepted"],
            "ordinary keys": observed_accepted,
            "key twice, default validation": {"status": default[0], "stored": stored, "warnings": default[2]},
        },
    )
    assert all(o.startswith("rejected 422") for o in observed_refused.values()), {
        case: o for case, o in observed_refused.items() if not o.startswith("rejected 422")
    }
    assert all(o == "accepted" for o in observed_accepted.values()), observed_accepted
    assert default[0] == 201, default[1]
    assert list(stored or {}) == ["my-annotation"], f"the object holds {stored}"


@pytest.mark.claim("ANN-KEY-RULES")
@pytest.mark.since(*STRICT_VALIDATION)
def test_strict_field_validation_refuses_an_annotation_key_given_twice(
    api_client: client.ApiClient, namespace: str, evidence: Evidence
) -> None:
    """ "Annotation keys must be unique." A manifest naming an annotation key twice is refused (400, duplicate
    field) when the client asks for strict field validation."""
    status, body = metadata_checks.key_twice_under_strict_validation(
        api_client, namespace, "annotations", "my-annotation", ("one", "two"), evidence
    )
    assert status == 400 and "duplicate field" in str(body.get("message")), body


@pytest.mark.claim("ANN-VALUE-NO-NEWLINE")
def test_annotation_values_are_any_string_without_newlines(
    core: client.CoreV1Api, namespace: str, evidence: Evidence
) -> None:
    """ "An annotation value can be any string, but must not contain newlines.\""""
    any_strings = {
        "words": "created by alice",
        "tab": "a\tb",
        "punctuation": "!@#$%^&*()[]{}<>|\\/\"'`~;:,.?=+",
        "unicode": "注解 ✓ ünïcødé",
        "JSON": '{"revision": 1, "tags": ["a", "b"]}',
        "empty": "",
    }
    with_newlines = {"\\n": "line one\nline two", "\\r\\n": "line one\r\nline two", "trailing \\n": "value\n"}
    accepted = {
        case: metadata_checks.outcome(metadata_checks.annotated(core, namespace, {"k8sdc.io/note": v}))
        for case, v in any_strings.items()
    }
    newline = {
        case: metadata_checks.outcome(metadata_checks.annotated(core, namespace, {"k8sdc.io/note": v}))
        for case, v in with_newlines.items()
    }
    evidence.observe(
        documented={
            "any string": {case: "accepted" for case in any_strings},
            "with a newline": {case: "rejected" for case in with_newlines},
        },
        observed={"any string": accepted, "with a newline": newline},
    )
    assert all(o == "accepted" for o in accepted.values()), f"strings refused: {accepted}"
    taken = [case for case, o in newline.items() if o == "accepted"]
    assert not taken, f"values with newlines accepted (and stored unchanged): {taken}"


@pytest.mark.claim("ANN-SIZE-LIMIT-256KB")
def test_annotation_size_is_limited_to_256kb(core: client.CoreV1Api, namespace: str, evidence: Evidence) -> None:
    """ "Annotation size is limited to 256 KB. This means you cannot store large amounts of data in annotations."
    An annotation of 256 KiB (key and value) is accepted, one byte more is refused, so is 1 MiB; two annotations of
    200 KiB each are each within the limit."""
    key = "k8sdc.io/data"
    cases: dict[str, tuple[dict[str, str], bool]] = {  # case: (annotations, accepted by the documented limit)
        "one annotation of 262144 bytes": ({key: "x" * (TOTAL_LIMIT - len(key))}, True),
        "one annotation of 262145 bytes": ({key: "x" * (TOTAL_LIMIT - len(key) + 1)}, False),
        "one annotation of 1 MiB": ({key: "x" * (1 << 20)}, False),
        "two annotations of 200 KiB each": (
            {f"k8sdc.io/part-{i}": "x" * (200 * 1024 - len("k8sdc.io/part-0")) for i in range(2)},
            True,
        ),
    }
    observed = {
        case: metadata_checks.outcome(metadata_checks.annotated(core, namespace, anns))
        for case, (anns, _) in cases.items()
    }
    documented = {case: "accepted" if ok else "rejected" for case, (_, ok) in cases.items()}
    sizes = {case: sum(len(k) + len(v) for k, v in anns.items()) for case, (anns, _) in cases.items()}
    evidence.observe(documented=documented, observed=observed, bytes_of_keys_and_values=sizes)
    wrong = {
        case: observed[case]
        for case in cases
        if observed[case].startswith("accepted") != (documented[case] == "accepted")
    }
    assert not wrong, f"not as a 256 KB limit per annotation says: {wrong}"
