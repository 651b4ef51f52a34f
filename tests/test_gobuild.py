"""Pure parts of the Go builds: wrapper go.mod generation, version flags, kubeadm's image list."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.nodeimage import gobuild, openapi

UPSTREAM_GO_MOD = """module k8s.io/kubernetes

go 1.25.0

godebug default=go1.25

require (
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/cri-api => ./staging/src/k8s.io/cri-api
)
"""

KUBEADM_LIST = """W1122 01:00:00.000000    1 version.go:104] could not fetch a Kubernetes version from the internet
registry.k8s.io/kube-apiserver:v1.35.4
registry.k8s.io/kube-controller-manager:v1.35.4
registry.k8s.io/kube-scheduler:v1.35.4
registry.k8s.io/kube-proxy:v1.35.4
registry.k8s.io/coredns/coredns:v1.13.1
registry.k8s.io/pause:3.10.1
registry.k8s.io/etcd:3.6.6-0
"""


def test_staging_replaces_point_at_published_versions() -> None:
    assert gobuild.staging_replaces(UPSTREAM_GO_MOD, "v1.35.4") == [
        "k8s.io/api => k8s.io/api v0.35.4",
        "k8s.io/client-go => k8s.io/client-go v0.35.4",
        "k8s.io/cri-api => k8s.io/cri-api v0.35.4",
    ]


def test_staging_replaces_refuse_a_go_mod_without_staging() -> None:
    with pytest.raises(ValueError):
        gobuild.staging_replaces("module x\n", "v1.35.4")


@pytest.mark.parametrize("bad", ["1.35.4", "v1.35", "v2.0.0", "v1.35.4-rc.0"])
def test_staging_version_rejects_non_releases(bad: str) -> None:
    with pytest.raises(ValueError):
        gobuild.staging_version(bad)


def test_godebug_lines_are_kept() -> None:
    assert gobuild.godebug_lines(UPSTREAM_GO_MOD) == ["godebug default=go1.25"]
    block = "godebug (\n\tdefault=go1.24\n\tx509sha1=1\n)\n"
    assert gobuild.godebug_lines(block) == ["godebug (", "\tdefault=go1.24", "\tx509sha1=1", ")"]


def test_wrapper_go_mod_requires_and_replaces() -> None:
    text = gobuild.wrapper_go_mod("local/x", {"k8s.io/kubernetes": "v1.35.4"}, ["a => a v0.1.0"], [], "1.26")
    assert "require k8s.io/kubernetes v1.35.4" in text
    assert "replace (\n\ta => a v0.1.0\n)" in text
    assert text.startswith("module local/x\n\ngo 1.26\n")


def test_version_ldflags_set_both_version_packages() -> None:
    flags = gobuild.version_ldflags("v1.35.4")
    assert "-X k8s.io/component-base/version.gitVersion=v1.35.4" in flags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=35" in flags


def test_image_list_parsing_skips_noise() -> None:
    refs = gobuild.parse_image_list(KUBEADM_LIST)
    assert len(refs) == 7
    assert gobuild.image_tag(refs, "etcd") == "3.6.6-0"
    assert gobuild.image_tag(refs, "coredns") == "v1.13.1"
    assert gobuild.image_tag(refs, "pause") == "3.10.1"


def test_image_list_parsing_fails_on_no_images() -> None:
    with pytest.raises(ValueError):
        gobuild.parse_image_list("error: something went wrong\n")


def test_openapi_inputs_are_the_tagged_packages(tmp_path: Path) -> None:
    """Upstream's KUBE_OPENAPI_DIRS: a package with a ``// +k8s:`` line mentioning ``+k8s:openapi-gen=`` (any value),
    outside ``_*``, ``.*`` and ``vendor``."""
    files = {
        "kube/pkg/apis/core/v1/doc.go": "// +k8s:openapi-gen=true\npackage v1\n",
        "kube/pkg/apis/off/doc.go": "// +k8s:openapi-gen=false\npackage off\n",
        "kube/pkg/apis/deepcopy/doc.go": "// +k8s:deepcopy-gen=package\npackage deepcopy\n",
        "kube/pkg/prose/doc.go": "// see +k8s:openapi-gen=true in the docs\npackage prose\n",
        "kube/vendor/x/doc.go": "// +k8s:openapi-gen=true\npackage x\n",
        "kube/_output/y/doc.go": "// +k8s:openapi-gen=true\npackage y\n",
        "api/doc.go": "// +k8s:openapi-gen=true\npackage api\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    roots = {"k8s.io/kubernetes": tmp_path / "kube", "k8s.io/api": tmp_path / "api"}
    assert openapi.input_packages(roots) == [
        "k8s.io/api",
        "k8s.io/kubernetes/pkg/apis/core/v1",
        "k8s.io/kubernetes/pkg/apis/off",
    ]


def test_openapi_violations_must_match_upstreams_list() -> None:
    assert openapi.report_differences("a\nb\n", "b\na\n") == []
    assert openapi.report_differences("a\nc\n", "a\nb\n") == ["+ c", "- b"]


def test_openapi_is_generated_only_where_the_module_lacks_it(tmp_path: Path) -> None:
    assert openapi.needed(tmp_path)
    (tmp_path / openapi.GENERATED).parent.mkdir(parents=True)
    (tmp_path / openapi.GENERATED).write_text("package openapi\n")
    assert not openapi.needed(tmp_path)
