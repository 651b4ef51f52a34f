"""fixtures/admission.py without a cluster: the second API server's admission chain, with a plugin added (our
server lacks it) or left out (our server enables it: the baseline of IMG-DEF-ALWAYSPULLIMAGES)."""

from __future__ import annotations

from typing import Any

from k8s_doc_conformance.fixtures import admission

SOURCE = {
    "metadata": {"name": "kube-apiserver"},
    "spec": {
        "containers": [
            {
                "name": "kube-apiserver",
                "command": [
                    "kube-apiserver",
                    "--enable-admission-plugins=NodeRestriction,AlwaysPullImages",
                    "--disable-admission-plugins=RuntimeClass",
                    "--secure-port=6443",
                ],
            }
        ]
    },
}


def command(manifest: dict[str, Any]) -> list[str]:
    return [a for a in manifest["spec"]["containers"][0]["command"] if "admission" in a]


def test_a_plugin_added_keeps_the_servers_own_chain() -> None:
    manifest = admission.second_manifest(SOURCE, ["DefaultTolerationSeconds"], port=7443)
    assert command(manifest) == [
        "--enable-admission-plugins=NodeRestriction,AlwaysPullImages,DefaultTolerationSeconds",
        "--disable-admission-plugins=RuntimeClass",
    ]
    assert "--secure-port=7443" in manifest["spec"]["containers"][0]["command"]


def test_a_plugin_left_out_is_disabled_and_no_longer_enabled() -> None:
    manifest = admission.second_manifest(SOURCE, [], disable=["AlwaysPullImages"])
    assert command(manifest) == [
        "--enable-admission-plugins=NodeRestriction",
        "--disable-admission-plugins=RuntimeClass,AlwaysPullImages",
    ]
    assert admission.plugins_of(manifest) == ("NodeRestriction",)
