"""Seed 000's example contract line, verbatim (its HTTP examples are a real client's contract)."""

from __future__ import annotations

SEED_ROW = {
    "产品ID": "P20230917001",
    "合同编号": "HT2023001",
    "甲方": "客户A",
    "产品名称": "凹版印刷辊",
    "合同状态": "生产中",
    "基辊加工": "已完成",
    "热喷涂": "进行中",
}
SEED_BATCH = {"contracts": [SEED_ROW], "overwrite": True, "source": "local_system"}
