"""Which process a progress report names: ingest's copy of transform's catalogue, plus the line's columns. Pure.

A report may name a process by its cloud name, an alias (what the local system's column is called) or a
former name (before a rename); it is recorded and published under the cloud name, so one process keeps one
version sequence whatever it was called. A name the catalogue does not know is accepted only when the
contract's lines carry a column of that name (a process column the catalogue has not been told about).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def name_key(name: str) -> str:
    """The form transform matches column names in: NFKC, whitespace collapsed, casefolded."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


@dataclass(frozen=True, slots=True)
class KnownProcess:
    name: str
    names: tuple[str, ...]  # the name, aliases and former names
    active: bool


class ProcessNames:
    def __init__(self, processes: Iterable[KnownProcess], columns: Iterable[str]) -> None:
        self._owner = {name_key(n): p for p in processes for n in p.names}
        self._columns = {name_key(c) for c in columns}

    def resolve(self, name: str) -> str | None:
        """The name to record the report under, or None when the process is unknown here.

        A retired process is still known on a contract whose lines carry its column."""
        key = name_key(name)
        known = self._owner.get(key)
        if known is not None and (known.active or key in self._columns):
            return known.name
        return name if key in self._columns else None
