"""Upload form, content hash, the reconciliation digest (TEAM.md point 5) and export-file reading."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

from rollsync_agent.exports import read_export
from rollsync_agent.rows import digest_contract, digest_line, row_hash, upload_form, upload_row

ROW = {"合同编号": "HT1", "产品ID": "P1", "甲方": "客户A", "基辊加工": "已完成", "备注": None, "说明": ""}


def test_upload_form_drops_bookkeeping_and_empty_values_and_stringifies_dates() -> None:
    row = {
        **ROW,
        "sync_status": "synced",
        "last_sync_hash": "x",
        "交货日期": dt.date(2024, 3, 18),
        "金额": Decimal("1.50"),
    }
    assert upload_row(row) == {
        "合同编号": "HT1",
        "产品ID": "P1",
        "甲方": "客户A",
        "基辊加工": "已完成",
        "交货日期": "2024-03-18",
        "金额": "1.50",
    }
    assert row_hash({**ROW, "sync_status": "failed"}) == row_hash(ROW)
    assert row_hash({**ROW, "甲方": "客户B"}) != row_hash(ROW)


def test_the_content_hash_is_pinned_so_an_upgrade_does_not_resend_every_line() -> None:
    """The state file keeps these hashes: a new version must compute the same ones for the same row."""
    row = {
        **ROW,
        "数量": 3,
        "急": True,
        "单价": Decimal("12.50"),
        "交货日期": dt.date(2023, 9, 17),
        "码": b"",
        "sync_status": "synced",
        "比例": 1.5,
    }
    assert upload_form(row) == (upload_row(row), row_hash(row))
    assert upload_row(row)["急"] == 1 and "码" not in upload_row(row)
    assert row_hash(row) == "3dc1f0fd176f0da755d0faa206d043bf833c2da2848f947b1fe671e0d34d98a3"


def test_digest_is_the_contracts_canonical_form() -> None:
    line = digest_line(ROW, {"基辊加工": "返工", "热喷涂": "进行中"})
    expected = json.dumps(
        {"合同编号": "HT1", "产品ID": "P1", "甲方": "客户A", "基辊加工": "返工", "热喷涂": "进行中"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert line == hashlib.sha256(expected.encode()).hexdigest()
    assert digest_contract(["b", "a"]) == hashlib.sha256(b"a\nb").hexdigest()


def test_sqlcmd_text_csv_and_json_exports(tmp_path: Path) -> None:
    sqlcmd = tmp_path / "contracts_export.json"  # the seed's command writes sqlcmd's text table to *.json
    table = [["合同编号", "产品ID", "甲方"], ["-" * 8] * 3, ["HT1", "P1", "客户A"], ["HT1", "P2", "NULL"]]
    text = "\n".join(
        " ".join(cell.ljust(8) for cell in r).rstrip() for r in table
    )  # sqlcmd pads by character
    sqlcmd.write_text(text + "\n\n(2 rows affected)\n", encoding="utf-8")
    assert read_export(sqlcmd) == [
        {"合同编号": "HT1", "产品ID": "P1", "甲方": "客户A"},
        {"合同编号": "HT1", "产品ID": "P2", "甲方": None},
    ]
    csv_file = tmp_path / "e.csv"
    csv_file.write_text("\ufeff合同编号,产品ID\nHT2,P9\n", encoding="utf-8")
    assert read_export(csv_file) == [{"合同编号": "HT2", "产品ID": "P9"}]
    js = tmp_path / "e.json"
    js.write_text(json.dumps({"contracts": [{"合同编号": "HT3", "产品ID": "P1"}]}), encoding="utf-8")
    assert read_export(js) == [{"合同编号": "HT3", "产品ID": "P1"}]
    wrapped = tmp_path / "w.json"  # FOR JSON output, wrapped by sqlcmd
    text = json.dumps([{"合同编号": "HT4", "产品ID": "P1"}], ensure_ascii=False)
    wrapped.write_text(text[:10] + "\n" + text[10:], encoding="utf-8")
    assert read_export(wrapped) == [{"合同编号": "HT4", "产品ID": "P1"}]
