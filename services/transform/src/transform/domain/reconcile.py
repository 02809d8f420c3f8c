"""Reconciliation with the factory's local table (issue 9, contract point 5). Pure.

Both sides digest each contract the same way: a line is its row without null or empty values, every process
column replaced by the cloud's effective status (what the feed's `processes` says); its hash is the SHA-256 of
that dict as canonical JSON. A contract's hash is the SHA-256 of its sorted line hashes joined by newlines.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONTRACT_NO = "合同编号"
MAX_KEY_CHARS = 64
_HEX64 = re.compile(r"[0-9a-f]{64}")


def contract_key(value: object) -> str:
    """The 合同编号 as ingest keys lines (NFKC, whitespace collapsed), so a local spelling finds its contract."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def line_hash(row: Mapping[str, Any], processes: Mapping[str, str]) -> str:
    canonical = {k: v for k, v in row.items() if v is not None and v != ""}
    canonical.update(processes)
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def contract_hash(line_hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(line_hashes)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Digest:
    lines: int
    hash: str


def digest(line_hashes: list[str]) -> Digest:
    return Digest(len(line_hashes), contract_hash(line_hashes))


@dataclass(frozen=True, slots=True)
class LocalDigest:
    contracts: dict[str, Digest]  # normalised 合同编号 -> digest
    complete: bool


@dataclass(frozen=True, slots=True)
class CloudLine:
    """A live line as the cloud holds it."""

    contract_no: str
    product_id: str
    row: dict[str, Any]
    processes: dict[str, str]  # process -> effective status (who-wins applied)


class DigestError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _entry(i: int, raw: object) -> tuple[str, Digest]:
    if not isinstance(raw, dict):
        raise DigestError("invalid_contract", f"contracts[{i}] 必须是对象 / must be an object")
    contract_no = contract_key(raw.get(CONTRACT_NO))
    if not contract_no or len(contract_no) > MAX_KEY_CHARS:
        raise DigestError(
            "invalid_contract_no",
            f"contracts[{i}].合同编号 须为 1-{MAX_KEY_CHARS} 字符 / missing or too long",
        )
    lines = raw.get("lines")
    if isinstance(lines, bool) or not isinstance(lines, int) or not 0 <= lines <= 1_000_000:
        raise DigestError("invalid_lines", f"contracts[{i}].lines 须为非负整数 / must be a whole number ≥ 0")
    value = raw.get("hash")
    if not isinstance(value, str) or not _HEX64.fullmatch(value.lower()):
        raise DigestError(
            "invalid_hash", f"contracts[{i}].hash 须为 64 位 sha256 十六进制 / must be sha256 hex"
        )
    return contract_no, Digest(lines, value.lower())


def parse_local(body: object, max_contracts: int) -> LocalDigest:
    """The agent's digest, checked whole: one bad entry refuses the request (nothing is stored)."""
    if not isinstance(body, dict) or not isinstance(body.get("contracts"), list):
        raise DigestError("invalid_request", "需要 contracts 数组 / body needs a `contracts` array")
    entries, complete = body["contracts"], body.get("complete", False)
    if not isinstance(complete, bool):
        raise DigestError("invalid_complete", "complete 必须是 true 或 false / must be a boolean")
    if len(entries) > max_contracts:
        raise DigestError(
            "too_many_contracts",
            f"每次最多 {max_contracts} 个合同 / at most {max_contracts} contracts per request",
        )
    contracts: dict[str, Digest] = {}
    for i, raw in enumerate(entries):
        contract_no, d = _entry(i, raw)
        if contract_no in contracts:
            raise DigestError("duplicate_contract", f"合同 {contract_no} 出现两次 / listed twice")
        contracts[contract_no] = d
    return LocalDigest(contracts, complete)


@dataclass(frozen=True, slots=True)
class Outcome:
    checked: int
    missing_in_cloud: list[str]
    missing_locally: list[str]
    different: list[str]


def compare(local: LocalDigest, cloud: Mapping[str, Digest]) -> Outcome:
    """A contract with no live lines is absent on that side; cloud-only contracts count only for a complete list."""
    here = {c for c, d in local.contracts.items() if d.lines > 0}
    there = {c for c, d in cloud.items() if d.lines > 0}
    considered = set(local.contracts) | (there if local.complete else set())
    return Outcome(
        checked=len(considered),
        missing_in_cloud=sorted(here - there),
        missing_locally=sorted((there - here) & considered),
        different=sorted(c for c in here & there if local.contracts[c] != cloud[c]),
    )


def cloud_digests(lines: Iterable[tuple[str, Mapping[str, Any], Mapping[str, str]]]) -> dict[str, Digest]:
    """(合同编号, row, effective statuses) per live line -> each contract's digest."""
    hashes: dict[str, list[str]] = {}
    for contract_no, row, processes in lines:
        hashes.setdefault(contract_no, []).append(line_hash(row, processes))
    return {c: digest(h) for c, h in hashes.items()}
