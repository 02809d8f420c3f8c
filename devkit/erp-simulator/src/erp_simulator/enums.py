"""Instance-specific enumerations and trees that field values refer to."""

import random
from dataclasses import dataclass

# enumid -> (value, text). Values as in the vendor copy; they differ between real instances.
_ENUMS: dict[int, tuple[tuple[int, str], ...]] = {
    11: ((139, "印刷"), (140, "包装"), (141, "塑料制品"), (142, "化工"), (143, "机械制造")),
    13: ((171, "网站注册"), (172, "朋友介绍"), (173, "陌生开发"), (174, "广告宣传")),
    14: ((175, "很高"), (289, "较高"), (176, "一般"), (177, "较低"), (290, "很低")),
}
ENUM_TRADE = 11
ENUM_SOURCE = 13
ENUM_VALUE = 14

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("101", "印刷厂"),
    ("102", "软包装厂"),
    ("103", "薄膜厂"),
    ("104", "包材贸易商"),
)
FOLLOW_LEVELS: tuple[tuple[str, str], ...] = (
    ("1", "初次接触"),
    ("2", "需求确认"),
    ("3", "报价中"),
    ("4", "已成交"),
    ("5", "长期合作"),
)
CURRENCIES: tuple[tuple[str, str], ...] = (("14", "人民币"),)
CONTRACT_SORTS: tuple[tuple[str, str], ...] = (
    ("192", "产品销售"),
    ("985", "技术服务"),
    ("193", "商务服务"),
    ("194", "代理分销"),
)
CONTRACT_STATES: tuple[tuple[str, str], ...] = (
    ("195", "生效执行中"),
    ("196", "执行完毕"),
    ("197", "意外终止"),
    ("354", "需要开电子发票"),
)


@dataclass(frozen=True)
class EnumCatalog:
    enums: dict[int, tuple[tuple[int, str], ...]]

    def options(self, enum_id: int) -> tuple[tuple[int, str], ...] | None:
        return self.enums.get(enum_id)

    def value_of(self, enum_id: int, text: str) -> int:
        return next(value for value, label in self.enums[enum_id] if label == text)

    def text_of(self, enum_id: int, value: str) -> str:
        return next((label for v, label in self.enums[enum_id] if str(v) == value), "")

    def is_valid(self, enum_id: int, value: str) -> bool:
        return any(str(v) == value for v, _ in self.enums[enum_id])


def build_catalog(seed: int, shuffle: bool) -> EnumCatalog:
    if not shuffle:
        return EnumCatalog(dict(_ENUMS))
    # New ids that never equal the documented ones, so a client that hard-codes 139 breaks.
    rng = random.Random(f"enums-{seed}")
    documented = {value for options in _ENUMS.values() for value, _ in options}
    pool = [value for value in range(300, 1000) if value not in documented]
    fresh = iter(rng.sample(pool, len(documented)))
    return EnumCatalog(
        {enum_id: tuple((next(fresh), text) for _, text in opts) for enum_id, opts in _ENUMS.items()}
    )


def label(table: tuple[tuple[str, str], ...], key: str) -> str:
    """Text for a tree or list id; a value that is no id is shown as it was written."""
    return next((text for value, text in table if value == key), key)
