"""Which of the ERP's API families a path belongs to; it decides the error envelope."""

from enum import Enum


class ApiStyle(Enum):
    ASP = "asp"
    V3 = "v3"
    CONTROL = "control"


CONTROL_PREFIX = "/_sim/"
# The ASP pages are mirrored under /webapi/v3/ov1/, so that prefix is ASP style despite "v3".
_ASP_MIRROR_PREFIX = "/webapi/v3/ov1/"
_V3_PREFIX = "/webapi/v3/"


def api_style_of(path: str) -> ApiStyle:
    if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
        return ApiStyle.CONTROL
    if path.startswith(_V3_PREFIX) and not path.startswith(_ASP_MIRROR_PREFIX):
        return ApiStyle.V3
    return ApiStyle.ASP


def asp_paths(page: str) -> tuple[str, str]:
    """The documented ``.asp`` path of a mobile page and its ``/webapi/v3/ov1/`` mirror."""
    return f"/sysa/mobilephone/{page}.asp", f"{_ASP_MIRROR_PREFIX}{page}"
