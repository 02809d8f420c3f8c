"""rules' subscribers: decode, call one handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from pydantic import ValidationError

from common.delivery import Delivery, PermanentError
from common.events.envelope import Envelope
from common.events.transform import ContractStandardized
from rules.service_layer.candidates import link_contracts

if TYPE_CHECKING:
    import asyncpg


async def on_contract_standardized(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
    try:
        events = [Envelope[ContractStandardized].model_validate(orjson.loads(d.value)).payload for d in batch]
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise PermanentError(f"undecodable ContractStandardized: {str(exc)[:300]}") from exc
    await link_contracts(conn, events)
