"""The bytes an outbox row carries: what consumers decode, unchanged by how they are written (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson

from common.events.envelope import Envelope
from common.events.ingest import HetongRowChanged, ProgressReported
from common.events.transform import ContractStandardized
from common.outbox import encode

AT = datetime(2026, 12, 6, 2, 11, 47, 733617, tzinfo=UTC)


def _envelopes() -> list[Envelope[Any]]:
    row = {"合同编号": "HT-１", "产品ID": "P1", "数量": 3, "单价": 12.5, "备注": None, "热喷涂": "进行中"}
    return [
        Envelope[HetongRowChanged](
            event_type="HetongRowChanged",
            source="ingest",
            correlation_id="c",
            payload=HetongRowChanged(
                contract_no="HT-１",
                product_id="P1",
                version=2,
                content_hash="0" * 64,
                row=row,
                source="local_system",
                client_id="agent",
                received_at=AT,
            ),
        ),
        Envelope[ProgressReported](
            event_type="ProgressReported",
            source="ingest",
            correlation_id="c",
            occurred_at=AT.astimezone(timezone(timedelta(hours=8))),
            payload=ProgressReported(
                contract_no="HT1",
                process="热喷涂",
                status="已完成",
                version=1,
                updated_by="李四",
                update_time=AT,
                client_id="mini",
            ),
        ),
        Envelope[ContractStandardized](
            event_type="ContractStandardized",
            source="transform",
            correlation_id="c",
            payload=ContractStandardized(
                contract_no="HT1",
                product_id="P1",
                version=1,
                party_a="温州华美包装",
                product_name=None,
                contract_status="生产中",
                progress_percentage=Decimal("46.2"),
                current_process="热喷涂",
            ),
        ),
    ]


def test_encoded_events_are_the_bytes_orjson_wrote_and_decode_to_the_same_event() -> None:
    for envelope in _envelopes():
        raw = encode(envelope)
        assert raw == orjson.dumps(envelope.model_dump(mode="json"))  # what earlier releases wrote
        assert type(envelope).model_validate_json(raw) == envelope
