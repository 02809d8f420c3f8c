"""Apply accepted `hetong` lines: raw copy, standardized contract, product and its processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common import outbox, topics
from common.events.envelope import Envelope
from common.events.transform import ContractStandardized
from transform.adapters import repository as repo
from transform.adapters.locks import lock_contracts
from transform.domain.mapping import standardize
from transform.domain.precedence import ProcessState, Report, after_upload, overlay
from transform.service_layer.progress import progress_of

if TYPE_CHECKING:
    import asyncpg

    from common.events.ingest import HetongRowChanged
    from transform.service_layer.configuration import Configuration

SCHEMA = "transform"
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class LineChange:
    event: HetongRowChanged
    correlation_id: str

    @property
    def key(self) -> Key:
        return (self.event.contract_no, self.event.product_id)


def newest_per_line(changes: Iterable[LineChange]) -> dict[Key, LineChange]:
    latest: dict[Key, LineChange] = {}
    for c in changes:
        if c.key not in latest or c.event.version > latest[c.key].event.version:
            latest[c.key] = c
    return latest


def line_write(
    change: LineChange, prior: dict[str, ProcessState], reports: list[Report], config: Configuration
) -> repo.LineWrite:
    e = change.event
    std = standardize(e.row, config.mapping, config.catalog)
    route = config.catalog.route_for(std.fields)
    seqs = {s.name: s.seq for s in route.steps}
    states = dict(prior)
    for i, (process, status) in enumerate(std.process_statuses.items()):
        word = status.value if status is not None else None
        states[process] = after_upload(
            prior.get(process), process, seqs.get(process, 1000 + i), word, e.received_at
        )
    states = overlay(states, reports, e.product_id)
    return repo.LineWrite(e, std, route.product_type, list(states.values()), progress_of(route, states))


async def apply_lines(conn: asyncpg.Connection, changes: list[LineChange], config: Configuration) -> None:
    latest = newest_per_line(changes)
    await lock_contracts(conn, {k[0] for k in latest})  # before reading: a report may be committing
    current = await repo.line_versions(conn, list(latest))
    fresh = [c for k, c in latest.items() if c.event.version > current.get(k, 0)]  # older: superseded
    if not fresh:
        return
    prior = await repo.process_states(conn, [c.key for c in fresh])
    reports = await repo.reports_for(conn, {c.key[0] for c in fresh})
    writes = []
    for n, c in enumerate(fresh, 1):
        writes.append(line_write(c, prior.get(c.key, {}), reports.get(c.key[0], []), config))
        if n % 50 == 0:
            await asyncio.sleep(0)  # standardising is CPU work: let the progress consumer in between
    await repo.save_lines(conn, writes)
    await outbox.add(conn, SCHEMA, [_standardized(c, w) for c, w in zip(fresh, writes, strict=True)])


def _standardized(change: LineChange, line: repo.LineWrite) -> outbox.OutboxRow:
    e, fields = change.event, line.std.fields
    payload = ContractStandardized(
        contract_no=e.contract_no,
        product_id=e.product_id,
        version=e.version,
        party_a=_text(fields.get("party_a")),
        product_name=_text(fields.get("product_name")),
        contract_status=_text(fields.get("contract_status")),
        progress_percentage=line.progress.percentage,
        current_process=line.progress.current_process,
    )
    envelope = Envelope[ContractStandardized](
        event_type="ContractStandardized",
        source=SCHEMA,
        correlation_id=change.correlation_id,
        payload=payload,
    )
    return outbox.row_for(topics.TRANSFORM_CONTRACT_STANDARDIZED, f"{e.contract_no}/{e.product_id}", envelope)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
