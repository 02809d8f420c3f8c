"""ASP customer pages: ``custom/add.asp`` (allocate, save, detail) and ``custom/list.asp``."""

from fastapi import APIRouter

from erp_simulator.api_style import asp_paths
from erp_simulator.customer_detail import allocation_bill, detail_bill
from erp_simulator.customer_listing import SEARCH_FIELDS, customer_filters, select
from erp_simulator.customer_saves import CustomerSave, save_customer
from erp_simulator.dependencies import AspBody, AspSession, State
from erp_simulator.envelopes import JsonResponse, asp_ok, message_class, source_skeleton
from erp_simulator.errors import BusinessError
from erp_simulator.request_bodies import AspCall
from erp_simulator.sessions import Session
from erp_simulator.state import SimulatorState
from erp_simulator.table_pages import table_page

SAVE = "__sys_dosave"
REFRESH = "refresh"


def build_customer_router() -> APIRouter:
    router = APIRouter()

    async def add(call: AspBody, session: AspSession, state: State) -> JsonResponse:
        if call.cmdkey == SAVE:
            return _save(call, session, state)
        if call.params.get("edit") == "1":
            record = state.customers.get(record_ord(call.params.get("ord", "")))
            if record is None or not state.can_see(session, record.get("cateid")):
                raise BusinessError("客户不存在或没有查看权限")
            return JsonResponse(asp_ok(detail_bill(record, state.catalog, state.team)))
        intsort = parse_intsort(call.params.get("intsort", "")) or 1
        return JsonResponse(asp_ok(allocation_bill(state.customers.ids.allocate(), intsort)))

    async def list_page(call: AspBody, session: AspSession, state: State) -> JsonResponse:
        if call.cmdkey != REFRESH:
            # Without `refresh` the real page answers with its UI frame only (section 2).
            return JsonResponse(asp_ok(source_skeleton("客户列表", SEARCH_FIELDS)))
        visible = (r for r in state.customers if state.can_see(session, r.get("cateid")))
        records = select(visible, customer_filters(call.params, state.customer_columns))
        return JsonResponse(asp_ok(table_page(state, session, call.params, records, state.customer_columns)))

    for path in asp_paths("salesmanage/custom/add"):
        router.add_api_route(path, add, methods=["POST"])
    for path in asp_paths("salesmanage/custom/list"):
        router.add_api_route(path, list_page, methods=["POST"])
    return router


def _save(call: AspCall, session: Session, state: SimulatorState) -> JsonResponse:
    ord_text = call.params.get("ord", "")
    if not ord_text.strip():
        raise BusinessError("缺少客户ID(ord)，请先调用分配新客户ID")
    command = CustomerSave(
        ord=record_ord(ord_text),
        intsort=parse_intsort(call.params.get("intsort", "")),
        fields=call.params,
        style="asp",
    )
    ord_ = save_customer(state, session, command)
    return JsonResponse(asp_ok(message_class("保存成功", data={"ord": ord_})))


def record_ord(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError as exc:
        raise BusinessError(f"无效的记录ID(ord): {text}") from exc


def parse_intsort(text: str) -> int | None:
    if not text.strip():
        return None
    if text.strip() not in ("1", "2"):
        raise BusinessError("客户类型(intsort)只能是1或2")
    return int(text)
