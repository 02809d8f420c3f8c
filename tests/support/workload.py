"""R1's seeded workload and its reference fold, computed from what the API accepted (never by service code)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.generate import contract_rows

Key = tuple[str, str]


@dataclass
class Reference:
    """What the tables must hold: folded from 2xx answers only."""

    lines: dict[Key, dict[str, Any]] = field(default_factory=dict)  # last accepted row per line
    line_versions: dict[Key, int] = field(default_factory=dict)  # versions ingest answered, per line
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # last accepted capture per wechat id
    capture_versions: dict[str, int] = field(default_factory=dict)
    progress: dict[tuple[str, str, str], str] = field(default_factory=dict)  # last accepted report status

    def accept_lines(self, sent: list[dict[str, Any]], answer: dict[str, Any]) -> None:
        by_key = {(r["合同编号"], r["产品ID"]): r for r in sent}
        for result in answer["results"]:
            key = (result["合同编号"], result["产品ID"])
            if result["status"] == "accepted":
                version = int(result["version"])
                if version > self.line_versions.get(key, 0):
                    self.lines[key], self.line_versions[key] = by_key[key], version
            else:
                assert result["status"] == "unchanged", f"line {key} rejected: {result}"
                assert key in self.lines, f"line {key} answered unchanged but was never accepted: {result}"

    def accept_capture(self, body: dict[str, Any], answer: dict[str, Any]) -> None:
        wid = body["wechat_id"]
        if answer["status"] == "accepted":
            version = int(answer["version"])
            if version > self.capture_versions.get(wid, 0):
                self.customers[wid], self.capture_versions[wid] = body, version
        else:  # a retried unknown that had applied: same content, no new version
            assert answer["status"] == "unchanged" and wid in self.customers, f"capture {wid}: {answer}"


def line_workload(n: int, rng: random.Random, prefix: str) -> list[dict[str, Any]]:
    """n line uploads: fresh lines, then ~5 % updates of earlier lines (a new 备注), shuffled in after them."""
    updates = n // 20
    rows = contract_rows(n - updates, seed=rng.randrange(2**31), prefix=prefix)
    out = list(rows)
    for i in range(updates):
        at = rng.randrange(len(rows) // 2, len(out) + 1)
        original = rows[rng.randrange(0, len(rows) // 2)]
        out.insert(at, {**original, "备注": f"更新{i}"})
    return out


def customer_workload(n: int, rng: random.Random, prefix: str) -> list[dict[str, Any]]:
    """n captures; ~5 % are updates. Every 10th customer has an order, so rules pushes it through the ERP.

    Updates change only fields whose shown value is ours whatever the ERP says (wechat_nickname is local_wins),
    or, for customers never pushed, `latest` fields (email, address): so the fold needs no merge policy.
    """
    updates = n // 20
    base = datetime(2026, 1, 1, tzinfo=UTC)
    fresh = [_customer(i, prefix, base + timedelta(seconds=i), rng) for i in range(n - updates)]
    out = list(fresh)
    for u in range(updates):
        at = rng.randrange(len(fresh) // 2, len(out) + 1)
        who = fresh[rng.randrange(0, len(fresh) // 2)]
        change = {"wechat_nickname": f"昵称{u}"}
        if not who.get("has_order"):
            change |= {"email": f"u{u}@{prefix.lower()}.example.cn", "address": f"更新地址{u}号"}
        out.insert(at, {**who, **change})
    # Capture times follow the sending order, so the later capture of a customer is also the newer one
    # (rules settles `latest` fields by capture time, ingest numbers versions by arrival).
    return [{**c, "captured_at": (base + timedelta(seconds=i)).isoformat()} for i, c in enumerate(out)]


def _customer(i: int, prefix: str, at: datetime, rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {
        "wechat_id": f"{prefix}wx{i:06d}",
        "captured_at": at.isoformat(),
        "company_name": f"{prefix}测试{i:06d}科技有限公司",
        "real_name": f"客户{i}",
        "phone": f"139{rng.randrange(10**8):08d}",
        "email": f"c{i}@{prefix.lower()}.example.cn",
        "address": f"测试路{i}号",
        "wechat_nickname": f"nick{i}",
        "intent_score": 10,
        "message_count": 1,
    }
    if i % 10 == 0:
        body["has_order"] = True
    return body


def capture_groups(captures: list[dict[str, Any]], width: int) -> list[list[dict[str, Any]]]:
    """Concurrent groups in sending order, never two captures of one customer at once (their order matters)."""
    return distinct_runs(captures, width, lambda c: c["wechat_id"])


def line_batches(rows: list[dict[str, Any]], width: int) -> list[list[dict[str, Any]]]:
    """Upload batches in order; a line and its update never share one (ingest rejects a repeated line)."""
    return distinct_runs(rows, width, lambda r: (r["合同编号"], r["产品ID"]))


def distinct_runs(items: list[dict[str, Any]], width: int, key: Any) -> list[list[dict[str, Any]]]:
    runs: list[list[dict[str, Any]]] = [[]]
    seen: set[Any] = set()
    for item in items:
        if len(runs[-1]) == width or key(item) in seen:
            runs.append([])
            seen = set()
        runs[-1].append(item)
        seen.add(key(item))
    return runs


def progress_workload(
    n: int, rng: random.Random, lines: list[dict[str, Any]], start: int
) -> list[dict[str, Any]]:
    """n progress reports on one process of a random line each, with increasing update times."""
    base = datetime(2026, 2, 1, tzinfo=UTC)
    out = []
    for i in range(start, start + n):
        row = rng.choice(lines)
        process = rng.choice([k for k, v in row.items() if v in ("已完成", "进行中", "未开始")] or ["检验"])
        out.append(
            {
                "合同编号": row["合同编号"],
                "产品ID": row["产品ID"],
                process: rng.choice(("已完成", "进行中", "待检")),
                "updated_by": f"r1-worker-{i % 7}",
                "update_time": (base + timedelta(seconds=i)).isoformat(),
            }
        )
    return out
