"""Which lines count as synced: only what the cloud's per-row results say (matched by index)."""

from __future__ import annotations

import json
from pathlib import Path

from rollsync_agent.state import StateStore
from rollsync_agent.upload import Change, _body, _outcome


def _changes() -> list[Change]:
    return [
        Change(("HT1", "P1"), "h1", {"合同编号": "HT1", "产品ID": "P1", "甲方": "A"}),
        Change(("HT1", "P2"), "", None, "old"),
        Change(
            ("ＨＴ2", "P1"), "h3", {"合同编号": "ＨＴ2", "产品ID": "P1"}
        ),  # full-width: the cloud normalises it
    ]


def test_the_body_carries_rows_and_deletes() -> None:
    body = json.loads(_body(_changes()))
    assert [r["合同编号"] for r in body["contracts"]] == ["HT1", "ＨＴ2"]
    assert body["deleted"] == [{"合同编号": "HT1", "产品ID": "P2"}]
    assert (body["overwrite"], body["source"]) == (True, "local_system")


def test_results_map_back_by_index_even_when_keys_were_normalised() -> None:
    answer = {
        "results": [
            {"index": 0, "合同编号": "HT1", "产品ID": "P1", "status": "unchanged", "reason": "same_content"},
            {
                "index": 1,
                "合同编号": "HT2",
                "产品ID": "P1",
                "status": "rejected",
                "reason": "invalid_value",
                "message": "m",
            },
        ],
        "deleted_results": [{"index": 0, "status": "unchanged", "reason": "not_found"}],
    }
    out = _outcome(_changes(), answer)
    assert out.accepted == [("HT1", "P1")]
    assert out.deleted == [("HT1", "P2")]
    assert out.rejected == [(("ＨＴ2", "P1"), "invalid_value", "m")]


def test_a_cloud_without_deleted_results_leaves_deletes_pending(tmp_path: Path) -> None:
    out = _outcome(_changes(), {"results": [{"index": 0, "status": "accepted"}]})
    assert out.deleted == []
    store = StateStore(tmp_path / "s")
    store.mark_accepted([(("HT1", "P2"), "old")])
    store.forget(out.deleted)
    assert ("HT1", "P2") in store.known()
