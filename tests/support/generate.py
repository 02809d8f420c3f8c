"""Seeded, realistic `hetong` rows (DOMAIN.md §7), shared by tests and benchmarks."""

from __future__ import annotations

import random
from typing import Any

CITIES = ("汕头", "温州", "瑞安", "常州", "东莞", "昆山", "佛山")
TRADES = ("彩印", "软包装", "包装材料", "薄膜科技", "印务")
NAMES = ("宏达", "金峰", "华美", "永盛", "恒通", "新星", "利达", "鸿运")
PRODUCTS = (
    ("凹版印刷辊", "gravure", ("基辊加工", "镀铜", "雕刻", "镀铬", "抛光", "检验")),
    ("陶瓷网纹辊", "anilox", ("基辊加工", "喷砂", "热喷涂", "陶瓷磨削", "检验")),
    ("镀铬辊", "chrome", ("基辊加工", "镀铬", "抛光", "检验")),
)
STATUSES = ("已完成", "已完成", "进行中", "未开始")


def _process_columns(rng: random.Random, steps: tuple[str, ...]) -> dict[str, str]:
    done = rng.randint(0, len(steps))
    return {s: ("已完成" if i < done else "进行中" if i == done else "未开始") for i, s in enumerate(steps)}


def contract_rows(n: int, seed: int = 7, prefix: str = "HT") -> list[dict[str, Any]]:
    """n lines over about n/4 contracts; every line has its route's process columns."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    contract = 0
    while len(rows) < n:
        contract += 1
        party = f"{rng.choice(CITIES)}{rng.choice(NAMES)}{rng.choice(TRADES)}有限公司"
        for line in range(1, rng.randint(1, 7) + 1):
            name, kind, steps = rng.choice(PRODUCTS)
            qty, price = rng.randint(1, 12), rng.randint(800, 40000)
            rows.append(
                {
                    "产品ID": f"P{contract:07d}{line:03d}",
                    "合同编号": f"{prefix}{contract:07d}",
                    "甲方": party,
                    "乙方": "本厂",
                    "产品名称": name,
                    "产品类型": kind,
                    "合同状态": "生产中",
                    "规格": f"Φ{rng.randint(80, 350)}×{rng.randint(600, 1450)}mm",
                    "数量": qty,
                    "单位": "支",
                    "单价": f"{price}.00",
                    "合同金额": f"{qty * price}.00",
                    "签订日期": "2024-03-18",
                    "交货日期": "2024-04-02",
                    "备注": rng.choice(("", "加急", "客户自提", "月结60天")),
                    **_process_columns(rng, steps),
                }
            )
            if len(rows) == n:
                break
    return rows
