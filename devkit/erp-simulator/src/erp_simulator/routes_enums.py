"""``source.asp?enumid=N``: instance-specific enumerations (section 5)."""

from fastapi import APIRouter, Depends

from erp_simulator.api_style import asp_paths
from erp_simulator.dependencies import AspBody, State, asp_session
from erp_simulator.envelopes import JsonResponse, asp_ok, source_options
from erp_simulator.errors import BusinessError

# The vendor copy links the page both with and without the /sysa prefix.
_SHORT_PATH = "/mobilephone/source.asp"


def build_enum_router() -> APIRouter:
    router = APIRouter()

    async def enum_source(call: AspBody, state: State) -> JsonResponse:
        enum_id = call.params.get("enumid", "").strip()
        options = state.catalog.options(int(enum_id)) if enum_id.isdigit() else None
        if options is None:
            raise BusinessError(f"参数错误：未知的枚举 enumid={enum_id}")
        return JsonResponse(asp_ok(source_options(options)))

    for path in (*asp_paths("source"), _SHORT_PATH):
        router.add_api_route(path, enum_source, methods=["POST"], dependencies=[Depends(asp_session)])
    return router
