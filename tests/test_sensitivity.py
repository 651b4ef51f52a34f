"""fixtures/sensitivity without a cluster: the profile catalogue (every profile names real claims, one change, a
verdict that is a flip), the edits a profile makes (flags, KubeletConfiguration), the journal a Ctrl-C leaves, and
the scoring (a required flip missed, a change outside the profile counted as a false alarm)."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest
import yaml

from k8s_doc_conformance.fixtures import paths, verdicts
from k8s_doc_conformance.fixtures.registry import mirror
from k8s_doc_conformance.fixtures.registry import nodes as registry_nodes
from k8s_doc_conformance.fixtures.sensitivity import __main__, catalogue, changes, score

CLAIMS = verdicts.load_catalogue(verdicts.DEFAULT_CATALOGUE)
EXPECTATIONS = verdicts.load_expectations(paths.EXPECTED / "1.35.yaml", CLAIMS)


def test_the_committed_profiles_load_and_each_flip_changes_an_expected_verdict() -> None:
    profiles = catalogue.load(catalogue.DEFAULT_PROFILES, CLAIMS)
    assert profiles
    for p in profiles:
        assert score.not_flips(p, EXPECTATIONS, CLAIMS) == [], p.id
        assert {CLAIMS[c].area for c in p.flips} <= set(p.runs), f"{p.id}: a flipped claim's area is not run"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{flips: {NO-SUCH-CLAIM: deviates}, restart: [kube-scheduler]}", "flips.NO-SUCH-CLAIM: no such claim"),
        ("{flips: {NS-QUOTA-COMPUTE: broken}, restart: [kube-scheduler]}", "'broken' is not one of"),
        ("{flips: {}}", "needs exactly one change"),
        ("{restart: [etcd]}", "must list components of"),
        ("{objects: [{kind: ClusterRoleBinding, metadata: {name: admin}}]}", "starting 'k8sdc-'"),
        ("{apiserver-flags: {set: {v: 4}}}", "must map flag names"),
        ("{node-credentials: {user: alice, password: x}}", "needs 'user'"),
        ("{node-credentials: {user: alice, hosts: my-registry.test}}", "hosts: must list auths keys"),
        ("{node-iptables: {table: nat, chain: POSTROUTING, rule: -j MASQUERADE}}", "'rule' a list of strings"),
        ("{registry-mirror: {platform: arm64}}", "needs 'platform'"),
        ("{registry-mirror: {platform: linux/arm64, tags: all}}", "needs 'platform'"),
    ],
)
def test_a_bad_profile_is_one_line_naming_where(tmp_path: Path, entry: str, message: str) -> None:
    profile = {"id": "P1", "area": "NS", "title": "t", "why": "w", **yaml.safe_load(entry)}
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump({"profiles": [profile]}))
    with pytest.raises(catalogue.ProfileError, match=message) as info:
        catalogue.load(path, CLAIMS)
    assert str(info.value).startswith(f"{path}: profiles[0] (P1)")


def test_runs_default_to_the_areas_of_the_flipped_claims(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        profiles:
          - id: P1
            area: NS
            title: t
            why: w
            apiserver-flags: {append: {disable-admission-plugins: ResourceQuota}}
            flips: {RC-OVERHEAD-SET-ON-POD: deviates}
        """,
    )
    (p,) = catalogue.load(path, CLAIMS)
    assert p.runs == ("NS", "RC")
    assert p.change == catalogue.StaticPodFlags("kube-apiserver", {}, {"disable-admission-plugins": "ResourceQuota"})


def profile(pid: str, change: catalogue.Change, runs: tuple[str, ...], **flips: str) -> catalogue.Profile:
    return catalogue.Profile(pid, runs[0], "t", "w", change, {k.replace("_", "-"): v for k, v in flips.items()}, runs)


def test_batches_keep_targets_and_areas_apart() -> None:
    api = catalogue.StaticPodFlags("kube-apiserver", {"v": "2"})
    kcm = catalogue.StaticPodFlags("kube-controller-manager", {"v": "2"})
    a = profile("A", api, ("RC",))
    b = profile("B", api, ("NS",))  # the same flag of the same component as A
    c = profile("C", kcm, ("RC",))  # same area as A
    d = profile("D", kcm, ("GC",))
    e = profile("E", catalogue.Restart(("kube-apiserver",)), ("POD",))  # restarts what A changes
    assert [[p.id for p in g] for g in catalogue.batches([a, b, c, d, e])] == [["A", "D"], ["B", "C"], ["E"]]


