"""`make up`'s demo: the seed 000 client's calls through the edge, printed as a person would read them."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEED_ROW = {
    "产品ID": "P20230917001",
    "合同编号": "HT2023001",
    "甲方": "客户A",
    "产品名称": "凹版印刷辊",
    "合同状态": "生产中",
    "基辊加工": "已完成",
    "热喷涂": "进行中",
}


def stack_env() -> dict[str, str]:
    lines = (ROOT / ".local" / "stack.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def drain(http: httpx.Client, auth: dict[str, str]) -> list[dict[str, object]]:
    """The seed's request, then next_cursor until has_more is false."""
    params: dict[str, str | int] = {"since": "2023-09-17T00:00:00Z", "limit": 100}
    entries: list[dict[str, object]] = []
    while True:
        answer = http.get("/sync/pending-updates", headers=auth, params=params)
        if answer.status_code == 429:  # the client's rate limit (README *Rate limits*): wait as told
            time.sleep(int(answer.headers.get("Retry-After", "1")))
            continue
        page = answer.json()
        entries += page["contracts"]
        if not page["has_more"]:
            return entries
        params = {"since": page["next_cursor"], "limit": 100}


def main() -> int:
    env = stack_env()
    base = env["ROLLSYNC_URL"]
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/auth/system-login",
            json={
                "client_id": env["DEV_CLIENT_ID"],
                "client_secret": env["DEV_CLIENT_SECRET"],
                "grant_type": "client_credentials",
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        batch = http.post(
            "/sync/contracts/batch",
            headers=auth,
            json={"contracts": [SEED_ROW], "overwrite": True, "source": "local_system"},
        ).json()
        print(
            f"demo: POST /sync/contracts/batch -> accepted {batch['accepted']}, unchanged {batch['unchanged']}"
        )
        for _ in range(50):  # the line travels ingest -> Kafka -> transform
            time.sleep(0.2)
            report = http.put(
                "/sync/contracts/HT2023001/progress",
                headers=auth,
                json={
                    "热喷涂": "已完成",
                    "updated_by": "worker_zhang",
                    "update_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                },
            )
            if report.status_code == 200:
                break
        print(f"demo: PUT /sync/contracts/HT2023001/progress -> {report.status_code}")
        mine: list[dict[str, object]] = []
        for _ in range(50):
            time.sleep(0.2)
            mine = [c for c in drain(http, auth) if c["合同编号"] == "HT2023001"]
            if mine:
                break
        for c in mine[-3:]:
            print(
                f"demo: pending update {c['合同编号']}/{c['产品ID']}: {c['progress_percentage']}%"
                f" now at {c['current_process']} (by {c['updated_by']})"
            )
        print(f"demo: try it yourself: source .local/stack.env, then log in at {base}/auth/system-login")
    return 0


if __name__ == "__main__":
    sys.exit(main())
