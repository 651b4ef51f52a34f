"""fixtures/backoff.queued: which back-off gaps waited in the node's pull queue (the retry reached the registry as
another pull of the same node ended), as in ci26, where a serially pulling node's 7th retry came 40 ms after a
provider.k8sdc.test pull of that node ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from k8s_doc_conformance.fixtures import backoff
from k8s_doc_conformance.fixtures.registry.witness import RegistryRequest

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


def request(repo: str, end: float) -> RegistryRequest:
    at = T0 + timedelta(seconds=end)
    return RegistryRequest("id", "HEAD", f"/v2/{repo}/manifests/v1", repo, "v1", "manifest", 401, None,
                           "172.18.0.3:5000", "containerd", at - timedelta(seconds=0.2), at)  # fmt: skip


def test_a_retry_right_after_another_pull_of_the_node_waited_in_its_queue() -> None:
    times = [T0 + timedelta(seconds=s) for s in (0, 300, 654.2, 954.0)]
    others = [request("other/provider", 654.16), request("other/late", 950.0), request("mine", 953.9)]
    # gap 1 (300 -> 654.2) came 40 ms after another repository's pull: queued; gap 2's attempt came 4 s after one
    # (not a hand-off) and 0.1 s after a request of its own repository (its own attempt, not another pull)
    assert backoff.queued(times, others, "mine") == [1]
    assert backoff.queued(times, [], "mine") == []
