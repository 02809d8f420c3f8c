"""Turn simulator errors into the envelope of the API style the request used."""

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from erp_simulator.api_style import ApiStyle, api_style_of
from erp_simulator.envelopes import JsonResponse, asp_failure, v3
from erp_simulator.errors import (
    AspStatus,
    BadRequestError,
    LoginError,
    SessionInvalidError,
    SimulatorError,
)

V3_BUSINESS = 300
V3_TOKEN_FAILED = 400
HTTP_UNPROCESSABLE = 422


def simulator_error_response(request: Request, exc: Exception) -> Response:
    # Business failures travel inside HTTP 200 on the real ERP (section 10).
    assert isinstance(exc, SimulatorError)
    if api_style_of(request.url.path) is ApiStyle.V3:
        code = V3_TOKEN_FAILED if isinstance(exc, SessionInvalidError) else V3_BUSINESS
        return JsonResponse(v3(code, exc.message))
    return JsonResponse(asp_failure(_asp_status(exc), exc.message))


def _asp_status(exc: SimulatorError) -> AspStatus:
    if isinstance(exc, LoginError):
        return exc.status
    if isinstance(exc, SessionInvalidError):
        return AspStatus.SESSION_INVALID
    if isinstance(exc, BadRequestError):
        return AspStatus.BAD_REQUEST
    return AspStatus.BUSINESS


def control_validation_response(_request: Request, exc: Exception) -> Response:
    """Bad ``/_sim/`` bodies: a plain 422, since the control API is ours, not the ERP's."""
    assert isinstance(exc, ValidationError)
    detail = exc.errors(include_url=False, include_context=False)
    return JsonResponse({"detail": detail}, status_code=HTTP_UNPROCESSABLE)
