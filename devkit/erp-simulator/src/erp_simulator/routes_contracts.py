"""ASP contract pages: ``contract/billlist.asp`` and ``contract/add.asp`` (section 8)."""

from fastapi import APIRouter

from erp_simulator.api_style import asp_paths
from erp_simulator.contract_fields import SAVABLE_FIELDS
from erp_simulator.contract_listing import SEARCH_FIELDS, contract_filters, select
from erp_simulator.contract_saves import save_contract
from erp_simulator.dependencies import AspBody, AspSession, State
from erp_simulator.envelopes import (
    JsonResponse,
    asp_ok,
    bill_class,
    message_class,
    source_skeleton,
)
from erp_simulator.routes_customers import REFRESH, SAVE, record_ord
from erp_simulator.table_pages import table_page


def build_contract_router() -> APIRouter:
    router = APIRouter()

    async def add(call: AspBody, session: AspSession, state: State) -> JsonResponse:
        if call.cmdkey != SAVE:
            fields = [{"id": s.id, "caption": s.caption, "value": ""} for s in SAVABLE_FIELDS]
            ord_ = state.contracts.ids.allocate()
            group = {"caption": "合同信息", "fields": fields}
            return JsonResponse(asp_ok(bill_class("contract", "添加合同", ord_, [group])))
        ord_text = call.params.get("ord", "").strip()
        # Saving without `ord` inserts under a fresh id [INF]; the reply names it.
        target = record_ord(ord_text) if ord_text else None
        saved = save_contract(state, session, target, call.params)
        return JsonResponse(asp_ok(message_class("保存成功", data={"ord": saved})))

    async def list_page(call: AspBody, session: AspSession, state: State) -> JsonResponse:
        if call.cmdkey != REFRESH:
            return JsonResponse(asp_ok(source_skeleton("合同列表", SEARCH_FIELDS)))
        visible = (r for r in state.contracts if state.can_see(session, r.get("cateid")))
        records = select(visible, contract_filters(call.params, state.customer_name))
        return JsonResponse(asp_ok(table_page(state, session, call.params, records, state.contract_columns)))

    for path in asp_paths("salesmanage/contract/add"):
        router.add_api_route(path, add, methods=["POST"])
    for path in asp_paths("salesmanage/contract/billlist"):
        router.add_api_route(path, list_page, methods=["POST"])
    return router
