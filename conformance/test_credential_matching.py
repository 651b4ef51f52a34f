"""config.json ``auths`` key matching (docs 000, 001, 002: "config.json 说明"; 004 has no such section).

"在 Docker 中,auths 键只能指定根 URL,而 Kubernetes 允许 glob URLs 以及前缀匹配的路径。" (In Docker the auths keys
can only be root URLs; Kubernetes allows glob URLs and prefix-matched paths.) Every example of every document
version and the grammar of 000/002 become rows: a pull secret whose ``auths`` keys are the row's patterns (one user
per key) and a pod pulling one image from the auth registry under one of its names. Observed through the registry's
log: which user, if any, the kubelet's credentials authenticated as (fixtures/credential_matrix.py).

The documents' ``my-registry.io`` and ``kubernetes.io`` are the registry's ``my-registry.test`` and
``kubernetes.test``; each row's repositories sit below a unique prefix (``{p}``), which the evidence leaves out.
"""

from __future__ import annotations

import pytest

from k8s_doc_conformance.fixtures import credential_matrix as cm
from k8s_doc_conformance.fixtures.credential_matrix import (
    ALL,
    OLD,
    Entry,
    K,
    M,
    Row,
    RowRunner,
    alice,
    check_rows,
    fallback_keys,
    grammar_row,
    says,
)
from k8s_doc_conformance.fixtures.evidence import Evidence
from k8s_doc_conformance.fixtures.signatures import NodeExec

PATH_PREFIX_ROWS = (
    Row(
        "root-key",
        alice(M),
        f"{M}/{{p}}/app",
        says(ALL, True),
        note="control: a root URL key (all Docker allows) covers every repository of the host",
    ),
    Row("images", alice(f"{M}/{{p}}/images"), f"{M}/{{p}}/images", says(ALL, True)),
    Row("images-my-image", alice(f"{M}/{{p}}/images"), f"{M}/{{p}}/images/my-image", says(ALL, True)),
    Row("images-another", alice(f"{M}/{{p}}/images"), f"{M}/{{p}}/images/another-image", says(ALL, True)),
    Row(
        "other-path",
        alice(f"{M}/{{p}}/images"),
        f"{M}/{{p}}/other/img",
        says(ALL, False),
        note="a key with a path covers only the paths it prefixes",
    ),
    Row(
        "images-extra",
        alice(f"{M}/{{p}}/images"),
        f"{M}/{{p}}/images-extra/x",
        note="no document says: the path prefix is a plain string prefix, not a path-segment prefix",
    ),
    Row(
        "images-slash-extra",
        alice(f"{M}/{{p}}/images/"),
        f"{M}/{{p}}/images-extra/x",
        note="no document says: a trailing slash on the key restricts the prefix to the images/ segment",
    ),
)


@pytest.mark.claim("GLOB-PATH-PREFIX")
def test_auths_keys_match_path_prefixes(run_rows: RowRunner, evidence: Evidence) -> None:
    """GLOB-PATH-PREFIX: "Kubernetes 允许 glob URLs 以及前缀匹配的路径": the key ``R/images`` covers ``R/images``,
    ``R/images/my-image`` and ``R/images/another-image``, not ``R/other/img`` (``R/images-extra/x`` recorded)."""
    results = run_rows(PATH_PREFIX_ROWS)
    check_rows("GLOB-PATH-PREFIX", results, evidence)


AS_WRITTEN = "001 as written (zh: negation 不 dropped)"
LABEL_COUNT_ROWS = (
    Row(
        "star-dot-k-vs-k",
        alice(f"*.{K}"),
        f"{K}/{{p}}/app",
        {"001": False},
        {AS_WRITTEN: True},
        note="001: '*.kubernetes.io 会匹配 kubernetes.io,但会匹配 abc.kubernetes.io' (English: will NOT match)",
    ),
    Row("star-dot-k-vs-abc", alice(f"*.{K}"), f"abc.{K}/{{p}}/app", {"001": True}),
    Row(
        "star-star-k-vs-abc",
        alice(f"*.*.{K}"),
        f"abc.{K}/{{p}}/app",
        {"001": False},
        {AS_WRITTEN: True},
        note="001: '*.*.kubernetes.io 会匹配 abc.kubernetes.io,但会匹配 abc.def.kubernetes.io' (English: will NOT)",
    ),
    Row("star-star-k-vs-abc-def", alice(f"*.*.{K}"), f"abc.def.{K}/{{p}}/app", {"001": True}),
    Row("prefix-star-tld", alice("prefix.*.test"), f"prefix.{K}/{{p}}/app", {"001": True}),
    Row("star-good", alice(f"*-good.{K}"), f"prefix-good.{K}/{{p}}/app", {"001": True}),
    Row(
        "star-dot-k-vs-abc-def",
        alice(f"*.{K}"),
        f"abc.def.{K}/{{p}}/app",
        {"001": False},
        note="the rule: the number of matched subdomains must equal the number of '*.'",
    ),
)