def test_node_credentials_name_a_user_not_a_password_and_share_the_kubelet_with_its_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        profiles:
          - id: P1
            area: IMG-BO
            title: t
            why: w
            node-credentials: {user: alice, hosts: ["*.my-registry.test"]}
            flips: {IMG-BO-CAUSE-NO-SECRET: deviates}
        """,
    )
    (p,) = catalogue.load(path, CLAIMS)
    assert p.change == catalogue.NodeCredentials("alice", ("*.my-registry.test",))
    settings = profile("K", catalogue.KubeletConfig({"serializeImagePulls": False}), ("IMG-PAR",))
    assert not catalogue.compatible(p, settings)  # both restart every worker's kubelet


def test_different_flags_of_one_static_pod_are_batched_and_written_together() -> None:
    off = "disable-admission-plugins"
    rc = profile("RC", catalogue.StaticPodFlags("kube-apiserver", append={off: "RuntimeClass"}), ("RC",))
    rq = profile("RQ", catalogue.StaticPodFlags("kube-apiserver", append={off: "ResourceQuota"}), ("NS",))
    again = profile("AGAIN", catalogue.StaticPodFlags("kube-apiserver", append={off: "RuntimeClass"}), ("HOOK",))
    gc = profile("GC", catalogue.StaticPodFlags("kube-controller-manager", {"controllers": "*"}), ("GC",))
    es = profile("ES", catalogue.StaticPodFlags("kube-controller-manager", {"batch": "15s"}), ("TERM",))
    assert [[p.id for p in g] for g in catalogue.batches([rc, rq, again, gc, es])] == [
        ["RC", "RQ", "GC", "ES"],
        ["AGAIN"],
    ]
    merged = catalogue.combined([rc.change, gc.change, rq.change, es.change])
    assert merged == [
        catalogue.StaticPodFlags("kube-apiserver", append={off: "RuntimeClass,ResourceQuota"}),
        catalogue.StaticPodFlags("kube-controller-manager", {"controllers": "*", "batch": "15s"}),
    ]
    _, command = changes.edit_flags(MANIFEST, {}, merged[0].append)  # type: ignore[union-attr]
    assert "--disable-admission-plugins=RuntimeClass,ResourceQuota" in command


MANIFEST = b"""\
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  containers:
  - name: kube-apiserver
    command: [kube-apiserver, --enable-admission-plugins=NodeRestriction, --secure-port=6443]
"""


def test_flag_edits_append_to_a_list_and_replace_a_value() -> None:
    new, command = changes.edit_flags(
        MANIFEST,
        {"secure-port": "7443"},
        {"enable-admission-plugins": "AlwaysPullImages", "disable-admission-plugins": "RuntimeClass"},
    )
    assert command == [
        "kube-apiserver",
        "--secure-port=7443",
        "--enable-admission-plugins=NodeRestriction,AlwaysPullImages",
        "--disable-admission-plugins=RuntimeClass",
    ]
    assert yaml.safe_load(new)["spec"]["containers"][0]["command"] == command


def test_kubelet_settings_merge_into_nested_mappings() -> None:
    base = {"featureGates": {"A": True}, "serializeImagePulls": True, "kind": "KubeletConfiguration"}
    merged = changes.merge(base, {"featureGates": {"B": False}, "serializeImagePulls": False})
    assert merged == {"featureGates": {"A": True, "B": False}, "serializeImagePulls": False, "kind": base["kind"]}


def test_the_journal_keeps_every_undo_step_on_disk_until_cleared(tmp_path: Path) -> None:
    journal = changes.Journal(tmp_path / "sub" / "k8sdc.journal")
    content = b"original bytes\n"
    step = {"kind": "file", "node": "n", "path": "/f", "sha256": changes.sha256(content)}
    journal.add({**step, "content": base64.b64encode(content).decode()})
    journal.add({"kind": "object", "manifest": {"kind": "ClusterRoleBinding", "metadata": {"name": "k8sdc-x"}}})
    again = changes.Journal(journal.path)  # what the next run reads after a Ctrl-C
    assert [s["kind"] for s in again.steps()] == ["file", "object"]
    assert base64.b64decode(again.steps()[0]["content"]) == content
    again.clear()
    assert journal.steps() == []


def entry(verdict: str, reason: str = "") -> dict[str, str]:
    return {"verdict": verdict, "reason": reason}


def test_score_counts_detected_missed_and_false_alarms_in_the_profiles_areas_only() -> None:
    p = profile(
        "P",
        catalogue.Restart(("kube-scheduler",)),
        ("RC",),
        RC_OVERHEAD_SET_ON_POD="deviates",
        RC_SCHEDULING_TOLERATIONS_MERGE="deviates",
    )
    claims = {
        "RC-OVERHEAD-SET-ON-POD": entry("deviates"),
        "RC-SCHEDULING-TOLERATIONS-MERGE": entry("conforms"),  # missed
        "RC-POD-USES-HANDLER": entry("error", "lookup broke"),  # outside the profile: a false alarm
        "NS-QUOTA-COMPUTE": entry("deviates"),  # an area the profile does not run: not its false alarm
        "RC-HANDLER-DNS-LABEL": entry("untested", verdicts.NOT_SELECTED_REASON),
    }
    result = score.ProfileResult(p)
    score.score(result, claims, CLAIMS, EXPECTATIONS)
    assert result.detected == {"RC-OVERHEAD-SET-ON-POD": "deviates"}
    assert result.missed == {"RC-SCHEDULING-TOLERATIONS-MERGE": "conforms"}
    assert result.false_alarms == {
        "RC-POD-USES-HANDLER": {"expected": "conforms", "observed": "error", "reason": "lookup broke"}
    }
    assert score.rates([result], CLAIMS) == {"RC": {"profiles": 1, "required": 2, "detected": 1, "false_alarms": 1}}


def test_a_profile_counts_in_every_area_whose_claims_it_flips() -> None:
    """AlwaysPullImages exercises the kubelet's pull policy (IMG-POL) and admission's defaulting (IMG-DEF): the
    Sensitivity section's per-area rates count each flip in its claim's area."""
    p = profile(
        "P", catalogue.Restart(("kube-scheduler",)), ("IMG-POL", "IMG-DEF"),
        IMG_POL_NEVER="deviates", IMG_DEF_004_EMPTY_ALWAYS="conforms",
    )  # fmt: skip
    result = score.ProfileResult(p, detected={"IMG-POL-NEVER": "deviates"}, missed={"IMG-DEF-004-EMPTY-ALWAYS": "x"})
    assert score.rates([result], CLAIMS) == {
        "IMG-DEF": {"profiles": 1, "required": 1, "detected": 0, "false_alarms": 0},
        "IMG-POL": {"profiles": 1, "required": 1, "detected": 1, "false_alarms": 0},
    }


def test_a_profile_whose_change_reaches_every_pod_runs_alone() -> None:
    """AlwaysPullImages admits every pod with Always and a kubelet without debugging handlers serves no log: beside
    another profile either would break that profile's scenarios (false alarms, then a rerun alone)."""
    profiles = {p.id: p for p in catalogue.load(catalogue.DEFAULT_PROFILES, CLAIMS)}
    for alone in ("ALWAYS-PULL-IMAGES", "KUBELET-NO-DEBUGGING-HANDLERS", "MIRROR-KEEPS-ONE-PLATFORM"):
        assert profiles[alone].alone
        assert [alone] in [[p.id for p in group] for group in catalogue.batches(list(profiles.values()))]


