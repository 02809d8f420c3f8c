"""Reconciliation on a fake store: what is compared, what is kept, what the consistency report shows."""

from __future__ import annotations

from tests.transform.fakes import FakeReconciliation
from transform.domain.reconcile import CloudLine, Digest, LocalDigest, cloud_digests
from transform.service_layer.reconciliation import has_differences, local_vs_cloud, reconcile

LINES = [
    CloudLine("HT1", "P1", {"合同编号": "HT1", "产品ID": "P1"}, {"喷砂": "已完成"}),
    CloudLine("HT2", "P1", {"合同编号": "HT2", "产品ID": "P1"}, {}),
    CloudLine("HT3", "P1", {"合同编号": "HT3", "产品ID": "P1"}, {}),
]
CLOUD = cloud_digests((x.contract_no, x.row, x.processes) for x in LINES)


async def test_a_partial_digest_is_compared_with_only_the_contracts_it_names_and_the_result_is_kept() -> None:
    store = FakeReconciliation(LINES)
    local = LocalDigest({"HT1": CLOUD["HT1"], "HT2": Digest(1, "0" * 64), "HT9": Digest(1, "1" * 64)}, False)
    body = await reconcile(store, "agent-1", local)

    assert store.asked == [["HT1", "HT2", "HT9"]]
    assert (body["checked"], body["different"], body["missing_in_cloud"]) == (3, ["HT2"], ["HT9"])
    assert body["missing_locally"] == []  # HT3 is not asked about in a partial digest
    assert store.results["agent-1"]["checked_at"] == body["checked_at"]


async def test_a_complete_digest_reads_every_line_and_finds_what_is_missing_locally() -> None:
    store = FakeReconciliation(LINES)
    body = await reconcile(store, "agent-1", LocalDigest({"HT1": CLOUD["HT1"]}, True))
    assert store.asked == [None]
    assert body["missing_locally"] == ["HT2", "HT3"]


async def test_the_consistency_section_counts_whole_lists_and_samples_them() -> None:
    store = FakeReconciliation(LINES)
    await reconcile(store, "agent-1", LocalDigest({}, True))
    await reconcile(store, "agent-2", LocalDigest({"HT1": CLOUD["HT1"]}, False))

    section = await local_vs_cloud(store, sample=1)
    assert section["agent-1"]["missing_locally_count"] == 3
    assert section["agent-1"]["missing_locally"] == ["HT1"]
    assert section["agent-2"]["missing_locally_count"] == 0
    assert has_differences(section)
    assert not has_differences({"agent-2": section["agent-2"]})
