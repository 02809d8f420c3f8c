"""V3 webapi endpoints: token in the ``ZBAPI-Token`` header, answers with ``Code``/``Msg``/``Data``."""

from fastapi import APIRouter
from starlette.requests import Request

from erp_simulator.contract_detail import contract_detail
from erp_simulator.contract_saves import save_contract
from erp_simulator.customer_fields import V3_RENAMES
from erp_simulator.customer_saves import CustomerSave, save_customer
from erp_simulator.dependencies import State, V3Session
from erp_simulator.envelopes import JsonResponse, v3
from erp_simulator.errors import BusinessError
from erp_simulator.request_bodies import read_v3_fields
from erp_simulator.routes_customers import parse_intsort, record_ord

OK = 200


def build_v3_router() -> APIRouter:
    router = APIRouter(prefix="/webapi/v3")

    @router.post("/sales/customer/add")
    async def add_customer(request: Request, session: V3Session, state: State) -> JsonResponse:
        fields = _rename(await read_v3_fields(request))
        command = CustomerSave(None, parse_intsort(fields.get("intsort", "")), fields, "v3")
        return JsonResponse(v3(OK, "添加成功", {"ord": save_customer(state, session, command)}))

    @router.post("/sales/customer/edit")
    async def edit_customer(request: Request, session: V3Session, state: State) -> JsonResponse:
        fields = _rename(await read_v3_fields(request))
        ord_ = record_ord(fields.get("ord", ""))
        if state.customers.get(ord_) is None:
            raise BusinessError("客户不存在或已被删除")
        command = CustomerSave(ord_, parse_intsort(fields.get("intsort", "")), fields, "v3")
        return JsonResponse(v3(OK, "修改成功", {"ord": save_customer(state, session, command)}))

    @router.post("/sales/contract/detail")
    async def detail(request: Request, session: V3Session, state: State) -> JsonResponse:
        fields = await read_v3_fields(request)
        record = state.contracts.get(record_ord(fields.get("ord", "")))
        if record is None or not state.can_see(session, record.get("cateid")):
            raise BusinessError("合同不存在或没有查看权限")
        name = state.customer_name(record.get("company"))
        return JsonResponse(v3(OK, "获取成功", contract_detail(record, name)))

    # The vendor copy spells this one `sale`, not `sales`.
    @router.post("/sale/contract/add")
    async def add_contract(request: Request, session: V3Session, state: State) -> JsonResponse:
        fields = await read_v3_fields(request)
        return JsonResponse(v3(OK, "添加成功", {"ord": save_contract(state, session, None, fields)}))

    return router


def _rename(fields: dict[str, str]) -> dict[str, str]:
    return {V3_RENAMES.get(key, key): value for key, value in fields.items()}
