"""Apply accepted `hetong` lines: raw copy, standardized contract, product and its processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from common import topics
from common.events.envelope import Envelope
from common.events.ingest import HetongRowChanged
from common.events.transform import ContractStandardized
from transform.domain.line_feed import FeedNote, FeedWrite, newest_new_report, processes_view
from transform.domain.mapping import standardize
from transform.domain.precedence import ProcessState, Report, after_upload, overlay
from transform.service_layer.envelopes import SOURCE
from transform.service_layer.ports import Key, LineHead, LineWrite
from transform.service_layer.progress import progress_of

# Parametrised once: pydantic looks a generic up in its cache at every subscript, ~5 µs a line (bench G4).
_STANDARDIZED = Envelope[ContractStandardized]

if TYPE_CHECKING:
    from transform.domain.mapping import StandardizedRow
    from transform.service_layer.configuration import Configuration
    from transform.service_layer.ports import UnitOfWork


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
    change: LineChange,
    std: StandardizedRow,
    prior: dict[str, ProcessState],
    reports: list[Report],
    config: Configuration,
    *,
    restored: bool,
) -> LineWrite:
    e = change.event
    route = config.catalog.route_for(std.fields)
    seqs = route.seqs
    states = dict(prior)
    for i, (process, status) in enumerate(std.process_statuses.items()):
        held, column = prior.get(process), std.process_columns.get(process)
        if status is None and held is None and column in (None, process):
            # No status, no alias column, no stored row to clear: no state says the same, and none is written (10 of a line's 15
            # states in an import, issue 12). A report on the process later takes its route seq (overlay).
            continue
        word = None if status is None else status.value
        seq = seqs.get(process, 1000 + i)
        states[process] = after_upload(held, process, seq, word, e.received_at, e.client_id, column)
    states = overlay(states, reports, e.product_id, seqs)
    # A report stored before its line existed is applied here, and the feed must hear of it once (defect 2);
    # a deleted line that comes back is announced too, or the agent would keep it deleted.
    note = FeedNote(e.client_id, e.received_at) if restored else newest_new_report(prior, states)
    return LineWrite(e, std, route.product_type, list(states.values()), progress_of(route, states), note)


async def _standardize_all(
    changes: Iterable[LineChange], config: Configuration
) -> dict[Key, StandardizedRow]:
    """The CPU work. The consumer already holds the contract locks here (taken before its inbox row, see
    service_layer.ordering), so yield now and then: the process's other tasks (HTTP, relay) keep running."""
    out: dict[Key, StandardizedRow] = {}
    for n, c in enumerate(changes, 1):
        if not c.event.deleted:
            out[c.key] = standardize(c.event.row, config.mapping, config.catalog)
        if n % 50 == 0:
            await asyncio.sleep(0)
    return out


async def apply_lines(uow: UnitOfWork, changes: list[LineChange], config: Configuration) -> None:
    latest = newest_per_line(changes)
    standardized = await _standardize_all(latest.values(), config)
    # Before reading (a report may be committing). The consumer took these same locks before its inbox row
    # (service_layer.ordering); re-taking them never waits, and direct callers are serialised too.
    await uow.locks.contracts({k[0] for k in latest})
    await uow.lines.record_receipts([c.event for c in latest.values()])
    heads = await uow.lines.heads(list(latest))
    fresh = [c for k, c in latest.items() if k not in heads or c.event.version > heads[k].version]
    if fresh:
        await _apply_fresh(uow, fresh, heads, standardized, config)
    await uow.commit()  # the receipts, also when every change was superseded


async def _apply_fresh(
    uow: UnitOfWork,
    fresh: list[LineChange],
    heads: dict[Key, LineHead],
    standardized: dict[Key, StandardizedRow],
    config: Configuration,
) -> None:
    live = [c for c in fresh if not c.event.deleted]
    gone = [c for c in fresh if c.event.deleted]
    prior = await uow.lines.process_states([c.key for c in live])
    reports = await uow.lines.reports_for({c.key[0] for c in live})
    writes = [
        line_write(
            c,
            standardized[c.key],
            prior.get(c.key, {}),
            reports.get(c.key[0], []),
            config,
            restored=c.key in heads and heads[c.key].deleted,
        )
        for c in live
    ]
    await uow.lines.save(writes)
    await uow.lines.delete([c.event for c in gone])
    announced = [c for c in gone if not (c.key in heads and heads[c.key].deleted)]
    await uow.feed.append([_item(w) for w in writes if w.feed] + [_deletion(c.event) for c in announced])
    for c, w in zip(live, writes, strict=True):
        e = c.event
        uow.outbox.add(
            topics.TRANSFORM_CONTRACT_STANDARDIZED, f"{e.contract_no}/{e.product_id}", _standardized(c, w)
        )


def _item(w: LineWrite) -> FeedWrite:
    assert w.feed is not None
    e, p = w.event, w.progress
    item = FeedWrite(
        e.contract_no, e.product_id, p.percentage, p.current_process, w.feed.updated_at, w.feed.updated_by
    )
    return replace(item, processes=processes_view(w.states))


def _deletion(e: HetongRowChanged) -> FeedWrite:
    """Announced once: a deleted line's item has no progress and no processes."""
    return FeedWrite(e.contract_no, e.product_id, Decimal(0), None, e.received_at, e.client_id, deleted=True)


def _standardized(change: LineChange, line: LineWrite) -> Envelope[ContractStandardized]:
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
    return _STANDARDIZED(
        event_type="ContractStandardized",
        source=SOURCE,
        correlation_id=change.correlation_id,
        payload=payload,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
