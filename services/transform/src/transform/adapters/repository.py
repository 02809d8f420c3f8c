"""SQL for the transform schema. Hand-written and parameterised; returns domain objects."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from transform.adapters.feed import FeedWrite, append_feed
from transform.domain.line_feed import processes_view
from transform.domain.mapping import DEFAULT_MAPPING, FieldMapping, FieldSpec
from transform.domain.precedence import ProcessState, Report
from transform.domain.routes import (
    DEFAULT_CATALOG,
    DEFAULT_ROUTES,
    DEFAULT_TYPE_RULES,
    ProcessCatalog,
    TypeRule,
    catalog_from_rows,
)

if TYPE_CHECKING:
    import asyncpg

    from common.events.ingest import HetongRowChanged, ProgressReported
    from transform.domain.line_feed import FeedNote
    from transform.domain.mapping import StandardizedRow
    from transform.domain.progress import Progress

Key = tuple[str, str]


def _json(value: Any) -> str:
    return orjson.dumps(value, default=_plain).decode()


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


@dataclass(frozen=True, slots=True)
class LineWrite:
    event: HetongRowChanged
    std: StandardizedRow
    product_type: str
    states: list[ProcessState]
    progress: Progress
    feed: FeedNote | None = None  # the write owes the pending-updates feed an item


@dataclass(frozen=True, slots=True)
class LineHead:
    version: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class LineState:
    contract_no: str
    product_id: str
    product_type: str
    states: dict[str, ProcessState]


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
    await _bulk(
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


# From this many rows on, a batch statement reads its rows from a staging table filled by COPY rather than from
# unnest()ed arrays. Same statement, same transaction; the difference is client CPU: asyncpg checks every array
# element against collections.abc (a Python-level isinstance per value), COPY encodes values in C. An import
# batch writes ~15 process rows per line (bench profile, issue 12: 4x less client CPU for 7 500 rows). Smaller
# writes (a progress report's few rows) keep unnest's single round trip.
STAGE_MIN_ROWS = 200


@dataclass(frozen=True, slots=True)
class _Staged:
    """A batch statement rewritten to read `WITH staged AS (DELETE FROM <stage> RETURNING *)` instead of unnest."""

    create: str
    table: str
    columns: tuple[str, ...]
    sql: str


_UNNEST = re.compile(r"unnest\((?P<args>[^()]*)\)(?: AS t\((?P<names>[^()]*)\))?")


@lru_cache(maxsize=64)
def staged(sql: str) -> _Staged:
    """The staging form of one of this module's `… FROM unnest($1::type[], …) [AS t(a, …)] …` statements."""
    match = _UNNEST.search(sql)
    if match is None:
        raise ValueError(f"no unnest() to stage in: {sql[:80]}")
    types = [a.strip().split("::", 1)[1].removesuffix("[]") for a in match["args"].split(",")]
    names = [n.strip() for n in match["names"].split(",")] if match["names"] else []
    columns = tuple(names or (f"c{i}" for i in range(1, len(types) + 1)))
    table = f"stage_{zlib.crc32(sql.encode()):08x}"  # one per statement (and per column layout)
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {table} ("
        + ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
        + ") ON COMMIT DELETE ROWS"
    )
    source = f"staged AS t({', '.join(columns)})"
    # Names come from this module's constant statements, never from input.
    head = f"WITH staged AS (DELETE FROM pg_temp.{table} RETURNING *) "  # noqa: S608
    rewritten = head + _UNNEST.sub(source, sql, count=1)
    return _Staged(create, table, columns, rewritten)


