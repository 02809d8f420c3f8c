"""The newcomer test: each service README says where each behaviour lives, and every module it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["ingest", "transform", "rules", "erp-connector", "alert-relay"]
MODULE = re.compile(r"`([a-z_]+/[a-z_/]+\.py)`")


def _section(readme: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, f"no '## {title}' section"
    return match.group(1)


@pytest.mark.parametrize("service", SERVICES)
def test_every_module_the_readme_names_for_a_behaviour_exists(service: str) -> None:
    src = ROOT / "services" / service / "src"
    table = _section(
        (ROOT / "services" / service / "README.md").read_text(encoding="utf-8"), "Where things are"
    )
    rows = [line for line in table.splitlines() if line.startswith("|") and not set(line) <= set("|- ")]
    assert len(rows) >= 4, "the table should name the modules of the main behaviours"
    named = [m for row in rows[1:] for m in MODULE.findall(row)]
    assert len(named) >= len(rows) - 1, "every behaviour row names at least one module"
    missing = [m for m in named if not (src / m).is_file()]
    assert not missing, f"modules named in services/{service}/README.md that do not exist: {missing}"
