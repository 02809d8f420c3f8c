"""`make bench-compare [OLD=bench/results.prev.json NEW=bench/results.json]`: two runs side by side."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from bench.stats import compare


def main(old: str, new: str) -> None:
    rows = compare(orjson.loads(Path(old).read_bytes()), orjson.loads(Path(new).read_bytes()))
    sys.stdout.write(f"{'id':<10} {'old':>7} {'new':>7} {'new min..max':>14} {'change':>8}  verdict\n")
    for r in rows:
        old_s = "—" if r["old"] is None else f"{r['old']:.2f}"
        change = "—" if r["change"] is None else f"{r['change']:+.0%}"
        word = "new case" if r["better"] is None else "better" if r["better"] else "worse"
        if r["better"] is not None and not r["beyond_spread"]:
            word += " (within both runs' min..max: noise)"
        spread = f"{r['new_min']:.2f}..{r['new_max']:.2f}"
        sys.stdout.write(f"{r['id']:<10} {old_s:>7} {r['new']:7.2f} {spread:>14} {change:>8}  {word}\n")


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) >= 3 else ("bench/results.prev.json", "bench/results.json")))
