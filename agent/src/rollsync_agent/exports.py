"""Read seed 000's export files: JSON (a list, `{"contracts": [...]}` or sqlcmd's wrapped FOR JSON), CSV,
and sqlcmd's default fixed-width text output (header, dashes, rows, "(N rows affected)")."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from rollsync_agent.rows import Row

_AFFECTED = re.compile(r"^\(\d+ rows? affected\)$")


class ExportFormatError(ValueError):
    pass


def read_export(path: Path) -> list[Row]:
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return _json_rows(text)
    lines = [x for x in text.splitlines() if x.strip()]
    if len(lines) >= 2 and set(lines[1].replace(" ", "")) == {"-"}:
        return _sqlcmd_rows(lines)
    return [dict(r) for r in csv.DictReader(io.StringIO(text))]


def _json_rows(text: str) -> list[Row]:
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError:
        doc = json.loads("".join(text.splitlines()))  # sqlcmd wraps FOR JSON output every 2033 chars
    rows = doc.get("contracts") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ExportFormatError('JSON export must be a list of rows or {"contracts": [rows]}')
    return rows


def _sqlcmd_rows(lines: list[str]) -> list[Row]:
    """Columns are the runs of dashes under the header; `NULL` is sqlcmd's empty value."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    names = [lines[0][a:b].strip() for a, b in spans]
    rows: list[Row] = []
    for line in lines[2:]:
        if _AFFECTED.match(line.strip()):
            continue
        values = [line[a:b].strip() for a, b in spans[:-1]] + [line[spans[-1][0] :].strip()]
        rows.append({n: (None if v == "NULL" else v) for n, v in zip(names, values, strict=True)})
    return rows