def test_the_one_platform_mirror_is_asked_first_and_the_registry_stays_as_fallback() -> None:
    """containerd tries a hosts.toml's [host] entries in order: the mirror goes before the registry's own entry,
    which stays as it was (the put-back restores the file byte for byte anyway)."""
    original = registry_nodes.hosts_toml("open.k8sdc.test")
    through = mirror.hosts_toml_through(original, "http://172.18.0.9:5000")
    assert through.index('[host."http://172.18.0.9:5000"]') < through.index('[host."https://open.k8sdc.test"]')
    assert through.startswith('server = "https://open.k8sdc.test"')
    assert through.replace('[host."http://172.18.0.9:5000"]\n  capabilities = ["pull", "resolve"]\n\n', "") == original
    profile = {p.id: p for p in catalogue.load(catalogue.DEFAULT_PROFILES, CLAIMS)}["MIRROR-KEEPS-ONE-PLATFORM"]
    assert profile.change == catalogue.RegistryMirror("linux/arm64")
    assert profile.runs == ("IMG-ARCH",)


def test_a_quick_run_picks_the_scenarios_of_the_required_flips_and_keeps_the_areas_of_a_profile_without() -> None:
    """--quick (the CI subset): each profile runs the scenarios of the claims it must flip, not its whole areas; a
    profile that must flip nothing (its point: the areas stay as they are) still runs its areas."""
    flips = profile("F", catalogue.Restart(("kube-scheduler",)), ("RC",), RC_OVERHEAD_SET_ON_POD="deviates")
    none = profile("N", catalogue.Restart(("kube-controller-manager",)), ("GC",))
    assert __main__.selection([flips, none], quick=False) == ["--area=GC", "--area=RC"]
    assert __main__.selection([flips, none], quick=True) == ["--area=GC", "--claim=RC-OVERHEAD-SET-ON-POD"]


def test_different_kubelet_settings_are_batched_and_written_together() -> None:
    """Like the flags of one static pod: KubeletConfiguration keys of different profiles (different areas) are merged
    into one write, so every worker's kubelet restarts once; the same key twice is never batched."""
    parallel = profile("PAR", catalogue.KubeletConfig({"serializeImagePulls": False}), ("IMG-PAR",))
    dns = profile("DNS", catalogue.KubeletConfig({"clusterDNS": ["10.96.0.99"]}), ("ENV",))
    serial = profile("SER", catalogue.KubeletConfig({"serializeImagePulls": True}), ("PRIV",))
    assert [[p.id for p in g] for g in catalogue.batches([parallel, dns, serial])] == [["PAR", "DNS"], ["SER"]]
    written = catalogue.combined([parallel.change, dns.change])
    assert written == [catalogue.KubeletConfig({"serializeImagePulls": False, "clusterDNS": ["10.96.0.99"]})]
    assert {catalogue.merged_as(c) for c in (parallel.change, dns.change, *written)} == {"kubelet"}
    assert catalogue.merged_as(catalogue.Restart(("kube-scheduler",))) is None
