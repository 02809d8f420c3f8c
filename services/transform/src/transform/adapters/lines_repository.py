"""SQL for lines from the local system: raw copy, receipts, standardized contract, product and process states.

Every batch statement goes through `staging.bulk` (unnest, or COPY for a big batch): these are benchmarked.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from transform.adapters.staging import bulk, to_json
from transform.domain.precedence import ProcessState, Report
from transform.service_layer.ports import LineHead

if TYPE_CHECKING:
    import asyncpg

    from common.events.ingest import HetongRowChanged
    from transform.service_layer.ports import Key, LineWrite


class PostgresLines:
    """transform.service_layer.ports.LineRepository on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def heads(self, keys: list[Key]) -> dict[Key, LineHead]:
        return await line_heads(self._conn, keys)

    async def record_receipts(self, events: list[HetongRowChanged]) -> None:
        await record_receipts(self._conn, events)

    async def process_states(self, keys: list[Key]) -> dict[Key, dict[str, ProcessState]]:
        return await process_states(self._conn, keys)

    async def reports_for(self, contract_nos: set[str]) -> dict[str, list[Report]]:
        return await reports_for(self._conn, contract_nos)

    async def save(self, writes: list[LineWrite]) -> None:
        await save_lines(self._conn, writes)

    async def delete(self, events: list[HetongRowChanged]) -> None:
        await delete_lines(self._conn, events)


def _keys(keys: list[Key]) -> tuple[list[str], list[str]]:
    return [k[0] for k in keys], [k[1] for k in keys]


async def line_heads(conn: asyncpg.Connection, keys: list[Key]) -> dict[Key, LineHead]:
    rows = await conn.fetch(
        "SELECT h.contract_no, h.product_id, h.version, h.deleted FROM hetong_original h"
        " JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON h.contract_no = k.c AND h.product_id = k.p"
        " FOR UPDATE OF h",
        *_keys(keys),
    )
    return {(r["contract_no"], r["product_id"]): LineHead(r["version"], r["deleted"]) for r in rows}


async def record_receipts(conn: asyncpg.Connection, events: list[HetongRowChanged]) -> None:
    """The newest version consumed per line, applied or superseded (the consistency report's ledger).

    One event per line: the caller passes the newest of its batch."""
    await bulk(
        conn,
        """INSERT INTO line_receipts AS l (contract_no, product_id, version, deleted)
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::boolean[])
           ON CONFLICT (contract_no, product_id) DO UPDATE SET version = excluded.version,
             deleted = excluded.deleted, consumed_at = now()
           WHERE l.version < excluded.version""",
        [(e.contract_no, e.product_id, e.version, e.deleted) for e in events],
    )


def _state(r: Any) -> ProcessState:
    return ProcessState(
        r["process"],
        r["seq"],
        r["uploaded_status"],
        r["uploaded_at"],
        r["reported_status"],
        r["reported_at"],
        r["reported_by"],
        r["uploaded_by"],
        r["report_received_at"],
        r["reporter_flag"],
        r["source_column"],
    )


async def process_states(conn: asyncpg.Connection, keys: list[Key]) -> dict[Key, dict[str, ProcessState]]:
    rows = await conn.fetch(
        "SELECT pp.* FROM product_processes pp"
        " JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON pp.contract_no = k.c AND pp.product_id = k.p",
        *_keys(keys),
    )
    out: dict[Key, dict[str, ProcessState]] = {}
    for r in rows:
        out.setdefault((r["contract_no"], r["product_id"]), {})[r["process"]] = _state(r)
    return out


async def reports_for(conn: asyncpg.Connection, contract_nos: set[str]) -> dict[str, list[Report]]:
    rows = await conn.fetch(
        "SELECT * FROM progress_reports WHERE contract_no = any($1::text[])", list(contract_nos)
    )
    out: dict[str, list[Report]] = {}
    for r in rows:
        report = Report(
            r["product_id"] or None,
            r["process"],
            r["status"],
            r["update_time"],
            r["updated_by"],
            r["received_at"],
            r["reporter_flag"],
        )
        out.setdefault(r["contract_no"], []).append(report)
    return out


def _iso(value: object) -> date | None:
    return value if isinstance(value, date) else None


async def save_raw(conn: asyncpg.Connection, events: list[HetongRowChanged]) -> None:
    await bulk(
        conn,
        """INSERT INTO hetong_original AS h (contract_no, product_id, version, row, content_hash, source, client_id,
             received_at, deleted)
           SELECT c, p, v, r::jsonb, h, s, cl, at, d FROM unnest($1::text[], $2::text[], $3::int[], $4::text[],
             $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::boolean[]) AS t(c, p, v, r, h, s, cl, at, d)
           ON CONFLICT (contract_no, product_id) DO UPDATE SET version = excluded.version, row = excluded.row,
             content_hash = excluded.content_hash, source = excluded.source, client_id = excluded.client_id,
             received_at = excluded.received_at, deleted = excluded.deleted, applied_at = now()""",
        [
            (
                e.contract_no,
                e.product_id,
                e.version,
                to_json(e.row),
                e.content_hash,
                e.source,
                e.client_id,
                e.received_at,
                e.deleted,
            )
            for e in events
        ],
    )