@pytest.mark.claim("GLOB-HOST-LABEL-COUNT")
def test_a_glob_matches_one_subdomain_per_star_dot(run_rows: RowRunner, evidence: Evidence) -> None:
    """GLOB-HOST-LABEL-COUNT (001): "匹配的子域名数量必须等于 glob 模式(*.)的数量": ``*.kubernetes.io`` matches
    abc.kubernetes.io but not kubernetes.io; ``*.*.kubernetes.io`` matches abc.def.kubernetes.io but not
    abc.kubernetes.io; ``prefix.*.io`` matches prefix.kubernetes.io; ``*-good.kubernetes.io`` matches
    prefix-good.kubernetes.io. Asserted in the English meaning; the zh text as written is recorded per row."""
    results = run_rows(LABEL_COUNT_ROWS)
    check_rows("GLOB-HOST-LABEL-COUNT", results, evidence)


EXAMPLE_001_KEYS = (Entry(f"{M}/{{p}}/images", "alice"), Entry(f"*.{M}/{{p}}/images", "bob"))
EXAMPLE_001_ROWS = (
    Row("ex1-images", EXAMPLE_001_KEYS, f"{M}/{{p}}/images", {"001": True}),
    Row("ex1-my-image", EXAMPLE_001_KEYS, f"{M}/{{p}}/images/my-image", {"001": True}),
    Row("ex1-another-image", EXAMPLE_001_KEYS, f"{M}/{{p}}/images/another-image", {"001": True}),
    Row("ex1-sub", EXAMPLE_001_KEYS, f"sub.{M}/{{p}}/images/my-image", {"001": True}),
    Row("ex1-a-sub", EXAMPLE_001_KEYS, f"a.sub.{M}/{{p}}/images/my-image", {"001": False}),
    Row("ex1-a-b-sub", EXAMPLE_001_KEYS, f"a.b.sub.{M}/{{p}}/images/my-image", {"001": False}),
)


@pytest.mark.claim("GLOB-EXAMPLE-001")
def test_example_of_001(run_rows: RowRunner, evidence: Evidence) -> None:
    """GLOB-EXAMPLE-001: with keys ``my-registry.io/images`` and ``*.my-registry.io/images``, my-registry.io/images,
    .../images/my-image, .../images/another-image and sub.my-registry.io/images/my-image match ("会匹配成功"), and
    a.sub.my-registry.io/images/my-image and a.b.sub.my-registry.io/images/my-image do not ("但这些不会匹配成功")."""
    results = run_rows(EXAMPLE_001_ROWS)
    check_rows("GLOB-EXAMPLE-001", results, evidence)


EXAMPLE_000_KEY = alice(f"*{M}/{{p}}/images")
EXAMPLE_000_ROWS = (
    Row("ex0-images", EXAMPLE_000_KEY, f"{M}/{{p}}/images", says(OLD, True)),
    Row("ex0-my-image", EXAMPLE_000_KEY, f"{M}/{{p}}/images/my-image", says(OLD, True)),
    Row("ex0-another-image", EXAMPLE_000_KEY, f"{M}/{{p}}/images/another-image", says(OLD, True)),
    Row(
        "ex0-sub",
        EXAMPLE_000_KEY,
        f"sub.{M}/{{p}}/images/my-image",
        says(OLD, True),
        note="001 drops this key; with its key *.my-registry.io/images the same image matches",
    ),
    Row(
        "ex0-a-sub",
        EXAMPLE_000_KEY,
        f"a.sub.{M}/{{p}}/images/my-image",
        says(OLD, True),
        note="001 lists this image as NOT matching (with its keys)",
    ),
)


@pytest.mark.claim("GLOB-EXAMPLE-000")
def test_example_of_000_and_002(run_rows: RowRunner, evidence: Evidence) -> None:
    """GLOB-EXAMPLE-000 (000, 002): the key ``*my-registry.io/images`` matches my-registry.io/images,
    .../images/my-image, .../images/another-image, sub.my-registry.io/images/my-image and
    a.sub.my-registry.io/images/my-image ("例如下面的容器镜像名称会匹配成功")."""
    results = run_rows(EXAMPLE_000_ROWS)
    check_rows("GLOB-EXAMPLE-000", results, evidence)


SYNTAX_ROWS = (
    grammar_row("star-label", "*.test", True, "'*' matches any sequence of non-separator characters"),
    grammar_row("star-part", "my-*.test", True, "'*' inside a label"),
    grammar_row("question", "my-registr?.test", True, "'?' matches any single non-separator character"),
    grammar_row("class-set", "my-regis[xt]ry.test", True, "'[' character set ']'"),
    grammar_row("class-range", "my-regist[q-s]y.test", True, "lo '-' hi matches a character between lo and hi"),
    grammar_row("class-range-miss", "my-regist[a-c]y.test", False, "a range that excludes the character"),
    grammar_row("negated", "my-regist[^a-c]y.test", True, "'[' '^' ... ']' matches a character not in the class"),
    grammar_row("negated-miss", "my-regist[^q-s]y.test", False, "a negated class containing the character"),
    grammar_row("escape", "my\\-registry.test", True, "'\\\\' c matches the character c"),
)


