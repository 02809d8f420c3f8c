"""Default process routes and product-type rules, as plain data [EST].

The service loads the real routes from a table; these rows are what it starts with and what
tests use. Confirm every row with the factory.

Rows are (product_type, seq, process, weight). A process is one of the hetong status columns
named in DOMAIN.md §2 (基辊加工, 动平衡, 退铬退铜, 镀镍, 镀铜, 磨铜抛光, 雕刻, 打样, 镀铬, 喷砂, 热喷涂,
陶瓷磨削, 抛光, 检验, 包装发货). A weight is the mid-point of the estimated hours per roll in
DOMAIN.md §2; where §2 lists several steps that one column records, their hours are summed.

Choices:
- gravure also holds the ceramic variant (喷砂 52, 热喷涂 54, 陶瓷磨削 64) next to the copper
  steps it replaces. Seed 000's 凹版印刷辊 row goes 基辊加工 → 热喷涂 → 陶瓷磨削, so that line
  evidently includes ceramic-coated rolls. A roll only fills the columns of its variant, and a
  NULL column is not applicable, so the other variant does not count against it. The seed row
  {基辊加工: 已完成, 热喷涂: 进行中} then gives 6 / (6 + 7) = 46.2 %, current 热喷涂.
- gravure 60 磨铜抛光 = finish-turn/grind copper (1.5 h) + polish copper (0.75 h).
- anilox 40 热喷涂 = bond coat (1.5 h) + plasma-sprayed ceramic (5.5 h); DOMAIN.md says the
  local table may record both in that one column.
- anilox 80 雕刻 also holds the deburr (1 h) and clean/seal (0.5 h) after it: 抛光 was already
  reported done at 70, and moving it back to 进行中 is not an allowed transition.
- chrome 10 基辊加工 = cut, rough-turn, quench and temper, journals, semi-finish turn and rough
  grinding (0.75 + 4 + 6 + 3 + 3 + 3 h); 动平衡 keeps its own column.
  chrome 100 抛光 = finish grinding or lapping (3 h) + mirror polish (2 h).
- repair has no hours in DOMAIN.md; its weights borrow the matching chrome/anilox steps.
  10 退铬退铜 includes 来料检测; 20 基辊加工 is regrinding the reused base; 镀铬 and 热喷涂 are
  alternatives (re-chrome or re-spray) and the one left NULL is not applicable.
"""

from __future__ import annotations

from decimal import Decimal

RouteRow = tuple[str, int, str, Decimal]

DEFAULT_ROUTE_ROWS: tuple[RouteRow, ...] = (
    ("gravure", 10, "基辊加工", Decimal("6")),
    ("gravure", 20, "动平衡", Decimal("0.75")),
    ("gravure", 30, "退铬退铜", Decimal("1.5")),
    ("gravure", 40, "镀镍", Decimal("1.5")),
    ("gravure", 50, "镀铜", Decimal("4.5")),
    ("gravure", 52, "喷砂", Decimal("1")),
    ("gravure", 54, "热喷涂", Decimal("7")),
    ("gravure", 60, "磨铜抛光", Decimal("2.25")),
    ("gravure", 64, "陶瓷磨削", Decimal("4.5")),
    ("gravure", 80, "雕刻", Decimal("3.5")),
    ("gravure", 90, "打样", Decimal("1.25")),
    ("gravure", 100, "镀铬", Decimal("1.5")),
    ("gravure", 110, "抛光", Decimal("0.5")),
    ("gravure", 120, "检验", Decimal("0.5")),
    ("gravure", 130, "包装发货", Decimal("0.5")),
    ("anilox", 10, "基辊加工", Decimal("11")),
    ("anilox", 20, "动平衡", Decimal("1")),
    ("anilox", 30, "喷砂", Decimal("1")),
    ("anilox", 40, "热喷涂", Decimal("7")),
    ("anilox", 60, "陶瓷磨削", Decimal("4.5")),
    ("anilox", 70, "抛光", Decimal("1.5")),
    ("anilox", 80, "雕刻", Decimal("15.5")),
    ("anilox", 110, "检验", Decimal("1")),
    ("anilox", 120, "包装发货", Decimal("0.5")),
    ("chrome", 10, "基辊加工", Decimal("19.75")),
    ("chrome", 60, "动平衡", Decimal("1")),
    ("chrome", 80, "镀铬", Decimal("5.5")),
    ("chrome", 100, "抛光", Decimal("5")),
    ("chrome", 110, "检验", Decimal("0.75")),
    ("chrome", 120, "包装发货", Decimal("0.5")),
    ("repair", 10, "退铬退铜", Decimal("2")),
    ("repair", 20, "基辊加工", Decimal("3")),
    ("repair", 30, "镀铬", Decimal("5.5")),
    ("repair", 40, "热喷涂", Decimal("7")),
    ("repair", 50, "抛光", Decimal("5")),
    ("repair", 60, "检验", Decimal("0.75")),
    ("repair", 70, "包装发货", Decimal("0.5")),
)

# (word in 产品名称, product_type), first match wins. Repair comes first because a repaired
# roll keeps its kind in the name ("网纹辊修复", "凹版辊重镀铬").
DEFAULT_TYPE_RULE_ROWS: tuple[tuple[str, str], ...] = (
    ("修复", "repair"),
    ("重镀", "repair"),
    ("网纹", "anilox"),
    ("镀铬", "chrome"),
    ("镜面", "chrome"),
    ("导辊", "chrome"),
    ("压光", "chrome"),
    ("冷却辊", "chrome"),
    ("凹版", "gravure"),
    ("电雕", "gravure"),
    ("印刷辊", "gravure"),
)

# Spellings of 产品类型 accepted besides the route keys themselves.
DEFAULT_TYPE_ALIASES: dict[str, str] = {
    "凹版": "gravure",
    "凹版辊": "gravure",
    "凹版印刷辊": "gravure",
    "电雕版辊": "gravure",
    "网纹": "anilox",
    "网纹辊": "anilox",
    "陶瓷网纹辊": "anilox",
    "镀铬": "chrome",
    "镀铬辊": "chrome",
    "修复": "repair",
    "重镀": "repair",
    "辊筒修复": "repair",
}

# Half to two thirds of the factory's rows are gravure (DOMAIN.md §7).
DEFAULT_PRODUCT_TYPE = "gravure"
