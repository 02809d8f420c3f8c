"""Input PostgreSQL cannot store (NUL, integers past 64 bits) is refused with 422 and a stable code, never a 500
(issue 10, item 4): one check in the shared request path (common.web.InputGuard) plus the DataError mapping."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
BIG = "99999999999999999999999"  # beyond 64 bits


async def test_nul_and_huge_integers_are_422_on_every_route_kind(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    ingest, transform = services["ingest"].url, services["transform"].url
    client_id, secret = await create_client(admin)
    auth = bearer(await login(http, ingest, client_id, secret))
    contract = f"NUL{uuid.uuid4().hex[:8]}"
    row = {"合同编号": contract, "产品ID": "P1", "产品名称": "辊", "bad\u0000key": "x"}
    cases = {
        "query NUL": await http.get(f"{transform}/contracts?q=a%00b", headers=auth),
        "path NUL": await http.get(f"{transform}/contracts/a%00b", headers=auth),
        "batch row key NUL": await http.post(
            f"{ingest}/sync/contracts/batch", json={"contracts": [row]}, headers=auth
        ),
        "capture wechat_id NUL": await http.post(
            f"{ingest}/customers/capture", json={"wechat_id": f"w{uuid.uuid4().hex}\u0000"}, headers=auth
        ),
        "capture count beyond 64 bits": await http.post(
            f"{ingest}/customers/capture",
            content=f'{{"wechat_id":"w{uuid.uuid4().hex}","message_count":{BIG}}}',
            headers={**auth, "Content-Type": "application/json"},
        ),
        "nested integer beyond 64 bits": await http.post(
            f"{ingest}/customers/capture",
            content=f'{{"wechat_id":"w{uuid.uuid4().hex}","extracted_company_info":{{"n":{BIG}}}}}',
            headers={**auth, "Content-Type": "application/json"},
        ),
    }
    answers = {name: (r.status_code, r.json().get("code")) for name, r in cases.items()}
    expected_codes = {"unstorable_text", "integer_out_of_range", "invalid_request"}
    bad = {name: a for name, a in answers.items() if a[0] != 422 or a[1] not in expected_codes}
    assert not bad, str(bad)
    written = await admin.fetchval(
        "SELECT count(*) FROM ingest.contract_lines WHERE contract_no = $1", contract
    )
    assert written == 0  # refused as a whole: no partial write
