"""Thresholds and switches of the rule engine (erp_sync_config), with their types and bounds. Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class RuleError(ValueError):
    """A rule, condition or config value that cannot be used."""


@dataclass(frozen=True, slots=True)
class ConfigSpec:
    kind: type
    default: Any
    description: str
    low: float | None = None
    high: float | None = None


CONFIG: Mapping[str, ConfigSpec] = {
    # The seed's names (migration 0060): data_quality.min_score_for_sync and high_quality_sync.min_quality_score.
    "min_score_for_sync": ConfigSpec(int, 60, "最低同步质量分（强制规则除外）", 0, 100),
    "min_quality_score": ConfigSpec(int, 80, "高质量规则的质量分门槛", 0, 100),
    "min_intent_score": ConfigSpec(int, 50, "最低意向分（供规则条件引用）", 0, 100),
    "batch_size": ConfigSpec(int, 50, "推送批量（参考值；erp-connector 以自身设置为准）", 1, 1000),
    "verify_before_sync": ConfigSpec(bool, True, "推送前校验必填项与格式"),
    "auto_fix_format": ConfigSpec(bool, True, "合并前规范手机号与公司名"),
    "erp_time_precision_s": ConfigSpec(
        int, 3600, "ERP 时间精度（拉取周期）：此窗口内的双方修改交人工合并", 0, 86400
    ),
}


def check_config(key: str, value: Any) -> Any:
    spec = CONFIG.get(key)
    if spec is None:
        raise RuleError(f"未知配置项 {key} / unknown config key")
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise RuleError(f"{key} 须为 true/false / must be a boolean")
        return value
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise RuleError(f"{key} 须为整数 / must be an integer")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise RuleError(f"{key} 须在 {spec.low}–{spec.high} 之间 / out of range")
    return int(value)
