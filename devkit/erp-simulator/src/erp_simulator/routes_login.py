"""Login and logout, on the paths clients use and the path of the vendor sample (section 3)."""

from fastapi import APIRouter

from erp_simulator.api_style import asp_paths
from erp_simulator.dependencies import AspBody, AspSession, State
from erp_simulator.envelopes import JsonResponse, asp_ok, message_class

APP_VERSION = "32.17"


def build_login_router() -> APIRouter:
    router = APIRouter()

    async def login(call: AspBody, state: State) -> JsonResponse:
        session = state.login_gate.login(call.params)
        header = {"status": 0, "message": "API鉴权成功.", "session": session.token, "appversion": APP_VERSION}
        return JsonResponse({"header": header})

    async def logout(session: AspSession, state: State) -> JsonResponse:
        state.sessions.close(session.token)
        return JsonResponse(asp_ok(message_class("退出成功")))

    for path in asp_paths("login"):
        router.add_api_route(path, login, methods=["POST"])
    for path in asp_paths("logout"):
        router.add_api_route(path, logout, methods=["POST"])
    return router