async def save_lines(conn: asyncpg.Connection, writes: list[LineWrite]) -> None:
    await save_raw(conn, [w.event for w in writes])
    await bulk(
        conn,
        """INSERT INTO contracts AS c (contract_no, product_id, version, party_a, party_b, product_name,
             contract_status, fields, extra_columns, issues, unknown_statuses, signed_date)
           SELECT c, p, v, a, b, n, st, f::jsonb, x::jsonb, i::jsonb, u::jsonb, d
           FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::text[], $9::text[], $10::text[], $11::text[], $12::date[]) AS t(c, p, v, a, b, n, st, f, x, i, u, d)
           ON CONFLICT (contract_no, product_id) DO UPDATE SET version = excluded.version, party_a = excluded.party_a,
             party_b = excluded.party_b, product_name = excluded.product_name,
             contract_status = excluded.contract_status, fields = excluded.fields,
             extra_columns = excluded.extra_columns, issues = excluded.issues,
             unknown_statuses = excluded.unknown_statuses, signed_date = excluded.signed_date, updated_at = now()""",
        [_contract_args(w) for w in writes],
    )
    await _save_products(conn, writes)


async def delete_lines(conn: asyncpg.Connection, events: list[HetongRowChanged]) -> None:
    """A deleted line keeps only its raw tombstone (for the version guard); it leaves every query."""
    await save_raw(conn, events)
    keys = _keys([(e.contract_no, e.product_id) for e in events])
    for table in ("product_processes", "products", "contracts"):
        await conn.execute(
            f"DELETE FROM {table} t USING unnest($1::text[], $2::text[]) AS k(c, p)"  # noqa: S608 - fixed names
            " WHERE t.contract_no = k.c AND t.product_id = k.p",
            *keys,
        )


def _contract_args(w: LineWrite) -> tuple[Any, ...]:
    f, std = w.std.fields, w.std
    issues = [{"field": i.field, "raw": i.raw, "message": i.message} for i in std.issues]
    return (
        w.event.contract_no,
        w.event.product_id,
        w.event.version,
        _text(f.get("party_a")),
        _text(f.get("party_b")),
        _text(f.get("product_name")),
        _text(f.get("contract_status")),
        to_json(f),
        to_json(std.unknown_columns),
        to_json(issues),
        to_json(std.unknown_statuses),
        _iso(f.get("signed_date")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def _save_products(conn: asyncpg.Connection, writes: list[LineWrite]) -> None:
    await bulk(
        conn,
        """INSERT INTO products AS p (contract_no, product_id, product_type, product_name, progress_percentage,
             current_process, finished)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[],
             $7::boolean[])
           ON CONFLICT (contract_no, product_id) DO UPDATE SET product_type = excluded.product_type,
             product_name = excluded.product_name, progress_percentage = excluded.progress_percentage,
             current_process = excluded.current_process, finished = excluded.finished, updated_at = now()""",
        [
            (
                w.event.contract_no,
                w.event.product_id,
                w.product_type,
                _text(w.std.fields.get("product_name")),
                w.progress.percentage,
                w.progress.current_process,
                w.progress.finished,
            )
            for w in writes
        ],
    )
    await save_states(
        conn, [((w.event.contract_no, w.event.product_id), s) for w in writes for s in w.states]
    )


async def save_states(conn: asyncpg.Connection, states: list[tuple[Key, ProcessState]]) -> None:
    await bulk(
        conn,
        """INSERT INTO product_processes AS pp (contract_no, product_id, process, seq, uploaded_status, uploaded_at,
             reported_status, reported_at, reported_by, uploaded_by, report_received_at, reporter_flag, source_column)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[],
             $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::text[])
           ON CONFLICT (contract_no, product_id, process) DO UPDATE SET seq = excluded.seq,
             uploaded_status = excluded.uploaded_status, uploaded_at = excluded.uploaded_at,
             reported_status = excluded.reported_status, reported_at = excluded.reported_at,
             reported_by = excluded.reported_by, uploaded_by = excluded.uploaded_by,
             report_received_at = excluded.report_received_at, reporter_flag = excluded.reporter_flag,
             source_column = excluded.source_column""",
        [
            (
                k[0],
                k[1],
                s.process,
                s.seq,
                s.uploaded_status,
                s.uploaded_at,
                s.reported_status,
                s.reported_at,
                s.reported_by,
                s.uploaded_by,
                s.report_received_at,
                s.reporter_flag,
                s.column,
            )
            for k, s in states
        ],
    )
