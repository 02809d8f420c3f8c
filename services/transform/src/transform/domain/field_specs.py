"""Which hetong column becomes which standard field, and how its value is normalised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from transform.domain.columns import column_key

FieldKind = Literal["text", "date", "amount", "quantity"]

# standardize() needs these two to identify the row (DOMAIN.md §4: one contract × one product).
KEY_TARGETS = ("product_id", "contract_no")


class MappingConfigError(ValueError):
    """A field mapping that standardize() could not use."""


@dataclass(frozen=True)
class FieldSpec:
    source: str
    target: str
    kind: FieldKind
    required: bool = False


@dataclass(frozen=True)
class FieldMapping:
    specs: tuple[FieldSpec, ...]

    def __post_init__(self) -> None:
        targets = [spec.target for spec in self.specs]
        if len(set(targets)) != len(targets) or len(self.by_column) != len(self.specs):
            raise MappingConfigError("字段映射有重复 / the mapping repeats a source or a target")
        keys = [s for s in self.specs if s.target in KEY_TARGETS and s.kind == "text" and s.required]
        if len(keys) != len(KEY_TARGETS):
            raise MappingConfigError(f"{KEY_TARGETS} 必须是必填文本 / must be required text fields")

    @cached_property
    def by_column(self) -> Mapping[str, FieldSpec]:
        """Specs by column_key of their source, so "合同编号 " and "合同编号" both find theirs."""
        return {column_key(spec.source): spec for spec in self.specs}

    @cached_property  # read for every line, like the two below
    def targets(self) -> tuple[str, ...]:
        return tuple(spec.target for spec in self.specs)

    @cached_property
    def required(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.specs if spec.required)


DEFAULT_MAPPING = FieldMapping(
    (
        FieldSpec("产品ID", "product_id", "text", required=True),
        FieldSpec("合同编号", "contract_no", "text", required=True),
        FieldSpec("甲方", "party_a", "text"),
        FieldSpec("乙方", "party_b", "text"),
        FieldSpec("产品名称", "product_name", "text"),
        FieldSpec("合同状态", "contract_status", "text"),
        FieldSpec("产品类型", "product_type", "text"),
        FieldSpec("规格", "spec", "text"),
        FieldSpec("数量", "quantity", "quantity"),
        FieldSpec("单位", "unit", "text"),
        FieldSpec("单价", "unit_price", "amount"),
        FieldSpec("合同金额", "amount", "amount"),
        FieldSpec("签订日期", "signed_date", "date"),
        FieldSpec("交货日期", "delivery_date", "date"),
        FieldSpec("付款方式", "payment_terms", "text"),
        FieldSpec("交货方式", "delivery_mode", "text"),
        FieldSpec("备注", "remark", "text"),
    )
)