async def _bulk(conn: asyncpg.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement per batch: rows travel as column arrays unnested server-side or, for a large batch, by COPY
    into a session-local staging table that the same statement empties (see STAGE_MIN_ROWS)."""
    if not rows:
        return
    if len(rows) < STAGE_MIN_ROWS:
        await conn.execute(sql, *(list(column) for column in zip(*rows, strict=True)))
        return
    stage = staged(sql)
    await conn.execute(stage.create)
    await conn.copy_records_to_table(stage.table, records=rows, columns=stage.columns, schema_name="pg_temp")
    await conn.execute(stage.sql)


async def save_raw(conn: asyncpg.Connection, events: list[HetongRowChanged]) -> None:
    await _bulk(
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
                _json(e.row),
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
    await _bulk(
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
        _json(f),
        _json(std.unknown_columns),
        _json(issues),
        _json(std.unknown_statuses),
        _iso(f.get("signed_date")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def _save_products(conn: asyncpg.Connection, writes: list[LineWrite]) -> None:
    await _bulk(
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
    await _bulk(
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


async def save_report(conn: asyncpg.Connection, e: ProgressReported, received_at: datetime) -> bool:
    """Keep the report if it is newer than the one held; False means superseded."""
    row = await conn.fetchval(
        """INSERT INTO progress_reports AS r (contract_no, product_id, process, status, version, updated_by, update_time,
             received_at, reporter_flag)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (contract_no, product_id, process) DO UPDATE SET status = excluded.status,
             version = excluded.version, updated_by = excluded.updated_by, update_time = excluded.update_time,
             received_at = excluded.received_at, reporter_flag = excluded.reporter_flag
           WHERE r.version < excluded.version RETURNING true""",
        e.contract_no,
        e.product_id or "",
        e.process,
        e.status,
        e.version,
        e.updated_by,
        e.update_time,
        received_at,
        e.reporter_flag,
    )
    return bool(row)


async def lines_of(conn: asyncpg.Connection, contract_no: str, product_id: str | None) -> list[LineState]:
    products = await conn.fetch(
        "SELECT product_id, product_type FROM products WHERE contract_no = $1 AND ($2::text IS NULL OR product_id = $2)"
        " ORDER BY product_id FOR UPDATE",
        contract_no,
        product_id,
    )
    states = await process_states(conn, [(contract_no, r["product_id"]) for r in products])
    return [
        LineState(
            contract_no, r["product_id"], r["product_type"], states.get((contract_no, r["product_id"]), {})
        )
        for r in products
    ]


async def save_progress(
    conn: asyncpg.Connection,
    line: LineState,
    states: list[ProcessState],
    progress: Progress,
    by: str,
    at: datetime,
) -> None:
    key = (line.contract_no, line.product_id)
    await save_states(conn, [(key, s) for s in states])
    await conn.execute(
        "UPDATE products SET progress_percentage = $3, current_process = $4, finished = $5, updated_at = $6,"
        " updated_by = $7 WHERE contract_no = $1 AND product_id = $2",
        line.contract_no,
        line.product_id,
        progress.percentage,
        progress.current_process,
        progress.finished,
        at,
        by,
    )
    item = FeedWrite(line.contract_no, line.product_id, progress.percentage, progress.current_process, at, by)
    await append_feed(conn, [replace(item, processes=processes_view(states))])


async def load_configuration(conn: asyncpg.Connection) -> tuple[FieldMapping, ProcessCatalog]:
    specs = tuple(
        FieldSpec(r["source"], r["target"], r["kind"], r["required"])
        for r in await conn.fetch("SELECT * FROM field_mapping ORDER BY source")
    )
    routes = [
        (r["product_type"], r["seq"], r["process"], r["weight"])
        for r in await conn.fetch("SELECT * FROM process_routes ORDER BY product_type, seq")
    ]
    rules = tuple(
        TypeRule(r["pattern"], r["product_type"])
        for r in await conn.fetch("SELECT * FROM product_type_rules ORDER BY priority")
    )
    names = [
        (r["name"], r["process"])
        for r in await conn.fetch(
            "SELECT n.name, p.name AS process FROM process_names n JOIN processes p USING (process_id)"
        )
    ]
    catalog = catalog_from_rows(routes, rules, DEFAULT_CATALOG.default_type, process_names=names)
    return FieldMapping(specs), catalog


async def catalog_revision(conn: asyncpg.Connection) -> int:
    """Bumped in every catalogue or route change's transaction (adapters.catalog_repository)."""
    return int(await conn.fetchval("SELECT revision FROM catalog_revision"))


async def seed_configuration(conn: asyncpg.Connection) -> None:
    """First start: copy the shipped defaults into the tables, which are the source of truth after that."""
    if not await conn.fetchval("SELECT exists(SELECT 1 FROM field_mapping)"):
        await conn.executemany(
            "INSERT INTO field_mapping VALUES ($1, $2, $3, $4)",
            [(s.source, s.target, s.kind, s.required) for s in DEFAULT_MAPPING.specs],
        )
    if not await conn.fetchval("SELECT exists(SELECT 1 FROM process_routes)"):
        await conn.executemany("INSERT INTO process_routes VALUES ($1, $2, $3, $4)", list(DEFAULT_ROUTES))
    if not await conn.fetchval("SELECT exists(SELECT 1 FROM product_type_rules)"):
        await conn.executemany(
            "INSERT INTO product_type_rules VALUES ($1, $2, $3)",
            [
                (i * 10, r.pattern_in_product_name, r.product_type)
                for i, r in enumerate(DEFAULT_TYPE_RULES, 1)
            ],
        )
