"""fixtures/credential_matrix.py without a cluster: which pods a kubelet pulled for without their pull secret (such a
row says nothing about matching and is run again)."""

from __future__ import annotations

from k8s_doc_conformance.fixtures import credential_matrix as cm


def test_the_kubelets_missing_pull_secret_lines_name_the_pods() -> None:
    """credential_matrix.secret_race_pods: the kubelet's "Unable to retrieve pull secret" lines (v1.23-v1.28 record
    it only there) name the pods of the namespace asked for, and nothing else."""
    log = "\n".join(
        (
            'I1202 06:20:01.1 1 kubelet_pods.go:891] "Unable to retrieve pull secret, the image pull may not succeed."'
            ' pod="ns1/gd0ef6cfe9f" secret="ns1/gd0ef6cfe9f" err="failed to sync secret cache: timed out"',
            'I1202 06:20:02.1 1 kubelet_pods.go:891] "Unable to retrieve pull secret, the image pull may not succeed."'
            ' pod="ns2/other" secret="ns2/other" err="failed to sync secret cache: timed out"',
            'I1202 06:20:03.1 1 kuberuntime_manager.go:1] "Pulling image" pod="ns1/g9b5c32e15c"',
        )
    )
    assert cm.secret_race_pods(log, "ns1") == {"gd0ef6cfe9f"}
    assert cm.secret_race_pods(log, "ns3") == set()
