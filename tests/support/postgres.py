"""Stop and start the test PostgreSQL through the project's script (a real outage, data directory kept)."""

from __future__ import annotations

import subprocess

from tests.support.stack import ROOT


def postgres(*args: str) -> None:
    """`postgres("stop", "--immediate")` (crash-like) or `postgres("start")`; fails loudly if the script does."""
    subprocess.run(
        [str(ROOT / "scripts" / "postgres.sh"), *args], check=True, capture_output=True, timeout=120
    )
