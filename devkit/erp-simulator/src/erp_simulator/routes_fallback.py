"""Anything unmatched: the ERP's portal page under HTTP 200, as a wrong path gets on a real one."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from erp_simulator.api_style import ApiStyle, api_style_of
from erp_simulator.envelopes import JsonResponse
from erp_simulator.html_pages import portal_page

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HTTP_NOT_FOUND = 404


def build_fallback_router() -> APIRouter:
    router = APIRouter()

    async def fallback(request: Request) -> Response:
        if api_style_of(request.url.path) is ApiStyle.CONTROL:
            return JsonResponse({"detail": "unknown control endpoint"}, status_code=HTTP_NOT_FOUND)
        return portal_page()

    # Registered last, so a known path with the wrong method lands here too (no 405 JSON).
    router.add_api_route("/{path:path}", fallback, methods=_ALL_METHODS)
    return router
