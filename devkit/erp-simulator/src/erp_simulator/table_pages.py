"""One page of a list table: sort the whole result, cut the page, count it against the session."""

from collections.abc import Mapping
from typing import TypeVar

from erp_simulator.envelopes import Json, source_table
from erp_simulator.listing import Column, page_request, paginate, render_rows, sort_records
from erp_simulator.sessions import Session
from erp_simulator.state import SimulatorState

Record = TypeVar("Record")

# Newest first, as ERP list screens do; a scan must ask for `ord` ascending itself (section 6).
DEFAULT_SORT = "-ord"


def table_page(
    state: SimulatorState,
    session: Session,
    params: Mapping[str, str],
    records: list[Record],
    columns: list[Column[Record]],
) -> Json:
    ordered = sort_records(records, columns, params.get("_rpt_sort", ""), DEFAULT_SORT)
    rows, pagecount = paginate(ordered, page_request(params, state.settings.page_size))
    cols = [(column.id, column.caption) for column in columns]
    body = source_table(cols, render_rows(columns, rows, state.faults.row_form), pagecount)
    if state.sessions.count_list_page(session, state.faults.expire_after_pages):
        state.counters.fault("session_expired_mid_scan")
    return body