@pytest.mark.claim("GLOB-PATTERN-SYNTAX")
def test_host_pattern_grammar(run_rows: RowRunner, evidence: Evidence, kubelet_log: NodeExec | None) -> None:
    """GLOB-PATTERN-SYNTAX (000, 002): "使用以下语法匹配根 URL": ``*``, ``?``, ``[...]``, ``[^...]`` with ``lo-hi``
    ranges and ``\\c`` escapes, each as an auths key for my-registry.test. Where the nodes are reachable, the
    kubelet's own log says which keys it dropped as invalid."""
    results = run_rows(SYNTAX_ROWS)
    if kubelet_log is not None:
        evidence.attach("kubelet: keys dropped as invalid", cm.kubelet_rejections(results, kubelet_log))
    check_rows("GLOB-PATTERN-SYNTAX", results, evidence)


PORT = 443
PORT_ROWS = (
    Row(
        "port-both",
        alice(f"{M}:{PORT}"),
        f"{M}:{PORT}/{{p}}/app",
        says(OLD, True),
        note="a URL key with a port covers images named with the same host:port",
    ),
    Row(
        "port-key-only",
        alice(f"{M}:{PORT}"),
        f"{M}/{{p}}/app",
        note="no document says: the key names port 443 (the https default), the image names no port",
    ),
    Row(
        "port-image-only",
        alice(M),
        f"{M}:{PORT}/{{p}}/app",
        note="no document says: the key names no port, the image names port 443",
    ),
)


@pytest.mark.claim("GLOB-PATH-PREFIX")
def test_ports_in_auths_keys(run_rows: RowRunner, evidence: Evidence) -> None:
    """GLOB-PATH-PREFIX: auths keys are URLs, so a key ``host:port`` matches images named ``host:port/...``
    (documents 000/002 name ports in keys; rows no document covers are recorded, not asserted). The nodes trust
    ``my-registry.test:443`` (fixtures/registry/shared.py: containerd's certs.d has a directory per host:port)."""
    results = run_rows(PORT_ROWS)
    check_rows("GLOB-PATH-PREFIX", results, evidence)


FALLBACK_IMAGE = f"{M}/{{p}}/images/subpath/my-image"


FALLBACK_ROWS = (
    Row("subpath-wrong", fallback_keys(True, False), FALLBACK_IMAGE, says(ALL, True)),
    Row("images-wrong", fallback_keys(False, True), FALLBACK_IMAGE, says(ALL, True)),
    Row("both-wrong", fallback_keys(False, False), FALLBACK_IMAGE, says(ALL, True), note="control: nothing can pull"),
)


@pytest.mark.claim("GLOB-SEQUENTIAL-FALLBACK")
def test_every_matching_credential_is_tried_in_turn(run_rows: RowRunner, evidence: Evidence) -> None:
    """GLOB-SEQUENTIAL-FALLBACK: "kubelet 为每个找到的凭据的镜像按顺序拉取" — with keys ``my-registry.io/images`` and
    ``my-registry.io/images/subpath``, "如果一个容器指定了要拉取的镜像 my-registry.io/images/subpath/my-image,
    并且其中一个失败,kubelet 将尝试从另一个身份验证源下载镜像". One key of the two has a wrong password: the pull
    still succeeds. With both wrong (control) nothing pulls, and the registry saw both users tried."""
    results = run_rows(FALLBACK_ROWS)
    by_name = {r.row.name: r for r in results}
    observed = {
        name: {"pod": r.outcome, "authenticated": r.users, "refused (wrong password)": r.attempted}
        for name, r in by_name.items()
    }
    evidence.observe(
        documented={
            "subpath-wrong": "pulled",
            "images-wrong": "pulled",
            "both-wrong": "not pulled, both credentials tried",
        },
        observed=observed,
    )
    control = by_name["both-wrong"]
    assert control.outcome in cm.PULL_FAILED and control.attempted == ["alice", "bob"], (
        f"GLOB-SEQUENTIAL-FALLBACK: the control (both passwords wrong) did not fail with both users tried: {observed}"
    )
    failed = [n for n in ("subpath-wrong", "images-wrong") if by_name[n].outcome != "pulled"]
    assert not failed, (
        f"GLOB-SEQUENTIAL-FALLBACK: with one of two matching credentials wrong the pull did not fall back to the "
        f"other: {'; '.join(f'{n}: {observed[n]}' for n in failed)}"
    )
